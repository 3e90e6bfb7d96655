/**
 * JWT-SVIDs (JWS compact, SPIFFE JWT-SVID profile): building the signing
 * input as SPIRE's server does (go-jose: header {alg,kid,typ}, claims in key
 * order), parsing with the checks go-spiffe makes, and verifying.
 */
import { type KeyObject, constants, verify as cryptoVerify } from "node:crypto";
import { SpiffeId } from "../id/index.js";
import {
  type JwtSigningAlgorithm,
  type JwtSvidAlgorithm,
  JwtSvidError,
  base64url,
  decodeBase64url,
  ecdsaCoordinateLength,
  hashOfJwtAlgorithm,
  jwtSvidAlgorithms,
} from "./jws.js";

export interface JwtSvidHeader {
  readonly alg: JwtSvidAlgorithm;
  readonly kid: string;
  readonly typ?: string;
}

/** The claims SPIRE issues; `aud` is always an array on the way out. */
export interface JwtSvidClaims {
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat?: number;
  readonly iss?: string;
  readonly jti?: string;
}

/** "<base64url header>.<base64url claims>", the bytes the issuer signs. */
export function jwtSvidSigningInput(header: { alg: JwtSigningAlgorithm; kid: string }, claims: JwtSvidClaims): string {
  // go-jose writes both objects from maps, so keys come out sorted.
  const h = { alg: header.alg, kid: header.kid, typ: "JWT" };
  const c: Record<string, unknown> = { aud: claims.aud, exp: claims.exp };
  if (claims.iat !== undefined) c.iat = claims.iat;
  if (claims.iss !== undefined) c.iss = claims.iss;
  if (claims.jti !== undefined) c.jti = claims.jti;
  c.sub = claims.sub;
  return `${base64url(JSON.stringify(h))}.${base64url(JSON.stringify(c))}`;
}

/** The compact token from a signing input and a JWS-encoded signature (see joseSignature). */
export function jwtSvidToken(signingInput: string, joseSignatureBytes: Buffer): string {
  return `${signingInput}.${base64url(joseSignatureBytes)}`;
}

