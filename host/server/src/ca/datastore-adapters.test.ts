import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { nullLogger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import { SpiffeId, TrustDomain, readCertificate } from "@signet/spiffe";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../test/fakes/clock.js";
import { type TestDataStore, startTestDataStore } from "../../../../test/fakes/datastore.js";
import { TestKeyStore, startTestKeyManager } from "../../../../test/fakes/keymanager.js";
import { taintX509Authority } from "./bundle.js";
import { Ca } from "./ca.js";
import { dataStoreBundleStore, dataStoreJournalStore } from "./datastore-adapters.js";
import { CaManager } from "./manager.js";
import { CaRotator } from "./rotator.js";
import { keyManagerCaSigner } from "./signer.js";

const td = TrustDomain.parse("example.org");
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function dataStore(): Promise<TestDataStore> {
  const ds = await startTestDataStore();
  cleanup.push(() => ds.close());
  return ds;
}

describe("journal store over the DataStore", () => {
  it("creates, finds by active authority, replaces, and prunes", async () => {
    const { dataStore: ds } = await dataStore();
    const store = dataStoreJournalStore(ds);
    expect(await store.fetch("aa")).toBeUndefined();
    const id = await store.save({ id: 0n, activeX509AuthorityId: "aa", data: Buffer.from("one"), expiresAt: 100 });
    expect(id).toBeGreaterThan(0n);
    expect(await store.fetch("aa")).toEqual({ id, activeX509AuthorityId: "aa", data: Buffer.from("one"), expiresAt: 100 });
    expect(await store.save({ id, activeX509AuthorityId: "bb", data: Buffer.from("two"), expiresAt: 200 })).toBe(id);
    expect(await store.fetch("aa")).toBeUndefined();
    expect((await store.fetch("bb"))?.data.toString()).toBe("two");
    expect(await store.prune(new Date(150_000))).toBe(0);
    expect(await store.prune(new Date(201_000))).toBe(1);
    expect(await store.fetch("bb")).toBeUndefined();
  });
});

describe("bundle store over the DataStore", () => {
  it("appends, updates with compare-and-set (retrying a lost race), and raises the sequence number", async () => {
    const { dataStore: ds } = await dataStore();
    const store = dataStoreBundleStore(ds, td);
    expect(await store.fetch()).toBeUndefined();
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf } = await import("@signet/spiffe");
    const cert = mintCertificateSync(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(privateKey) }), keyObjectSigner(privateKey));
    const created = await store.append({ x509: [cert], jwt: [{ keyId: "k1", publicKey: spkiOf(privateKey), expiresAt: 0n, tainted: false }] });
    expect(created.trustDomain).toBe("example.org");
    expect(created.x509Authorities).toHaveLength(1);
    const seq = created.sequenceNumber;

    // Another writer changes the bundle between our read and our write: the update is retried on fresh data.
    let raced = false;
    const racing = new Proxy(ds, {
      get(target, key, receiver) {
        if (key !== "updateBundle") return Reflect.get(target, key, receiver);
        return async (req: Parameters<typeof ds.updateBundle>[0]) => {
          if (!raced) {
            raced = true;
            await ds.appendBundle({ bundle: { ...req.bundle!, x509Authorities: [], jwtAuthorities: [{ keyId: "k2", publicKey: spkiOf(privateKey), expiresAt: 0n, tainted: false }] } });
          }
          return ds.updateBundle(req);
        };
      },
    });
    let attempts = 0;
    const updated = await dataStoreBundleStore(racing, td).update((b) => {
      attempts++;
      return taintX509Authority(b, readCertificate(cert).subjectKeyId!.toString("hex"));
    });
    expect(attempts).toBe(2);
    expect(updated.jwtAuthorities.map((k) => k.keyId)).toEqual(["k1", "k2"]);
    expect(updated.x509Authorities[0]!.tainted).toBe(true);
    expect(updated.sequenceNumber).toBeGreaterThan(seq);
    expect((await store.fetch())!.x509Authorities[0]!.tainted).toBe(true);

    expect(await store.prune(new Date(Date.now() + 3 * 86400_000)).catch((e: RpcError) => e.code)).toBe(Code.FAILED_PRECONDITION);
  });
});

describe("CA over the real DataStore", () => {
  it("survives a restart: the journal and bundle in SQLite, the keys in the KeyManager", async () => {
    const { dataStore: ds } = await dataStore();
    const keys = new TestKeyStore();
    const clock = new ManualClock(Date.now());

    async function boot() {
      const km = await startTestKeyManager(keys);
      cleanup.push(() => km.close());
      const bundle = dataStoreBundleStore(ds, td);
      const signer = keyManagerCaSigner(km.facade);
      const ca = new Ca({ trustDomain: td, signer, clock, x509SvidTtlSeconds: 3600, agentTtlSeconds: 0, jwtSvidTtlSeconds: 300, caTtlSeconds: 86400, disableJwtSvids: false, bundle });
      const manager = await CaManager.load({
        trustDomain: td,
        keyManager: km.facade,
        signer,
        journalStore: dataStoreJournalStore(ds),
        bundleStore: bundle,
        ca,
        caKeyType: "ec-p256",
        jwtKeyType: "ec-p256",
        caTtlSeconds: 86400,
        caSubject: { country: ["US"], organization: ["SPIFFE"] },
        disableJwtSvids: false,
        clock,
        log: nullLogger,
      });
      return { ca, manager, rotator: new CaRotator({ manager, clock, log: nullLogger }) };
    }

    const first = await boot();
    await first.rotator.initialize();
    const x509 = first.manager.currentX509CaSlot().authorityId;
    const jwt = first.manager.currentJwtKeySlot().authorityId;
    const stored = (await ds.fetchBundle({ trustDomain: "example.org" })).bundle!;
    expect(stored.x509Authorities).toHaveLength(1);
    expect(stored.jwtAuthorities.map((k) => k.keyId)).toEqual([jwt]);
    expect((await ds.fetchCaJournal({ activeX509AuthorityId: x509 })).caJournal?.expiresAt).toBeGreaterThan(0n);

    const second = await boot();
    expect(second.manager.currentX509CaSlot()).toMatchObject({ status: "ACTIVE", authorityId: x509 });
    expect(second.manager.currentJwtKeySlot()).toMatchObject({ status: "ACTIVE", authorityId: jwt });
    await second.rotator.initialize();
    expect((await ds.fetchBundle({ trustDomain: "example.org" })).bundle!.x509Authorities).toHaveLength(1);
    const leaf = (await second.ca.signAgentX509Svid({ publicKey: spki(), spiffeId: SpiffeId.parse("spiffe://example.org/spire/agent/x/1") })).certChain[0]!;
    expect(new X509Certificate(leaf).verify(new X509Certificate(stored.x509Authorities[0]!.asn1).publicKey)).toBe(true);
  });
});

function spki(): Buffer {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
}
