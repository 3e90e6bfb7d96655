import { X509Certificate, createPublicKey, generateKeyPairSync } from "node:crypto";
import { SpiffeId, TrustDomain, readCertificate, validateJwtSvid } from "@signet/spiffe";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryBundleStore, MemoryJournalStore } from "../../../../test/fakes/ca-stores.js";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { TestKeyStore } from "../../../../test/fakes/keymanager.js";
import { type TestCa, type TestCaOptions, startTestCa } from "../../../../test/fakes/server-ca.js";
import { TestUpstreamAuthority } from "../../../../test/fakes/upstream-authority.js";
import { CaError } from "./authority.js";
import { serialNumbers } from "./ca.js";

const td = TrustDomain.parse("example.org");
const hour = 3600_000;
const cas: TestCa[] = [];
afterEach(async () => {
  for (const c of cas.splice(0)) await c.close();
});

async function setup(s: TestCaOptions = {}): Promise<TestCa> {
  const t = await startTestCa(s);
  cas.push(t);
  return t;
}

const workloadKey = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
const id = (path: string) => SpiffeId.parse(`spiffe://example.org${path}`);

function roots(bundle: MemoryBundleStore): X509Certificate[] {
  return (bundle.bundle?.x509Authorities ?? []).map((a) => new X509Certificate(a.asn1));
}

/** Verifies leaf → intermediates → one of the roots with node's X509Certificate. */
function chainsTo(chain: readonly Buffer[], anchors: readonly X509Certificate[]): boolean {
  const certs = chain.map((c) => new X509Certificate(c));
  for (let i = 0; i + 1 < certs.length; i++) if (!certs[i]!.verify(certs[i + 1]!.publicKey)) return false;
  const last = certs[certs.length - 1]!;
  return anchors.some((r) => last.checkIssued(r) && last.verify(r.publicKey));
}

