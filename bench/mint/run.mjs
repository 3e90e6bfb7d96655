#!/usr/bin/env node
// bench/mint: X509-SVIDs per second through BatchNewX509SVID, end to end, beside the single-core
// ceiling of the same work measured in the same run.
//
//   end to end   signet-server (SQLite DataStore and keymanager-disk as plugin processes, the CA key
//                in keymanager-disk) over its TCP API with mTLS as an attested agent; batches of 500
//                P-256 CSRs, one per authorized entry; two batches in flight. The signing rate limit
//                (500 CSRs/s per IP, SPIRE's default) is turned off: it would cap the figure at 500/s.
//   ceiling      one core, in process: parseCsr (parse + signature check) + SVID template + TBS +
//                ECDSA P-256 sign with a cached KeyObject, over the same 500 CSRs.
//
// Target (issue 3): end to end >= 1.2x the ceiling, i.e. both cores put to use.
// Needs `npm run build`. Usage: node bench/mint/run.mjs [--quick]
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Channel, credentials } from "@grpc/grpc-js";
import { createLogger } from "../../host/common/dist/index.js";
import { loadServerConfig, startServer } from "../../host/server/dist/index.js";
import { createClient } from "../../proto/dist/src/index.js";
import { AgentService } from "../../proto/dist/gen/spire/api/server/agent/v1/agent.js";
import { BundleService } from "../../proto/dist/gen/spire/api/server/bundle/v1/bundle.js";
import { EntryService } from "../../proto/dist/gen/spire/api/server/entry/v1/entry.js";
import { SVIDService } from "../../proto/dist/gen/spire/api/server/svid/v1/svid.js";
import { Entry } from "../../proto/dist/gen/spire/api/types/entry.js";
import {
  createCsr,
  encodeTbs,
  issuerFromCertificate,
  keyObjectSigner,
  assembleCertificate,
  parseCsr,
  selfSignedCaTemplate,
  SpiffeId,
  spkiOf,
  TrustDomain,
  x509SvidTemplate,
} from "../../spiffe/dist/index.js";

const quick = process.argv.includes("--quick");
const windowMs = quick ? 3000 : 10_000;
const batchSize = 500;
const inFlight = 2;
const root = fileURLToPath(new URL("../..", import.meta.url));

// ---- the work: 500 entries' CSRs ---------------------------------------------------------------
const ids = Array.from({ length: batchSize }, (_, i) => `spiffe://example.org/bench/w${i}`);
const csrs = ids.map((id) => createCsr({ privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, uriSans: [id] }));

// ---- ceiling: one core, in process ------------------------------------------------------------
function ceiling() {
  const td = TrustDomain.parse("example.org");
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signer = keyObjectSigner(ca.privateKey);
  const caTbs = encodeTbs(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(ca.publicKey) }), signer.algorithm);
  const caDer = assembleCertificate(caTbs, signer.algorithm, signer.sign(caTbs));
  const issuer = issuerFromCertificate(caDer);
  const spiffeIds = ids.map((id) => SpiffeId.parse(id));
  let n = 0;
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    const i = n++ % batchSize;
    const csr = parseCsr(csrs[i]);
    const tbs = encodeTbs(x509SvidTemplate({ spiffeId: spiffeIds[i], spki: csr.spki, issuer, ttlSeconds: 3600 }), signer.algorithm);
    assembleCertificate(tbs, signer.algorithm, signer.sign(tbs));
  }
  return (n * 1000) / windowMs;
}

