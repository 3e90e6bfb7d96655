import { describe, expect, it } from "vitest";
import { type Suite, combineSuites, registerWithVitest, runSuite } from "./suite.js";

function fakeSuite(name: string, log: string[], checks: Array<[string, () => Promise<void>, number?]>): Suite {
  return {
    name,
    checks: checks.map(([n, run, timeoutMs = 1_000]) => ({ name: n, run, timeoutMs })),
    setup: async () => {
      log.push(`${name}: setup`);
    },
    teardown: async () => {
      log.push(`${name}: teardown`);
    },
  };
}

describe("runSuite", () => {
  it("runs every check between setup and teardown and reports each outcome", async () => {
    const log: string[] = [];
    const r = await runSuite(
      fakeSuite("s", log, [
        ["passes", async () => void log.push("passes")],
        ["fails", async () => Promise.reject(new Error("nope"))],
        ["throws a string", async () => Promise.reject("plain")],
        ["hangs", () => new Promise(() => {}), 50],
      ]),
    );
    expect(log).toEqual(["s: setup", "passes", "s: teardown"]);
    expect(r.results.map((c) => [c.name, c.ok, c.error?.message])).toEqual([
      ["passes", true, undefined],
      ["fails", false, "nope"],
      ["throws a string", false, "plain"],
      ["hangs", false, "check did not finish within 50 ms"],
    ]);
    expect([r.passed, r.failed]).toEqual([1, 3]);
  });

  it("runs only the checks asked for", async () => {
    const r = await runSuite(fakeSuite("s", [], [["a", async () => {}], ["b", async () => {}]]), { only: (n) => n === "b" });
    expect(r.results.map((c) => c.name)).toEqual(["b"]);
  });
});

describe("registerWithVitest", () => {
  it("declares one describe, setup and teardown hooks, and one test per check with its timeout", async () => {
    const calls: string[] = [];
    const log: string[] = [];
    const hooks: Array<() => Promise<void>> = [];
    registerWithVitest(fakeSuite("s", log, [["a", async () => void log.push("a"), 1234]]), {
      describe: (name, body) => {
        calls.push(`describe ${name}`);
        body();
      },
      it: (name, body, timeoutMs) => {
        calls.push(`it ${name} ${timeoutMs}`);
        hooks.push(body);
      },
      beforeAll: (body) => {
        calls.push("beforeAll");
        hooks.unshift(body);
      },
      afterAll: (body) => {
        calls.push("afterAll");
        hooks.push(body);
      },
    });
    expect(calls).toEqual(["describe s", "beforeAll", "afterAll", "it a 1234"]);
    for (const h of [hooks[0]!, hooks[2]!, hooks[1]!]) await h();
    expect(log).toEqual(["s: setup", "a", "s: teardown"]);
  });
});

describe("combineSuites", () => {
  it("prefixes check names with their suite and sets up and tears down every suite", async () => {
    const log: string[] = [];
    const combined = combineSuites("both", [fakeSuite("x", log, [["a", async () => {}]]), fakeSuite("y", log, [["b", async () => {}]])]);
    const r = await runSuite(combined);
    expect(r.results.map((c) => c.name)).toEqual(["x › a", "y › b"]);
    expect(log.sort()).toEqual(["x: setup", "x: teardown", "y: setup", "y: teardown"]);
  });
});
