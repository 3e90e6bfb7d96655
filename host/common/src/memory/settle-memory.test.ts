import vm from "node:vm";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { settleMemory } from "./settle-memory.js";

describe("settleMemory", () => {
  it("collects and trims on glibc Linux, returning freed memory to the system", () => {
    // Garbage that only a collection frees, held by nothing once made.
    let junk: string[] | undefined = Array.from({ length: 200_000 }, (_, i) => `garbage-${i}-${"x".repeat(i % 50)}`);
    expect(junk.length).toBe(200_000);
    junk = undefined;
    const before = process.memoryUsage().heapUsed;
    const result = settleMemory();
    expect(result.collected).toBe(true);
    // This machine runs glibc; elsewhere trimming is a no-op that reports false.
    if (process.platform === "linux" && process.report?.getReport && (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime) {
      expect(result.trimmed).toBe(true);
    }
    expect(process.memoryUsage().heapUsed).toBeLessThan(before);
    // Repeat calls reuse what they bound.
    expect(settleMemory()).toEqual(result);
  });

  it("leaves no gc global behind in later vm contexts or Worker threads", async () => {
    settleMemory();
    expect(vm.runInNewContext("typeof gc")).toBe("undefined");
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(typeof globalThis.gc)", { eval: true });
    try {
      const seen = await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(seen).toBe("undefined");
    } finally {
      await worker.terminate();
    }
  });
});
