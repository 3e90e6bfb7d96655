/** Building suites from checks that share one harness. */
import type { PluginHarness } from "./harness.js";
import type { Check, Suite } from "./suite.js";

export const defaultCheckTimeoutMs = 30_000;

/**
 * A check whose failure message also says when a plugin process died under
 * it: "UNAVAILABLE" alone sends an author looking in the wrong place.
 */
export function defineCheck(harness: PluginHarness, name: string, run: () => Promise<void>, timeoutMs = defaultCheckTimeoutMs): Check {
  return {
    name,
    timeoutMs,
    run: async () => {
      try {
        await run();
      } catch (e) {
        // A dropped connection usually arrives before the exit event does.
        if (e instanceof Error && /\b(Unavailable|Cancelled|DeadlineExceeded)\b/.test(e.message)) await harness.settle(250);
        const deaths = harness.describeDeaths();
        if (deaths && e instanceof Error && !e.message.includes(deaths)) e.message = `${e.message} (${deaths})`;
        throw e;
      }
    },
  };
}

export function defineSuite(
  name: string,
  harness: PluginHarness,
  checks: readonly Check[],
  hooks: { setup?: () => Promise<void>; teardown?: () => Promise<void> } = {},
): Suite {
  return {
    name,
    checks,
    setup: async () => {
      await hooks.setup?.();
    },
    teardown: async () => {
      await hooks.teardown?.();
      await harness.close();
    },
  };
}