export interface ParsedJwtSvid {
  readonly token: string;
  readonly header: JwtSvidHeader;
  /** Every claim, as sent. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly spiffeId: SpiffeId;
  /** `aud` as a list, whether sent as a string or an array. */
  readonly audience: readonly string[];
  readonly expiresAt: number;
  readonly issuedAt?: number;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/** Upper bound on a token we are willing to parse. */
export const maxJwtSvidLength = 64 * 1024;

/**
 * Parses a JWT-SVID without checking its signature or times (go-spiffe
 * ParseInsecure's structural checks): compact form, an allowed alg, typ JWT
 * or JOSE if present, a kid, a sub that is a SPIFFE ID, an exp.
 */
export function parseJwtSvidInsecure(token: string): ParsedJwtSvid {
  if (token.length > maxJwtSvidLength) throw new JwtSvidError("unable to parse JWT token: token too long");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtSvidError("unable to parse JWT token: compact JWS format must have three parts");
  const [h, c, s] = parts as [string, string, string];
  const headerBytes = decodeBase64url(h);
  const claimBytes = decodeBase64url(c);
  const signature = decodeBase64url(s);
  if (!headerBytes || !claimBytes || !signature) throw new JwtSvidError("unable to parse JWT token: invalid base64url segment");
  const header = jsonObject(headerBytes, "header");
  const claims = jsonObject(claimBytes, "claims");

  const alg = header.alg;
  if (typeof alg !== "string" || !(jwtSvidAlgorithms as readonly string[]).includes(alg)) {
    throw new JwtSvidError(`unable to parse JWT token: unexpected signature algorithm ${JSON.stringify(alg)}`);
  }
  if (header.typ !== undefined && header.typ !== "JWT" && header.typ !== "JOSE") {
    throw new JwtSvidError(`token header type not equal to either JWT or JOSE`);
  }
  const kid = header.kid;
  if (typeof kid !== "string" || kid === "") throw new JwtSvidError("token header missing key id");

  const sub = claims.sub;
  if (typeof sub !== "string" || sub === "") throw new JwtSvidError("token missing subject claim");
  if (claims.exp === undefined) throw new JwtSvidError("token missing exp claim");
  const expiresAt = numericDate(claims.exp, "exp");
  const issuedAt = claims.iat === undefined ? undefined : numericDate(claims.iat, "iat");
  let spiffeId: SpiffeId;
  try {
    spiffeId = SpiffeId.parse(sub);
  } catch (e) {
    throw new JwtSvidError(`token has an invalid subject claim: ${(e as Error).message}`);
  }
  const audience = audienceOf(claims.aud);
  return {
    token,
    header: { alg: alg as JwtSvidAlgorithm, kid, ...(typeof header.typ === "string" ? { typ: header.typ } : {}) },
    claims,
    spiffeId,
    audience,
    expiresAt,
    ...(issuedAt !== undefined ? { issuedAt } : {}),
    signingInput: Buffer.from(`${h}.${c}`, "latin1"),
    signature,
  };
}

/** Whether the token's signature verifies with `publicKey` under its header's alg. */
export function verifyJwtSvidSignature(parsed: ParsedJwtSvid, publicKey: KeyObject): boolean {
  const { alg } = parsed.header;
  const hash = hashOfJwtAlgorithm(alg);
  const size = ecdsaCoordinateLength(alg);
  try {
    if (size !== undefined) {
      if (publicKey.asymmetricKeyType !== "ec" || parsed.signature.length !== 2 * size) return false;
      return cryptoVerify(hash, parsed.signingInput, { key: publicKey, dsaEncoding: "ieee-p1363" }, parsed.signature);
    }
    if (publicKey.asymmetricKeyType !== "rsa") return false;
    if (alg.startsWith("PS")) {
      const saltLength = hash === "sha256" ? 32 : hash === "sha384" ? 48 : 64;
      return cryptoVerify(hash, parsed.signingInput, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, parsed.signature);
    }
    return cryptoVerify(hash, parsed.signingInput, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, parsed.signature);
  } catch {
    return false;
  }
}

export interface ValidateOptions {
  /** The JWT authority for a trust domain and key id, or undefined if there is none. */
  readonly keyFor: (trustDomain: string, kid: string) => KeyObject | undefined;
  /** Accepted audiences; the token must name at least one. */
  readonly audience: readonly string[];
  /** Defaults to the current time. */
  readonly now?: Date;
}

/** Leeway go-jose allows on exp/iat/nbf. */
export const jwtLeewaySeconds = 60;

/** Parses and validates a JWT-SVID as go-spiffe's ParseAndValidate does (signature, audience, times). */
export function validateJwtSvid(token: string, options: ValidateOptions): ParsedJwtSvid {
  const parsed = parseJwtSvidInsecure(token);
  const td = parsed.spiffeId.trustDomain.name;
  const key = options.keyFor(td, parsed.header.kid);
  if (!key) throw new JwtSvidError(`no JWT authority ${JSON.stringify(parsed.header.kid)} found for trust domain ${JSON.stringify(td)}`);
  if (!verifyJwtSvidSignature(parsed, key)) throw new JwtSvidError("unable to get claims from token: invalid signature");
  return validateJwtSvidClaims(parsed, options.audience, options.now);
}

/**
 * The time and audience checks of go-spiffe's JWT-SVID parsing (go-jose's Validate with 60 s
 * leeway): not expired, not issued or valid only in the future, `aud` naming one of
 * `audience` (an empty list skips that check). ParseInsecure is parseJwtSvidInsecure + this.
 */
export function validateJwtSvidClaims(parsed: ParsedJwtSvid, audience: readonly string[], at?: Date): ParsedJwtSvid {
  const now = Math.floor((at ?? new Date()).getTime() / 1000);
  if (now - jwtLeewaySeconds > parsed.expiresAt) throw new JwtSvidError("token has expired");
  if (parsed.issuedAt !== undefined && parsed.issuedAt > now + jwtLeewaySeconds) throw new JwtSvidError("token issued in the future");
  if (parsed.claims.nbf !== undefined && numericDate(parsed.claims.nbf, "nbf") > now + jwtLeewaySeconds) {
    throw new JwtSvidError("token not valid yet");
  }
  if (audience.length > 0 && !parsed.audience.some((a) => audience.includes(a))) {
    throw new JwtSvidError(`expected audience in ${JSON.stringify(audience)} (audience=${JSON.stringify(parsed.audience)})`);
  }
  return parsed;
}

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new JwtSvidError(`unable to parse JWT token: ${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwtSvidError(`unable to parse JWT token: ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function numericDate(value: unknown, claim: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new JwtSvidError(`unable to parse JWT token: ${claim} is not a number`);
  return Math.floor(value);
}

function audienceOf(aud: unknown): string[] {
  if (aud === undefined) return [];
  if (typeof aud === "string") return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === "string")) return aud as string[];
  throw new JwtSvidError("unable to parse JWT token: aud must be a string or an array of strings");
}
