import { describe, expect, it } from "vitest";
import { DeadlineError, type RetryPolicy, withRetries } from "./retry.js";

const policy: RetryPolicy = { attemptTimeoutMs: 60_000, initialBackoffMs: 100, maxBackoffMs: 1_000 };
const transient = (e: unknown) => (e as Error).message === "busy";

/** A sleep that only records: no test waits on the clock. */
function recordingSleep() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

describe("withRetries", () => {
  it("tries transient failures again after doubling, capped pauses", async () => {
    const { pauses, sleep } = recordingSleep();
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (++calls <= 6) throw new Error("busy");
        return "done";
      },
      { signal: new AbortController().signal, policy, isTransient: transient, sleep, random: () => 1 },
    );
    expect(result).toBe("done");
    expect(calls).toBe(7);
    expect(pauses).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("jitters each pause between half and all of its ceiling", async () => {
    const { pauses, sleep } = recordingSleep();
    let calls = 0;
    await withRetries(async () => (++calls < 3 ? Promise.reject(new Error("busy")) : "ok"), { signal: new AbortController().signal, policy, isTransient: transient, sleep, random: () => 0 });
    expect(pauses).toEqual([50, 100]);
  });

  it("does not retry a failure that is not transient", async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new Error("forbidden");
        },
        { signal: new AbortController().signal, policy, isTransient: transient, sleep: async () => {} },
      ),
    ).rejects.toThrow("forbidden");
    expect(calls).toBe(1);
  });

  it("stops when the caller's signal aborts, saying why and what the last attempt met", async () => {
    const controller = new AbortController();
    let calls = 0;
    const e = await withRetries(
      async () => {
        if (++calls === 3) controller.abort(new Error("cancelled"));
        throw new Error("busy");
      },
      { signal: controller.signal, policy, isTransient: transient, sleep: async () => {} },
    ).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DeadlineError);
    expect((e as Error).message).toBe("context canceled (last attempt: busy)");
    expect(calls).toBe(3);
  });

  it("passes each attempt a signal that ends with the attempt's timeout", async () => {
    const seen: AbortSignal[] = [];
    let calls = 0;
    await withRetries(
      (signal) => {
        seen.push(signal);
        if (++calls === 1) return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
        return Promise.resolve("ok");
      },
      { signal: new AbortController().signal, policy: { ...policy, attemptTimeoutMs: 20 }, isTransient: () => false, sleep: async () => {} },
    );
    // The first attempt hung, timed out and was tried again even though its error is not transient.
    expect(calls).toBe(2);
    expect(seen[0]!.aborted).toBe(true);
  });
});
