import { describe, expect, it } from "vitest";
import { FlagParseError, FlagSet, formatGoDuration } from "./flags.js";

function set() {
  const fs = new FlagSet("entry create");
  return {
    fs,
    spiffeID: fs.string("spiffeID", "", "The SPIFFE ID that this record represents"),
    ttl: fs.int("x509SVIDTTL", 0, "TTL", 64),
    admin: fs.bool("admin", false, "Admin"),
    selectors: fs.strings("selector", "A selector"),
    expiredFor: fs.duration("expiredFor", 720n * 3_600_000_000_000n, "Expired for"),
  };
}

describe("Go flag parsing", () => {
  it("accepts -flag value, -flag=value and --flag alike, and repeats", () => {
    const s = set();
    s.fs.parse(["-spiffeID", "spiffe://a/b", "--x509SVIDTTL=60", "-selector", "unix:uid:0", "--selector=k8s:ns:x", "-admin"]);
    expect(s.spiffeID.value).toBe("spiffe://a/b");
    expect(s.ttl.value).toBe(60);
    expect(s.selectors.value).toEqual(["unix:uid:0", "k8s:ns:x"]);
    expect(s.admin.value).toBe(true);
    expect(s.spiffeID.set).toBe(true);
  });

  it("booleans take =false and never consume the next argument", () => {
    const s = set();
    s.fs.parse(["-admin=false", "-spiffeID", "x"]);
    expect(s.admin.value).toBe(false);
    const t = set();
    t.fs.parse(["-admin", "false"]);
    expect(t.admin.value).toBe(true);
    expect(t.fs.args()).toEqual(["false"]);
  });

  it("stops at the first non-flag and after --", () => {
    const s = set();
    s.fs.parse(["-admin", "rest", "-spiffeID", "x"]);
    expect(s.fs.args()).toEqual(["rest", "-spiffeID", "x"]);
    expect(s.spiffeID.value).toBe("");
    const t = set();
    t.fs.parse(["--", "-admin"]);
    expect(t.admin.value).toBe(false);
  });

  it("rejects with Go's wording", () => {
    const msg = (args: string[]) => {
      try {
        set().fs.parse(args);
        return "";
      } catch (e) {
        return (e as FlagParseError).message;
      }
    };
    expect(msg(["-nope"])).toBe("flag provided but not defined: -nope");
    expect(msg(["-x509SVIDTTL"])).toBe("flag needs an argument: -x509SVIDTTL");
    expect(msg(["-x509SVIDTTL", "ten"])).toBe('invalid value "ten" for flag -x509SVIDTTL: parse error');
    expect(msg(["-admin=maybe"])).toBe('invalid boolean value "maybe" for -admin: parse error');
    expect(msg(["-expiredFor", "3 days"])).toBe('invalid value "3 days" for flag -expiredFor: parse error');
    expect(msg(["---x"])).toBe("bad flag syntax: ---x");
  });

  it("parses Go integers and durations", () => {
    const s = set();
    s.fs.parse(["-x509SVIDTTL", "0x10", "-expiredFor", "1h30m"]);
    expect(s.ttl.value).toBe(16);
    expect(s.expiredFor.value).toBe(5_400_000_000_000n);
    const fs32 = new FlagSet("t");
    fs32.int("n", 0, "n", 32);
    expect(() => fs32.parse(["-n", "3000000000"])).toThrow('invalid value "3000000000" for flag -n: value out of range');
  });

  it("prints usage as Go's PrintDefaults", () => {
    expect(set().fs.usage()).toBe(
      [
        "Usage of entry create:",
        "  -admin",
        "    \tAdmin",
        "  -expiredFor duration",
        "    \tExpired for (default 720h0m0s)",
        "  -selector value",
        "    \tA selector",
        "  -spiffeID string",
        "    \tThe SPIFFE ID that this record represents",
        "  -x509SVIDTTL int",
        "    \tTTL",
        "",
      ].join("\n"),
    );
  });

  it("formats durations as time.Duration.String", () => {
    expect(formatGoDuration(0n)).toBe("0s");
    expect(formatGoDuration(90n * 1_000_000_000n)).toBe("1m30s");
    expect(formatGoDuration(1_500_000n)).toBe("1.5ms");
    expect(formatGoDuration(3_600_000_000_000n)).toBe("1h0m0s");
  });

  it("shows -output without a default, as Go does for SPIRE's formatter flag", async () => {
    const { outputFlag } = await import("./print/printer.js");
    const fs = new FlagSet("x");
    const out = outputFlag(fs);
    expect(fs.usage()).toBe("Usage of x:\n  -output value\n    \tDesired output format (pretty, json); default: pretty.\n");
    fs.parse(["-output", "JSON"]);
    expect(out.value).toBe("json");
    const twice = new FlagSet("z");
    outputFlag(twice);
    expect(() => twice.parse(["-output", "json", "-output", "pretty"])).toThrow(
      'invalid value "pretty" for flag -output: the output format has already been set to "json"',
    );
    const bad = new FlagSet("w");
    outputFlag(bad);
    expect(() => bad.parse(["-output", "xml"])).toThrow('invalid value "xml" for flag -output: bad formatter flag: unknown format option: "xml"');
  });
});
