/**
 * `x509 mint`, `jwt mint`, `debug getinfo` and `healthcheck` against
 * Signet's SVID, Bundle, Debug and Health services (in-memory CA, SQL
 * DataStore) on one Unix socket.
 */
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@signet/host-common";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import { InMemoryServerCa } from "../../../../test/fakes/memory-server-ca.js";
import { startUnixApiServer, type UnixApiServer } from "../../../../test/fakes/server-api/unix-server.js";
import { bundleService } from "../api/bundle/v1/service.js";
import { debugService } from "../api/debug/v1/service.js";
import { svidService } from "../api/svid/v1/service.js";
import { healthService } from "../endpoints/health.js";
import { runCli } from "./cli.js";
import type { CliEnv } from "@signet/host-common";

async function cli(args: string[], vars: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars,
    baseDir: "",
  };
  return { code: await runCli(args, env), ...out };
}

const td = TrustDomain.parse("example.org");

describe("minting and server status commands", () => {
  let ds: TestDataStore;
  let server: UnixApiServer;
  let ca: InMemoryServerCa;
  let sock: string[];
  let serverSvid: readonly Buffer[] = [];

  beforeAll(async () => {
    ds = await startTestDataStore();
    ca = new InMemoryServerCa({ trustDomain: td.name });
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    serverSvid = (
      await ca.signAgentX509Svid({ publicKey: publicKey.export({ type: "spki", format: "der" }), spiffeId: SpiffeId.parse("spiffe://example.org/spire/server") })
    ).certChain;
    const log = createLogger({ write: () => {} });
    server = await startUnixApiServer([
      svidService({ trustDomain: td, ca, authorizedEntries: { authorizedEntry: () => undefined }, dataStore: ds.dataStore, log }),
      bundleService({ dataStore: ds.dataStore, trustDomain: td, publishJwtKey: async () => [] }),
      debugService({ trustDomain: td, dataStore: ds.dataStore, serverSvid: () => serverSvid, uptime: () => 3725 }),
      healthService({ dataStore: ds.dataStore, trustDomain: td }),
    ]);
    sock = ["-socketPath", server.socketPath];
  });
  let bundleCreated = false;
  async function ensureBundle(): Promise<void> {
    if (bundleCreated) return;
    bundleCreated = true;
    await ds.dataStore.createBundle({
      bundle: {
        trustDomain: td.name,
        x509Authorities: [{ asn1: ca.rootCert, tainted: false }],
        jwtAuthorities: [],
        refreshHint: 0n,
        sequenceNumber: 0n,
        witAuthorities: [],
      },
    });
  }

  afterAll(async () => {
    await server?.stop();
    await ds?.close();
  });

  it("healthcheck fails until the server's bundle exists, then passes", async () => {
    const before = await cli(["healthcheck", ...sock, "-verbose"]);
    expect(before.code).toBe(1);
    expect(before.stdout).toBe("Checking server health...\n");
    expect(before.stderr).toBe('Error: server is unhealthy: server returned status "NOT_SERVING"\n');

    await ensureBundle();
    const after = await cli(["healthcheck", ...sock]);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe("Server is healthy.\n");
  });

  it("x509 mint prints the SVID, its key and the roots", async () => {
    const r = await cli(["x509", "mint", ...sock, "-spiffeID", "spiffe://example.org/mint", "-dns", "mint.example.org", "-ttl", "10m"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^X509-SVID:\n-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n\nPrivate key:\n-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n\nRoot CAs:\n-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n\n$/,
    );
    const leafPem = /-----BEGIN CERTIFICATE-----\n[\s\S]+?-----END CERTIFICATE-----\n/.exec(r.stdout)![0];
    const leaf = new X509Certificate(leafPem);
    expect(leaf.subjectAltName).toContain("URI:spiffe://example.org/mint");
    expect(leaf.subjectAltName).toContain("DNS:mint.example.org");

    const json = JSON.parse((await cli(["x509", "mint", ...sock, "-spiffeID", "spiffe://example.org/mint", "-output", "json"])).stdout);
    expect(Object.keys(json)).toEqual(["x509_svid", "private_key", "root_cas"]);
    expect(Buffer.from(json.root_cas[0], "base64").equals(ca.rootCert)).toBe(true);
  });

  it("x509 mint -write writes svid.pem, key.pem (0600) and bundle.pem", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "signet-mint-"));
    const r = await cli(["x509", "mint", ...sock, "-spiffeID", "spiffe://example.org/mint", "-write", dir]);
    expect(r.stdout).toBe(
      `X509-SVID written to ${dir}/svid.pem\nPrivate key written to ${dir}/key.pem\nRoot CAs written to ${dir}/bundle.pem\n`,
    );
    expect(statSync(path.join(dir, "key.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(dir, "bundle.pem"), "latin1")).toContain("-----BEGIN CERTIFICATE-----");
  });

  it("jwt mint prints the token; flags are checked first", async () => {
    const r = await cli(["jwt", "mint", ...sock, "-spiffeID", "spiffe://example.org/jwt", "-audience", "db"]);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.sub).toBe("spiffe://example.org/jwt");
    expect(claims.aud).toEqual(["db"]);
    expect((await cli(["jwt", "mint", ...sock, "-spiffeID", "spiffe://example.org/jwt"])).stderr).toBe(
      "Error: at least one audience must be specified\n",
    );
    expect((await cli(["jwt", "mint", ...sock, "-audience", "a"])).stderr).toBe("Error: spiffeID must be specified\n");
    expect((await cli(["x509", "mint", ...sock, "-spiffeID", "spiffe://example.org/x", "-ttl", "soon"])).stderr).toMatch(
      /^invalid value "soon" for flag -ttl: parse error\n/,
    );
  });

  it("debug getinfo prints counts and uptime", async () => {
    await ensureBundle();
    const r = await cli(["debug", "getinfo", ...sock]);
    expect(r.stderr).toBe("");
    expect(r.stdout.startsWith(
      "Server Debug Info:\n  Uptime:                  1h2m5s\n  Registered Agents:       0\n  Registration Entries:    0\n  Federated Bundles:       1\n  SVID Chain:\n",
    )).toBe(true);
    expect(r.stdout).toMatch(/\n {4}\[0\] SPIFFE ID: {2}spiffe:\/\/example\.org\/spire\/server\n {8}Subject: {4}O=SPIRE,C=US\n {8}Expires At: \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\n/);
  });

  it("wit mint exists only behind SPIRE_SERVER_FFLAGS=wit-svid and checks key/algorithm pairs first", async () => {
    expect((await cli(["wit", "mint", ...sock, "-spiffeID", "spiffe://example.org/w"])).code).toBe(127);
    const flags = { SPIRE_SERVER_FFLAGS: "other wit-svid" };
    expect((await cli(["wit", "mint", ...sock, "-spiffeID", "spiffe://example.org/w", "-keyType", "rsa-2048"], flags)).stderr).toBe(
      "Error: unsupported key type 'rsa-2048' for 'ES256' signing algorithm\n",
    );
    expect((await cli(["wit", "mint", ...sock, "-spiffeID", "spiffe://example.org/w", "-signingAlgorithm", "HS256"], flags)).stderr).toBe(
      "Error: unsupported signing algorithm: HS256\n",
    );
    const refused = await cli(["wit", "mint", ...sock, "-spiffeID", "spiffe://example.org/w"], flags);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("Error: unable to mint SVID: rpc error: code = Unimplemented desc = WIT functionality is disabled\n");
  });
});
