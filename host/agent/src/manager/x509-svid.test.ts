import { describe, expect, it } from "vitest";
import { compactSvidBytes } from "./x509-svid.js";

describe("compactSvidBytes", () => {
  it("copies key and chain into one allocation of exactly their size, off the shared pool", () => {
    const keyDer = Buffer.from("30818702010030130607", "hex");
    const chain = [Buffer.from("leaf certificate"), Buffer.from("intermediate")];
    const out = compactSvidBytes(keyDer, chain);

    expect(out.keyDer.equals(keyDer)).toBe(true);
    expect(out.chain.map((c) => c.toString())).toEqual(["leaf certificate", "intermediate"]);
    const block = out.keyDer.buffer;
    expect(out.chain.every((c) => c.buffer === block)).toBe(true);
    expect(block.byteLength).toBe(keyDer.length + chain[0]!.length + chain[1]!.length);
    expect(block).not.toBe(keyDer.buffer);
    // Later writes to the inputs (pool reuse) do not reach the cached copy.
    chain[0]!.fill(0);
    expect(out.chain[0]!.toString()).toBe("leaf certificate");
  });
});
