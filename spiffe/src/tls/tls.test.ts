import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { connect, type ConnectionOptions, type Server, type TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SpiffeId, TrustDomain } from "../id/index.js";
import { TestCa } from "../testing/pki.js";
import { FakeWorkloadApi } from "../testing/workload-api-server.js";
import { X509Source } from "../workloadapi/index.js";
import { X509Bundle, X509BundleSet } from "../x509bundle/index.js";
import { X509Svid } from "../x509svid/index.js";
import { authorizeAny, authorizeId, authorizeMemberOf, authorizeOneOf, TlsAuthorizationError } from "./authorizer.js";
import { mtlsClientOptions, tlsClientOptions } from "./options.js";
import { peerSpiffeId } from "./peer.js";
import { createMtlsServer, createTlsServer, type SpiffeServerSource } from "./server.js";

const ca = TestCa.create("example.org");
const partner = TestCa.create("partner.test");
const rogue = TestCa.create("example.org"); // same name, not in anyone's bundle
const serverId = "spiffe://example.org/server";
const clientId = "spiffe://example.org/client";
const bundles = new X509BundleSet([bundleOf(ca), bundleOf(partner)]);

function bundleOf(issuer: TestCa): X509Bundle {
  return X509Bundle.parseRaw(issuer.trustDomain, issuer.bundleDer);
}
function svidFrom(issuer: TestCa, id: string): X509Svid {
  const minted = issuer.x509Svid(id);
  return X509Svid.parseRaw(minted.certDer, minted.keyDer);
}
function fixedSource(svid: X509Svid, set = bundles): SpiffeServerSource {
  return { getX509Svid: () => svid, getX509BundleSet: () => set, getX509BundleForTrustDomain: (td) => set.getX509BundleForTrustDomain(td) };
}

interface Outcome {
  reply?: string;
  error?: Error;
  serverPeer?: string;
  serverLeafSerial?: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** An echo server; remembers the SPIFFE IDs of the clients its listener saw and the errors it reported. */
async function echo(server: Server): Promise<{ port: number; clients: (string | undefined)[]; refusals: Error[] }> {
  servers.push(server);
  const clients: (string | undefined)[] = [];
  const refusals: Error[] = [];
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.destroyed) return;
    clients.push(peerSpiffeId(socket)?.toString());
    socket.on("data", (d) => socket.write(d));
    socket.on("error", () => {});
  });
  server.on("tlsClientError", (err) => refusals.push(err));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, clients, refusals };
}

/** Connects, says "ping", and reports the echo or the error (TLS 1.3 servers refuse after the client's handshake ends). */
function exchange(port: number, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = {};
    const socket = connect({ ...options, port, host: "127.0.0.1" });
    socket.setTimeout(5000);
    socket.on("secureConnect", () => {
      outcome.serverPeer = peerSpiffeId(socket)?.toString();
      const raw = socket.getPeerCertificate().raw;
      outcome.serverLeafSerial = raw ? new X509Certificate(raw).serialNumber : undefined;
      socket.write("ping");
    });
    socket.on("data", (d) => {
      outcome.reply = d.toString();
      socket.end();
    });
    socket.on("error", (err) => (outcome.error = err));
    socket.on("timeout", () => socket.destroy(new Error("timeout")));
    socket.on("close", () => resolve(outcome));
  });
}

