import { ConfigError, decode, int, object, parseConfigText, str } from "@signet/config";
import { describe, expect, it } from "vitest";
import { applyFlagOverrides } from "./flags.js";

const schema = object({
  server: object({ trust_domain: str(), bind_port: int().default(8081), log_level: str().default("INFO"), data_dir: str().optional() }),
});

describe("applyFlagOverrides", () => {
  it("lets flags win over file values and leaves the rest", async () => {
    const tree = await parseConfigText('server {\n  trust_domain = "file.org"\n  bind_port = 1\n  log_level = "WARN"\n}');
    const merged = applyFlagOverrides(tree, "server", { trust_domain: "flag.org", bind_port: 2, data_dir: undefined });
    expect(decode(schema, merged).server).toEqual({ trust_domain: "flag.org", bind_port: 2, log_level: "WARN" });
    expect(tree).toEqual({ server: [{ trust_domain: "file.org", bind_port: 1, log_level: "WARN" }] }); // not mutated
  });

  it("supplies a required key the file lacks, and a section the file lacks", async () => {
    expect(decode(schema, applyFlagOverrides(await parseConfigText("server {}"), "server", { trust_domain: "x" })).server.trust_domain).toBe("x");
    expect(decode(schema, applyFlagOverrides({}, "server", { trust_domain: "y" })).server).toEqual({ trust_domain: "y", bind_port: 8081, log_level: "INFO" });
  });

  it("returns the tree unchanged when no flag was given", async () => {
    const tree = await parseConfigText('server { trust_domain = "a" }');
    expect(applyFlagOverrides(tree, "server", { trust_domain: undefined })).toBe(tree);
  });

  it("matches section and keys case-insensitively, and works across repeated blocks", async () => {
    const tree = await parseConfigText('Server { Trust_Domain = "a" }\nserver { bind_port = 5 }');
    const merged = applyFlagOverrides(tree, "server", { trust_domain: "b", bind_port: 6 });
    expect(decode(schema, merged).server).toEqual({ trust_domain: "b", bind_port: 6, log_level: "INFO" });
  });

  it("runs flag values through the schema like file values", async () => {
    const merged = applyFlagOverrides({}, "server", { trust_domain: "x", bind_port: "eighty" });
    expect(() => decode(schema, merged)).toThrow('server.bind_port: expected an integer, got "eighty"');
  });

  it("refuses a section that is not a block", () => {
    expect(() => applyFlagOverrides({ server: "x" }, "server", { trust_domain: "y" })).toThrow(ConfigError);
  });
});
