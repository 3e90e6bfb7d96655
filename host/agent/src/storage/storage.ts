/**
 * What the agent keeps in data_dir between runs (SPIRE's agent storage):
 * the last bundle, its SVID chain and whether it may re-attest. The SVID's
 * private key is kept beside it (PKCS#8, mode 0600) only when the agent's
 * KeyManager persists keys (`disk`); with `memory` a restart attests again,
 * as SPIRE's memory KeyManager makes it do. Node's TLS stack signs the
 * handshake itself, so the agent SVID key has to live in this process.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Bundle } from "@signet/proto/spire/api/types/bundle";

export interface StoredSvid {
  /** Agent SVID chain, leaf first, DER. */
  readonly chain: readonly Buffer[];
  readonly privateKey?: KeyObject;
  readonly reattestable: boolean;
}

interface OnDisk {
  readonly version: 1;
  readonly bundle?: string;
  readonly svid?: { readonly chain: string[]; readonly reattestable: boolean };
}

export class AgentStorage {
  private readonly file: string;
  private readonly keyFile: string;
  /** Read-modify-write operations run one at a time, so none undoes another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dataDir: string,
    private readonly persistKey: boolean,
  ) {
    this.file = join(dataDir, "agent-data.json");
    this.keyFile = join(dataDir, "agent_svid.key");
  }

  async loadBundle(): Promise<Bundle | undefined> {
    const data = await this.read();
    return data.bundle ? Bundle.decode(Buffer.from(data.bundle, "base64")) : undefined;
  }

  storeBundle(bundle: Bundle): Promise<void> {
    return this.serialized(async () => {
      const data = await this.read();
      await this.write({ ...data, bundle: Buffer.from(Bundle.encode(bundle).finish()).toString("base64") });
    });
  }

  async loadSvid(): Promise<StoredSvid | undefined> {
    const data = await this.read();
    if (!data.svid) return undefined;
    let privateKey: KeyObject | undefined;
    if (this.persistKey) {
      try {
        privateKey = createPrivateKey({ key: await readFile(this.keyFile), format: "der", type: "pkcs8" });
      } catch {
        privateKey = undefined;
      }
    }
    return {
      chain: data.svid.chain.map((c) => Buffer.from(c, "base64")),
      reattestable: data.svid.reattestable,
      ...(privateKey ? { privateKey } : {}),
    };
  }

  storeSvid(svid: StoredSvid): Promise<void> {
    return this.serialized(() => this.writeSvid(svid));
  }

  private async writeSvid(svid: StoredSvid): Promise<void> {
    if (this.persistKey && svid.privateKey) {
      await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
      const tmp = `${this.keyFile}.tmp`;
      await writeFile(tmp, svid.privateKey.export({ type: "pkcs8", format: "der" }), { mode: 0o600 });
      await rename(tmp, this.keyFile);
    }
    const data = await this.read();
    await this.write({ ...data, svid: { chain: svid.chain.map((c) => c.toString("base64")), reattestable: svid.reattestable } });
  }

  deleteSvid(): Promise<void> {
    return this.serialized(async () => {
      const { svid: _dropped, ...rest } = await this.read();
      await this.write(rest);
      await rm(this.keyFile, { force: true });
    });
  }

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<OnDisk> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1 };
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as OnDisk;
      return parsed && typeof parsed === "object" ? parsed : { version: 1 };
    } catch {
      throw new Error(`agent data file ${this.file} is corrupt; remove it to attest afresh`);
    }
  }

  private async write(data: OnDisk): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...data, version: 1 }), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
