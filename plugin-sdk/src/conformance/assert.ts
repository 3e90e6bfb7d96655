/**
 * The few assertions the checks need, framework-free. Messages say what the
 * plugin did and what a host expects, because they are what a plugin author
 * reads when a check fails.
 */
import { Code, RpcError, codeName } from "@signet/proto";

/** A plugin did something a SPIRE or Signet host would reject. */
export class ConformanceError extends Error {
  override readonly name = "ConformanceError";
}

export function fail(message: string): never {
  throw new ConformanceError(message);
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RpcError };

/** Runs an RPC and captures its result or its status, so a check can judge either. */
export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (e) {
    if (e instanceof RpcError) return { ok: false, error: e };
    throw e;
  }
}

/** The call must fail with `code` and a non-empty message; `what` names the call in the failure. */
export async function expectRpcError(call: Promise<unknown>, code: Code, what: string): Promise<RpcError> {
  const result = await outcome(call);
  if (result.ok) fail(`${what}: expected ${codeName(code)}, but the call succeeded`);
  const { error } = result;
  if (error.code !== code) {
    fail(`${what}: expected ${codeName(code)}, got ${codeName(error.code)}${error.message ? ` (${error.message})` : ""}`);
  }
  expect(error.message.trim() !== "", `${what}: failed with ${codeName(code)} as expected, but with an empty message`);
  return error;
}

/** A call that must succeed; a failure is reported with its status. */
export async function expectOk<T>(call: Promise<T>, what: string): Promise<T> {
  const result = await outcome(call);
  if (!result.ok) fail(`${what}: failed with ${describeRpcError(result.error)}`);
  return result.value;
}

export function describeRpcError(e: RpcError): string {
  return `${codeName(e.code)}${e.message ? `: ${e.message}` : ""}`;
}

export function quote(s: string): string {
  return JSON.stringify(s);
}

export { Code };
