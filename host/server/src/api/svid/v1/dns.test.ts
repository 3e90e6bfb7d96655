import { describe, expect, it } from "vitest";
import { checkWildcardOverlap, validateDnsName } from "./dns.js";

function problem(name: string): string | undefined {
  try {
    validateDnsName(name);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("DNS names as SPIRE's x509util.ValidateLabel checks them", () => {
  it("accepts what SPIRE accepts", () => {
    for (const ok of ["com", "example.com", "*.example.com", "xn--ls8h.org", "a-hello.com", "___.com"]) expect(problem(ok), ok).toBeUndefined();
  });

  it("refuses with Go's error text", () => {
    expect(problem("")).toBe("empty or only whitespace");
    expect(problem(" ")).toBe("empty or only whitespace");
    expect(problem(".")).toBe("domain ends with dot");
    expect(problem("example.com.")).toBe("domain ends with dot");
    expect(problem("*.foo.*.bar")).toBe("too many wildcards");
    expect(problem("foo.*.bar")).toBe("wildcard must be first label");
    expect(problem("💩.com")).toBe("name must be ascii");
    expect(problem("-hello.com")).toBe('idna error\nidna: invalid label "-hello"');
    expect(problem("ab--cd.com")).toBe('idna error\nidna: invalid label "ab--cd"');
    expect(problem("a..b")).toBe('idna error\nidna: invalid label "a..b"');
    expect(problem(`${"a".repeat(64)}.com`)).toMatch(/^idna error/);
    expect(problem(Array.from({ length: 60 }, () => "abcd").join("."))).toMatch(/^idna error/);
  });

  it("finds a wildcard that covers another name", () => {
    expect(() => checkWildcardOverlap(["example.com", "*.example.com"])).not.toThrow();
    expect(() => checkWildcardOverlap(["*.example.com", "a.example.com"])).toThrow(
      'name "a.example.com" overlaps with an existing wildcard name in the list: wildcard overlap',
    );
  });
});
