/**
 * What a conformance suite is, independent of any test framework: a name,
 * a list of named checks (each an async function that throws when the plugin
 * misbehaves), and setup/teardown for the plugin processes the checks share.
 *
 *   const suite = keyManagerSuite(plugin, { side: "server" });
 *   registerWithVitest(suite, { describe, it, beforeAll, afterAll });   // or:
 *   for (const c of suite.checks) it(c.name, c.run);                     // jest, node:test…
 */

export interface Check {
  readonly name: string;
  readonly run: () => Promise<void>;
  /** How long the check may take; test-framework helpers pass it on as the test timeout. */
  readonly timeoutMs: number;
}

export interface Suite {
  readonly name: string;
  readonly checks: readonly Check[];
  /** Starts the processes the checks share. Failures surface in the checks, not here. */
  setup(): Promise<void>;
  /** Stops every process the suite started. Safe to call more than once. */
  teardown(): Promise<void>;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: Error;
  readonly durationMs: number;
}

export interface SuiteResult {
  readonly name: string;
  readonly results: readonly CheckResult[];
  readonly passed: number;
  readonly failed: number;
  readonly durationMs: number;
}

/**
 * Runs a suite without any test framework (a CLI, a script, or a test that
 * wants to assert which checks fail). Checks run one after another, each
 * bounded by its timeout.
 */
export async function runSuite(suite: Suite, options: { only?: (name: string) => boolean } = {}): Promise<SuiteResult> {
  const start = Date.now();
  const results: CheckResult[] = [];
  await suite.setup();
  try {
    for (const check of suite.checks) {
      if (options.only && !options.only(check.name)) continue;
      const t0 = Date.now();
      try {
        await withTimeout(check.run(), check.timeoutMs, `check did not finish within ${check.timeoutMs} ms`);
        results.push({ name: check.name, ok: true, durationMs: Date.now() - t0 });
      } catch (e) {
        results.push({ name: check.name, ok: false, error: asError(e), durationMs: Date.now() - t0 });
      }
    }
  } finally {
    await suite.teardown();
  }
  const failed = results.filter((r) => !r.ok).length;
  return { name: suite.name, results, passed: results.length - failed, failed, durationMs: Date.now() - start };
}

/** The few functions of vitest (or jest) the helper needs, passed in so this module imports no framework. */
export interface TestFunctions {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): unknown;
  beforeAll(body: () => Promise<void>, timeoutMs?: number): unknown;
  afterAll(body: () => Promise<void>, timeoutMs?: number): unknown;
}

/** One `describe` per suite, one `it` per check, processes started in beforeAll and stopped in afterAll. */
export function registerWithVitest(suite: Suite, t: TestFunctions): void {
  t.describe(suite.name, () => {
    t.beforeAll(() => suite.setup(), 120_000);
    t.afterAll(() => suite.teardown(), 60_000);
    for (const check of suite.checks) t.it(check.name, check.run, check.timeoutMs);
  });
}

/** Several suites as one (e.g. the lifecycle checks plus a type's checks for the same plugin). */
export function combineSuites(name: string, suites: readonly Suite[]): Suite {
  return {
    name,
    checks: suites.flatMap((s) => s.checks.map((c) => ({ ...c, name: `${s.name} › ${c.name}` }))),
    setup: async () => {
      await Promise.all(suites.map((s) => s.setup()));
    },
    teardown: async () => {
      await Promise.all(suites.map((s) => s.teardown()));
    },
  };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
