/**
 * FetchX509Bundles and FetchJWTBundles over a real gRPC server and a real
 * AgentCache (spiffe-standards.md 5.4-5.6): the own bundle and the
 * federated bundles of a caller with an identity, JWT bundles as plain JWKS
 * with JWT keys only, PermissionDenied without an identity unless
 * allow_unauthenticated_verifiers, and no repeated message.
 */
import { Code } from "@signet/proto";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { JWTBundlesResponse, X509BundlesResponse } from "@signet/proto/workload/workload";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { selectors, workloadEntry } from "../../../../test/fakes/agent-entries.js";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import {
  type AgentWorkloadApi,
  type AgentWorkloadApiOptions,
  JwtSigner,
  StreamReader,
  startAgentWorkloadApi,
  workloadHeader,
  x509SvidRecord,
} from "../../../../test/fakes/agent-workload-api.js";

const now = new Date();
const ca = new TestAuthority("example.org", now);
const nextCa = new TestAuthority("example.org", now);
const federated = new TestAuthority("federated.test", now);
const secondJwtKey = new JwtSigner("jwt-authority-2");

/** Two X.509 authorities and two JWT authorities (the second from another signer). */
const own: Bundle = {
  ...ca.bundle(),
  x509Authorities: [
    { asn1: ca.der, tainted: false },
    { asn1: nextCa.der, tainted: false },
  ],
  jwtAuthorities: [...ca.bundle().jwtAuthorities, secondJwtKey.authority],
  refreshHint: 300n,
  sequenceNumber: 7n,
};

const mine = workloadEntry(1, { selectors: ["unix:uid:1000"], federatesWith: ["federated.test"] });
const notMine = workloadEntry(2, { selectors: ["unix:uid:2000"] });

let apis: AgentWorkloadApi[] = [];
let calls: AbortController;

async function start(options: AgentWorkloadApiOptions = {}): Promise<AgentWorkloadApi> {
  const api = await startAgentWorkloadApi(options);
  apis.push(api);
  api.attest = { selectors: selectors("unix:uid:1000") };
  api.cache.setBundles(own, new Map([["federated.test", federated.bundle()]]));
  api.cache.setEntries([mine, notMine]);
  api.cache.putSvids([x509SvidRecord(ca, mine), x509SvidRecord(ca, notMine)]);
  return api;
}

beforeEach(() => {
  calls = new AbortController();
});
afterEach(async () => {
  calls.abort();
  await Promise.all(apis.map((a) => a.close()));
  apis = [];
});

const options = () => ({ metadata: workloadHeader(), signal: calls.signal });
const noIdentity = expect.objectContaining({ code: Code.PERMISSION_DENIED, message: "no identity issued" });
const x509Der = (b: Bundle) => Buffer.concat(b.x509Authorities.map((a) => a.asn1));

interface Jwk {
  readonly [member: string]: unknown;
}
const jwks = (bytes: Buffer | undefined): { keys: Jwk[] } & Record<string, unknown> => JSON.parse(bytes!.toString("utf8"));

/** Both streams, read the same way: a message's bundles as trust domain ID → bytes. */
const kinds = {
  FetchX509Bundles: (api: AgentWorkloadApi) => {
    const s = new StreamReader<X509BundlesResponse>(api.client.fetchX509Bundles({}, options()));
    return { next: async () => (await s.next()).bundles, quietFor: (ms: number) => s.quietFor(ms) };
  },
  FetchJWTBundles: (api: AgentWorkloadApi) => {
    const s = new StreamReader<JWTBundlesResponse>(api.client.fetchJwtBundles({}, options()));
    return { next: async () => (await s.next()).bundles, quietFor: (ms: number) => s.quietFor(ms) };
  },
};

describe("FetchX509Bundles", () => {
  it("sends the own bundle and the federated bundles of the caller's identities as concatenated DER", async () => {
    const api = await start();
    const msg = await new StreamReader(api.client.fetchX509Bundles({}, options())).next();
    expect(msg.bundles).toEqual({ "spiffe://example.org": Buffer.concat([ca.der, nextCa.der]), "spiffe://federated.test": federated.der });
    expect(msg.crl).toEqual([]);
  });
});

