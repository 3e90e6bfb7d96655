import { describe, expect, it } from "vitest";
import { Code, RpcError } from "@signet/plugin-sdk";
import { AttestError, CallAborted, goErrorText, toRpcError } from "./errors.js";

describe("toRpcError, the one place kinds become SPIRE's codes", () => {
  it.each([
    ["internal", Code.INTERNAL],
    ["failed-precondition", Code.FAILED_PRECONDITION],
    ["permission-denied", Code.PERMISSION_DENIED],
    ["unknown", Code.UNKNOWN],
    ["invalid-argument", Code.INVALID_ARGUMENT],
  ] as const)("%s → code %i, message kept", (kind, code) => {
    expect(toRpcError(new AttestError(kind, "why"))).toMatchObject({ code, message: "why" });
  });

  it("maps a cancelled call to Cancelled, passes RpcErrors through, and makes anything else Internal", () => {
    expect(toRpcError(new CallAborted())).toMatchObject({ code: Code.CANCELLED, message: "context canceled" });
    const rpc = new RpcError(Code.UNAVAILABLE, "x");
    expect(toRpcError(rpc)).toBe(rpc);
    expect(toRpcError(new TypeError("boom"))).toMatchObject({ code: Code.INTERNAL, message: "boom" });
  });

  it("words file-system errors as Go's os package", () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/proc/1/cgroup'"), { code: "EACCES", syscall: "open", path: "/proc/1/cgroup" });
    expect(goErrorText(e)).toBe("open /proc/1/cgroup: permission denied");
    expect(goErrorText(new Error("plain"))).toBe("plain");
  });
});
