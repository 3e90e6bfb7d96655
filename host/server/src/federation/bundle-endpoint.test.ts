import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { createLogger } from "@signet/host-common";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { SpiffeId, TrustDomain } from "@signet/spiffe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../test/fakes/clock.js";
import type { ServerSvidState } from "../endpoints/svid-source.js";
import { fetchFederatedBundle } from "./bundle-client.js";
import { BundleEndpoint } from "./bundle-endpoint.js";
import { ServingCertFiles } from "./serving-cert.js";
import { bundleOf, testAuthority, testSvid } from "./test-bundles.js";

const log = createLogger({ level: "error" });
const a = testAuthority("a.test");
const serverId = SpiffeId.parse("spiffe://a.test/spire/server");
const served: Bundle = {
  ...bundleOf(a, { sequenceNumber: 3n, refreshHint: 10n }),
  witAuthorities: [{ ...bundleOf(a).jwtAuthorities[0]!, keyId: "wit-1" }],
};

function svidState(): ServerSvidState {
  const svid = testSvid(a, serverId.toString());
  return { certChain: svid.chain, privateKey: svid.key };
}

/** GET/POST to the endpoint without authenticating it (status, content type, body). */
function request(port: number, method: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, method, path, rejectUnauthorized: false, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject).end();
  });
}

/** The leaf certificate the endpoint presents on a new connection. */
function presentedLeaf(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.on("error", reject);
  });
}

describe("bundle endpoint, https_spiffe profile, and the bundle client", () => {
  let svid = svidState();
  let failBundle = false;
  const endpoint = new BundleEndpoint({
    address: "127.0.0.1",
    port: 0,
    refreshHintSeconds: 300,
    bundle: async () => {
      if (failBundle) throw new Error("datastore down");
      return served;
    },
    identity: { kind: "https_spiffe", svid: { current: () => svid } },
    log,
  });
  const url = () => `https://127.0.0.1:${endpoint.port}`;
  const spiffeAuth = { endpointSpiffeId: serverId, roots: [new X509Certificate(a.der)] };

  beforeAll(() => endpoint.start());
  afterAll(() => endpoint.stop());
  afterEach(() => {
    failBundle = false;
  });

  it("serves the trust domain's bundle with the configured refresh hint, X.509 and JWT keys only", async () => {
    const res = await request(endpoint.port, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.type).toBe("application/json");
    const doc = JSON.parse(res.body) as { keys: { use: string }[]; spiffe_refresh_hint: number; spiffe_sequence: number };
    expect(doc.keys.map((k) => k.use)).toEqual(["x509-svid", "jwt-svid"]);
    expect(doc.spiffe_refresh_hint).toBe(300);
    expect(doc.spiffe_sequence).toBe(3);
    expect(res.body).toContain('\n    "keys"');

    const fetched = await fetchFederatedBundle({ trustDomain: TrustDomain.parse("a.test"), endpointUrl: url(), spiffeAuth });
    expect(fetched.trustDomain).toBe("a.test");
    expect(Buffer.from(fetched.x509Authorities[0]!.asn1).equals(a.der)).toBe(true);
    expect(fetched.jwtAuthorities.map((k) => k.keyId)).toEqual(["jwt-1"]);
    expect(fetched.witAuthorities).toEqual([]);
    expect(fetched.refreshHint).toBe(300n);
  });

  it("answers only GET on / (Go's http.Error bodies)", async () => {
    expect(await request(endpoint.port, "POST", "/")).toEqual({ status: 405, type: "text/plain; charset=utf-8", body: "405 method not allowed\n" });
    expect(await request(endpoint.port, "GET", "/bundle")).toEqual({ status: 404, type: "text/plain; charset=utf-8", body: "404 page not found\n" });
    expect((await request(endpoint.port, "GET", "/?x=1")).status).toBe(200);
    // The path as sent, not as a browser would resolve it.
    for (const path of ["//", "//bundle.example/", "/bundle/..", "/./"]) expect((await request(endpoint.port, "GET", path)).status, path).toBe(404);
  });

  it("answers 500 when the bundle cannot be read, which the client reports with the body", async () => {
    failBundle = true;
    await expect(fetchFederatedBundle({ trustDomain: TrustDomain.parse("a.test"), endpointUrl: url(), spiffeAuth })).rejects.toThrow(
      "unexpected status 500 fetching bundle: 500 unable to retrieve local bundle\n",
    );
  });

  it("presents the current server SVID, so a rotation is served on the next connection", async () => {
    const before = await presentedLeaf(endpoint.port);
    expect(before.raw.equals(svid.certChain[0]!)).toBe(true);
    svid = svidState();
    const after = await presentedLeaf(endpoint.port);
    expect(after.raw.equals(svid.certChain[0]!)).toBe(true);
    expect(after.raw.equals(before.raw)).toBe(false);
  });

  it("refuses an endpoint with another SPIFFE ID or not chained to the held bundle", async () => {
    const td = TrustDomain.parse("a.test");
    await expect(
      fetchFederatedBundle({ trustDomain: td, endpointUrl: url(), spiffeAuth: { ...spiffeAuth, endpointSpiffeId: SpiffeId.parse("spiffe://a.test/other") } }),
    ).rejects.toThrow(/^failed to fetch bundle: Get "https:\/\/127\.0\.0\.1:\d+": unexpected ID "spiffe:\/\/a\.test\/spire\/server"$/);
    const stranger = testAuthority("a.test");
    await expect(
      fetchFederatedBundle({ trustDomain: td, endpointUrl: url(), spiffeAuth: { ...spiffeAuth, roots: [new X509Certificate(stranger.der)] } }),
    ).rejects.toThrow(/^failed to fetch bundle: Get "https:\/\/127\.0\.0\.1:\d+": /);
    // https_web trusts Node's CA store, which does not hold a SPIFFE CA.
    await expect(fetchFederatedBundle({ trustDomain: td, endpointUrl: url() })).rejects.toThrow(/^failed to fetch bundle: Get "https:\/\/127\.0\.0\.1:\d+": /);
  });

  it("gives up on an endpoint that never answers after the timeout, or when the caller stops", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket)); // accepts, never completes a handshake
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentUrl = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const td = TrustDomain.parse("a.test");
      await expect(fetchFederatedBundle({ trustDomain: td, endpointUrl: silentUrl, spiffeAuth, timeoutMs: 200 })).rejects.toThrow(
        `failed to fetch bundle: Get ${JSON.stringify(silentUrl)}: timed out`,
      );
      const caller = new AbortController();
      const fetching = fetchFederatedBundle({ trustDomain: td, endpointUrl: silentUrl, spiffeAuth }, caller.signal);
      caller.abort(new Error("server stopping"));
      await expect(fetching).rejects.toThrow(`failed to fetch bundle: Get ${JSON.stringify(silentUrl)}: server stopping`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("reports an endpoint that cannot be reached", async () => {
    await expect(fetchFederatedBundle({ trustDomain: TrustDomain.parse("a.test"), endpointUrl: "https://127.0.0.1:1", spiffeAuth })).rejects.toThrow(
      /^failed to fetch bundle: Get "https:\/\/127\.0\.0\.1:1": .*ECONNREFUSED/,
    );
  });
});

