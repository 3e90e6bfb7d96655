/** JWT-SVIDs as the Workload API hands them to a workload (go-spiffe's jwtsvid.SVID). */
import type { SpiffeId } from "../id/index.js";
import { parseJwtSvidInsecure, validateJwtSvidClaims } from "../jwt/index.js";

export interface JwtSvid {
  readonly spiffeId: SpiffeId;
  /** The compact JWS, to send as `Authorization: Bearer <token>`. */
  readonly token: string;
  readonly audience: readonly string[];
  readonly expiry: Date;
  /** Operator label from the Workload API ("" when none). */
  readonly hint: string;
  /** Every claim of the token, as sent. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * go-spiffe's jwtsvid.ParseInsecure: structure, alg, typ, kid, sub, exp, then times and an
 * `aud` naming one of `audience`; no signature check (the token came from the agent).
 */
export function parseJwtSvidFromWorkloadApi(token: string, audience: readonly string[], hint = ""): JwtSvid {
  const parsed = validateJwtSvidClaims(parseJwtSvidInsecure(token), audience);
  return {
    spiffeId: parsed.spiffeId,
    token,
    audience: parsed.audience,
    expiry: new Date(parsed.expiresAt * 1000),
    hint,
    claims: parsed.claims,
  };
}
