/** Argument parsing shared by commands, with SPIRE's error wording. */
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import type { Selector } from "@signet/proto/spire/api/types/selector";
import { SelectorMatch_MatchBehavior } from "@signet/proto/spire/api/types/selector";
import { FederatesWithMatch_MatchBehavior } from "@signet/proto/spire/api/types/federateswith";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";
import { CliError, goQuote } from "@signet/host-common";

/** spiffeid.FromString → proto; the error is go-spiffe's bare reason, as SPIRE prints it. */
export function idToProto(id: string): SPIFFEID {
  try {
    const parsed = SpiffeId.parse(id);
    return { trustDomain: parsed.trustDomain.name, path: parsed.path };
  } catch (e) {
    throw new CliError(e instanceof SpiffeIdError ? e.reason : String(e));
  }
}

export function trustDomainName(text: string): string {
  try {
    return TrustDomain.parse(text).name;
  } catch (e) {
    throw new CliError(e instanceof TrustDomainError ? e.reason : String(e));
  }
}

/** util.ParseSelector: split at the first ':'. */
export function parseSelector(text: string): Selector {
  const i = text.indexOf(":");
  if (i < 0) throw new CliError(`selector ${goQuote(text)} must be formatted as type:value`);
  return { type: text.slice(0, i), value: text.slice(i + 1) };
}

const matches = { exact: 0, subset: 1, superset: 2, any: 3 } as const;

export function selectorMatch(text: string, unknownMessage?: string): SelectorMatch_MatchBehavior {
  const m = (matches as Record<string, number>)[text];
  if (m === undefined) throw new CliError(unknownMessage ?? `match behavior ${goQuote(text)} unknown`);
  return m as SelectorMatch_MatchBehavior;
}

export function federatesWithMatch(text: string): FederatesWithMatch_MatchBehavior {
  const m = (matches as Record<string, number>)[text];
  if (m === undefined) throw new CliError(`match behavior ${goQuote(text)} unknown`);
  return m as FederatesWithMatch_MatchBehavior;
}

/** util.CheckedCast[int32] failure wording. */
export function toInt32(n: number, what: string): number {
  if (n > 2147483647 || n < -2147483648) throw new CliError(`invalid value for ${what}: overflow: ${n} does not fit in int32`);
  return n;
}

/** SPIRE's ttlToSeconds: round a duration up to whole seconds, as int32. */
export function durationToSeconds(nanos: bigint): number {
  const secs = (nanos + 999_999_999n) / 1_000_000_000n;
  if (secs > 2147483647n || secs < -2147483648n) throw new CliError(`invalid value for TTL: overflow: ${secs} does not fit in int32`);
  return Number(secs);
}

/** gRPC status names for `(code: X, ...)` lines (codes.Code.String()). */
export function codeString(code: number): string {
  const names = [
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable",
    "DataLoss", "Unauthenticated",
  ];
  return names[code] ?? `Code(${code})`;
}

/** The `exp` claim of a compact JWS, read without verification (only to warn about capped lifetimes), or why not. */
export function jwtExpiry(token: string): number | string {
  const parts = token.split(".");
  if (parts.length !== 3) return "go-jose/go-jose: compact JWS format must have three parts";
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { exp?: unknown };
    if (typeof claims.exp !== "number") return "no expiry claim";
    return claims.exp;
  } catch (e) {
    return (e as Error).message;
  }
}
