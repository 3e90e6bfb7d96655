import type { Entry, EntryMask } from "@signet/proto/spire/api/types/entry";
import { TrustDomain } from "@signet/spiffe";
import { describe, expect, it } from "vitest";
import { allTrueEntryMask, entryFromApi } from "./convert.js";
import { dnsNameProblem } from "./dns-name.js";
import { entryFilterFromApi } from "./filter.js";
import { applyEntryMask } from "./mask.js";

const td = TrustDomain.parse("example.org");

function apiEntry(over: Partial<Entry> = {}): Entry {
  return {
    id: "",
    spiffeId: { trustDomain: "example.org", path: "/workload" },
    parentId: { trustDomain: "example.org", path: "/spire/agent/join_token/abc" },
    selectors: [{ type: "unix", value: "uid:1000" }],
    x509SvidTtl: 0,
    federatesWith: [],
    admin: false,
    downstream: false,
    expiresAt: 0n,
    dnsNames: [],
    revisionNumber: 0n,
    storeSvid: false,
    jwtSvidTtl: 0,
    hint: "",
    createdAt: 0n,
    ...over,
  };
}

const noMask: EntryMask = Object.fromEntries(Object.keys(allTrueEntryMask).map((k) => [k, false])) as unknown as EntryMask;

describe("entryFromApi (SPIRE's ProtoToRegistrationEntryWithMask)", () => {
  const bad: [string, Partial<Entry>, string][] = [
    ["missing parent", { parentId: undefined }, "invalid parent ID: request must specify SPIFFE ID"],
    [
      "foreign parent",
      { parentId: { trustDomain: "other.org", path: "/a" } },
      'invalid parent ID: "spiffe://other.org/a" is not a member of trust domain "example.org"',
    ],
    [
      "parent without path",
      { parentId: { trustDomain: "example.org", path: "" } },
      'invalid parent ID: "spiffe://example.org" is not a member of trust domain "example.org"; path is empty',
    ],
    [
      "bad trust domain",
      { parentId: { trustDomain: "Example.org", path: "/a" } },
      "invalid parent ID: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
    ["bad path", { spiffeId: { trustDomain: "example.org", path: "a" } }, "invalid spiffe ID: path must have a leading slash"],
    [
      "reserved SPIFFE ID",
      { spiffeId: { trustDomain: "example.org", path: "/spire/agent/x" } },
      'invalid spiffe ID: "spiffe://example.org/spire/agent/x" is not a workload in trust domain "example.org"; path is in the reserved namespace',
    ],
    [
      "SPIFFE ID without path",
      { spiffeId: { trustDomain: "example.org", path: "" } },
      'invalid spiffe ID: "spiffe://example.org" is not a workload in trust domain "example.org"; path is empty',
    ],
    ["bad DNS name", { dnsNames: ["ok.example", "a..b"] }, 'invalid DNS name: idna error\nidna: invalid label ""'],
    ["wildcard DNS name in the middle", { dnsNames: ["a.*.b"] }, "invalid DNS name: wildcard must be first label"],
    [
      "bad federated trust domain",
      { federatesWith: ["UPPER"] },
      "invalid federated trust domain: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
    ],
    ["no selectors", { selectors: [] }, "selector list is empty"],
    ["empty selector type", { selectors: [{ type: "", value: "x" }] }, "missing selector type"],
    ["colon in selector type", { selectors: [{ type: "a:b", value: "x" }] }, "selector type contains ':'"],
    ["empty selector value", { selectors: [{ type: "unix", value: "" }] }, "missing selector value"],
    ["long hint", { hint: "h".repeat(1025) }, "hint is too long, max length is 1024 characters"],
  ];
  for (const [name, over, message] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => entryFromApi(apiEntry(over), td, undefined)).toThrow(message);
      try {
        entryFromApi(apiEntry(over), td, undefined);
      } catch (e) {
        expect((e as Error).message).toBe(message);
      }
    });
  }

  it("accepts a good entry, normalising federated trust domains to names", () => {
    const out = entryFromApi(
      apiEntry({ federatesWith: ["spiffe://fed.org", "b.org"], dnsNames: ["*.web.example", "xn--bcher-kva.example"], hint: "h".repeat(1024) }),
      td,
      undefined,
    );
    expect(out.federatesWith).toEqual(["fed.org", "b.org"]);
    expect(out.spiffeId).toEqual({ trustDomain: "example.org", path: "/workload" });
  });

  it("with an input mask validates and keeps only flagged fields", () => {
    const input = apiEntry({ parentId: undefined, spiffeId: undefined, selectors: [], admin: true, hint: "x", x509SvidTtl: 5 });
    const out = entryFromApi(input, td, { ...noMask, admin: true, x509SvidTtl: true });
    expect(out.admin).toBe(true);
    expect(out.x509SvidTtl).toBe(5);
    expect(out.hint).toBe("");
    expect(out.spiffeId).toBeUndefined();
    expect(() => entryFromApi(input, td, { ...noMask, selectors: true })).toThrow("selector list is empty");
  });

  it("refuses a missing entry", () => {
    expect(() => entryFromApi(undefined, td, undefined)).toThrow("missing entry");
  });
});

