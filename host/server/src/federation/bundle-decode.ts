/**
 * SPIRE's bundleutil.Decode, the parser its federation client runs on a
 * fetched bundle: stricter than go-spiffe's about `use` (a key without one,
 * or with one it does not know, fails the whole document) and laxer about a
 * missing `keys` member (an empty bundle). Key material is checked by the
 * same JWKS parser as everywhere else (@signet/spiffe's parseBundle).
 */
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { BundleError, parseBundle } from "@signet/spiffe";

export class BundleDecodeError extends Error {
  override readonly name = "BundleDecodeError";
}

const uses = new Set(["x509-svid", "jwt-svid", "wit-svid"]);

/** The bundle of `trustDomain` in a bundle endpoint's answer; throws BundleDecodeError. */
export function decodeFederatedBundle(trustDomain: string, body: string): Bundle {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new BundleDecodeError(`failed to decode bundle: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BundleDecodeError("failed to decode bundle: not a JSON object");
  }
  const members = doc as Record<string, unknown>;
  const keysMissing = members.keys === undefined || members.keys === null;
  const keys = keysMissing ? [] : members.keys;
  if (!Array.isArray(keys)) throw new BundleDecodeError("failed to decode bundle: keys is not an array");
  for (const member of ["spiffe_refresh_hint", "spiffe_sequence"]) {
    const v = members[member];
    if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isInteger(v))) {
      throw new BundleDecodeError(`failed to decode bundle: ${member} is not an integer`);
    }
  }
  keys.forEach((key, i) => {
    const use = typeof key === "object" && key !== null ? (key as Record<string, unknown>).use : undefined;
    if (use === undefined || use === "") throw new BundleDecodeError(`missing use for key entry ${i}`);
    if (typeof use !== "string" || !uses.has(use)) throw new BundleDecodeError(`unrecognized use ${JSON.stringify(use)} for key entry ${i}`);
    const k = key as Record<string, unknown>;
    if (use === "x509-svid") {
      const count = Array.isArray(k.x5c) ? k.x5c.length : 0;
      if (count !== 1) throw new BundleDecodeError(`expected a single certificate in x509-svid entry ${i}; got ${count}`);
    } else if (typeof k.kid !== "string" || k.kid === "") {
      throw new BundleDecodeError(`missing key ID in ${use} entry ${i}`);
    }
  });
  let bundle: Bundle;
  try {
    bundle = parseBundle(trustDomain, keysMissing ? JSON.stringify({ ...members, keys: [] }) : body);
  } catch (err) {
    if (err instanceof BundleError) throw new BundleDecodeError(`failed to decode bundle: ${err.message}`);
    throw err;
  }
  // SPIRE's int member: a negative hint is kept and then treated as "no hint".
  return { ...bundle, refreshHint: bundle.refreshHint < 0n ? 0n : bundle.refreshHint };
}
