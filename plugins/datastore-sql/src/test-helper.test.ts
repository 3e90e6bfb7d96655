import { describe, expect, it } from "vitest";
import { startTestDataStore } from "../../../test/fakes/datastore.js";

describe("startTestDataStore", () => {
  it("creates and lists entries", async () => {
    const { dataStore, close } = await startTestDataStore();
    try {
      const res = await dataStore.createEntries({
        entries: [
          {
            id: "",
            spiffeId: { trustDomain: "example.org", path: "/w" },
            parentId: { trustDomain: "example.org", path: "/agent" },
            selectors: [{ type: "unix", value: "uid:1000" }],
            x509SvidTtl: 0, federatesWith: [], admin: false, downstream: false, expiresAt: 0n, dnsNames: ["a"],
            revisionNumber: 5n, storeSvid: false, jwtSvidTtl: 0, hint: "", createdAt: 0n, additionalAttributes: undefined,
          },
        ],
      });
      expect(res.results[0]!.status!.code).toBe(0);
      expect(res.results[0]!.entry!.revisionNumber).toBe(0n);
      const pages = [];
      for await (const p of dataStore.listEntries({ filter: undefined, page: undefined })) pages.push(p);
      expect(pages[0]!.entries.length).toBe(1);
      expect((await dataStore.getLatestEventId({})).eventId).toBe(1n);
    } finally {
      await close();
    }
  });
});
