import { describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError } from "./errors.js";
import type { ConfigSource } from "./locate.js";
import { parseConfigText } from "./parse.js";
import type { UnknownKey } from "./decode.js";
import { decode } from "./decode.js";
import { bool, custom, duration, int, list, map, num, object, oneOf, raw, str } from "./schema.js";

async function load(text: string, filename = "server.conf") {
  const source: ConfigSource = { filename, text };
  return { tree: await parseConfigText(text, { filename }), source };
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("no error thrown");
}

const serverSchema = object({
  server: object({
    trust_domain: str(),
    bind_port: int({ min: 0, max: 65535 }).default(8081),
    ca_ttl: duration().default(24 * 3600_000),
    log_level: oneOf(["DEBUG", "INFO", "WARN", "ERROR"], { ignoreCase: true }).default("INFO"),
    audit_log_enabled: bool().default(false),
    admin_ids: list(str()).default([]),
    ca_subject: object({ country: list(str()).optional(), organization: list(str()).optional(), common_name: str().optional() }).optional(),
    federation: object({
      federates_with: map(object({ bundle_endpoint_url: str(), bundle_endpoint_profile: raw() })).default({}),
    }).optional(),
  }),
  plugins: raw().optional(),
});

describe("decode", () => {
  it("decodes a typed value with defaults", async () => {
    const { tree, source } = await load(`
      server {
        trust_domain = "example.org"
        ca_ttl = "72h"
        log_level = "debug"
        ca_subject { country = ["US"] }
        federation {
          federates_with "td2.org" {
            bundle_endpoint_url = "https://td2.org:8443"
            bundle_endpoint_profile "https_spiffe" { endpoint_spiffe_id = "spiffe://td2.org/spire/server" }
          }
        }
      }
    `);
    const config = decode(serverSchema, tree, { source });
    expect(config.server).toEqual({
      trust_domain: "example.org",
      bind_port: 8081,
      ca_ttl: 72 * 3600_000,
      log_level: "DEBUG",
      audit_log_enabled: false,
      admin_ids: [],
      ca_subject: { country: ["US"] },
      federation: {
        federates_with: {
          "td2.org": {
            bundle_endpoint_url: "https://td2.org:8443",
            bundle_endpoint_profile: [{ https_spiffe: [{ endpoint_spiffe_id: "spiffe://td2.org/spire/server" }] }],
          },
        },
      },
    });
    expect(config.plugins).toBeUndefined();
    expect("plugins" in config).toBe(false);
  });

  it("infers the decoded type from the schema", () => {
    const schema = object({ a: str(), b: int().optional(), c: duration().default(0), d: oneOf(["x", "y"]), e: map(list(bool())) });
    type Out = ReturnType<typeof decode<typeof schema>>;
    expectTypeOf<Out>().toEqualTypeOf<{
      readonly a: string;
      readonly b?: number;
      readonly c: number;
      readonly d: "x" | "y";
      readonly e: Readonly<Record<string, boolean[]>>;
    }>();
  });

  it("names the full key path and the line in errors", async () => {
    const { tree, source } = await load('server {\n  trust_domain = "example.org"\n  ca_ttl = "1x"\n}\n');
    const error = errorOf(() => decode(serverSchema, tree, { source }));
    expect(error.message).toBe('server.conf:3: server.ca_ttl: invalid duration "1x": unknown unit "x"');
    expect(error.path).toBe("server.ca_ttl");
    expect(error.line).toBe(3);
  });

  it("omits the line when the key is written on several lines", async () => {
    const { tree, source } = await load('server {\n  trust_domain = "a"\n}\nother {\n  trust_domain = 1\n}\n');
    const schema = object({ server: object({ trust_domain: str() }), other: object({ trust_domain: list(str()) }) });
    const error = errorOf(() => decode(schema, tree, { source }));
    expect(error.message).toBe("server.conf:5: other.trust_domain: expected a list, got a number");
    const { tree: tree2, source: source2 } = await load('a { x = "1" }\nb { x = "2" }\nc { x = ["3"] }\nd { x = ["4"] }');
    const s2 = object({ a: raw(), b: raw(), c: object({ x: str() }), d: raw() });
    // "x" starts lines 1-4; the scanner still finds the one inside c.
    expect(errorOf(() => decode(s2, tree2, { source: source2 })).line).toBe(3);
  });

  it("prefixes paths with `at` and labels map keys the way HCL writes them", async () => {
    const { tree, source } = await load('plugins {\n  KeyManager "disk" {\n    plugin_data {\n      keys_path = ["a"]\n    }\n  }\n}\n');
    const pluginData = (tree.plugins as never as [{ KeyManager: [{ disk: [{ plugin_data: unknown }] }] }])[0].KeyManager[0].disk[0].plugin_data;
    const error = errorOf(() =>
      decode(object({ keys_path: str() }), pluginData, { at: ["plugins", "KeyManager", { label: "disk" }, "plugin_data"], source }),
    );
    expect(error.message).toBe('server.conf:4: plugins.KeyManager "disk".plugin_data.keys_path: expected a string, got a list');
  });

  it("reports a missing required key", async () => {
    const { tree, source } = await load("server {\n  bind_port = 1\n}\n");
    expect(errorOf(() => decode(serverSchema, tree, { source })).message).toBe("server.conf: server.trust_domain: required but not set");
    // an absent block is an empty one: its required keys are reported
    expect(errorOf(() => decode(serverSchema, {}, {})).message).toBe("server.trust_domain: required but not set");
  });

  describe("unknown keys", () => {
    const text = 'server {\n  trust_domian = "example.org"\n  trust_domain = "x"\n  colour = 1\n}\nextra = true\n';

    it("throws one error naming all of them, after decoding, by default", async () => {
      const { tree, source } = await load(text);
      const error = errorOf(() => decode(serverSchema, tree, { source }));
      expect(error.message).toBe("server.conf: unknown keys: server.trust_domian (line 2), server.colour (line 4), extra (line 6)");
    });

    it("names a single one with its line and a suggestion", async () => {
      const { tree, source } = await load('server {\n  trust_domain = "x"\n  bind_prot = 1\n}\n');
      const error = errorOf(() => decode(serverSchema, tree, { source }));
      expect(error.message).toBe('server.conf:3: server.bind_prot: unknown key (did you mean "bind_port"?)');
    });

    it("hands them to a callback instead when asked (to log warnings)", async () => {
      const { tree, source } = await load(text);
      const seen: UnknownKey[] = [];
      const config = decode(serverSchema, tree, { source, unknownKeys: (k) => seen.push(k) });
      expect(config.server.trust_domain).toBe("x");
      expect(seen.map((k) => k.message)).toEqual([
        'server.conf:2: server.trust_domian: unknown key (did you mean "trust_domain"?)',
        "server.conf:4: server.colour: unknown key",
        "server.conf:6: extra: unknown key",
      ]);
    });

    it("can be ignored, per call or per block", async () => {
      const { tree } = await load(text);
      expect(decode(serverSchema, tree, { unknownKeys: "ignore" }).server.trust_domain).toBe("x");
      const lax = object({ server: object({ trust_domain: str() }, { allowUnknownKeys: true }) }, { allowUnknownKeys: true });
      expect(decode(lax, tree).server.trust_domain).toBe("x");
    });

    it("are reported inside list entries and map values", async () => {
      const { tree, source } = await load('telemetry {\n  DogStatsd = [{ address = "a", port = 1 }]\n}\nfed "td" {\n  url = "u"\n  nope = 1\n}\n');
      const schema = object({ telemetry: object({ DogStatsd: list(object({ address: str() })) }), fed: map(object({ url: str() })) });
      const error = errorOf(() => decode(schema, tree, { source }));
      expect(error.message).toBe('server.conf: unknown keys: telemetry.DogStatsd[0].port (line 2), fed "td".nope (line 6)');
    });
  });

  describe("blocks", () => {
    it("unwraps hcl v1's one-element block lists and accepts plain objects", () => {
      const schema = object({ a: object({ b: int() }) });
      expect(decode(schema, { a: [{ b: 1 }] })).toEqual({ a: { b: 1 } });
      expect(decode(schema, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    });

    it("merges repeated blocks as SPIRE does, and refuses a key set in two of them", async () => {
      const schema = object({ server: object({ trust_domain: str(), bind_port: int().optional(), admin_ids: list(str()).default([]) }) });
      const merged = await load('server { trust_domain = "x" }\nserver {\n  bind_port = 1\n  admin_ids = ["a"]\n}\nserver { admin_ids = ["b"] }');
      expect(decode(schema, merged.tree, { source: merged.source }).server).toEqual({ trust_domain: "x", bind_port: 1, admin_ids: ["a", "b"] });

      const twice = await load('server {\n  trust_domain = "x"\n}\nserver {\n  trust_domain = "y"\n}\n');
      const error = errorOf(() => decode(schema, twice.tree, { source: twice.source }));
      expect(error.message).toBe("server.conf: server.trust_domain: set more than once (lines 2, 5)");
    });

    it("refuses a value where a block is expected", () => {
      const schema = object({ ca_subject: object({ country: list(str()) }) });
      expect(errorOf(() => decode(schema, { ca_subject: "US" })).message).toBe("ca_subject: expected a block, got a string");
      expect(errorOf(() => decode(schema, { ca_subject: [1] })).message).toBe("ca_subject: expected a block, got a list");
    });

    it("matches keys case-insensitively, as hcl v1 does, exact spelling first", () => {
      const schema = object({ Prometheus: object({ port: int() }).optional(), trust_domain: str() });
      expect(decode(schema, { prometheus: [{ PORT: 9988 }], Trust_Domain: "x" })).toEqual({ Prometheus: { port: 9988 }, trust_domain: "x" });
    });

    it("decodes maps from labelled blocks, merging repeats", async () => {
      const { tree } = await load('federates_with "a.org" { url = "1" }\nfederates_with "b.org" { url = "2" }\n');
      const schema = object({ federates_with: map(object({ url: str() })) });
      expect(decode(schema, tree)).toEqual({ federates_with: { "a.org": { url: "1" }, "b.org": { url: "2" } } });
      expect(decode(object({ labels: map(str()) }), { labels: [{ a: "1" }, { b: "2" }] })).toEqual({ labels: { a: "1", b: "2" } });
      expect(errorOf(() => decode(object({ labels: map(str()) }), { labels: [{ a: "1" }, { a: "2" }] })).message).toBe(
        'labels "a": set more than once',
      );
    });
  });

  describe("scalars, read as hcl v1 reads them into Go fields", () => {
    const decodeOne = <T>(schema: Parameters<typeof object>[0][string], value: unknown) =>
      decode(object({ v: schema }), { v: value }).v as T;

    it("str accepts numbers and booleans as their text, not lists or blocks", () => {
      expect(decodeOne(str(), "x")).toBe("x");
      expect(decodeOne(str(), 8080)).toBe("8080");
      expect(decodeOne(str(), true)).toBe("true");
      expect(errorOf(() => decodeOne(str(), ["x"])).message).toBe("v: expected a string, got a list");
      expect(errorOf(() => decodeOne(str(), [{}])).message).toBe("v: expected a string, got a block");
    });

    it("int accepts integers and Go integer strings (SPIRE's agent.conf quotes server_port)", () => {
      expect(decodeOne(int(), 8081)).toBe(8081);
      expect(decodeOne(int(), "8081")).toBe(8081);
      expect(decodeOne(int(), "0x1F")).toBe(31);
      expect(errorOf(() => decodeOne(int(), 1.5)).message).toBe("v: expected an integer, got 1.5");
      expect(errorOf(() => decodeOne(int(), "80a")).message).toBe('v: expected an integer, got "80a"');
      expect(errorOf(() => decodeOne(int(), true)).message).toBe("v: expected an integer, got a boolean");
      expect(errorOf(() => decodeOne(int({ max: 65535 }), 70000)).message).toBe("v: must be at most 65535, got 70000");
      expect(errorOf(() => decodeOne(int({ min: 1 }), 0)).message).toBe("v: must be at least 1, got 0");
    });

    it("num accepts numbers only", () => {
      expect(decodeOne(num(), 0.5)).toBe(0.5);
      expect(errorOf(() => decodeOne(num(), "0.5")).message).toBe('v: expected a number, got "0.5"');
    });

    it("bool accepts true/false, 1/0 and their strings in any case", () => {
      for (const yes of [true, 1, "true", "TRUE", "1"]) expect(decodeOne(bool(), yes)).toBe(true);
      for (const no of [false, 0, "false", "False", "0"]) expect(decodeOne(bool(), no)).toBe(false);
      expect(errorOf(() => decodeOne(bool(), "yes")).message).toBe('v: expected a boolean, got "yes"');
    });

    it("duration parses Go durations to milliseconds and treats an empty string as unset", () => {
      expect(decodeOne(duration(), "1h30m")).toBe(5_400_000);
      expect(decodeOne(duration(), 0)).toBe(0);
      expect(decode(object({ v: duration().default(5) }), { v: "" }).v).toBe(5);
      expect(decode(object({ v: duration().optional() }), { v: "" })).toEqual({});
      expect(errorOf(() => decodeOne(duration(), "10")).message).toBe('v: invalid duration "10": missing unit');
      expect(errorOf(() => decodeOne(duration(), "-")).message).toBe('v: invalid duration "-"');
      expect(errorOf(() => decodeOne(duration(), ["1s"])).message).toBe("v: expected a duration, got a list");
    });

    it("oneOf names the choices", () => {
      expect(decodeOne(oneOf(["text", "json"]), "json")).toBe("json");
      expect(errorOf(() => decodeOne(oneOf(["text", "json"]), "JSON")).message).toBe('v: expected one of "text", "json", got "JSON"');
      expect(decodeOne(oneOf(["text", "json"], { ignoreCase: true }), "JSON")).toBe("json");
    });

    it("list accepts one block as a list of one, not a scalar", () => {
      expect(decodeOne(list(object({ address: str() })), { address: "a" })).toEqual([{ address: "a" }]);
      expect(errorOf(() => decodeOne(list(str()), "a")).message).toBe("v: expected a list, got a string");
      expect(errorOf(() => decodeOne(list(int()), [1, "x"])).message).toBe('v[1]: expected an integer, got "x"');
    });

    it("custom turns a thrown Error into a ConfigError at the key", () => {
      const spiffeId = custom("a SPIFFE ID", (v) => {
        if (typeof v !== "string" || !v.startsWith("spiffe://")) throw new Error(`invalid SPIFFE ID ${JSON.stringify(v)}`);
        return v;
      });
      expect(decodeOne(spiffeId, "spiffe://a/b")).toBe("spiffe://a/b");
      expect(errorOf(() => decodeOne(spiffeId, "a/b")).message).toBe('v: invalid SPIFFE ID "a/b"');
    });
  });
});
