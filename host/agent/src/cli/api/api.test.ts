import { type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Metadata } from "@grpc/grpc-js";
import { type CliEnv } from "@signet/host-common";
import { Code, implement, RpcError } from "@signet/proto";
import { SpiffeWorkloadAPIService, type X509SVIDResponse } from "@signet/proto/workload/workload";
import {
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  SpiffeId,
  spkiOf,
  x509SvidTemplate,
} from "@signet/spiffe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newKey, pem, selfSignedCa } from "../../../../../test/fakes/ca-files.js";
import { startUnixApiServer, type UnixApiServer } from "../../../../../test/fakes/server-api/unix-server.js";
import { runAgentCli } from "../cli.js";
import { commands } from "../commands.js";
import { watchCommand } from "./watch.js";

interface Ca {
  readonly key: KeyObject;
  readonly cert: Buffer;
}

function ca(trustDomain: string): Ca {
  const key = newKey();
  return { key, cert: selfSignedCa(key, { trustDomain }) };
}

function svid(issuer: Ca, id: string): { chain: Buffer; key: Buffer } {
  const key = newKey();
  const cert = mintCertificateSync(
    x509SvidTemplate({ spiffeId: SpiffeId.parse(id), issuer: issuerFromCertificate(issuer.cert), spki: spkiOf(key), ttlSeconds: 3600 }),
    keyObjectSigner(issuer.key),
  );
  return { chain: cert, key: key.export({ format: "der", type: "pkcs8" }) as Buffer };
}

/** "2006-01-02 15:04:05 +0000 UTC" of a certificate's validity, as the CLI prints it. */
function goTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

const exampleCa = ca("example.org");
const federatedCas = { z: ca("z.test"), a: ca("a.test"), m: ca("m.test") };
const web = svid(exampleCa, "spiffe://example.org/web");
const x509Response: X509SVIDResponse = {
  svids: [{ spiffeId: "spiffe://example.org/web", x509Svid: web.chain, x509SvidKey: web.key, bundle: exampleCa.cert, hint: "external" }],
  crl: [],
  federatedBundles: {
    "spiffe://z.test": federatedCas.z.cert,
    "spiffe://a.test": federatedCas.a.cert,
    "spiffe://m.test": federatedCas.m.cert,
  },
};
const jwks = Buffer.from('{"keys":[]}');
const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy93ZWIifQ.c2ln";

/** What the fake agent answers; each test sets what it needs. */
const behaviour: {
  x509: (() => AsyncIterable<X509SVIDResponse>) | undefined;
  jwtSvidError: RpcError | undefined;
  validateError: RpcError | undefined;
} = { x509: undefined, jwtSvidError: undefined, validateError: undefined };
const seen: { method: string; header: string | undefined }[] = [];
const requests: unknown[] = [];

/** The Workload API's own rule: no security header, no answer. */
function checkHeader(method: string, md: Metadata): void {
  const header = md.get("workload.spiffe.io")[0]?.toString();
  seen.push({ method, header });
  if (header !== "true") throw new RpcError(Code.INVALID_ARGUMENT, "security header missing from request");
}

const workloadApi = implement(SpiffeWorkloadAPIService, {
  async *fetchX509Svid(_req, ctx) {
    checkHeader("FetchX509SVID", ctx.metadata);
    if (behaviour.x509) yield* behaviour.x509();
    else yield x509Response;
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
  },
  async *fetchJwtBundles(_req, ctx) {
    checkHeader("FetchJWTBundles", ctx.metadata);
    yield { bundles: { "spiffe://example.org": jwks, "spiffe://a.test": jwks } };
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
  },
  async fetchJwtsvid(req, ctx) {
    checkHeader("FetchJWTSVID", ctx.metadata);
    requests.push(req);
    if (behaviour.jwtSvidError) throw behaviour.jwtSvidError;
    return { svids: [{ spiffeId: "spiffe://example.org/web", svid: token, hint: "external" }, { spiffeId: "spiffe://example.org/db", svid: token, hint: "" }] };
  },
  async validateJwtsvid(req, ctx) {
    checkHeader("ValidateJWTSVID", ctx.metadata);
    requests.push(req);
    if (behaviour.validateError) throw behaviour.validateError;
    return { spiffeId: "spiffe://example.org/web", claims: { sub: "spiffe://example.org/web", aud: ["foo"], note: "<&>", gone: null } };
  },
});

