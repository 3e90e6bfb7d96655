/**
 * @signet/spiffe's SpiffeId and TrustDomain parsers against go-spiffe's
 * (github.com/spiffe/go-spiffe/v2 spiffeid.FromString and
 * TrustDomainFromString, built from test/e2e/go/spiffe-id): the same verdict
 * and the same rule text for every input, on the reference's cases and on
 * thousands of generated near-misses.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { beforeAll, describe, expect, it } from "vitest";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "../../spiffe/src/index.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, haveGo, requireGoInCI } from "./go-toolchain.js";

interface Result {
  ok: boolean;
  td?: string;
  path?: string;
  reason?: string;
}

function ours(input: string): { id: Result; td: Result } {
  let id: Result;
  try {
    const v = SpiffeId.parse(input);
    id = { ok: true, td: v.trustDomain.name, ...(v.path ? { path: v.path } : {}) };
  } catch (e) {
    id = { ok: false, reason: (e as SpiffeIdError).reason };
  }
  let td: Result;
  try {
    td = { ok: true, td: TrustDomain.parse(input).name };
  } catch (e) {
    td = { ok: false, reason: (e as TrustDomainError).reason };
  }
  return { id, td };
}

async function goVerdicts(inputs: readonly string[]): Promise<Array<{ id: Result; td: Result }>> {
  const child = spawn(join(goBuildDir, "spiffe-id"), [], { stdio: ["pipe", "pipe", "inherit"] });
  const out: Array<{ id: Result; td: Result }> = [];
  const done = new Promise<void>((resolve) => createInterface({ input: child.stdout }).on("line", (l) => out.push(JSON.parse(l))).on("close", resolve));
  for (const s of inputs) child.stdin.write(`${JSON.stringify(s)}\n`);
  child.stdin.end();
  await done;
  return out;
}

/** Deterministic near-misses: SPIFFE-shaped strings with hostile bytes in every position. */
function generated(count: number): string[] {
  let seed = 0x5eed;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ["spiffe://", "SPIFFE://", "spiffe:/", "spiffe:", "https://", "a", "Z", "0", ".", "..", "-", "_", "/", "//", "%2F", ":", "@", "[", "]", "?", "#", "~", "ä", " ", "example.org", "ns", "..."];
  const tdChars = "abcxyz0189.-_";
  const pathChars = "aZ09.-_";
  const word = (chars: string) => Array.from({ length: 1 + rand(6) }, () => chars[rand(chars.length)]).join("");
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      // A well-formed ID, then at most one hostile piece spliced in somewhere.
      let s = `spiffe://${word(tdChars)}${Array.from({ length: rand(4) }, () => `/${word(pathChars)}`).join("")}`;
      if (rand(2) === 0) {
        const at = rand(s.length + 1);
        s = s.slice(0, at) + pieces[rand(pieces.length)] + s.slice(at);
      }
      out.push(s);
      continue;
    }
    let s = rand(4) === 0 ? "" : "spiffe://";
    const n = 1 + rand(7);
    for (let j = 0; j < n; j++) s += pieces[rand(pieces.length)];
    out.push(s);
  }
  return out;
}

describe("Go toolchain for the SPIFFE ID oracle", () => {
  it("is on PATH when CI=true", () => requireGoInCI());
});

describe.runIf(haveGo)("SPIFFE ID parsing agrees with go-spiffe", () => {
  beforeAll(() => goBuild("spiffe-id", ["."]), goBuildTimeoutMs + 10_000);

  it("on the reference cases and 5000 generated near-misses", async () => {
    const inputs = [
      "",
      "spiffe://example.org",
      "spiffe://example.org/ns/Prod/sa/web_1",
      "spiffe://127.0.0.1/x",
      "SPIFFE://example.org/x",
      "spiffe:/example.org",
      "https://example.org/x",
      "spiffe://Example.org/x",
      "spiffe://example.org:8443/x",
      "spiffe://user@example.org/x",
      "spiffe://[::1]/x",
      "spiffe://example.org/x?y=1",
      "spiffe://example.org/x#f",
      "spiffe://example.org/a%2Fb",
      "spiffe://example.org/",
      "spiffe://example.org/a/",
      "spiffe://example.org//a",
      "spiffe://example.org/a/./b",
      "spiffe://example.org/a/../b",
      "spiffe:///a",
      "example.org",
      "Example.org",
      ".a",
      "a..b",
      ...generated(5000),
    ];
    const theirs = await goVerdicts(inputs);
    expect(theirs).toHaveLength(inputs.length);
    const mismatches = inputs
      .map((input, i) => ({ input, go: theirs[i], ours: ours(input) }))
      .filter((m) => JSON.stringify(m.go) !== JSON.stringify(m.ours));
    expect(mismatches.slice(0, 5)).toEqual([]);
    // Both verdicts occur, so the comparison covers accepting and rejecting paths.
    expect(theirs.filter((v) => v.id.ok).length).toBeGreaterThan(50);
    expect(theirs.filter((v) => !v.id.ok).length).toBeGreaterThan(1000);
  });
});