describe("CA manager and issuance (self-signed)", () => {
  it.each(["ec-p256", "ec-p384", "rsa-2048"] as const)("activates a CA and JWT key, publishes both, and issues verifiable SVIDs (%s)", async (keyType) => {
    const { ca, manager, rotator, bundle, clock } = await setup({ caKeyType: keyType });
    await expect(ca.signAgentX509Svid({ publicKey: workloadKey(), spiffeId: id("/spire/agent/x/1") })).rejects.toMatchObject({ kind: "not-ready" });
    await rotator.initialize();

    expect(manager.currentX509CaSlot().status).toBe("ACTIVE");
    expect(manager.currentJwtKeySlot().status).toBe("ACTIVE");
    expect(bundle.bundle?.x509Authorities).toHaveLength(1);
    expect(bundle.bundle?.jwtAuthorities).toHaveLength(1);
    const root = roots(bundle)[0]!;
    expect(root.ca).toBe(true);
    expect(root.subject).toContain("O=SPIFFE");
    expect(root.subjectAltName).toBe("URI:spiffe://example.org");
    expect(readCertificate(root.raw).subjectKeyId?.toString("hex")).toBe(manager.currentX509CaSlot().authorityId);
    expect(manager.currentX509CaSlot().upstreamAuthorityId).toBe("");

    const results = await ca.signWorkloadX509Svids([
      { publicKey: workloadKey(), spiffeId: id("/web"), dnsNames: ["web.example.org"] },
      { publicKey: workloadKey(), spiffeId: SpiffeId.parse("spiffe://other.org/web") },
      { publicKey: workloadKey(), spiffeId: id("/db"), ttlSeconds: 10 * 86400 },
    ]);
    expect(results[1]).toBeInstanceOf(CaError);
    expect((results[1] as CaError).message).toBe('invalid X509-SVID ID: "spiffe://other.org/web" is not a member of trust domain "example.org"');
    for (const r of [results[0], results[2]]) {
      if (r instanceof CaError) throw r;
      expect(r!.certChain).toHaveLength(1);
      expect(chainsTo(r!.certChain, roots(bundle))).toBe(true);
      const leaf = new X509Certificate(r!.certChain[0]!);
      expect(BigInt(`0x${leaf.serialNumber}`).toString(10)).toBe(r!.serial);
      expect(r!.expiresAt).toBe(Math.floor(Date.parse(leaf.validTo) / 1000));
    }
    const web = new X509Certificate((results[0] as { certChain: readonly Buffer[] }).certChain[0]!);
    expect(web.subjectAltName).toBe("DNS:web.example.org, URI:spiffe://example.org/web");
    expect(Date.parse(web.validTo) - clock.now().getTime()).toBe(hour);
    // A TTL beyond the CA's lifetime is capped at the CA's NotAfter.
    const db = new X509Certificate((results[2] as { certChain: readonly Buffer[] }).certChain[0]!);
    expect(db.validTo).toBe(root.validTo);

    const agent = await ca.signAgentX509Svid({ publicKey: workloadKey(), spiffeId: id("/spire/agent/join_token/abc") });
    expect((agent.expiresAt * 1000 - clock.now().getTime()) / hour).toBe(2);

    const token = await ca.signJwtSvid({ spiffeId: id("/web"), audience: ["aud1", "", "aud2"], includeJti: true });
    const jwt = bundle.bundle!.jwtAuthorities[0]!;
    const parsed = validateJwtSvid(token.token, {
      keyFor: (tdName, kid) => (tdName === "example.org" && kid === jwt.keyId ? createPublicKey({ key: jwt.publicKey, format: "der", type: "spki" }) : undefined),
      audience: ["aud2"],
      now: clock.now(),
    });
    expect(parsed.header).toEqual({ alg: keyType === "ec-p256" ? "ES256" : keyType === "ec-p384" ? "ES384" : "RS256", kid: jwt.keyId, typ: "JWT" });
    expect(jwt.keyId).toMatch(/^[a-zA-Z0-9]{32}$/);
    expect(parsed.claims).toMatchObject({ sub: "spiffe://example.org/web", aud: ["aud1", "aud2"], iss: "https://issuer.example.org", exp: token.expiresAt, iat: token.issuedAt });
    expect(typeof parsed.claims.jti).toBe("string");
    expect(token.expiresAt - token.issuedAt).toBe(300);
  });

  it("caps JWT-SVIDs at the key's expiry and refuses bad audiences and foreign IDs", async () => {
    const { ca, rotator, manager } = await setup();
    await rotator.initialize();
    const t = await ca.signJwtSvid({ spiffeId: id("/w"), audience: ["a"], ttlSeconds: 5 * 86400 });
    expect(t.expiresAt).toBe(Math.floor(manager.currentJwtKeySlot().notAfter!.getTime() / 1000));
    await expect(ca.signJwtSvid({ spiffeId: id("/w"), audience: [""] })).rejects.toMatchObject({ kind: "invalid", message: "invalid JWT-SVID audience: cannot be empty" });
    await expect(ca.signJwtSvid({ spiffeId: SpiffeId.parse("spiffe://x.org/w"), audience: ["a"] })).rejects.toMatchObject({ kind: "invalid" });
  });

  it("signs a batch in one pass: N certificates cost N signatures, all verifiable", async () => {
    const { ca, rotator, bundle, km } = await setup();
    await rotator.initialize();
    const before = km.keys.signCalls;
    const out = await ca.signWorkloadX509Svids(Array.from({ length: 50 }, (_, i) => ({ publicKey: workloadKey(), spiffeId: id(`/w/${i}`) })));
    expect(km.keys.signCalls - before).toBe(50);
    for (const r of out) {
      if (r instanceof CaError) throw r;
      expect(chainsTo(r.certChain, roots(bundle))).toBe(true);
    }
  });

  it("issues a downstream CA under the active CA, with the bundle roots", async () => {
    const { ca, rotator, bundle } = await setup();
    await rotator.initialize();
    const res = await ca.signDownstreamX509Ca({ publicKey: workloadKey() });
    expect(res.caCertChain).toHaveLength(1);
    const cert = new X509Certificate(res.caCertChain[0]!);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain("OU=DOWNSTREAM-1");
    expect(chainsTo(res.caCertChain, roots(bundle))).toBe(true);
    expect(res.x509Authorities).toEqual(bundle.bundle!.x509Authorities.map((a) => a.asn1));
  });

  it("JWT-SVIDs are refused when disabled, and no JWT key is made", async () => {
    const { ca, rotator, bundle, manager } = await setup({ disableJwtSvids: true });
    await rotator.initialize();
    expect(bundle.bundle?.jwtAuthorities).toHaveLength(0);
    expect(manager.currentJwtKeySlot().isEmpty).toBe(true);
    await expect(ca.signJwtSvid({ spiffeId: id("/w"), audience: ["a"] })).rejects.toMatchObject({ kind: "jwt-disabled" });
  });
});

