import { describe, expect, it } from "vitest";
import { MemoryJournalStore } from "../../../../test/fakes/ca-stores.js";
import { Journal, JournalError, decodeJournal, encodeJournal, journalCap } from "./journal.js";

const x509 = (n: number) => ({
  slotId: (n % 2 ? "B" : "A") as "A" | "B",
  issuedAt: 1000 + n,
  notAfter: 2000 + n,
  certificate: Buffer.from([n]),
  upstreamChain: [],
  authorityId: `ca${n}`,
  upstreamAuthorityId: "",
});

describe("CA journal", () => {
  it("round-trips its versioned payload", () => {
    const entries = {
      x509Cas: [{ ...x509(1), status: "ACTIVE" as const, upstreamChain: [Buffer.from("ca"), Buffer.from("int")] }],
      jwtKeys: [{ slotId: "A" as const, issuedAt: 1, notAfter: 2, kid: "k", publicKey: Buffer.from("pk"), status: "OLD" as const, authorityId: "k" }],
    };
    const data = encodeJournal(entries);
    expect(JSON.parse(data.toString()).version).toBe(1);
    expect(decodeJournal(data)).toEqual(entries);
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["another version", JSON.stringify({ version: 2, x509CAs: [], jwtKeys: [] }), /unsupported CA journal version 2/],
    ["a bad slot", JSON.stringify({ version: 1, x509CAs: [{ ...x509(0), certificate: "", status: "ACTIVE", slotId: "C" }], jwtKeys: [] }), /slotId/],
    ["a bad status", JSON.stringify({ version: 1, x509CAs: [{ ...x509(0), certificate: "", status: "NEW" }], jwtKeys: [] }), /unknown status/],
    ["bad base64", JSON.stringify({ version: 1, x509CAs: [{ ...x509(0), certificate: "!!", status: "ACTIVE" }], jwtKeys: [] }), /base64/],
    ["missing lists", JSON.stringify({ version: 1 }), /expected an array/],
  ])("refuses %s", (_name, text, message) => {
    expect(() => decodeJournal(Buffer.from(text))).toThrow(JournalError);
    expect(() => decodeJournal(Buffer.from(text))).toThrow(message);
  });

  it("waits for an active X.509 authority before saving, keeps the last 10 entries, and is found again by that authority", async () => {
    const store = new MemoryJournalStore();
    const journal = Journal.empty(store);
    await journal.appendX509Ca(x509(0));
    expect(store.journals.size).toBe(0);
    await journal.updateX509CaStatus("ca0", "ACTIVE");
    expect(store.journals.size).toBe(1);
    for (let n = 1; n <= 12; n++) await journal.appendX509Ca(x509(n));
    expect(journal.snapshot().x509Cas.map((e) => e.authorityId)).toEqual(Array.from({ length: journalCap }, (_, i) => `ca${i + 3}`));
    await expect(journal.updateX509CaStatus("ca0", "OLD")).rejects.toThrow('no journal entry found with authority ID "ca0"');
    const stored = [...store.journals.values()][0]!;
    expect(stored.expiresAt).toBe(2012);

    const loaded = await Journal.load(store, ["nope", "ca0"]);
    expect(loaded.storedId).toBe(stored.id);
    expect(loaded.snapshot()).toEqual(journal.snapshot());
    expect((await Journal.load(store, ["nope"])).snapshot()).toEqual({ x509Cas: [], jwtKeys: [] });
  });
});

describe("CA manager start with an unreadable journal", () => {
  it("refuses to start, naming the journal, rather than guess", async () => {
    const { startTestCa } = await import("../../../../test/fakes/server-ca.js");
    const { TestKeyStore } = await import("../../../../test/fakes/keymanager.js");
    const keys = new TestKeyStore();
    const journal = new MemoryJournalStore();
    const first = await startTestCa({ keys, journal });
    await first.rotator.initialize();
    await first.close();
    const [stored] = [...journal.journals.values()];
    journal.journals.set(stored!.id, { ...stored!, data: Buffer.from("garbage") });
    await expect(startTestCa({ keys, journal })).rejects.toThrow("failed to load journal from datastore: CA journal is not JSON");
  });
});
