import { describe, expect, it } from "vitest";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "./index.js";

describe("SpiffeId.parse", () => {
  it.each([
    ["spiffe://example.org", "example.org", ""],
    ["spiffe://example.org/ns/Prod/sa/web_1", "example.org", "/ns/Prod/sa/web_1"],
    ["spiffe://127.0.0.1/x", "127.0.0.1", "/x"],
    ["spiffe://a-b_c.d/.../x-y.z", "a-b_c.d", "/.../x-y.z"],
  ])("accepts %s", (input, td, path) => {
    const id = SpiffeId.parse(input);
    expect(id.trustDomain.name).toBe(td);
    expect(id.path).toBe(path);
    expect(id.toString()).toBe(input);
  });

  it.each([
    ["", "cannot be empty"],
    ["SPIFFE://example.org/x", "scheme is missing or invalid"],
    ["spiffe:/example.org", "scheme is missing or invalid"],
    ["https://example.org/x", "scheme is missing or invalid"],
    ["spiffe://Example.org/x", "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores"],
    ["spiffe://example.org:8443/x", "trust domain characters are limited"],
    ["spiffe://user@example.org/x", "trust domain characters are limited"],
    ["spiffe://[::1]/x", "trust domain characters are limited"],
    ["spiffe://exämple.org/x", "trust domain characters are limited"],
    ["spiffe:///a", "trust domain is missing"],
    ["spiffe://", "trust domain is missing"],
    ["spiffe://example.org/x?y=1", "path segment characters are limited to letters, numbers, dots, dashes, and underscores"],
    ["spiffe://example.org/x#f", "path segment characters are limited"],
    ["spiffe://example.org/a%2Fb", "path segment characters are limited"],
    ["spiffe://example.org/ä", "path segment characters are limited"],
    ["spiffe://example.org/", "path cannot have a trailing slash"],
    ["spiffe://example.org/a/", "path cannot have a trailing slash"],
    ["spiffe://example.org//a", "path cannot contain empty segments"],
    ["spiffe://example.org/a/./b", "path cannot contain dot segments"],
    ["spiffe://example.org/a/../b", "path cannot contain dot segments"],
    ["spiffe://example.org/..", "path cannot contain dot segments"],
  ])("rejects %j: %s", (input, reason) => {
    expect(() => SpiffeId.parse(input)).toThrow(SpiffeIdError);
    expect(() => SpiffeId.parse(input)).toThrow(reason);
    expect(() => SpiffeId.parse(input)).toThrow(`invalid SPIFFE ID ${JSON.stringify(input)}: `);
  });

  it("compares by bytes, with no normalisation", () => {
    expect(SpiffeId.parse("spiffe://example.org/A").equals(SpiffeId.parse("spiffe://example.org/A"))).toBe(true);
    expect(SpiffeId.parse("spiffe://example.org/A").equals(SpiffeId.parse("spiffe://example.org/a"))).toBe(false);
  });

  it("builds from a path, with the same path rules", () => {
    const td = TrustDomain.parse("example.org");
    expect(SpiffeId.fromPath(td, "/spire/agent/join_token/abc").toString()).toBe("spiffe://example.org/spire/agent/join_token/abc");
    expect(SpiffeId.fromPath(td, "").isTrustDomainId).toBe(true);
    expect(() => SpiffeId.fromPath(td, "spire")).toThrow("path must have a leading slash");
    expect(() => SpiffeId.fromPath(td, "/a//b")).toThrow("path cannot contain empty segments");
  });

  it("knows membership and refuses to issue over-long IDs while still parsing them", () => {
    const id = SpiffeId.parse(`spiffe://example.org/${"a".repeat(2100)}`);
    expect(id.memberOf(TrustDomain.parse("example.org"))).toBe(true);
    expect(id.memberOf(TrustDomain.parse("example.com"))).toBe(false);
    expect(id.issuanceProblem()).toMatch(/must not exceed 2048/);
    expect(SpiffeId.parse("spiffe://example.org/w").issuanceProblem()).toBeUndefined();
  });
});

describe("TrustDomain.parse", () => {
  it("accepts a bare name or an ID (whose path is discarded), like go-spiffe", () => {
    expect(TrustDomain.parse("example.org").name).toBe("example.org");
    expect(TrustDomain.parse("spiffe://example.org").name).toBe("example.org");
    expect(TrustDomain.parse("spiffe://example.org/ns/x").name).toBe("example.org");
    expect(TrustDomain.parse("example.org").idString).toBe("spiffe://example.org");
  });

  it.each([
    ["", "trust domain is missing"],
    ["Example.org", "trust domain characters are limited"],
    ["example.org:443", "trust domain characters are limited"],
    ["spiffe://example.org/", "path cannot have a trailing slash"],
    ["https://example.org", "scheme is missing or invalid"],
  ])("rejects %j", (input, reason) => {
    expect(() => TrustDomain.parse(input)).toThrow(TrustDomainError);
    expect(() => TrustDomain.parse(input)).toThrow(reason);
  });

  it("flags names Go's X.509 parser would refuse in a URI SAN, and over-long names", () => {
    for (const bad of [".a", "a.", "a..b"]) expect(TrustDomain.parse(bad).issuanceProblem()).toBe("has an empty DNS label");
    expect(TrustDomain.parse("a".repeat(256)).issuanceProblem()).toMatch(/longer than 255/);
    expect(TrustDomain.parse("example.org").issuanceProblem()).toBeUndefined();
  });
});
