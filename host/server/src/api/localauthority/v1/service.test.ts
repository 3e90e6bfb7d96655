import { Code, RpcError, createClient } from "@signet/proto";
import { LocalAuthorityService } from "@signet/proto/spire/api/server/localauthority/v1/localauthority";
import { TrustDomain, readCertificate } from "@signet/spiffe";
import { afterEach, describe, expect, it } from "vitest";
import { type TestApiServer, startApiServer } from "../../../../../../test/fakes/api-server.js";
import { ManualClock } from "../../../../../../test/fakes/clock.js";
import { type TestCa, type TestCaOptions, startTestCa } from "../../../../../../test/fakes/server-ca.js";
import { TestUpstreamAuthority } from "../../../../../../test/fakes/upstream-authority.js";
import { localCaller } from "../../rpccontext/caller.js";
import { localAuthorityHandlers } from "./service.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(options: TestCaOptions = {}, initialize = true) {
  const t: TestCa = await startTestCa(options);
  cleanup.push(() => t.close());
  if (initialize) await t.rotator.initialize();
  const server: TestApiServer = await startApiServer(
    [{ definition: LocalAuthorityService, impl: localAuthorityHandlers({ manager: t.manager, bundle: t.bundle }) }],
    localCaller(),
  );
  cleanup.push(() => server.close());
  return { ...t, client: createClient(LocalAuthorityService, server.channel) };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected the call to fail");
}

const ski = (der: Buffer) => readCertificate(der).subjectKeyId!.toString("hex");

describe("LocalAuthority before the CA is ready, and WIT", () => {
  it("answers Unavailable until an authority is active; WIT is Unimplemented", async () => {
    const { client } = await start({}, false);
    expect(await failure(client.getX509AuthorityState({}))).toEqual({ code: Code.UNAVAILABLE, message: "server is initializing" });
    expect(await failure(client.getJwtAuthorityState({}))).toEqual({ code: Code.UNAVAILABLE, message: "server is initializing" });
    expect(await failure(client.prepareX509Authority({}))).toEqual({ code: Code.UNAVAILABLE, message: "server is initializing" });
    expect(await failure(client.prepareJwtAuthority({}))).toEqual({ code: Code.UNAVAILABLE, message: "server is initializing" });
    for (const call of [client.getWitAuthorityState({}), client.prepareWitAuthority({}), client.activateWitAuthority({ authorityId: "x" })]) {
      expect(await failure(call)).toEqual({ code: Code.UNIMPLEMENTED, message: "WIT-SVID functionality is not yet implemented" });
    }
  });

  it("JWT RPCs are Unimplemented when JWT-SVIDs are disabled", async () => {
    const { client } = await start({ disableJwtSvids: true });
    for (const call of [
      client.getJwtAuthorityState({}),
      client.prepareJwtAuthority({}),
      client.activateJwtAuthority({ authorityId: "a" }),
      client.taintJwtAuthority({ authorityId: "a" }),
      client.revokeJwtAuthority({ authorityId: "a" }),
    ]) {
      expect(await failure(call)).toEqual({ code: Code.UNIMPLEMENTED, message: "JWT functionality is disabled" });
    }
  });
});

