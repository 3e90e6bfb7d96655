/**
 * The server's real CA stack (Ca, CaManager, CaRotator) over test stores: an
 * in-process KeyManager, memory bundle and journal stores, a manual clock.
 * Pass the same keys/bundle/journal to a second call to model a restart.
 */
import { nullLogger } from "@signet/host-common";
import { TrustDomain } from "@signet/spiffe";
import { Ca } from "../../host/server/src/ca/ca.js";
import { CaManager } from "../../host/server/src/ca/manager.js";
import { CaRotator } from "../../host/server/src/ca/rotator.js";
import { keyManagerCaSigner } from "../../host/server/src/ca/signer.js";
import type { UpstreamAuthority } from "../../host/server/src/ca/upstream.js";
import type { KeyType } from "../../host/server/src/config/server-config.js";
import { MemoryBundleStore, MemoryJournalStore } from "./ca-stores.js";
import { ManualClock } from "./clock.js";
import { type TestKeyManager, type TestKeyStore, startTestKeyManager } from "./keymanager.js";

export interface TestCaOptions {
  readonly trustDomain?: TrustDomain;
  readonly keys?: TestKeyStore;
  readonly bundle?: MemoryBundleStore;
  readonly journal?: MemoryJournalStore;
  readonly clock?: ManualClock;
  readonly upstream?: UpstreamAuthority;
  readonly caKeyType?: KeyType;
  readonly jwtKeyType?: KeyType;
  readonly disableJwtSvids?: boolean;
  readonly x509SvidTtlSeconds?: number;
}

export interface TestCa {
  readonly km: TestKeyManager;
  readonly clock: ManualClock;
  readonly bundle: MemoryBundleStore;
  readonly journal: MemoryJournalStore;
  readonly ca: Ca;
  readonly manager: CaManager;
  readonly rotator: CaRotator;
  close(): Promise<void>;
}

export async function startTestCa(s: TestCaOptions = {}): Promise<TestCa> {
  const trustDomain = s.trustDomain ?? TrustDomain.parse("example.org");
  const km = await startTestKeyManager(s.keys);
  const clock = s.clock ?? new ManualClock();
  const bundle = s.bundle ?? new MemoryBundleStore(trustDomain.name);
  const journal = s.journal ?? new MemoryJournalStore();
  const signer = keyManagerCaSigner(km.facade);
  const disableJwtSvids = s.disableJwtSvids ?? false;
  const ca = new Ca({
    trustDomain,
    signer,
    clock,
    x509SvidTtlSeconds: s.x509SvidTtlSeconds ?? 3600,
    agentTtlSeconds: 7200,
    jwtSvidTtlSeconds: 300,
    caTtlSeconds: 86400,
    jwtIssuer: "https://issuer.example.org",
    disableJwtSvids,
    bundle,
  });
  const loading = CaManager.load({
    trustDomain,
    keyManager: km.facade,
    signer,
    journalStore: journal,
    bundleStore: bundle,
    ca,
    ...(s.upstream ? { upstream: s.upstream } : {}),
    caKeyType: s.caKeyType ?? "ec-p256",
    jwtKeyType: s.jwtKeyType ?? s.caKeyType ?? "ec-p256",
    caTtlSeconds: 86400,
    caSubject: { country: ["US"], organization: ["SPIFFE"] },
    disableJwtSvids,
    clock,
    log: nullLogger,
  });
  const manager = await loading.catch(async (e: unknown) => {
    await km.close();
    throw e;
  });
  const rotator = new CaRotator({ manager, clock, log: nullLogger });
  return {
    km,
    clock,
    bundle,
    journal,
    ca,
    manager,
    rotator,
    async close() {
      await rotator.stop();
      await km.close();
    },
  };
}