describe("dnsNameProblem", () => {
  it("follows x509util.ValidateLabel", () => {
    expect(dnsNameProblem("example.org")).toBeUndefined();
    expect(dnsNameProblem("*.example.org")).toBeUndefined();
    expect(dnsNameProblem("**.example.org")).toBe("too many wildcards");
    expect(dnsNameProblem("ex*.org")).toBe("wildcard must be first label");
    expect(dnsNameProblem("  ")).toBe("empty or only whitespace");
    expect(dnsNameProblem("example.org.")).toBe("domain ends with dot");
    expect(dnsNameProblem("bücher.example")).toBe("name must be ascii");
    expect(dnsNameProblem("under_score.example")).toBe("idna error\nidna: disallowed rune U+005F");
    expect(dnsNameProblem("-lead.example")).toBe('idna error\nidna: invalid label "-lead"');
    expect(dnsNameProblem(`${"a".repeat(64)}.example`)).toMatch(/^idna error/);
  });
});

describe("entryFilterFromApi", () => {
  const base = { bySpiffeId: undefined, byParentId: undefined, bySelectors: undefined, byFederatesWith: undefined, byHint: undefined, byDownstream: undefined };
  it("uses SPIRE's wording for malformed filters", () => {
    expect(() => entryFilterFromApi({ ...base, bySelectors: { selectors: [], match: 0 } }, td)).toThrow(
      "malformed selectors filter: empty selector set",
    );
    expect(() => entryFilterFromApi({ ...base, byFederatesWith: { trustDomains: [], match: 0 } }, td)).toThrow(
      "malformed federates with filter: empty trust domain set",
    );
    expect(() => entryFilterFromApi({ ...base, byParentId: { trustDomain: "x.org", path: "/a" } }, td)).toThrow(
      'malformed parent ID filter: "spiffe://x.org/a" is not a member of trust domain "example.org"',
    );
    expect(() => entryFilterFromApi({ ...base, bySpiffeId: { trustDomain: "example.org", path: "/spire/x" } }, td)).toThrow(
      /^malformed SPIFFE ID filter: .*reserved namespace$/,
    );
  });
  it("keeps presence of false and empty wrapper values", () => {
    const f = entryFilterFromApi({ ...base, byDownstream: false, byHint: "" }, td);
    expect(f?.byDownstream).toBe(false);
    expect(f?.byHint).toBe("");
    expect(entryFilterFromApi(base, td)).not.toHaveProperty("byDownstream");
    expect(entryFilterFromApi(undefined, td)).toBeUndefined();
  });
});

describe("applyEntryMask", () => {
  const full = apiEntry({ id: "e", admin: true, hint: "h", revisionNumber: 3n, additionalAttributes: { disableX509SvidPrefetch: true, jwtSvidIncludeJti: true } });
  it("returns the entry whole without a mask", () => {
    expect(applyEntryMask(full, undefined)).toBe(full);
  });
  it("keeps only the id with an all-false mask", () => {
    const out = applyEntryMask(full, noMask);
    expect(out.id).toBe("e");
    expect(out.spiffeId).toBeUndefined();
    expect(out.selectors).toEqual([]);
    expect(out.admin).toBe(false);
    expect(out.revisionNumber).toBe(0n);
    expect(out.additionalAttributes).toBeUndefined();
  });
  it("keeps flagged fields", () => {
    const out = applyEntryMask(full, { ...noMask, hint: true, additionalAttributes: true });
    expect(out.hint).toBe("h");
    expect(out.additionalAttributes).toEqual(full.additionalAttributes);
    expect(out.admin).toBe(false);
  });
});
