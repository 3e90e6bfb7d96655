/**
 * A real KeyManager for host tests: the SDK's key store and KeyManager
 * handlers (what the memory and disk plugins run) served over a real gRPC
 * Unix socket in this process, reached through the host's KeyManagerFacade.
 * Keep the TestKeyStore to "restart" the host with the same keys, as the
 * disk KeyManager keeps them across restarts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { KeyManagerFacade } from "@signet/host-common";
import {
  KeyStore,
  type KeyManagerDomain,
  type PublicKeyInfo,
  type Signature,
  type SignerOpts,
  createLogger,
  generateKeyEntry,
  keyManager,
  keyManagerHandlers,
} from "@signet/plugin-sdk";
import { createClient } from "@signet/proto";
import { KeyManagerService } from "@signet/proto/spire/plugin/server/keymanager/v1/keymanager";

export class TestKeyStore implements KeyManagerDomain {
  private readonly store = new KeyStore();
  /** Number of SignData calls answered (to observe batching). */
  signCalls = 0;

  async generateKey(id: string, type: number): Promise<PublicKeyInfo> {
    const entry = await generateKeyEntry(id, type);
    this.store.set(entry);
    return entry.info;
  }
  getPublicKey(id: string): PublicKeyInfo {
    return this.store.getPublicKey(id);
  }
  getPublicKeys(): PublicKeyInfo[] {
    return this.store.getPublicKeys();
  }
  signData(id: string, digest: Buffer, opts: SignerOpts | undefined): Signature {
    this.signCalls++;
    return this.store.signData(id, digest, opts);
  }
}

export interface TestKeyManager {
  readonly facade: KeyManagerFacade;
  readonly keys: TestKeyStore;
  close(): Promise<void>;
}

export async function startTestKeyManager(keys: TestKeyStore = new TestKeyStore()): Promise<TestKeyManager> {
  const dir = mkdtempSync(join(tmpdir(), "signet-km-"));
  const socket = join(dir, "km.sock");
  const server = new Server();
  const reg = keyManager.server(keyManagerHandlers(() => keys, { log: createLogger({ write: () => {} }), notConfigured: "not configured" }));
  server.addService(reg.definition, reg.implementation);
  await new Promise<void>((res, rej) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const channel = new Channel(`unix:${socket}`, credentials.createInsecure(), {});
  const facade = new KeyManagerFacade(createClient(KeyManagerService, channel), "keymanager(test)");
  return {
    facade,
    keys,
    async close() {
      channel.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