describe("rotation", () => {
  it("prepares at half-life, activates at the last sixth, and prunes day-old authorities (fake clock, real loop)", async () => {
    const { rotator, manager, bundle, clock, ca } = await setup();
    await rotator.initialize();
    const first = manager.currentX509CaSlot().authorityId;
    const firstJwt = manager.currentJwtKeySlot().authorityId;
    rotator.start();
    await clock.sleepers(1);

    await clock.tick(11 * hour);
    expect(manager.nextX509CaSlot().isEmpty).toBe(true);
    expect(bundle.bundle!.x509Authorities).toHaveLength(1);

    await clock.tick(1 * hour + 10_000); // past NotAfter − 12 h
    expect(manager.nextX509CaSlot().status).toBe("PREPARED");
    expect(manager.nextJwtKeySlot().status).toBe("PREPARED");
    expect(bundle.bundle!.x509Authorities).toHaveLength(2);
    expect(bundle.bundle!.jwtAuthorities).toHaveLength(2);
    expect(ca.currentX509Ca()!.authorityId).toBe(first);

    await clock.tick(8 * hour); // past NotAfter − 4 h
    expect(manager.currentX509CaSlot().authorityId).not.toBe(first);
    expect(manager.currentX509CaSlot().status).toBe("ACTIVE");
    expect(manager.nextX509CaSlot()).toMatchObject({ status: "OLD", authorityId: first });
    expect(manager.nextJwtKeySlot()).toMatchObject({ status: "OLD", authorityId: firstJwt });
    expect(ca.currentX509Ca()!.authorityId).toBe(manager.currentX509CaSlot().authorityId);

    // The first CA expires at 24 h and is pruned 24 h later, at the next 6-hourly prune.
    await clock.tick(30 * hour);
    await rotator.stop();
    const ids = bundle.bundle!.x509Authorities.map((a) => readCertificate(a.asn1).subjectKeyId!.toString("hex"));
    expect(ids).not.toContain(first);
    expect(bundle.bundle!.jwtAuthorities.map((k) => k.keyId)).not.toContain(firstJwt);
  });

  it("stop() ends the loop promptly", async () => {
    const { rotator, clock } = await setup();
    await rotator.initialize();
    rotator.start();
    await clock.sleepers(1);
    await rotator.stop();
    expect(clock.sleeping).toBe(0);
  });

  it("an X.509 failure with no active CA fails initialize; later ticks retry", async () => {
    const bundle = new MemoryBundleStore(td.name);
    bundle.failWrites = new Error("datastore unavailable");
    const { rotator, manager } = await setup({ bundle });
    await expect(rotator.initialize()).rejects.toThrow("datastore unavailable");
    expect(manager.currentX509CaSlot().isEmpty).toBe(true);
    bundle.failWrites = undefined;
    await rotator.rotate();
    expect(manager.currentX509CaSlot().status).toBe("ACTIVE");
  });
});

describe("restart", () => {
  it("restores the active CA and JWT key from the journal when the KeyManager kept the keys", async () => {
    const keys = new TestKeyStore();
    const bundle = new MemoryBundleStore(td.name);
    const journal = new MemoryJournalStore();
    const clock = new ManualClock();
    const a = await setup({ keys, bundle, journal, clock });
    await a.rotator.initialize();
    clock.advance(13 * hour);
    await a.rotator.rotate(); // prepares next
    const x509 = a.manager.currentX509CaSlot().authorityId;
    const prepared = a.manager.nextX509CaSlot().authorityId;
    const jwt = a.manager.currentJwtKeySlot().authorityId;

    const b = await setup({ keys, bundle, journal, clock });
    expect(b.manager.currentX509CaSlot()).toMatchObject({ status: "ACTIVE", authorityId: x509 });
    expect(b.manager.nextX509CaSlot()).toMatchObject({ status: "PREPARED", authorityId: prepared });
    expect(b.manager.currentJwtKeySlot()).toMatchObject({ status: "ACTIVE", authorityId: jwt });
    expect(b.ca.currentX509Ca()?.authorityId).toBe(x509);
    const svid = await b.ca.signAgentX509Svid({ publicKey: workloadKey(), spiffeId: id("/spire/agent/x/1") });
    expect(chainsTo(svid.certChain, roots(bundle))).toBe(true);
    expect(bundle.bundle!.x509Authorities).toHaveLength(2);
    expect(journal.journals.size).toBe(1);
  });

  it("starts afresh when the keys are gone or the journal's authorities left the bundle", async () => {
    const keys = new TestKeyStore();
    const bundle = new MemoryBundleStore(td.name);
    const journal = new MemoryJournalStore();
    const a = await setup({ keys, bundle, journal });
    await a.rotator.initialize();
    const old = a.manager.currentX509CaSlot().authorityId;

    const lostKeys = await setup({ keys: new TestKeyStore(), bundle, journal });
    expect(lostKeys.manager.currentX509CaSlot().isEmpty).toBe(true);

    bundle.bundle!.x509Authorities = [];
    const notInBundle = await setup({ keys, bundle, journal });
    expect(notInBundle.manager.currentX509CaSlot().isEmpty).toBe(true);
    await notInBundle.rotator.initialize();
    expect(notInBundle.manager.currentX509CaSlot().authorityId).not.toBe(old);
  });
});

