/**
 * BatchNewX509SVID throughput (bundled and run by run.mjs).
 *
 *   verify     CSR checks alone for 500-CSR batches: inline, and on a worker pool
 *              (1 worker + this thread), one batch at a time and 4 at once
 *   rpc        the whole RPC over gRPC on a Unix socket (decode, authorization
 *              lookup, CSR checks, one CA call, encode) with the in-memory CA
 *              signing on this thread, inline vs pool
 */
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync, mkdirSync } from "node:fs";
import { createLogger } from "@signet/host-common";
import { createClient } from "@signet/proto";
import { SVIDService } from "@signet/proto/spire/api/server/svid/v1/svid";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeId, TrustDomain, createCsr } from "@signet/spiffe";
import { startApiServer } from "../../test/fakes/api-server.js";
import { InMemoryAuthorizedEntries } from "../../test/fakes/authorized-entries.js";
import { InMemoryServerCa } from "../../test/fakes/memory-server-ca.js";
import { type CsrVerifier, inlineCsrVerifier } from "../../host/server/src/api/svid/v1/csr-verifier.js";
import { workerCsrVerifier } from "../../host/server/src/api/svid/v1/csr-worker-pool.js";
import { svidHandlers } from "../../host/server/src/api/svid/v1/service.js";

const workerFile = process.argv[2]!;
const outFile = process.argv[3]!;
const quick = process.argv.includes("--quick");
const batch = 500;
const rounds = quick ? 4 : 12;

const csrs = Array.from({ length: batch }, (_, i) =>
  createCsr({ privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, uriSans: [`spiffe://example.org/w/${i}`] }),
);

async function timeIt(fn: () => Promise<unknown>, n: number): Promise<number> {
  await fn(); // warm up
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t) / n;
}

const results: Record<string, { msPerBatch: number; perSecond: number }> = {};
function record(name: string, msPerBatch: number, items: number) {
  results[name] = { msPerBatch: Math.round(msPerBatch * 10) / 10, perSecond: Math.round((items / msPerBatch) * 1000) };
  console.log(`${name.padEnd(34)} ${msPerBatch.toFixed(1).padStart(8)} ms   ${results[name]!.perSecond.toString().padStart(7)} /s`);
}

const verifiers: Array<[string, CsrVerifier]> = [
  ["inline", inlineCsrVerifier()],
  ["pool(1 worker)", workerCsrVerifier({ threads: 1, workerFile })],
];

for (const [name, v] of verifiers) {
  record(`verify 500, ${name}`, await timeIt(() => v.verify(csrs), rounds), batch);
  record(`verify 4x500 at once, ${name}`, await timeIt(() => Promise.all([0, 1, 2, 3].map(() => v.verify(csrs))), rounds / 2), batch * 4);
}

const td = TrustDomain.parse("example.org");
const agentId = "spiffe://example.org/spire/agent/test/a1";
const entries = new InMemoryAuthorizedEntries("example.org");
const entryList: Entry[] = Array.from({ length: batch }, (_, i) => ({
  id: `e${i}`,
  spiffeId: { trustDomain: "example.org", path: `/w/${i}` },
  parentId: { trustDomain: "example.org", path: "/spire/agent/test/a1" },
  selectors: [{ type: "unix", value: `uid:${i}` }],
  x509SvidTtl: 0,
  federatesWith: [],
  admin: false,
  downstream: false,
  expiresAt: 0n,
  dnsNames: [],
  revisionNumber: 0n,
  storeSvid: false,
  jwtSvidTtl: 0,
  hint: "",
  createdAt: 0n,
}));
entries.setEntries(entryList);
// One lookup table, as the real entry cache keeps: the bench measures the API, not this fake's crawl.
const byId = new Map(entryList.map((e) => [e.id, e]));
const lookup = { authorizedEntry: (_agent: string, id: string) => byId.get(id) };
const params = csrs.map((csr, i) => ({ entryId: `e${i}`, csr }));

for (const [name, v] of verifiers) {
  const handlers = svidHandlers({
    trustDomain: td,
    ca: new InMemoryServerCa({ trustDomain: "example.org" }),
    authorizedEntries: lookup,
    dataStore: { fetchBundle: async () => ({ bundle: undefined }) },
    log: createLogger({ level: "error", write: () => {} }),
    csrVerifier: v,
  });
  const caller = { local: false, address: "ipv4:10.0.0.1:1", admin: false, downstream: false, agentId: SpiffeId.parse(agentId) };
  const api = await startApiServer([{ definition: SVIDService, impl: handlers }], caller);
  const client = createClient(SVIDService, api.channel);
  record(`rpc 500, ${name}`, await timeIt(() => client.batchNewX509Svid({ params }), rounds), batch);
  record(`rpc 2x500 at once, ${name}`, await timeIt(() => Promise.all([0, 1].map(() => client.batchNewX509Svid({ params }))), rounds / 2), batch * 2);
  await api.close();
  await v.close();
}

mkdirSync(new URL(".", `file://${outFile}`), { recursive: true });
writeFileSync(outFile, `${JSON.stringify({ bench: "svid-batch", date: new Date().toISOString(), node: process.version, batch, results }, null, 2)}\n`);
console.log(`wrote ${outFile}`);