let server: UnixApiServer;
let sock: string[];

beforeAll(async () => {
  server = await startUnixApiServer([workloadApi]);
  sock = ["-socketPath", server.socketPath];
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => {
  behaviour.x509 = undefined;
  behaviour.jwtSvidError = undefined;
  behaviour.validateError = undefined;
  // Every call the CLI made carried the Workload API security header.
  expect(seen.filter((s) => s.header !== "true")).toEqual([]);
  seen.length = 0;
  requests.length = 0;
});

async function cli(args: string[], opts: { vars?: Record<string, string>; table?: typeof commands } = {}) {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars: opts.vars ?? {},
    baseDir: "",
  };
  const code = await runAgentCli(args, env, opts.table);
  return { code, ...out };
}

describe("api fetch x509", () => {
  it("prints the SVID, its CAs and the federated CAs as spire-agent does", async () => {
    const r = await cli(["api", "fetch", "x509", ...sock]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Received 1 svid after \d+(\.\d+)?(ns|µs|ms|s)\n\n/);
    const leaf = new (await import("node:crypto")).X509Certificate(web.chain);
    const root = new (await import("node:crypto")).X509Certificate(exampleCa.cert);
    const a = new (await import("node:crypto")).X509Certificate(federatedCas.a.cert);
    expect(r.stdout).toContain(
      `SPIFFE ID:\t\tspiffe://example.org/web\nHint:\t\t\texternal\n` +
        `SVID Valid After:\t${goTime(new Date(leaf.validFrom))}\nSVID Valid Until:\t${goTime(new Date(leaf.validTo))}\n` +
        `CA #1 Valid After:\t${goTime(new Date(root.validFrom))}\nCA #1 Valid Until:\t${goTime(new Date(root.validTo))}\n` +
        `[spiffe://a.test] CA #1 Valid After:\t${goTime(new Date(a.validFrom))}\n[spiffe://a.test] CA #1 Valid Until:\t${goTime(new Date(a.validTo))}\n`,
    );
    expect(r.stdout.endsWith("Valid Until:\t" + goTime(new Date(new (await import("node:crypto")).X509Certificate(federatedCas.z.cert).validTo)) + "\n\n")).toBe(true);
    expect(seen.map((s) => s.method)).toEqual(["FetchX509SVID"]);
  });

  it("`api fetch` alone is `api fetch x509`", async () => {
    const r = await cli(["api", "fetch", ...sock, "-silent"]);
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("prints protojson with proto names, sorted keys and base64 bytes for -output json", async () => {
    const r = await cli(["api", "fetch", "x509", ...sock, "-output", "json"]);
    expect(r.code).toBe(0);
    const b64 = (b: Buffer) => b.toString("base64");
    expect(r.stdout).toBe(
      `${JSON.stringify({
        crl: [],
        federated_bundles: { "spiffe://a.test": b64(federatedCas.a.cert), "spiffe://m.test": b64(federatedCas.m.cert), "spiffe://z.test": b64(federatedCas.z.cert) },
        svids: [{ bundle: b64(exampleCa.cert), hint: "external", spiffe_id: "spiffe://example.org/web", x509_svid: b64(web.chain), x509_svid_key: b64(web.key) }],
      })}\n`,
    );
  });

  it("writes svid, key, bundle and federated bundles (sorted by trust domain) with SPIRE's file modes", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "signet-agent-write-"));
    try {
      const r = await cli(["api", "fetch", "x509", ...sock, "-silent", "-write", dir]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          `Writing SVID #0 to file ${dir}/svid.0.pem.`,
          `Writing key #0 to file ${dir}/svid.0.key.`,
          `Writing bundle #0 to file ${dir}/bundle.0.pem.`,
          `Writing federated bundle #0 for trust domain spiffe://a.test to file ${dir}/federated_bundle.0.0.pem.`,
          `Writing federated bundle #1 for trust domain spiffe://m.test to file ${dir}/federated_bundle.0.1.pem.`,
          `Writing federated bundle #2 for trust domain spiffe://z.test to file ${dir}/federated_bundle.0.2.pem.`,
          "",
        ].join("\n"),
      );
      const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
      expect(read("svid.0.pem")).toBe(pem("CERTIFICATE", web.chain));
      expect(read("svid.0.key")).toBe(pem("PRIVATE KEY", web.key));
      expect(read("bundle.0.pem")).toBe(pem("CERTIFICATE", exampleCa.cert));
      expect(read("federated_bundle.0.0.pem")).toBe(pem("CERTIFICATE", federatedCas.a.cert));
      expect(read("federated_bundle.0.1.pem")).toBe(pem("CERTIFICATE", federatedCas.m.cert));
      expect(read("federated_bundle.0.2.pem")).toBe(pem("CERTIFICATE", federatedCas.z.cert));
      const umask = process.umask();
      const mode = (f: string) => statSync(path.join(dir, f)).mode & 0o777;
      expect(mode("svid.0.key")).toBe(0o600 & ~umask);
      expect(mode("svid.0.pem")).toBe(0o644 & ~umask);
      expect(mode("bundle.0.pem")).toBe(0o644 & ~umask);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails with SPIRE's message when the SVID does not chain to its bundle", async () => {
    const other = ca("example.org");
    behaviour.x509 = async function* () {
      yield { ...x509Response, svids: [{ ...x509Response.svids[0]!, bundle: other.cert }] };
    };
    const r = await cli(["api", "fetch", "x509", ...sock]);
    expect(r).toMatchObject({
      code: 1,
      stdout: "",
      stderr: '"spiffe://example.org/web" SVID failed verification against bundle: x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority\n',
    });
  });

  it("reports an empty response", async () => {
    behaviour.x509 = async function* () {
      yield { svids: [], crl: [], federatedBundles: {} };
    };
    const r = await cli(["api", "fetch", "x509", ...sock]);
    expect(r).toMatchObject({ code: 1, stderr: "workload response contains no svids\n" });
  });

  it("gives up after -timeout with grpc-go's deadline error", async () => {
    behaviour.x509 = async function* () {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    };
    const started = Date.now();
    const r = await cli(["api", "fetch", "x509", ...sock, "-timeout", "200ms"]);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: "rpc error: code = DeadlineExceeded desc = context deadline exceeded\n" });
  });

  it("prints an agent's PermissionDenied as one line, exit 1", async () => {
    behaviour.x509 = async function* () {
      throw new RpcError(Code.PERMISSION_DENIED, "no identity issued");
    };
    const r = await cli(["api", "fetch", "x509", ...sock]);
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: "rpc error: code = PermissionDenied desc = no identity issued\n" });
  });

  it("reads a missing socket as grpc-go does", async () => {
    const r = await cli(["api", "fetch", "x509", "-socketPath", "/nonexistent/signet/api.sock"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /nonexistent/signet/api.sock: connect: no such file or directory"\n',
    );
  });

  it("takes the socket from SPIRE_AGENT_PUBLIC_SOCKET, and -instance from the template", async () => {
    expect((await cli(["api", "fetch", "-silent"], { vars: { SPIRE_AGENT_PUBLIC_SOCKET: server.socketPath } })).code).toBe(0);
    const dir = path.dirname(server.socketPath);
    const vars = { SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE: `${path.dirname(dir)}/%i/api.sock` };
    expect((await cli(["api", "fetch", "-silent", "-instance", path.basename(dir)], { vars })).code).toBe(0);
    const r = await cli(["api", "fetch", "-instance", "a"]);
    expect(r).toMatchObject({ code: 1, stderr: " SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE environment variable must be defined when using the instance flag\n" });
  });
});