describe("LocalAuthority X.509 flow (self-signed)", () => {
  it("prepare → activate → taint → revoke, with SPIRE's refusals at each step", async () => {
    const { client, manager, bundle, ca } = await start();
    const first = manager.currentX509CaSlot();
    const firstId = first.authorityId;
    const state0 = await client.getX509AuthorityState({});
    expect(state0.active).toEqual({ authorityId: firstId, expiresAt: BigInt(Math.floor(first.notAfter!.getTime() / 1000)), upstreamAuthoritySubjectKeyId: "" });
    expect(state0.prepared).toBeUndefined();
    expect(state0.old).toBeUndefined();

    expect(await failure(client.activateX509Authority({ authorityId: "" }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "no authority ID provided" });
    expect(await failure(client.activateX509Authority({ authorityId: "abcd" }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "unexpected authority ID" });
    expect(await failure(client.taintX509Authority({ authorityId: firstId }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "unable to taint current local authority" });
    expect(await failure(client.taintX509Authority({ authorityId: "" }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "no authority ID provided" });
    expect(await failure(client.revokeX509Authority({ authorityId: firstId }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "invalid authority ID: unable to use current authority" });

    const prepared = (await client.prepareX509Authority({})).preparedAuthority!;
    expect(prepared.authorityId).toMatch(/^[0-9a-f]{40}$/);
    expect(prepared.authorityId).not.toBe(firstId);
    expect(bundle.bundle!.x509Authorities.map((a) => ski(a.asn1))).toEqual([firstId, prepared.authorityId]);
    expect((await client.getX509AuthorityState({})).prepared).toEqual(prepared);
    expect(await failure(client.taintX509Authority({ authorityId: prepared.authorityId }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "only Old local authorities can be tainted: unsupported local authority status: PREPARED",
    });
    expect(await failure(client.revokeX509Authority({ authorityId: prepared.authorityId }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "invalid authority ID: only Old local authority can be revoked",
    });

    const activated = (await client.activateX509Authority({ authorityId: prepared.authorityId })).activatedAuthority!;
    expect(activated.authorityId).toBe(prepared.authorityId);
    expect(ca.currentX509Ca()!.authorityId).toBe(prepared.authorityId);
    const state1 = await client.getX509AuthorityState({});
    expect(state1.active!.authorityId).toBe(prepared.authorityId);
    expect(state1.old!.authorityId).toBe(firstId);
    expect(await failure(client.activateX509Authority({ authorityId: firstId }))).toEqual({
      code: Code.INTERNAL,
      message: "only Prepared authorities can be activated: unsupported local authority status: OLD",
    });

    expect(await failure(client.revokeX509Authority({ authorityId: firstId }))).toEqual({
      code: Code.INTERNAL,
      message: "failed to revoke X.509 authority: it is not possible to revoke an untainted root CA",
    });
    const notified: Buffer[][] = [];
    ca.onTaintedAuthorities((certs) => notified.push([...certs]));
    const tainted = (await client.taintX509Authority({ authorityId: firstId })).taintedAuthority!;
    expect(tainted.authorityId).toBe(firstId);
    expect(bundle.bundle!.x509Authorities.find((a) => ski(a.asn1) === firstId)!.tainted).toBe(true);
    expect(notified.map((c) => c.map(ski))).toEqual([[firstId]]);
    expect(await failure(client.taintX509Authority({ authorityId: firstId }))).toEqual({
      code: Code.INTERNAL,
      message: "failed to taint X.509 authority: root CA is already tainted",
    });

    const revoked = (await client.revokeX509Authority({ authorityId: firstId })).revokedAuthority!;
    expect(revoked).toEqual({ authorityId: firstId, expiresAt: 0n, upstreamAuthoritySubjectKeyId: "" });
    expect(bundle.bundle!.x509Authorities.map((a) => ski(a.asn1))).toEqual([prepared.authorityId]);
    expect(await failure(client.revokeX509Authority({ authorityId: firstId }))).toEqual({
      code: Code.INTERNAL,
      message: "failed to revoke X.509 authority: no root CA found with provided subject key ID",
    });
    expect(await failure(client.taintX509UpstreamAuthority({ subjectKeyId: "ab" }))).toEqual({ code: Code.FAILED_PRECONDITION, message: "upstream authority is not configured" });
    expect(await failure(client.revokeX509UpstreamAuthority({ subjectKeyId: "ab" }))).toEqual({ code: Code.FAILED_PRECONDITION, message: "upstream authority is not configured" });
  });
});

describe("LocalAuthority JWT flow", () => {
  it("prepare → activate → taint → revoke, and revokes any other tainted key of the bundle", async () => {
    const { client, manager, bundle, ca } = await start();
    const firstKid = manager.currentJwtKeySlot().authorityId;
    expect((await client.getJwtAuthorityState({})).active!.authorityId).toBe(firstKid);
    expect(await failure(client.revokeJwtAuthority({ authorityId: "" }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "invalid authority ID: no authority ID provided" });
    expect(await failure(client.revokeJwtAuthority({ authorityId: firstKid }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "invalid authority ID: unable to use current authority" });
    expect(await failure(client.revokeJwtAuthority({ authorityId: "nope" }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "invalid authority ID: no JWT authority found with provided authority ID",
    });

    const prepared = (await client.prepareJwtAuthority({})).preparedAuthority!;
    expect(prepared.authorityId).toMatch(/^[a-zA-Z0-9]{32}$/);
    expect(prepared.upstreamAuthoritySubjectKeyId).toBe("");
    expect(bundle.bundle!.jwtAuthorities.map((k) => k.keyId)).toEqual([firstKid, prepared.authorityId]);
    expect(await failure(client.revokeJwtAuthority({ authorityId: prepared.authorityId }))).toEqual({ code: Code.INVALID_ARGUMENT, message: "invalid authority ID: unable to use a prepared key" });
    expect(await failure(client.taintJwtAuthority({ authorityId: prepared.authorityId }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: "only Old local authorities can be tainted: unsupported local authority status: PREPARED" });

    expect((await client.activateJwtAuthority({ authorityId: prepared.authorityId })).activatedAuthority!.authorityId).toBe(prepared.authorityId);
    expect(ca.currentJwtKey()!.kid).toBe(prepared.authorityId);
    expect((await client.getJwtAuthorityState({})).old!.authorityId).toBe(firstKid);

    expect(await failure(client.revokeJwtAuthority({ authorityId: firstKid }))).toEqual({ code: Code.INTERNAL, message: "failed to revoke JWT authority: it is not possible to revoke an untainted key" });
    expect((await client.taintJwtAuthority({ authorityId: firstKid })).taintedAuthority).toEqual({ authorityId: firstKid, expiresAt: 0n, upstreamAuthoritySubjectKeyId: "" });
    expect(await failure(client.taintJwtAuthority({ authorityId: firstKid }))).toEqual({ code: Code.INTERNAL, message: "failed to taint JWT authority: key is already tainted" });
    expect((await client.revokeJwtAuthority({ authorityId: firstKid })).revokedAuthority!.authorityId).toBe(firstKid);
    expect(bundle.bundle!.jwtAuthorities.map((k) => k.keyId)).toEqual([prepared.authorityId]);

    // A key that is neither slot's (left from an earlier rotation) can be revoked once tainted.
    bundle.bundle!.jwtAuthorities.push({ keyId: "stray", publicKey: Buffer.from([1]), expiresAt: 0n, tainted: true });
    expect((await client.revokeJwtAuthority({ authorityId: "stray" })).revokedAuthority!.authorityId).toBe("stray");
  });
});

describe("LocalAuthority with an UpstreamAuthority", () => {
  it("refuses local taint/revoke and checks upstream subject key ids", async () => {
    const clock = new ManualClock();
    const upstream = new TestUpstreamAuthority(TrustDomain.parse("example.org"), { now: () => clock.now() });
    const { client, manager, bundle } = await start({ upstream, clock });
    const id = manager.currentX509CaSlot().authorityId;
    expect(await failure(client.taintX509Authority({ authorityId: id }))).toEqual({
      code: Code.FAILED_PRECONDITION,
      message: "local authority can't be tainted if there is an upstream authority",
    });
    expect(await failure(client.revokeX509Authority({ authorityId: id }))).toEqual({
      code: Code.FAILED_PRECONDITION,
      message: "local authority can't be revoked if there is an upstream authority",
    });
    const rootSki = ski(upstream.root);
    expect((await client.getX509AuthorityState({})).active!.upstreamAuthoritySubjectKeyId).toBe(rootSki);
    expect(await failure(client.taintX509UpstreamAuthority({ subjectKeyId: "" }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "provided subject key id is not valid: no subject key ID provided",
    });
    expect(await failure(client.taintX509UpstreamAuthority({ subjectKeyId: rootSki.toUpperCase() }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "provided subject key id is not valid: unable to use upstream authority singing current authority",
    });

    // The upstream rotates its root; the next local CA is signed by the new one and activated.
    const oldRoot = upstream.root;
    upstream.rotateRoot();
    await client.prepareX509Authority({});
    expect(await failure(client.revokeX509UpstreamAuthority({ subjectKeyId: ski(upstream.root) }))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "invalid subject key ID: only upstream authorities signing an old authority can be used",
    });
    await client.activateX509Authority({ authorityId: manager.nextX509CaSlot().authorityId });
    expect((await client.taintX509UpstreamAuthority({ subjectKeyId: ski(oldRoot).toUpperCase() })).upstreamAuthoritySubjectKeyId).toBe(ski(oldRoot));
    expect(bundle.bundle!.x509Authorities.find((a) => a.asn1.equals(oldRoot))!.tainted).toBe(true);
    expect((await client.revokeX509UpstreamAuthority({ subjectKeyId: ski(oldRoot) })).upstreamAuthoritySubjectKeyId).toBe(ski(oldRoot));
    expect(bundle.bundle!.x509Authorities.map((a) => a.asn1)).toEqual([upstream.root]);
  });
});
