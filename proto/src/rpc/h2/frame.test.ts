import { describe, expect, it } from "vitest";
import { FrameError, MessageReader, frameMessage } from "./frame.js";

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("MessageReader", () => {
  it("gives back every message whatever the chunk boundaries (seeded random splits)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = rng(seed);
      const messages = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => Buffer.alloc(Math.floor(rand() * (rand() < 0.2 ? 70_000 : 40)), i + seed));
      const stream = Buffer.concat(messages.map(frameMessage));
      const reader = new MessageReader();
      const got: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = Math.max(1, Math.floor(rand() * (rand() < 0.5 ? 8 : 20_000)));
        got.push(...reader.push(stream.subarray(at, at + size)));
        at += size;
      }
      expect(got.map((b) => b.toString("hex")), `seed ${seed}`).toEqual(messages.map((b) => b.toString("hex")));
      expect(reader.partialBytes).toBe(0);
    }
  });

  it("reports an unfinished message", () => {
    const reader = new MessageReader();
    expect(reader.push(frameMessage(Buffer.from("abc")).subarray(0, 6))).toEqual([]);
    expect(reader.partialBytes).toBe(6);
  });

  it("refuses compressed messages, unknown flags and messages over the limit", () => {
    const compressed = frameMessage(Buffer.from("x"));
    compressed[0] = 1;
    expect(() => new MessageReader().push(compressed)).toThrow(/compressed/);
    compressed[0] = 7;
    expect(() => new MessageReader().push(compressed)).toThrow(FrameError);
    expect(() => new MessageReader(2).push(frameMessage(Buffer.from("abc")))).toThrow(/larger than max \(3 vs\. 2\)/);
    // also when the prefix arrives in pieces
    const reader = new MessageReader(2);
    reader.push(frameMessage(Buffer.from("abc")).subarray(0, 2));
    expect(() => reader.push(frameMessage(Buffer.from("abc")).subarray(2))).toThrow(/larger than max/);
  });

  it("does not keep the chunk alive through a message that shares it", () => {
    // Big enough that neither comes from Node's shared pool.
    const one = Buffer.alloc(10_000, 1);
    const two = Buffer.alloc(10_000, 2);
    const chunk = Buffer.concat([frameMessage(one), frameMessage(two)]);
    const [a, b] = new MessageReader().push(chunk);
    expect(a!.equals(one) && b!.equals(two)).toBe(true);
    expect(a!.buffer).not.toBe(chunk.buffer);
    expect(b!.buffer).not.toBe(chunk.buffer);
  });
});