describe("api fetch jwt", () => {
  it("prints tokens, hints and bundles", async () => {
    const r = await cli(["api", "fetch", "jwt", ...sock, "-audience", "foo,bar", "-spiffeID", "spiffe://example.org/web"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `token(spiffe://example.org/web):\n\t${token}\nhint(spiffe://example.org/web):\n\texternal\n` +
        `token(spiffe://example.org/db):\n\t${token}\n` +
        `bundle(spiffe://a.test):\n\t${jwks}\nbundle(spiffe://example.org):\n\t${jwks}\n`,
    );
    expect(requests).toEqual([{ audience: ["foo", "bar"], spiffeId: "spiffe://example.org/web" }]);
    expect(seen.map((s) => s.method)).toEqual(["FetchJWTBundles", "FetchJWTSVID"]);
  });

  it("prints both messages as a JSON array (-output json, or the deprecated -format)", async () => {
    for (const flag of ["-output", "-format"]) {
      const r = await cli(["api", "fetch", "jwt", ...sock, "-audience", "foo", flag, "json"]);
      expect(r.code).toBe(0);
      const b = jwks.toString("base64");
      expect(r.stdout).toBe(
        `${JSON.stringify([
          { svids: [{ hint: "external", spiffe_id: "spiffe://example.org/web", svid: token }, { hint: "", spiffe_id: "spiffe://example.org/db", svid: token }] },
          { bundles: { "spiffe://a.test": b, "spiffe://example.org": b } },
        ])}\n`,
      );
    }
  });

  it("requires -audience", async () => {
    expect(await cli(["api", "fetch", "jwt", ...sock])).toMatchObject({ code: 1, stdout: "", stderr: "audience must be specified\n" });
  });

  it("prints the agent's InvalidArgument as one line", async () => {
    behaviour.jwtSvidError = new RpcError(Code.INVALID_ARGUMENT, "audience must be specified");
    const r = await cli(["api", "fetch", "jwt", ...sock, "-audience", "foo"]);
    expect(r).toMatchObject({ code: 1, stdout: "", stderr: "rpc error: code = InvalidArgument desc = audience must be specified\n" });
  });
});

describe("api validate jwt", () => {
  it("prints the SPIFFE ID and the claims", async () => {
    const r = await cli(["api", "validate", "jwt", ...sock, "-audience", "foo", "-svid", token]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      'SVID is valid.\nSPIFFE ID : spiffe://example.org/web\nClaims    : {"aud":["foo"],"gone":null,"note":"<&>","sub":"spiffe://example.org/web"}\n',
    );
    expect(requests).toEqual([{ audience: "foo", svid: token }]);
  });

  it("prints JSON with nulls dropped and HTML characters escaped", async () => {
    const r = await cli(["api", "validate", "jwt", ...sock, "-audience", "foo", "-svid", token, "-output", "json"]);
    expect(r.stdout).toBe(
      '{"claims":{"aud":["foo"],"note":"\\u003c\\u0026\\u003e","sub":"spiffe://example.org/web"},"spiffe_id":"spiffe://example.org/web"}\n',
    );
  });

  it("says why an SVID is not valid (InvalidArgument) and wraps other failures", async () => {
    behaviour.validateError = new RpcError(Code.INVALID_ARGUMENT, "token has expired");
    expect(await cli(["api", "validate", "jwt", ...sock, "-audience", "foo", "-svid", token])).toMatchObject({
      code: 1,
      stderr: "SVID is not valid: token has expired\n",
    });
    behaviour.validateError = new RpcError(Code.PERMISSION_DENIED, "no identity issued");
    expect(await cli(["api", "validate", "jwt", ...sock, "-audience", "foo", "-svid", token])).toMatchObject({
      code: 1,
      stderr: "unable to validate JWT SVID: rpc error: code = PermissionDenied desc = no identity issued\n",
    });
  });

  it("requires -audience and -svid", async () => {
    expect(await cli(["api", "validate", "jwt", ...sock])).toMatchObject({ code: 1, stderr: "audience must be specified\n" });
    expect(await cli(["api", "validate", "jwt", ...sock, "-audience", "a"])).toMatchObject({ code: 1, stderr: "svid must be specified\n" });
  });
});

describe("api watch", () => {
  it("prints each update until interrupted, then exits 1 with context canceled (as spire-agent)", async () => {
    const controller = new AbortController();
    const second = svid(exampleCa, "spiffe://example.org/web");
    behaviour.x509 = async function* () {
      yield x509Response;
      yield { ...x509Response, svids: [{ ...x509Response.svids[0]!, x509Svid: second.chain, x509SvidKey: second.key }] };
      setTimeout(() => controller.abort(), 50);
    };
    const table = commands.map((c) => (c.name === "api watch" ? watchCommand({ interrupt: () => controller.signal }) : c));
    const r = await cli(["api", "watch", ...sock], { table });
    expect(r.code).toBe(1);
    expect(r.stdout.match(/^Received 1 svid after /gm)).toHaveLength(2);
    // Watch shows federated bundles by trust domain name, without hints.
    expect(r.stdout).toContain("[a.test] CA #1 Valid After:\t");
    expect(r.stdout).not.toContain("Hint:");
    expect(r.stderr).toBe("rpc error: code = Canceled desc = context canceled\n".repeat(2));
  });

  it("reconnects after an error with go-spiffe's backoff", async () => {
    const controller = new AbortController();
    let calls = 0;
    behaviour.x509 = async function* () {
      calls++;
      if (calls === 1) throw new RpcError(Code.PERMISSION_DENIED, "no identity issued");
      yield x509Response;
      setTimeout(() => controller.abort(), 50);
    };
    const delays: number[] = [];
    const table = commands.map((c) =>
      c.name === "api watch" ? watchCommand({ interrupt: () => controller.signal, sleep: async (ms) => void delays.push(ms) }) : c,
    );
    const r = await cli(["api", "watch", ...sock], { table });
    expect(delays).toEqual([1000]);
    expect(r.stdout.match(/^Received 1 svid after /gm)).toHaveLength(1);
    expect(r.stderr.split("\n")[0]).toBe("rpc error: code = PermissionDenied desc = no identity issued");
  });

  it("stops on InvalidArgument", async () => {
    behaviour.x509 = async function* () {
      throw new RpcError(Code.INVALID_ARGUMENT, "security header missing from request");
    };
    const r = await cli(["api", "watch", ...sock]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("rpc error: code = InvalidArgument desc = security header missing from request\n".repeat(2));
  });
});

describe("command line", () => {
  it("lists flags for -h as spire-agent's flag set prints them", async () => {
    const r = await cli(["api", "fetch", "x509", "-h"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`Usage of fetch x509:
  -instance string
    \tInstance name to substitute into socket templates (env SPIRE_AGENT_PUBLIC_SOCKET_TEMPLATE).
  -output value
    \tDesired output format (pretty, json); default: pretty.
  -silent
    \tSuppress stdout
  -socketPath string
    \tPath to the SPIRE Agent API Unix domain socket (default "/tmp/spire-agent/public/api.sock")
  -timeout value
    \tTime to wait for a response (default 5s)
  -write string
    \tWrite SVID data to the specified path (optional; only available for pretty output format)
`);
    const jwt = await cli(["api", "fetch", "jwt", "--help"]);
    expect(jwt.stderr).toContain("  -audience value\n    \tcomma separated list of audience values\n  -format value\n    \tdeprecated; use -output\n");
    for (const c of ["api validate jwt", "api watch", "healthcheck"]) {
      const h = await cli([...c.split(" "), "-h"]);
      expect(h.code).toBe(0);
      expect(h.stderr).toContain("  -socketPath string\n");
    }
  });

  it("rejects an unknown flag with Go's message, the usage, and exit 1", async () => {
    const r = await cli(["api", "fetch", "x509", "-bogus"]);
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith("flag provided but not defined: -bogus\nUsage of fetch x509:\n")).toBe(true);
    expect(r.stderr.endsWith("flag provided but not defined: -bogus\n")).toBe(true);
    const t = await cli(["api", "fetch", "x509", "-timeout", "soon"]);
    expect(t.stderr.split("\n")[0]).toBe('invalid value "soon" for flag -timeout: time: invalid duration "soon"');
  });

  it("answers an unknown command with the command list, exit 127 (1 and the subcommands under a group)", async () => {
    const r = await cli(["frobnicate"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("Usage: signet-agent [--version] [--help] <command> [<args>]");
    expect(r.stderr).toContain("    healthcheck    Determines agent health status\n");
    const g = await cli(["api", "frobnicate"]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("Subcommands:\n    fetch       Fetches X509 SVIDs from the Workload API\n");
    const top = await cli([]);
    expect(top.code).toBe(127);
    for (const name of ["api", "healthcheck", "run", "validate"]) expect(top.stderr).toContain(`    ${name}`);
  });
});