describe("with an UpstreamAuthority", () => {
  it("gets the CA signed from a CSR, publishes upstream roots, and issues [leaf, CA] chains", async () => {
    const clock = new ManualClock();
    const upstream = new TestUpstreamAuthority(td, { now: () => clock.now() });
    const { rotator, manager, bundle, ca } = await setup({ upstream, clock });
    await rotator.initialize();
    expect(upstream.minted).toBe(1);
    expect(bundle.bundle!.x509Authorities.map((a) => a.asn1)).toEqual([upstream.root]);
    expect(manager.currentX509CaSlot().upstreamAuthorityId).toBe(readCertificate(upstream.root).subjectKeyId!.toString("hex"));
    expect(manager.isUpstreamAuthority()).toBe(true);
    expect(new X509Certificate(ca.currentX509Ca()!.certificate).subject).toMatch(/^C=US\nO=SPIFFE\nserialNumber=\d+$/);
    const svid = await ca.signAgentX509Svid({ publicKey: workloadKey(), spiffeId: id("/spire/agent/x/1") });
    expect(svid.certChain).toHaveLength(2);
    expect(chainsTo(svid.certChain, roots(bundle))).toBe(true);
    // JWT key: the plugin answers Unimplemented, so the key goes into the local bundle.
    expect(bundle.bundle!.jwtAuthorities).toHaveLength(1);
    const ds = await ca.signDownstreamX509Ca({ publicKey: workloadKey() });
    expect(ds.caCertChain).toHaveLength(2);
    expect(new X509Certificate(ds.caCertChain[0]!).subject).toContain("OU=DOWNSTREAM-1");
  });

  it("publishes JWT keys upstream when the plugin can", async () => {
    const clock = new ManualClock();
    const upstream = new TestUpstreamAuthority(td, { publishJwt: true, now: () => clock.now() });
    const { rotator, bundle } = await setup({ upstream, clock });
    await rotator.initialize();
    expect(upstream.published).toHaveLength(1);
    // What upstream answers it publishes joins the local bundle.
    expect(bundle.bundle!.jwtAuthorities.map((k) => k.keyId)).toEqual([upstream.published[0]!.keyId]);
  });

  it("publishes a downstream server's JWT key upstream when the plugin can, else into the local bundle", async () => {
    const downstreamKey = {
      publicKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" }),
      keyId: "downstream-1",
      expiresAt: 0n,
      tainted: false,
    };
    const clock = new ManualClock();
    const upstream = new TestUpstreamAuthority(td, { publishJwt: true, now: () => clock.now() });
    const withUpstream = await setup({ upstream, clock });
    await withUpstream.rotator.initialize();
    const answered = await withUpstream.manager.publishJwtAuthority(downstreamKey);
    expect(upstream.published.map((k) => k.keyId)).toContain("downstream-1");
    expect(answered.map((k) => k.keyId)).toContain("downstream-1");

    const local = await setup();
    await local.rotator.initialize();
    const kids = (await local.manager.publishJwtAuthority(downstreamKey)).map((k) => k.keyId);
    expect(kids).toContain("downstream-1");
    expect(local.bundle.bundle!.jwtAuthorities.map((k) => k.keyId)).toEqual(kids);
  });

  it("refuses a CA chain that does not certify the server's key", async () => {
    const clock = new ManualClock();
    const upstream = new TestUpstreamAuthority(td, { now: () => clock.now() });
    const honest = upstream.mintX509Ca.bind(upstream);
    upstream.mintX509Ca = async (_csr, ttl) => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const { createCsr } = await import("@signet/spiffe");
      return honest(createCsr({ privateKey, uriSans: [td.idString] }), ttl);
    };
    const { rotator } = await setup({ upstream, clock });
    await expect(rotator.initialize()).rejects.toThrow("does not match the key the server generated");
  });
});

describe("serialNumbers", () => {
  it("draws distinct positive serials of at most 128 bits, one per certificate", () => {
    const serials = serialNumbers(500);
    expect(serials).toHaveLength(500);
    expect(new Set(serials).size).toBe(500);
    for (const s of serials) {
      expect(s > 0n).toBe(true);
      expect(s < 1n << 128n).toBe(true);
    }
    // spread over the whole range, not counting up from one draw
    expect(serials.filter((s) => s >= 1n << 127n).length).toBeGreaterThan(150);
  });
});
