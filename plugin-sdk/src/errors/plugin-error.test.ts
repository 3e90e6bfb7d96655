import { describe, expect, it } from "vitest";
import { Code, RpcError } from "@signet/proto";
import { PluginError, type PluginErrorKind, codeOfKind, toRpcError, withStatus, withUnaryStatus } from "./plugin-error.js";

describe("PluginError", () => {
  it("maps every kind to its gRPC code", () => {
    const expected: Record<PluginErrorKind, Code> = {
      cancelled: Code.CANCELLED,
      unknown: Code.UNKNOWN,
      "invalid-argument": Code.INVALID_ARGUMENT,
      "deadline-exceeded": Code.DEADLINE_EXCEEDED,
      "not-found": Code.NOT_FOUND,
      "already-exists": Code.ALREADY_EXISTS,
      "permission-denied": Code.PERMISSION_DENIED,
      "resource-exhausted": Code.RESOURCE_EXHAUSTED,
      "failed-precondition": Code.FAILED_PRECONDITION,
      aborted: Code.ABORTED,
      "out-of-range": Code.OUT_OF_RANGE,
      unimplemented: Code.UNIMPLEMENTED,
      internal: Code.INTERNAL,
      unavailable: Code.UNAVAILABLE,
      "data-loss": Code.DATA_LOSS,
      unauthenticated: Code.UNAUTHENTICATED,
    };
    for (const [kind, code] of Object.entries(expected) as [PluginErrorKind, Code][]) {
      const e = new PluginError(kind, `m-${kind}`);
      expect({ kind, code: e.code, codeOfKind: codeOfKind(kind) }).toEqual({ kind, code, codeOfKind: code });
      expect(toRpcError(e)).toMatchObject({ code, message: `m-${kind}` });
    }
  });

  it("static constructors give their kind", () => {
    expect(
      [
        PluginError.invalidArgument("a"),
        PluginError.permissionDenied("b"),
        PluginError.failedPrecondition("c"),
        PluginError.notFound("d"),
        PluginError.unavailable("e"),
        PluginError.internal("f"),
        PluginError.unknown("g"),
      ].map((e) => [e.kind, e.code, e.message]),
    ).toEqual([
      ["invalid-argument", Code.INVALID_ARGUMENT, "a"],
      ["permission-denied", Code.PERMISSION_DENIED, "b"],
      ["failed-precondition", Code.FAILED_PRECONDITION, "c"],
      ["not-found", Code.NOT_FOUND, "d"],
      ["unavailable", Code.UNAVAILABLE, "e"],
      ["internal", Code.INTERNAL, "f"],
      ["unknown", Code.UNKNOWN, "g"],
    ]);
  });

  it("is an Error named PluginError; subclasses stay PluginErrors", () => {
    class Aborted extends PluginError {
      constructor() {
        super("cancelled", "context canceled");
      }
    }
    const e = new Aborted();
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(PluginError);
    expect(e.name).toBe("PluginError");
    expect(toRpcError(e)).toMatchObject({ code: Code.CANCELLED, message: "context canceled" });
  });

  it("withCode passes another service's code through with our message", () => {
    const e = PluginError.withCode(Code.NOT_FOUND, "unable to get agent info: no such agent");
    expect([e.kind, e.code]).toEqual(["not-found", Code.NOT_FOUND]);
    expect(toRpcError(e)).toMatchObject({ code: Code.NOT_FOUND, message: "unable to get agent info: no such agent" });
    const odd = PluginError.withCode(42 as Code, "odd");
    expect([odd.kind, odd.code]).toEqual(["unknown", 42]);
    expect(toRpcError(odd).code).toBe(42);
  });
});

describe("toRpcError", () => {
  it("passes an RpcError through as the same object", () => {
    const e = new RpcError(Code.ALREADY_EXISTS, "taken");
    expect(toRpcError(e)).toBe(e);
  });

  it("turns any other Error into Internal with its message", () => {
    expect(toRpcError(new TypeError("boom"))).toMatchObject({ code: Code.INTERNAL, message: "boom" });
  });

  it("turns non-Error values into Internal with their text", () => {
    expect(toRpcError("plain string")).toMatchObject({ code: Code.INTERNAL, message: "plain string" });
    expect(toRpcError(7)).toMatchObject({ code: Code.INTERNAL, message: "7" });
    expect(toRpcError(undefined)).toMatchObject({ code: Code.INTERNAL, message: "undefined" });
    expect(toRpcError(null)).toBeInstanceOf(RpcError);
  });
});

describe("withStatus", () => {
  it("yields the handler's messages and passes its arguments", async () => {
    const wrapped = withStatus(async function* (a: number, b: string) {
      yield `${a}`;
      yield b;
    });
    const out: string[] = [];
    for await (const m of wrapped(1, "two")) out.push(m);
    expect(out).toEqual(["1", "two"]);
  });

  it("turns what the handler throws, after yielding, into a status", async () => {
    const wrapped = withStatus(async function* () {
      yield 1;
      throw PluginError.permissionDenied("no");
    });
    const seen: number[] = [];
    const run = async () => {
      for await (const m of wrapped()) seen.push(m);
    };
    const e = await run().catch((x: unknown) => x);
    expect(seen).toEqual([1]);
    expect(e).toBeInstanceOf(RpcError);
    expect(e).toMatchObject({ code: Code.PERMISSION_DENIED, message: "no" });
  });

  it("turns a thrown non-Error into Internal", async () => {
    // eslint-disable-next-line require-yield
    const wrapped = withStatus(async function* () {
      throw "oops";
    });
    await expect(wrapped().next()).rejects.toMatchObject({ code: Code.INTERNAL, message: "oops" });
  });
});

describe("withUnaryStatus", () => {
  it("returns the handler's answer", async () => {
    await expect(withUnaryStatus(async (x: number) => x * 2)(21)).resolves.toBe(42);
  });

  it("turns what the handler throws into a status", async () => {
    const wrapped = withUnaryStatus(async () => {
      throw PluginError.failedPrecondition("not configured");
    });
    await expect(wrapped()).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION, message: "not configured" });
    const rpc = new RpcError(Code.UNAVAILABLE, "down");
    await expect(
      withUnaryStatus(async () => {
        throw rpc;
      })(),
    ).rejects.toBe(rpc);
  });
});
