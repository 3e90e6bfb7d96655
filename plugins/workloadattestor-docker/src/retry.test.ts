import { describe, expect, it } from "vitest";
import { CallAborted } from "./errors.js";
import { type RetryPolicy, abortableSleep, retry, spireRetryPolicy } from "./retry.js";

/** SPIRE's policy with the waits recorded instead of slept. */
function recording(): { policy: RetryPolicy; waits: number[] } {
  const waits: number[] = [];
  return { waits, policy: { ...spireRetryPolicy, sleep: async (ms) => void waits.push(ms) } };
}

describe("retry, as SPIRE retries the container lookup", () => {
  it("tries once plus 3 retries, backing off 100, 200, 400 ms, then gives the last error", async () => {
    const { policy, waits } = recording();
    let calls = 0;
    await expect(
      retry(policy, undefined, async () => {
        calls++;
        throw new Error(`docker error ${calls}`);
      }),
    ).rejects.toThrow("docker error 4");
    expect(calls).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it("stops at the first success", async () => {
    const { policy, waits } = recording();
    let calls = 0;
    expect(await retry(policy, undefined, async () => (++calls < 3 ? Promise.reject(new Error("not yet")) : "found"))).toBe("found");
    expect(waits).toEqual([100, 200]);
  });

  it("does not retry a cancelled call, and a wait ends when the call is cancelled", async () => {
    const { policy, waits } = recording();
    await expect(retry(policy, undefined, () => Promise.reject(new CallAborted()))).rejects.toThrow("context canceled");
    expect(waits).toEqual([]);

    const controller = new AbortController();
    const waiting = abortableSleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(CallAborted);
    await expect(abortableSleep(1, controller.signal)).rejects.toMatchObject({ kind: "cancelled", message: "context canceled" });
    await expect(abortableSleep(1, undefined)).resolves.toBeUndefined();
  });
});
