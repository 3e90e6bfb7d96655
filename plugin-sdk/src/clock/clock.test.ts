import { describe, expect, it } from "vitest";
import { systemClock } from "./clock.js";

describe("systemClock", () => {
  it("tells the system's time", () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("sleep resolves once the time has passed", async () => {
    await expect(systemClock.sleep(1, new AbortController().signal)).resolves.toBeUndefined();
  });

  it("sleep resolves at once, without a timer, when the signal has already aborted", async () => {
    const stop = new AbortController();
    stop.abort();
    // A day-long sleep that resolves proves the abort short-cut (the test would time out otherwise).
    await expect(systemClock.sleep(86_400_000, stop.signal)).resolves.toBeUndefined();
  });

  it("sleep resolves (never rejects) when the signal aborts while it sleeps, and lets go of the listener", async () => {
    const stop = new AbortController();
    let listeners = 0;
    const add = stop.signal.addEventListener.bind(stop.signal);
    const remove = stop.signal.removeEventListener.bind(stop.signal);
    stop.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    stop.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    const sleeping = systemClock.sleep(86_400_000, stop.signal);
    expect(listeners).toBe(1);
    stop.abort();
    await expect(sleeping).resolves.toBeUndefined();
    expect(listeners).toBe(0);
  });
});