// ---- end to end ----------------------------------------------------------------------------------
async function endToEnd() {
  const dir = mkdtempSync(join(tmpdir(), "signet-bench-mint-"));
  const socketPath = join(dir, "api.sock");
  const configPath = join(dir, "server.conf");
  writeFileSync(
    configPath,
    `server {
  bind_address = "127.0.0.1"
  bind_port = "0"
  socket_path = "${socketPath}"
  trust_domain = "example.org"
  ratelimit { signing = false }
}
plugins {
  DataStore "sql" { plugin_data { database_type = "sqlite3", connection_string = "${join(dir, "ds.sqlite3")}" } }
  KeyManager "disk" { plugin_data { keys_path = "${join(dir, "keys.json")}" } }
  NodeAttestor "join_token" {}
}
`,
  );
  const server = await startServer(await loadServerConfig(configPath), { log: createLogger({ level: "error" }) });
  const channels = [];
  const channel = (target, creds) => {
    const c = new Channel(target, creds, { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
    channels.push(c);
    return c;
  };
  try {
    const local = channel(`unix://${socketPath}`, credentials.createInsecure());
    const bundle = await createClient(BundleService, local).getBundle({ outputMask: undefined });
    const rootsPem = bundle.x509Authorities.map((a) => new X509Certificate(a.asn1).toString()).join("");
    const token = (await createClient(AgentService, local).createJoinToken({ ttl: 600, token: "" })).value;

    const serverIdentity = {
      checkServerIdentity: (_h, cert) =>
        new X509Certificate(cert.raw).subjectAltName === "URI:spiffe://example.org/spire/server" ? undefined : new Error("unexpected server ID"),
    };
    const tls = channel(`127.0.0.1:${server.tcpPort}`, credentials.createSsl(Buffer.from(rootsPem), null, null, serverIdentity));
    const agentKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const attest = createClient(AgentService, tls).attestAgent();
    attest.send({ step: { $case: "params", value: { data: { type: "join_token", payload: Buffer.from(token) }, params: { csr: createCsr({ privateKey: agentKey }) } } } });
    let chain;
    for await (const msg of attest) if (msg.step?.$case === "result") chain = msg.step.value.svid.certChain;
    attest.end();
    const agentId = `spiffe://example.org/spire/agent/join_token/${token}`;

    const entryApi = createClient(EntryService, local);
    const created = await entryApi.batchCreateEntry({
      entries: ids.map((id) => Entry.fromPartial({
        spiffeId: { trustDomain: "example.org", path: new URL(id).pathname },
        parentId: { trustDomain: "example.org", path: new URL(agentId).pathname },
        selectors: [{ type: "unix", value: "uid:1000" }],
      })),
    });
    const entryIds = created.results.map((r) => r.entry.id);

    const mtls = channel(
      `127.0.0.1:${server.tcpPort}`,
      credentials.createSsl(
        Buffer.from(rootsPem),
        Buffer.from(agentKey.export({ type: "pkcs8", format: "pem" })),
        Buffer.from(chain.map((c) => new X509Certificate(c).toString()).join("")),
        serverIdentity,
      ),
    );
    // The entry cache follows the change feed: wait until the agent sees all 500.
    const agentEntries = createClient(EntryService, mtls);
    for (let i = 0; ; i++) {
      const got = await agentEntries.getAuthorizedEntries({ outputMask: undefined });
      if (got.entries.length >= batchSize) break;
      if (i > 200) throw new Error(`only ${got.entries.length} entries authorized`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const svid = createClient(SVIDService, mtls);
    const params = entryIds.map((entryId, i) => ({ entryId, csr: csrs[i] }));
    const batch = async () => {
      const res = await svid.batchNewX509Svid({ params });
      const failed = res.results.filter((r) => r.status?.code !== 0);
      if (failed.length > 0) throw new Error(`${failed.length} items failed: ${failed[0].status.message}`);
      return res;
    };
    const sample = (await batch()).results[0].svid.certChain[0];
    if (!new X509Certificate(sample).verify(new X509Certificate(bundle.x509Authorities[0].asn1).publicKey)) {
      throw new Error("minted SVID does not verify against the bundle");
    }
    await batch(); // warm-up

    let svids = 0;
    const latencies = [];
    const end = performance.now() + windowMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          await batch();
          latencies.push(performance.now() - t);
          svids += batchSize;
        }
      }),
    );
    const elapsed = performance.now() - started;
    latencies.sort((a, b) => a - b);
    return { svidsPerSecond: (svids * 1000) / elapsed, batches: latencies.length, batchP50Ms: latencies[Math.floor(latencies.length / 2)] };
  } finally {
    for (const c of channels) c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const e2e = await endToEnd();
const ceil = ceiling();
const ratio = e2e.svidsPerSecond / ceil;
const table = [
  ["end to end (BatchNewX509SVID, TCP mTLS, keymanager-disk)", `${e2e.svidsPerSecond.toFixed(0)} SVIDs/s`, `batch p50 ${e2e.batchP50Ms.toFixed(0)} ms`],
  ["single-core ceiling (CSR verify + TBS + sign, cached key)", `${ceil.toFixed(0)} SVIDs/s`, ""],
  ["ratio (target >= 1.2)", ratio.toFixed(2), ratio >= 1.2 ? "met" : "NOT met"],
];
for (const row of table) console.log(row[0].padEnd(60), row[1].padStart(16), " ", row[2]);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, "bench/results/mint.json"),
  `${JSON.stringify({ bench: "mint", date: new Date().toISOString(), batchSize, inFlight, windowMs, endToEnd: e2e, ceilingSvidsPerSecond: ceil, ratio, target: 1.2 }, null, 2)}\n`,
);
