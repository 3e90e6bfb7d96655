import { describe, expect, it } from "vitest";
import { Code, PluginError, toRpcError } from "@signet/plugin-sdk";
import { CallAborted, goQuote, isNotExist } from "./errors.js";

describe("the attestor's errors", () => {
  it("a cancelled call is a PluginError that leaves as Cancelled in Go's words", () => {
    const e = new CallAborted();
    expect(e).toBeInstanceOf(PluginError);
    expect(toRpcError(e)).toMatchObject({ code: Code.CANCELLED, message: "context canceled" });
  });

  it("tells a missing file from other failures", () => {
    expect(isNotExist(Object.assign(new Error("ENOENT"), { code: "ENOENT" }))).toBe(true);
    expect(isNotExist(Object.assign(new Error("EACCES"), { code: "EACCES" }))).toBe(false);
    expect(isNotExist(undefined)).toBe(false);
  });

  it("quotes as Go's %q does for ASCII text", () => {
    expect(goQuote('a "b"\\c')).toBe('"a \\"b\\"\\\\c"');
  });
});
