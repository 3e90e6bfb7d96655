import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCsr } from "@signet/spiffe";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CsrVerifier, inlineCsrVerifier } from "./csr-verifier.js";
import { workerCsrVerifier } from "./csr-worker-pool.js";

const out = join(__dirname, "../../../../../../.tmp/test/csr-worker");
let workerFile = "";
const pools: CsrVerifier[] = [];

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  workerFile = join(out, "csr-worker.mjs");
  await build({
    entryPoints: [join(__dirname, "csr-worker.ts")],
    outfile: workerFile,
    bundle: true,
    platform: "node",
    format: "esm",
    conditions: ["signet-source"],
    logLevel: "error",
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function csrs(n: number): Buffer[] {
  const list = Array.from({ length: n }, (_, i) =>
    createCsr({ privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, uriSans: [`spiffe://example.org/w/${i}`] }),
  );
  // Bad ones spread over every share.
  list[3] = Buffer.from("garbage");
  list[n - 2] = createCsr({
    privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey,
    spki: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" }),
  });
  return list;
}

describe("CSR worker pool", () => {
  it("gives the inline verifier's answers, in order, as Buffers", async () => {
    const pool = workerCsrVerifier({ threads: 2, workerFile, minBatch: 4 });
    pools.push(pool);
    const input = csrs(30);
    const [fromPool, inline] = await Promise.all([pool.verify(input), inlineCsrVerifier().verify(input)]);
    expect(fromPool).toEqual(inline);
    expect(fromPool.filter((c) => !c.ok).map((c) => (c.ok ? "" : c.kind))).toEqual(["malformed", "signature"]);
    for (const c of fromPool) if (c.ok) expect(Buffer.isBuffer(c.spki)).toBe(true);
  });

  it("verifies inline when a worker cannot do its share", async () => {
    const broken = join(out, "broken-worker.mjs");
    writeFileSync(broken, "process.exit(3);\n");
    const pool = workerCsrVerifier({ threads: 1, workerFile: broken, minBatch: 4 });
    pools.push(pool);
    const input = csrs(12);
    expect(await pool.verify(input)).toEqual(await inlineCsrVerifier().verify(input));
    expect(await pool.verify(input)).toEqual(await inlineCsrVerifier().verify(input));
  });
});
