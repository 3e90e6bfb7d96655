import { X509Certificate, createPublicKey } from "node:crypto";
import { nullLogger } from "@signet/host-common";
import { afterEach, describe, expect, it } from "vitest";
import { type TestCa, startTestCa } from "../../../../test/fakes/server-ca.js";
import { ServerSvidRotator, svidCheckIntervalMs } from "./rotator.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(opts: { x509SvidTtlSeconds?: number } = {}) {
  const t: TestCa = await startTestCa(opts);
  cleanup.push(() => t.close());
  await t.rotator.initialize();
  const svids = new ServerSvidRotator({ ca: t.ca, keyType: "ec-p256", clock: t.clock, log: nullLogger });
  cleanup.push(() => svids.stop());
  await svids.initialize();
  return { ...t, svids };
}

const leafOf = (r: ServerSvidRotator) => new X509Certificate(r.current().certChain[0]!);

describe("server SVID rotator", () => {
  it("issues spiffe://<td>/spire/server for an in-memory key, verifiable against the bundle", async () => {
    const { svids, bundle } = await start();
    const svid = svids.current();
    const leaf = leafOf(svids);
    expect(leaf.subjectAltName).toBe("URI:spiffe://example.org/spire/server");
    expect(leaf.checkPrivateKey(svid.privateKey)).toBe(true);
    const root = new X509Certificate(bundle.bundle!.x509Authorities[0]!.asn1);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(svid.notAfter.getTime() - svid.notBefore.getTime()).toBe(3600_000 + 10_000);
    expect(createPublicKey(svid.privateKey).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("re-signs at half-life, checked every 5 s by its loop (fake clock), and tells subscribers", async () => {
    const { svids, clock } = await start();
    const first = leafOf(svids).serialNumber;
    const seen: string[] = [];
    svids.subscribe((s) => seen.push(new X509Certificate(s.certChain[0]!).serialNumber));
    svids.start();
    await clock.sleepers(1);
    await clock.tick(25 * 60_000);
    expect(leafOf(svids).serialNumber).toBe(first);
    await clock.tick(6 * 60_000); // 31 min > half of 60 min (+10 s backdating)
    expect(leafOf(svids).serialNumber).not.toBe(first);
    expect(seen).toHaveLength(1);
    await clock.tick(svidCheckIntervalMs);
    expect(seen).toHaveLength(1);
  });

  it("re-signs when the active CA is rotated away, and when its authority is tainted", async () => {
    const { svids, clock, manager, ca, bundle } = await start();
    svids.start();
    await clock.sleepers(1);
    const first = leafOf(svids).serialNumber;
    await manager.prepareX509Ca();
    await manager.rotateX509Ca();
    await clock.tick(svidCheckIntervalMs);
    const second = leafOf(svids);
    expect(second.serialNumber).not.toBe(first);
    const active = new X509Certificate(ca.currentX509Ca()!.certificate);
    expect(second.verify(active.publicKey)).toBe(true);

    // Taint the active root (as an operator would after rotating): the SVID follows at the next check.
    const root = bundle.bundle!.x509Authorities.find((a) => a.asn1.equals(active.raw))!;
    ca.notifyTaintedX509Authorities([root.asn1]);
    await clock.tick(svidCheckIntervalMs);
    expect(leafOf(svids).serialNumber).not.toBe(second.serialNumber);
    // An unrelated tainted authority changes nothing.
    const third = leafOf(svids).serialNumber;
    ca.notifyTaintedX509Authorities([Buffer.from("not a certificate")]);
    await clock.tick(svidCheckIntervalMs);
    expect(leafOf(svids).serialNumber).toBe(third);
  });

  it("keeps the current SVID when signing fails, and tries again", async () => {
    const { svids, clock, km } = await start({ x509SvidTtlSeconds: 60 });
    svids.start();
    await clock.sleepers(1);
    const first = leafOf(svids).serialNumber;
    await km.close();
    await clock.tick(40_000);
    expect(leafOf(svids).serialNumber).toBe(first);
  });
});