describe("mutual TLS", () => {
  const serverSvid = svidFrom(ca, serverId);
  const clientSvid = svidFrom(ca, clientId);

  it("connects two SVIDs of one trust domain and gives each side the other's ID", async () => {
    const { port, clients } = await echo(createMtlsServer(fixedSource(serverSvid), authorizeId(clientId)));
    const out = await exchange(port, mtlsClientOptions(fixedSource(clientSvid), authorizeId(SpiffeId.parse(serverId))));
    expect(out).toMatchObject({ reply: "ping", serverPeer: serverId });
    expect(out.error).toBeUndefined();
    expect(clients).toEqual([clientId]);
  });

  it("client refuses a server with another ID, before 'secureConnect'", async () => {
    const { port } = await echo(createMtlsServer(fixedSource(serverSvid), authorizeAny()));
    const out = await exchange(port, mtlsClientOptions(fixedSource(clientSvid), authorizeOneOf("spiffe://example.org/a", "spiffe://example.org/b")));
    expect(out.error).toBeInstanceOf(TlsAuthorizationError);
    expect(out.error?.message).toBe(`unexpected ID "${serverId}"`);
    expect(out.serverPeer).toBeUndefined();
    expect(out.reply).toBeUndefined();
  });

  it("server refuses a client with another ID: its listener never sees it", async () => {
    const { port, clients, refusals } = await echo(createMtlsServer(fixedSource(serverSvid), authorizeId("spiffe://example.org/admin")));
    const out = await exchange(port, mtlsClientOptions(fixedSource(clientSvid), authorizeAny()));
    expect(out.reply).toBeUndefined();
    expect(clients).toEqual([]);
    expect(refusals.map((e) => e.message)).toEqual([`unexpected ID "${clientId}"`]);
  });

  it("refuses chains to no known authority, both ways", async () => {
    const { port, clients, refusals } = await echo(createMtlsServer(fixedSource(serverSvid), authorizeAny()));
    const out = await exchange(port, mtlsClientOptions(fixedSource(svidFrom(rogue, clientId)), authorizeAny()));
    expect(out.reply).toBeUndefined();
    expect(clients).toEqual([]);
    expect(refusals).toHaveLength(1);

    const rogueServer = await echo(createMtlsServer(fixedSource(svidFrom(rogue, serverId)), authorizeAny()));
    const out2 = await exchange(rogueServer.port, mtlsClientOptions(fixedSource(clientSvid), authorizeAny()));
    expect(out2.error?.message).toMatch(/certificate/);
    expect(out2.reply).toBeUndefined();
    expect(rogueServer.clients).toEqual([]);
  });

  it("never lets one trust domain's authority vouch for another's IDs", async () => {
    // Signed by example.org's CA (which OpenSSL trusts) but claiming partner.test.
    const impostor = svidFrom(ca, "spiffe://partner.test/server");
    const { port } = await echo(createMtlsServer(fixedSource(impostor), authorizeAny()));
    const out = await exchange(port, mtlsClientOptions(fixedSource(clientSvid), authorizeMemberOf("partner.test")));
    expect(out.error?.message).toBe("x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority");

    const real = await echo(createMtlsServer(fixedSource(svidFrom(partner, "spiffe://partner.test/server")), authorizeMemberOf(TrustDomain.parse("example.org"))));
    const ok = await exchange(real.port, mtlsClientOptions(fixedSource(clientSvid), authorizeMemberOf("partner.test")));
    expect(ok).toMatchObject({ reply: "ping", serverPeer: "spiffe://partner.test/server" });
    expect(real.clients).toEqual([clientId]);
  });

  it("verifies SVIDs issued by an intermediate through the chain they present", async () => {
    const intermediate = ca.intermediate();
    const { port, clients } = await echo(createMtlsServer(fixedSource(svidFrom(intermediate, serverId)), authorizeAny()));
    const out = await exchange(port, mtlsClientOptions(fixedSource(svidFrom(intermediate, clientId)), authorizeId(serverId)));
    expect(out).toMatchObject({ reply: "ping", serverPeer: serverId });
    expect(clients).toEqual([clientId]);
  });
});

describe("TLS without client certificates", () => {
  it("authenticates the server only", async () => {
    const { port, clients } = await echo(createTlsServer(fixedSource(svidFrom(ca, serverId))));
    const out = await exchange(port, tlsClientOptions(bundles, authorizeId(serverId)));
    expect(out).toMatchObject({ reply: "ping", serverPeer: serverId });
    expect(clients).toEqual([undefined]);
  });
});

describe("rotation", () => {
  let api: FakeWorkloadApi;
  beforeAll(async () => {
    api = await new FakeWorkloadApi().start();
  });
  afterAll(() => api.stop());

  it("a live server presents the rotated SVID on its next handshake", async () => {
    api.push("x509", FakeWorkloadApi.x509Response(ca, [serverId]));
    const source = await X509Source.create({ address: api.address });
    try {
      const { port, clients } = await echo(createMtlsServer(source, authorizeId(clientId)));
      const client = fixedSource(svidFrom(ca, clientId));
      const before = await exchange(port, mtlsClientOptions(client, authorizeId(serverId)));
      expect(before.error).toBeUndefined();
      expect(before.serverLeafSerial).toBe(source.getX509Svid().leaf.serialNumber);

      const rotated = new Promise<void>((r) => source.subscribe(() => r()));
      api.push("x509", FakeWorkloadApi.x509Response(ca, [serverId]));
      await rotated;
      const after = await exchange(port, mtlsClientOptions(client, authorizeId(serverId)));
      expect(after.serverLeafSerial).toBe(source.getX509Svid().leaf.serialNumber);
      expect(after.serverLeafSerial).not.toBe(before.serverLeafSerial);
      expect(after.reply).toBe("ping");
      expect(clients).toEqual([clientId, clientId]);
    } finally {
      await source.close();
    }
  });
});
