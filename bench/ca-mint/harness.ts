/**
 * bench/ca-mint harness (bundled by run.mjs with esbuild): the server CA's
 * batch path, Ca.signWorkloadX509Svids, with the CA key in a KeyManager
 * served over gRPC on a Unix socket (the SDK's key store and handlers, as the
 * memory plugin runs them), against the same CA with an in-memory signer.
 */
import { X509Certificate, generateKeyPairSync, sign } from "node:crypto";
import { nullLogger } from "@signet/host-common";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { CaError } from "../../host/server/src/ca/authority.js";
import { Ca } from "../../host/server/src/ca/ca.js";
import { CaManager } from "../../host/server/src/ca/manager.js";
import { CaRotator } from "../../host/server/src/ca/rotator.js";
import { type CaSigner, keyManagerCaSigner } from "../../host/server/src/ca/signer.js";
import { MemoryBundleStore, MemoryJournalStore } from "../../test/fakes/ca-stores.js";
import { startTestKeyManager } from "../../test/fakes/keymanager.js";

export interface CaseResult {
  readonly name: string;
  readonly batch: number;
  readonly batches: number;
  readonly certs_per_s: number;
  readonly batch_p50_ms: number;
  readonly batch_max_ms: number;
}

const td = TrustDomain.parse("example.org");

export async function run(opts: { batch: number; batches: number; log: (s: string) => void }): Promise<CaseResult[]> {
  const km = await startTestKeyManager();
  const bundle = new MemoryBundleStore(td.name);
  const clock = { now: () => new Date(), sleep: async () => {} };
  const viaPlugin = keyManagerCaSigner(km.facade);

  // One CA stack; the signer each case uses is swapped underneath.
  let signer: CaSigner = viaPlugin;
  const switching: CaSigner = { signMessages: (id, m, h) => signer.signMessages(id, m, h) };
  const ca = new Ca({ trustDomain: td, signer: switching, clock, x509SvidTtlSeconds: 3600, agentTtlSeconds: 0, jwtSvidTtlSeconds: 300, caTtlSeconds: 86400, disableJwtSvids: true, bundle });
  const manager = await CaManager.load({
    trustDomain: td,
    keyManager: km.facade,
    signer: switching,
    journalStore: new MemoryJournalStore(),
    bundleStore: bundle,
    ca,
    caKeyType: "ec-p256",
    jwtKeyType: "ec-p256",
    caTtlSeconds: 86400,
    caSubject: { country: ["US"], organization: ["SPIFFE"] },
    disableJwtSvids: true,
    clock,
    log: nullLogger,
  });
  await new CaRotator({ manager, clock, log: nullLogger }).initialize();

  // The same key, held in memory: the ceiling of the batch path without a plugin hop.
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const inMemory: CaSigner = { signMessages: async (_id, messages, hash) => messages.map((m) => sign(hash, m, privateKey)) };

  const spkis = Array.from({ length: 64 }, () => generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" }));
  const requests = Array.from({ length: opts.batch }, (_, i) => ({ publicKey: spkis[i % spkis.length]!, spiffeId: SpiffeId.parse(`spiffe://example.org/w/${i}`) }));
  const root = new X509Certificate(bundle.bundle!.x509Authorities[0]!.asn1);

  const cases: Array<[string, CaSigner, boolean]> = [
    ["KeyManager over gRPC, SignData per cert", viaPlugin, true],
    ["in-memory key (no plugin hop)", inMemory, false],
  ];
  const out: CaseResult[] = [];
  for (const [name, s, verifiable] of cases) {
    signer = s;
    const first = await ca.signWorkloadX509Svids(requests.slice(0, 4));
    for (const r of first) {
      if (r instanceof CaError) throw r;
      if (verifiable && !new X509Certificate(r.certChain[0]!).verify(root.publicKey)) throw new Error("minted certificate does not verify");
    }
    const times: number[] = [];
    const start = performance.now();
    for (let b = 0; b < opts.batches; b++) {
      const t = performance.now();
      const res = await ca.signWorkloadX509Svids(requests);
      times.push(performance.now() - t);
      if (res.length !== opts.batch) throw new Error("short batch");
    }
    const elapsed = performance.now() - start;
    times.sort((a, b) => a - b);
    const r: CaseResult = {
      name,
      batch: opts.batch,
      batches: opts.batches,
      certs_per_s: (opts.batch * opts.batches * 1000) / elapsed,
      batch_p50_ms: times[Math.floor(times.length / 2)]!,
      batch_max_ms: times[times.length - 1]!,
    };
    opts.log(`${name}: ${r.certs_per_s.toFixed(0)} certs/s (batch of ${opts.batch}: p50 ${r.batch_p50_ms.toFixed(1)} ms)`);
    out.push(r);
  }
  await km.close();
  return out;
}
