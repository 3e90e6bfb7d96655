import { describe, expect, it } from "vitest";
import { children, DerError, integer, oid, oidToString, parseOne, readElement, readInteger, readTime, sequence, Tag, time, unsignedInteger } from "./der.js";

describe("DER writer", () => {
  it("encodes integers minimally with sign padding", () => {
    expect(integer(0).toString("hex")).toBe("020100");
    expect(integer(127).toString("hex")).toBe("02017f");
    expect(integer(128).toString("hex")).toBe("02020080");
    expect(integer(256).toString("hex")).toBe("02020100");
    expect(integer(-1).toString("hex")).toBe("0201ff");
    expect(integer(-128).toString("hex")).toBe("020180");
    expect(integer(-129).toString("hex")).toBe("0202ff7f");
    expect(integer((1n << 128n) - 1n).toString("hex")).toBe(`021100${"ff".repeat(16)}`);
    expect(unsignedInteger(Buffer.from([0, 0, 0x80])).toString("hex")).toBe("02020080");
    expect(unsignedInteger(Buffer.from([0, 0, 1])).toString("hex")).toBe("020101");
  });

  it("round-trips integers through the reader", () => {
    for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 65535n, (1n << 127n) + 5n, -(1n << 100n)]) {
      expect(readInteger(parseOne(integer(v), Tag.integer, "i"), "i")).toBe(v);
    }
  });

  it("encodes OIDs and reads them back", () => {
    expect(oid("1.2.840.10045.4.3.2").toString("hex")).toBe("06082a8648ce3d040302");
    expect(oid("2.5.29.17").toString("hex")).toBe("0603551d11");
    for (const dotted of ["1.2.840.113549.1.9.14", "1.3.6.1.5.5.7.3.2", "2.999.3", "1.3.101.112"]) {
      expect(oidToString(oid(dotted).subarray(2))).toBe(dotted);
    }
    expect(oidToString(Buffer.from([0x2a, 0x80, 0x01]))).toBeUndefined();
    expect(oidToString(Buffer.from([0x2a, 0x86]))).toBeUndefined();
  });

  it("uses UTCTime through 2049 and GeneralizedTime from 2050", () => {
    expect(time(new Date("2049-12-31T23:59:59.900Z")).toString("latin1").slice(2)).toBe("491231235959Z");
    expect(time(new Date("2049-12-31T23:59:59Z"))[0]).toBe(Tag.utcTime);
    expect(time(new Date("2050-01-01T00:00:00Z"))[0]).toBe(Tag.generalizedTime);
    expect(time(new Date("2050-01-01T00:00:00Z")).toString("latin1").slice(2)).toBe("20500101000000Z");
    expect(time(new Date("1999-05-06T07:08:09Z")).toString("latin1").slice(2)).toBe("990506070809Z");
    for (const iso of ["2026-11-23T11:00:00Z", "2050-01-01T00:00:00Z", "1960-02-29T12:00:00Z"]) {
      expect(readTime(parseOne(time(new Date(iso)), time(new Date(iso))[0]!, "t"), "t").toISOString()).toBe(new Date(iso).toISOString());
    }
  });

  it("writes long lengths in minimal form", () => {
    const big = sequence(Buffer.alloc(300));
    expect(big.subarray(0, 4).toString("hex")).toBe("3082012c");
    expect(children(parseOne(big, Tag.sequence, "s"), "s", 400)).toHaveLength(150);
  });
});

describe("DER reader", () => {
  const bad: [string, string][] = [
    ["truncated", "3005020101"],
    ["indefinite length", "3080020101 0000"],
    ["non-minimal length", "30810302 0101"],
    ["length too large", "3084ffffffff"],
    ["high tag", "1f2100"],
  ];
  for (const [name, hex] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => readElement(Buffer.from(hex.replace(/ /g, ""), "hex"), 0)).toThrow(DerError);
    });
  }
  it("rejects non-minimal integers and trailing bytes", () => {
    expect(() => readInteger(parseOne(Buffer.from("02020001", "hex"), Tag.integer, "i"), "i")).toThrow(/non-minimal/);
    expect(() => parseOne(Buffer.from("02010100", "hex"), Tag.integer, "i")).toThrow(/trailing/);
  });
});
