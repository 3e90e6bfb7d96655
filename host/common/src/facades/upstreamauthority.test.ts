/**
 * UpstreamAuthorityFacade against in-process UpstreamAuthority services:
 * the first answer is checked as SPIRE's facade checks it, root updates are
 * delivered while the subscription is kept, and PublishJWTKey's
 * Unimplemented is "does not publish". The disk plugin's own process is
 * exercised by its conformance suite; one test here runs it through the
 * catalog.
 */
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { Code, RpcError, type ServiceRegistration, createClient, implement } from "@signet/proto";
import { type MintX509CAResponse, UpstreamAuthorityService } from "@signet/proto/spire/plugin/server/upstreamauthority/v1/upstreamauthority";
import { createCsr } from "@signet/spiffe";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { newKey, selfSignedCa, writeCaFiles } from "../../../../test/fakes/ca-files.js";
import { buildPlugin } from "../../../../test/fakes/build-plugin.js";
import { Catalog } from "../catalog/index.js";
import { createLogger } from "../log/logger.js";
import { UpstreamAuthorityFacade } from "./index.js";

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

async function serveInProcess(...regs: ServiceRegistration[]): Promise<Channel> {
  const socket = join(mkdtempSync(join(tmpdir(), "signet-ua-facade-")), "s.sock");
  const server = new Server();
  for (const r of regs) server.addService(r.definition, r.implementation);
  await new Promise<void>((res, rej) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  servers.push(server);
  return new Channel(`unix:${socket}`, credentials.createInsecure(), {});
}

/** Polls `cond` for up to 3 s (the machine may be busy); true if it held. */
async function eventually(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 60 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

const rootA = selfSignedCa(newKey());
const rootB = selfSignedCa(newKey());
const cert = (asn1: Buffer) => ({ asn1, tainted: false });
const csr = Buffer.from("csr");

/** A plugin that answers `responses` in order, then waits for cancellation (or ends, if `end`). */
async function facadeAnswering(responses: Array<Partial<MintX509CAResponse> | Error>, opts: { end?: boolean } = {}) {
  const seen: { csr: Buffer; preferredTtl: number }[] = [];
  let cancelled = false;
  const ch = await serveInProcess(
    implement(UpstreamAuthorityService, {
      async *mintX509CaAndSubscribe(req, ctx) {
        seen.push(req);
        ctx.signal.addEventListener("abort", () => {
          cancelled = true;
        });
        for (const r of responses) {
          if (r instanceof Error) throw r;
          yield { x509CaChain: [], upstreamX509Roots: [], ...r };
          await new Promise((res) => setTimeout(res, 20));
        }
        if (opts.end) return;
        await new Promise<void>((res) => ctx.signal.addEventListener("abort", () => res()));
      },
    }),
  );
  return { ua: new UpstreamAuthorityFacade(createClient(UpstreamAuthorityService, ch), "fake"), seen, wasCancelled: () => cancelled };
}

describe("UpstreamAuthorityFacade.mintX509Ca", () => {
  it("sends the CSR and TTL, answers the chain and roots, and closes the stream when nobody watches roots", async () => {
    const { ua, seen, wasCancelled } = await facadeAnswering([{ x509CaChain: [cert(rootA)], upstreamX509Roots: [cert(rootB)] }]);
    expect(await ua.mintX509Ca(csr, 600)).toEqual({ x509CaChain: [rootA], upstreamX509Roots: [rootB] });
    expect(seen).toEqual([{ csr, preferredTtl: 600 }]);
    expect(await eventually(wasCancelled)).toBe(true);
  });

  it("refuses first answers SPIRE refuses, with SPIRE's words", async () => {
    const cases: Array<[Partial<MintX509CAResponse> | Error, string | RegExp]> = [
      [{ upstreamX509Roots: [cert(rootB)] }, "upstreamauthority(fake): plugin response missing X.509 CA chain"],
      [{ x509CaChain: [cert(rootA)] }, "upstreamauthority(fake): plugin response missing upstream X.509 roots"],
      [{ x509CaChain: [cert(Buffer.from("junk"))], upstreamX509Roots: [cert(rootB)] }, /^upstreamauthority\(fake\): plugin response has malformed X.509 CA chain: certificate 0/],
      [{ x509CaChain: [cert(rootA)], upstreamX509Roots: [cert(Buffer.alloc(0))] }, /^upstreamauthority\(fake\): plugin response has malformed upstream X.509 roots: certificate 0 is empty/],
    ];
    for (const [answer, message] of cases) {
      const { ua } = await facadeAnswering([answer]);
      await expect(ua.mintX509Ca(csr, 0)).rejects.toMatchObject({ code: Code.INTERNAL, message: typeof message === "string" ? message : expect.stringMatching(message) });
    }
    const closed = await facadeAnswering([], { end: true });
    await expect(closed.ua.mintX509Ca(csr, 0)).rejects.toMatchObject({ code: Code.INTERNAL, message: "upstreamauthority(fake): plugin closed stream unexpectedly" });
    const failing = await facadeAnswering([new RpcError(Code.INTERNAL, "unable to sign CSR: bad")]);
    await expect(failing.ua.mintX509Ca(csr, 0)).rejects.toMatchObject({ code: Code.INTERNAL, message: "upstreamauthority(fake): unable to sign CSR: bad" });
    await expect(failing.ua.mintX509Ca(csr, -1)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  });

  it("delivers later root updates while subscribed, skips a bad one, and stops on abort", async () => {
    const warnings: string[] = [];
    const { ua: base, wasCancelled } = await facadeAnswering([
      { x509CaChain: [cert(rootA)], upstreamX509Roots: [cert(rootA)] },
      { upstreamX509Roots: [cert(rootA), cert(rootB)] },
      { x509CaChain: [cert(rootA)], upstreamX509Roots: [cert(rootB)] },
      { upstreamX509Roots: [cert(rootB)] },
    ]);
    const ua = new UpstreamAuthorityFacade((base as unknown as { client: never }).client, "fake", (m, f) => warnings.push(`${m}: ${String(f.error)}`));
    const updates: Buffer[][] = [];
    const stop = new AbortController();
    const ended: unknown[] = [];
    await ua.mintX509Ca(csr, 0, { onRootsUpdate: (r) => updates.push(r), onStreamEnd: (e) => ended.push(e), signal: stop.signal });
    await eventually(() => updates.length >= 2 && warnings.length >= 1);
    expect(updates).toEqual([[rootA, rootB], [rootB]]);
    expect(warnings).toEqual([expect.stringMatching(/has an X.509 CA chain after the first response/)]);
    expect(wasCancelled()).toBe(false);
    stop.abort();
    expect(await eventually(wasCancelled)).toBe(true);
    expect(ended).toEqual([]);
  });

  it("tells when a kept subscription ends by the plugin's doing", async () => {
    const { ua } = await facadeAnswering([{ x509CaChain: [cert(rootA)], upstreamX509Roots: [cert(rootA)] }], { end: true });
    const ended = new Promise((res) => void ua.mintX509Ca(csr, 0, { onRootsUpdate: () => {}, onStreamEnd: res }));
    expect(await ended).toBeUndefined();
  });
});

describe("UpstreamAuthorityFacade.publishJwtKey", () => {
  const jwtKey = { publicKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" }), keyId: "kid", expiresAt: 10n, tainted: false };

  it("answers undefined for Unimplemented, the upstream's keys otherwise, and refuses a key without an id", async () => {
    const none = new UpstreamAuthorityFacade(createClient(UpstreamAuthorityService, await serveInProcess(implement(UpstreamAuthorityService, {}))), "none");
    expect(await none.publishJwtKey(jwtKey)).toBeUndefined();
    const echo = new UpstreamAuthorityFacade(
      createClient(
        UpstreamAuthorityService,
        await serveInProcess(
          implement(UpstreamAuthorityService, {
            async *publishJwtKeyAndSubscribe(req) {
              yield { upstreamJwtKeys: [req.jwtKey!, { ...req.jwtKey!, keyId: req.jwtKey!.keyId === "bad" ? "" : "upstream" }] };
            },
          }),
        ),
      ),
      "echo",
    );
    expect((await echo.publishJwtKey(jwtKey))?.map((k) => k.keyId)).toEqual(["kid", "upstream"]);
    await expect(echo.publishJwtKey({ ...jwtKey, keyId: "bad" })).rejects.toMatchObject({ code: Code.INTERNAL, message: "upstreamauthority(echo): invalid plugin response: missing key ID for JWT key" });
  });
});

describe("UpstreamAuthorityFacade with the disk plugin under the catalog", () => {
  const catalogs: Catalog[] = [];
  afterAll(async () => Promise.all(catalogs.map((c) => c.close())));

  it("mints the server CA from a CSR, chained to the upstream root", async () => {
    const file = await buildPlugin(join(__dirname, "../../../../plugins/upstreamauthority-disk/src/index.ts"), "facade-upstreamauthority-disk", "UpstreamAuthority");
    const files = writeCaFiles(mkdtempSync(join(tmpdir(), "signet-ua-disk-")));
    const catalog = await Catalog.load(
      [{ type: "UpstreamAuthority", name: "disk", source: { kind: "cmd", path: file }, args: [], data: { kind: "inline", text: `cert_file_path = "${files.certFilePath}"\nkey_file_path = "${files.keyFilePath}"` } }],
      { side: "server", trustDomain: "example.org", log: createLogger({ level: "error", write: () => {} }), liveness: false },
    );
    catalogs.push(catalog);
    const plugin = catalog.ofType("UpstreamAuthority")[0]!;
    const ua = new UpstreamAuthorityFacade(plugin.client(UpstreamAuthorityService), plugin.name);
    const serverKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const minted = await ua.mintX509Ca(createCsr({ privateKey: serverKey, uriSans: ["spiffe://example.org"] }), 900);
    expect(minted.upstreamX509Roots).toEqual(files.roots);
    const ca = new X509Certificate(minted.x509CaChain[0]!);
    expect(ca.ca).toBe(true);
    expect(ca.verify(new X509Certificate(files.roots[0]!).publicKey)).toBe(true);
    await expect(ua.mintX509Ca(createCsr({ privateKey: serverKey, uriSans: ["spiffe://other.org"] }), 0)).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: expect.stringMatching(/^upstreamauthority\(disk\): unable to sign CSR: /),
    });
    expect(await ua.publishJwtKey({ publicKey: Buffer.from([1]), keyId: "k", expiresAt: 0n, tainted: false })).toBeUndefined();
  });
});
