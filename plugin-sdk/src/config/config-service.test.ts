import { Code, RpcError } from "@signet/proto";
import type { ConfigureRequest, ValidateRequest, ValidateResponse } from "@signet/proto/spire/service/common/config/v1/config";
import { describe, expect, it } from "vitest";
import { configService } from "./config-service.js";

/** A plugin whose parse refuses "bad" (one problem) and "worse" (two), and whose apply records what it got. */
function plugin() {
  const applied: string[] = [];
  const reg = configService<string>({
    parse(text) {
      if (text === "bad") throw new Error("colour: must be red or blue");
      if (text === "worse") throw new AggregateError([new Error("colour is required"), new Error("size must be positive")], "two problems");
      return text;
    },
    apply(config, core) {
      applied.push(`${core.trustDomain}:${config}`);
    },
  });
  const impl = reg.asyncImplementation as {
    configure(r: ConfigureRequest): Promise<object>;
    validate(r: ValidateRequest): Promise<ValidateResponse>;
  };
  return { impl, applied };
}

const core = { trustDomain: "example.org" };

describe("configService", () => {
  it("Validate runs parse and never apply; Configure runs both", async () => {
    const { impl, applied } = plugin();
    expect(await impl.validate({ coreConfiguration: core, hclConfiguration: "red" })).toEqual({ valid: true, notes: [] });
    expect(applied).toEqual([]);
    await impl.configure({ coreConfiguration: core, hclConfiguration: "red" });
    expect(applied).toEqual(["example.org:red"]);
  });

  it("Validate answers problems as notes, one per inner error of an AggregateError; Configure as InvalidArgument", async () => {
    const { impl, applied } = plugin();
    expect(await impl.validate({ coreConfiguration: core, hclConfiguration: "bad" })).toEqual({ valid: false, notes: ["colour: must be red or blue"] });
    expect(await impl.validate({ coreConfiguration: core, hclConfiguration: "worse" })).toEqual({
      valid: false,
      notes: ["colour is required", "size must be positive"],
    });
    const err = await impl.configure({ coreConfiguration: core, hclConfiguration: "worse" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: Code.INVALID_ARGUMENT, message: "colour is required; size must be positive" });
    expect(applied).toEqual([]);
  });

  it("checks the core configuration as SPIRE's pluginconf does, as a note for Validate", async () => {
    const { impl } = plugin();
    expect(await impl.validate({ coreConfiguration: undefined, hclConfiguration: "red" })).toEqual({ valid: false, notes: ["server core configuration is required"] });
    expect(await impl.validate({ coreConfiguration: { trustDomain: "" }, hclConfiguration: "red" })).toEqual({
      valid: false,
      notes: ["server core configuration must contain trust_domain"],
    });
    const malformed = await impl.validate({ coreConfiguration: { trustDomain: "Bad Domain!" }, hclConfiguration: "red" });
    expect(malformed.valid).toBe(false);
    expect(malformed.notes).toHaveLength(1);
    expect(malformed.notes[0]).toMatch(/^server core configuration trust_domain is malformed: ./);
    await expect(impl.configure({ coreConfiguration: { trustDomain: "" }, hclConfiguration: "red" })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "server core configuration must contain trust_domain",
    });
  });
});
