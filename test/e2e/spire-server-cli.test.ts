/**
 * The stock spire-server CLI (SPIRE v1.15.3, built from the Go module proxy in
 * test/e2e/go/stock-spire) against signet-server's admin socket: every command
 * an operator runs day to day talks to our Entry, Agent, Bundle, SVID,
 * TrustDomain, LocalAuthority and Logger services, and gets SPIRE's answers,
 * status codes and messages back (SPIRE's CLI prints them; we assert on what it prints).
 */
import { execFile } from "node:child_process";
import { createPublicKey, type JsonWebKey, verify, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../fakes/signet-pair.js";
import { haveGo, requireGoInCI } from "./go-toolchain.js";
import { buildStockSpire, stockSpireColdBuildMs } from "./stock-spire.js";

requireGoInCI("(to build the stock spire-server from test/e2e/go/stock-spire)");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe.skipIf(!haveGo)("the stock spire-server v1.15.3 CLI against signet-server", () => {
  let spireServer = "";
  const dir = mkdtempSync(join(tmpdir(), "stock-server-cli-"));
  let server: TestServer;
  let socketPath = "";

  const cli = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(spireServer, [...args, "-socketPath", socketPath], { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  beforeAll(async () => {
    spireServer = (await buildStockSpire()).spireServer;
    server = await startTestServer();
    socketPath = join(server.dir, "server.sock");
  }, stockSpireColdBuildMs + 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("healthcheck and logger", async () => {
    expect(await cli("healthcheck")).toMatchObject({ code: 0, stdout: "Server is healthy.\n" });
    const set = await cli("logger", "set", "-level", "debug");
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/Logger Level\s*:\s*debug/);
    const reset = await cli("logger", "reset");
    expect(reset.stdout).toMatch(/Logger Level\s*:\s*warn/);
  });

  it("entry create (flags and -data), show with filters, update, count, delete; refusals keep the store as it was", async () => {
    const created = await cli(
      "entry", "create",
      "-spiffeID", "spiffe://example.org/cli/web",
      "-parentID", "spiffe://example.org/spire/agent/x509pop/node1",
      "-selector", "unix:uid:1000", "-selector", "unix:gid:1000",
      "-dns", "web.example.org", "-x509SVIDTTL", "600", "-hint", "web",
    );
    expect(created.code, created.stderr).toBe(0);
    const entryId = /Entry ID\s*:\s*(\S+)/.exec(created.stdout)?.[1] ?? "";
    expect(entryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.stdout).toMatch(/X509-SVID TTL\s*:\s*600/);

    const data = join(dir, "entries.json");
    writeFileSync(
      data,
      JSON.stringify({
        entries: [
          // SPIRE's -data format: its older RegistrationEntry JSON, IDs as strings.
          { spiffe_id: "spiffe://example.org/cli/a", parent_id: "spiffe://example.org/cli/web", selectors: [{ type: "unix", value: "uid:1" }] },
          { spiffe_id: "spiffe://example.org/cli/b", parent_id: "spiffe://example.org/cli/web", selectors: [{ type: "unix", value: "uid:2" }], admin: true },
        ],
      }),
    );
    const batch = await cli("entry", "create", "-data", data);
    expect(batch.code, batch.stderr).toBe(0);
    expect(batch.stdout.match(/Entry ID/g)).toHaveLength(2);

    const shown = await cli("entry", "show", "-parentID", "spiffe://example.org/cli/web");
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("Found 2 entries");
    expect(shown.stdout).toContain("spiffe://example.org/cli/a");
    const bySelector = await cli("entry", "show", "-selector", "unix:uid:1000", "-matchSelectorsOn", "superset");
    expect(bySelector.stdout).toContain("Found 1 entry");
    expect(bySelector.stdout).toContain(entryId);
    const json = await cli("entry", "show", "-entryID", entryId, "-output", "json");
    expect(JSON.parse(json.stdout)).toMatchObject({ entries: [{ id: entryId, hint: "web", dns_names: ["web.example.org"], x509_svid_ttl: 600 }] });
    expect((await cli("entry", "count")).stdout).toBe("3 registration entries\n");

    const dup = await cli(
      "entry", "create",
      "-spiffeID", "spiffe://example.org/cli/web",
      "-parentID", "spiffe://example.org/spire/agent/x509pop/node1",
      "-selector", "unix:uid:1000", "-selector", "unix:gid:1000",
    );
    expect(dup.code).toBe(1);
    expect(dup.stdout + dup.stderr).toContain('code: AlreadyExists, msg: "similar entry already exists"');
    const bad = await cli("entry", "create", "-spiffeID", "spiffe://example.org/x", "-parentID", "spiffe://example.org/p", "-selector", "nocolon");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: /m);
    const missing = await cli("entry", "update", "-entryID", "nope", "-spiffeID", "spiffe://example.org/x", "-parentID", "spiffe://example.org/p", "-selector", "unix:uid:1");
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain('code: NotFound, msg: "failed to update entry"');
    expect((await cli("entry", "count")).stdout).toBe("3 registration entries\n");

    const updated = await cli(
      "entry", "update", "-entryID", entryId,
      "-spiffeID", "spiffe://example.org/cli/web",
      "-parentID", "spiffe://example.org/spire/agent/x509pop/node1",
      "-selector", "unix:uid:1001", "-hint", "web2",
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/Revision\s*:\s*1/);
    expect(updated.stdout).toMatch(/Hint\s*:\s*web2/);

    const deleted = await cli("entry", "delete", "-entryID", entryId);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await cli("entry", "show", "-entryID", entryId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("NotFound");
  });

  it("token generate, agent list/count (none attested)", async () => {
    const token = await cli("token", "generate", "-spiffeID", "spiffe://example.org/cli/node", "-ttl", "60");
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^Token: [0-9a-f-]{36}\n$/);
    expect(await cli("agent", "list")).toMatchObject({ code: 0, stdout: "No attested agents found\n" });
    expect((await cli("agent", "count")).stdout).toBe("0 attested agents\n");
  });

  it("bundle show/set/list/count/delete, in pem and spiffe formats", async () => {
    const own = await cli("bundle", "show", "-format", "spiffe");
    expect(own.code, own.stderr).toBe(0);
    const jwks = JSON.parse(own.stdout) as { keys: { use: string }[]; spiffe_sequence?: number };
    expect(jwks.keys.map((k) => k.use).sort()).toEqual(["jwt-svid", "x509-svid"]);
    const ownPem = await cli("bundle", "show");
    expect(new X509Certificate(ownPem.stdout).subject).toContain("SPIFFE");

    const otherPem = join(dir, "other.pem");
    writeFileSync(otherPem, ownPem.stdout);
    const set = await cli("bundle", "set", "-id", "spiffe://other.org", "-path", otherPem);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("bundle set.");
    const listed = await cli("bundle", "list");
    expect(listed.stdout).toContain("* other.org\n");
    expect((await cli("bundle", "count")).stdout).toMatch(/^\d+ bundles?\n$/);
    expect(await cli("bundle", "delete", "-id", "spiffe://other.org")).toMatchObject({ code: 0, stdout: "bundle deleted.\n" });
    const none = await cli("bundle", "list", "-id", "spiffe://other.org");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("NotFound");
  });

  it("x509 mint and jwt mint give SVIDs that verify with the server's bundle", async () => {
    const x509 = await cli("x509", "mint", "-spiffeID", "spiffe://example.org/cli/minted", "-ttl", "5m");
    expect(x509.code, x509.stderr).toBe(0);
    const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(x509.stdout.split("Root CAs:")[0] ?? "")?.[0] ?? "";
    const leaf = new X509Certificate(leafPem);
    expect(leaf.subjectAltName).toBe("URI:spiffe://example.org/cli/minted");
    const root = new X509Certificate(await server.bundlePem());
    expect(leaf.verify(root.publicKey)).toBe(true);

    const jwt = await cli("jwt", "mint", "-spiffeID", "spiffe://example.org/cli/minted", "-audience", "aud1", "-ttl", "5m");
    expect(jwt.code, jwt.stderr).toBe(0);
    const token = jwt.stdout.trim();
    const [h, p, s] = token.split(".") as [string, string, string];
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg: string; kid: string };
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as { sub: string; aud: string[] | string };
    expect(header.alg).toBe("ES256");
    expect(claims.sub).toBe("spiffe://example.org/cli/minted");
    const bundle = JSON.parse((await cli("bundle", "show", "-format", "spiffe")).stdout) as { keys: (JsonWebKey & { kid?: string })[] };
    const jwk = bundle.keys.find((k) => k.kid === header.kid);
    expect(jwk).toBeDefined();
    const ok = verify("sha256", Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk as JsonWebKey, format: "jwk" }), dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
    expect(ok).toBe(true);
  });

  it("localauthority x509/jwt show and prepare", async () => {
    const x509 = await cli("localauthority", "x509", "show");
    expect(x509.code, x509.stderr).toBe(0);
    expect(x509.stdout).toMatch(/Active X\.509 authority:\s+Authority ID: [0-9a-f]{40}/);
    const prepared = await cli("localauthority", "x509", "prepare");
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(prepared.stdout).toMatch(/Prepared X\.509 authority:\s+Authority ID: [0-9a-f]{40}/);
    const jwt = await cli("localauthority", "jwt", "show");
    expect(jwt.stdout).toMatch(/Active JWT authority:\s+Authority ID: \S+/);
  });

  it("federation create/list/show/update/delete", async () => {
    const created = await cli(
      "federation", "create",
      "-trustDomain", "partner.org",
      "-bundleEndpointURL", "https://127.0.0.1:1/bundle",
      "-bundleEndpointProfile", "https_web",
    );
    expect(created.code, created.stderr).toBe(0);
    expect((await cli("federation", "list")).stdout).toContain("Found 1 federation relationship");
    const shown = await cli("federation", "show", "-trustDomain", "partner.org");
    expect(shown.stdout).toMatch(/Bundle endpoint URL\s*:\s*https:\/\/127\.0\.0\.1:1\/bundle/);
    const updated = await cli(
      "federation", "update",
      "-trustDomain", "partner.org",
      "-bundleEndpointURL", "https://127.0.0.1:2/bundle",
      "-bundleEndpointProfile", "https_web",
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain("https://127.0.0.1:2/bundle");
    expect(await cli("federation", "delete", "-id", "partner.org")).toMatchObject({ code: 0 });
    expect((await cli("federation", "list")).stdout).toContain("Found 0 federation relationships");
  });
});