describe("bundle endpoint, https_web profile from cert files", () => {
  const dir = mkdtempSync(join(tmpdir(), "signet-bundle-endpoint-"));
  const certFilePath = join(dir, "cert.pem");
  const keyFilePath = join(dir, "key.pem");
  const web = testAuthority("web.test");
  const clock = new ManualClock();
  const write = (stamp: number) => {
    const cert = testSvid(web, "spiffe://web.test/bundle", ["localhost"]);
    writeFileSync(certFilePath, new X509Certificate(cert.chain[0]!).toString());
    writeFileSync(keyFilePath, cert.key.export({ type: "pkcs8", format: "pem" }) as string);
    utimesSync(certFilePath, stamp, stamp);
    utimesSync(keyFilePath, stamp, stamp);
    return cert.chain[0]!;
  };
  let current = write(1_000_000);
  const files = new ServingCertFiles({ certFilePath, keyFilePath, fileSyncIntervalMs: 3600_000 }, clock, log);
  const endpoint = new BundleEndpoint({
    address: "127.0.0.1",
    port: 0,
    refreshHintSeconds: 300,
    bundle: async () => served,
    identity: { kind: "https_web", current: () => files.current() },
    log,
  });

  beforeAll(async () => {
    await files.load();
    files.watch();
    await endpoint.start();
  });
  afterAll(async () => {
    await endpoint.stop();
    await files.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the files' certificate and reloads it when the files change, checked every file_sync_interval", async () => {
    expect((await presentedLeaf(endpoint.port)).raw.equals(current)).toBe(true);
    await clock.sleepers(1);
    const next = write(2_000_000);
    await clock.tick(3599_000);
    expect((await presentedLeaf(endpoint.port)).raw.equals(current)).toBe(true);
    await clock.tick(1_000);
    await files.sync(); // settles the loop's own sync (the same mtimes: nothing more to do)
    expect((await presentedLeaf(endpoint.port)).raw.equals(next)).toBe(true);
    current = next;
  });

  it("keeps the loaded pair when the files become unusable, and refuses to start without them", async () => {
    writeFileSync(keyFilePath, "not a key");
    utimesSync(keyFilePath, 3_000_000, 3_000_000);
    await files.sync();
    expect((await presentedLeaf(endpoint.port)).raw.equals(current)).toBe(true);
    const missing = new ServingCertFiles({ certFilePath: join(dir, "absent.pem"), keyFilePath, fileSyncIntervalMs: 1000 }, clock, log);
    await expect(missing.load()).rejects.toThrow(/^failed to load certificate: ENOENT/);
  });
});