describe("FetchJWTBundles", () => {
  it("sends each bundle as a plain JWK Set of its JWT authorities: every key has a kid, none has use or x5c", async () => {
    const api = await start();
    const msg = await new StreamReader(api.client.fetchJwtBundles({}, options())).next();
    expect(Object.keys(msg.bundles).sort()).toEqual(["spiffe://example.org", "spiffe://federated.test"]);

    const doc = jwks(msg.bundles["spiffe://example.org"]);
    expect(Object.keys(doc)).toEqual(["keys"]);
    expect(doc.keys.map((k) => k.kid)).toEqual(["jwt-authority-1", "jwt-authority-2"]);
    for (const key of doc.keys) {
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", x: expect.any(String), y: expect.any(String) });
      expect(key).not.toHaveProperty("use");
      expect(key).not.toHaveProperty("x5c");
      expect(Object.keys(key).some((m) => m.startsWith("spiffe_"))).toBe(false);
    }

    const fed = jwks(msg.bundles["spiffe://federated.test"]);
    expect(fed.keys.map((k) => k.kid)).toEqual([federated.jwtKeyId]);
    expect(fed.keys[0]).not.toHaveProperty("use");
  });
});

describe.each(Object.entries(kinds))("%s", (_name, open) => {
  it("ends with PermissionDenied when the caller has no identity", async () => {
    const api = await start();
    api.attest = { selectors: selectors("unix:uid:3000") };
    await expect(open(api).next()).rejects.toEqual(noIdentity);
  });

  it("ends with PermissionDenied when the caller's identities go away mid-stream", async () => {
    const api = await start();
    const stream = open(api);
    await stream.next();
    api.cache.setEntries([notMine]);
    await expect(stream.next()).rejects.toEqual(noIdentity);
  });

  it("sends only the own bundle to a caller without identity when unauthenticated verifiers are allowed", async () => {
    const api = await start({ allowUnauthenticatedVerifiers: true });
    api.attest = { selectors: selectors("unix:uid:3000") };
    const bundles = await open(api).next();
    expect(Object.keys(bundles)).toEqual(["spiffe://example.org"]);
  });

  it("drops the federated bundles when an allowed unauthenticated caller loses its identity", async () => {
    const api = await start({ allowUnauthenticatedVerifiers: true });
    const stream = open(api);
    expect(Object.keys(await stream.next()).sort()).toEqual(["spiffe://example.org", "spiffe://federated.test"]);
    api.cache.setEntries([notMine]);
    expect(Object.keys(await stream.next())).toEqual(["spiffe://example.org"]);
  });

  it("sends nothing when the caller's SVID rotates, and the new bundle when it changes", async () => {
    const api = await start();
    const stream = open(api);
    const first = await stream.next();

    api.cache.putSvids([x509SvidRecord(ca, mine)]);
    expect(await stream.quietFor(150)).toBe(true);

    const rotatedCa = new TestAuthority("example.org", now);
    const next: Bundle = { ...rotatedCa.bundle({ sequenceNumber: 8n }) };
    api.cache.setBundles(next, new Map([["federated.test", federated.bundle()]]));
    const second = await stream.next();
    expect(second["spiffe://example.org"]).not.toEqual(first["spiffe://example.org"]);
    expect(second["spiffe://federated.test"]).toEqual(first["spiffe://federated.test"]);
  });
});

describe("the two bundle streams agree", () => {
  it("name the same trust domains, with the X.509 roots in one and the JWT keys in the other", async () => {
    const api = await start();
    const x509 = await kinds.FetchX509Bundles(api).next();
    const jwt = await kinds.FetchJWTBundles(api).next();
    expect(Object.keys(jwt).sort()).toEqual(Object.keys(x509).sort());
    expect(x509["spiffe://example.org"]).toEqual(x509Der(own));
    expect(jwks(jwt["spiffe://example.org"]).keys).toHaveLength(own.jwtAuthorities.length);
  });
});
