import { createPublicKey, type JsonWebKey, type KeyObject, X509Certificate } from "node:crypto";
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import { BundleError, parseCertificates, parsePkixPublicKey } from "./authorities.js";

/** How to write a SPIFFE bundle document (SPIRE's bundleutil.Marshal options). */
export interface MarshalBundleOptions {
  /** Plain JWKS for JWT bundles on the Workload API: no `use`, no `spiffe_*` members. */
  readonly standardJwks?: boolean;
  readonly noX509SvidKeys?: boolean;
  readonly noJwtSvidKeys?: boolean;
  readonly noWitSvidKeys?: boolean;
  /** Overrides the bundle's refresh hint (seconds). */
  readonly refreshHintSeconds?: bigint;
  /** Overrides the bundle's sequence number. */
  readonly sequenceNumber?: bigint;
  /** Indentation; SPIRE writes 4 spaces. */
  readonly indent?: string;
}

/**
 * A spire.api.types.Bundle as a SPIFFE bundle document (JWKS), written the
 * way SPIRE writes it: X.509 authorities (`use: x509-svid`, one `x5c`, no
 * `kid`), then JWT authorities (`use: jwt-svid`, `kid`), then WIT
 * authorities; `spiffe_sequence` and `spiffe_refresh_hint` after `keys`,
 * left out when 0; members of each key in go-jose's order.
 */
export function marshalBundle(bundle: Bundle, options: MarshalBundleOptions = {}): string {
  const keys: Record<string, unknown>[] = [];
  const use = (u: string) => (options.standardJwks ? undefined : u);
  if (!options.noX509SvidKeys) {
    for (const authority of bundle.x509Authorities) {
      for (const cert of parseCertificates(authority.asn1)) {
        keys.push(jwkMembers(use("x509-svid"), undefined, cert.publicKey, [cert.raw.toString("base64")]));
      }
    }
  }
  if (!options.noJwtSvidKeys) {
    for (const k of bundle.jwtAuthorities) keys.push(jwkMembers(use("jwt-svid"), k.keyId, parsePkixPublicKey(k.publicKey)));
  }
  if (!options.noWitSvidKeys) {
    for (const k of bundle.witAuthorities) keys.push(jwkMembers(use("wit-svid"), k.keyId, parsePkixPublicKey(k.publicKey)));
  }
  const doc: Record<string, unknown> = { keys };
  if (!options.standardJwks) {
    const sequence = options.sequenceNumber ?? bundle.sequenceNumber;
    const hint = options.refreshHintSeconds ?? bundle.refreshHint;
    if (sequence !== 0n) doc.spiffe_sequence = new RawNumber(sequence);
    if (hint !== 0n) doc.spiffe_refresh_hint = new RawNumber(hint);
  }
  return stringify(doc, options.indent ?? "    ");
}

/**
 * Parses a SPIFFE bundle document for `trustDomain` as go-spiffe's
 * spiffebundle.Parse does: `keys` is required; `x509-svid` entries need
 * exactly one certificate whose key matches the JWK; `jwt-svid` and
 * `wit-svid` entries need a `kid`; other uses are ignored; a key type that
 * is not EC, RSA or OKP fails the whole document. Large sequence numbers are
 * read exactly (no float rounding).
 */
export function parseBundle(trustDomain: string, json: string | Uint8Array): Bundle {
  const text = typeof json === "string" ? json : Buffer.from(json).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`spiffebundle: unable to parse JWKS: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BundleError("spiffebundle: unable to parse JWKS: not a JSON object");
  }
  const members = doc as Record<string, unknown>;
  const keys = members.keys;
  if (keys === undefined || keys === null) throw new BundleError("spiffebundle: no authorities found");
  if (!Array.isArray(keys)) throw new BundleError("spiffebundle: unable to parse JWKS: keys is not an array");
  const bundle: Bundle = {
    trustDomain,
    x509Authorities: [],
    jwtAuthorities: [],
    refreshHint: integerMember(text, members, "spiffe_refresh_hint"),
    sequenceNumber: integerMember(text, members, "spiffe_sequence"),
    witAuthorities: [],
  };
  keys.forEach((raw, i) => {
    if (typeof raw !== "object" || raw === null) throw new BundleError(`spiffebundle: unable to parse JWKS: key ${i} is not an object`);
    const jwk = raw as Record<string, unknown>;
    const key = publicKeyOf(jwk, i);
    switch (jwk.use) {
      case "x509-svid": {
        const x5c = Array.isArray(jwk.x5c) ? jwk.x5c : [];
        if (x5c.length !== 1) {
          throw new BundleError(`spiffebundle: expected a single certificate in x509-svid entry ${i}; got ${x5c.length}`);
        }
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(Buffer.from(String(x5c[0]), "base64"));
        } catch {
          throw new BundleError(`spiffebundle: unable to parse JWKS: invalid x5c in entry ${i}`);
        }
        if (!cert.publicKey.equals(key)) {
          throw new BundleError(`spiffebundle: unable to parse JWKS: certificate public key does not match JWK in entry ${i}`);
        }
        bundle.x509Authorities.push({ asn1: cert.raw, tainted: false });
        break;
      }
      case "jwt-svid":
      case "wit-svid": {
        const kid = typeof jwk.kid === "string" ? jwk.kid : "";
        if (kid === "") throw new BundleError(`spiffebundle: error adding authority ${i} of JWKS: keyID cannot be empty`);
        const entry: JWTKey = {
          publicKey: key.export({ type: "spki", format: "der" }),
          keyId: kid,
          expiresAt: 0n,
          tainted: false,
        };
        (jwk.use === "jwt-svid" ? bundle.jwtAuthorities : bundle.witAuthorities).push(entry);
        break;
      }
      default:
        break;
    }
  });
  return bundle;
}

function publicKeyOf(jwk: Record<string, unknown>, i: number): KeyObject {
  if (jwk.kty !== "EC" && jwk.kty !== "RSA" && jwk.kty !== "OKP") {
    throw new BundleError(`spiffebundle: unable to parse JWKS: unknown json web key type '${String(jwk.kty)}'`);
  }
  try {
    const publicOnly: JsonWebKey = { kty: jwk.kty };
    for (const m of ["crv", "x", "y", "n", "e"]) if (typeof jwk[m] === "string") publicOnly[m] = jwk[m];
    return createPublicKey({ key: publicOnly, format: "jwk" });
  } catch {
    throw new BundleError(`spiffebundle: unable to parse JWKS: invalid key parameters in entry ${i}`);
  }
}

/** go-jose member order: use, kty, kid, crv, x, y, n, e, x5c. */
function jwkMembers(use: string | undefined, kid: string | undefined, key: KeyObject, x5c?: string[]): Record<string, unknown> {
  const jwk = key.export({ format: "jwk" });
  const out: Record<string, unknown> = {};
  if (use) out.use = use;
  out.kty = jwk.kty;
  if (kid) out.kid = kid;
  for (const m of ["crv", "x", "y", "n", "e"] as const) if (jwk[m] !== undefined) out[m] = jwk[m];
  if (x5c) out.x5c = x5c;
  return out;
}

/** Reads an integer member exactly from the source text (JSON.parse would round beyond 2^53). */
function integerMember(text: string, members: Record<string, unknown>, name: string): bigint {
  const value = members[name];
  if (value === undefined || value === null) return 0n;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new BundleError(`spiffebundle: unable to parse JWKS: ${name} is not an integer`);
  }
  if (Number.isSafeInteger(value)) return BigInt(value);
  const match = new RegExp(`"${name}"\\s*:\\s*(-?\\d+)`).exec(text);
  return match ? BigInt(match[1] as string) : BigInt(value);
}

/** A bigint written as a bare JSON number. */
class RawNumber {
  constructor(readonly value: bigint) {}
}

function stringify(doc: Record<string, unknown>, indent: string): string {
  const marker = "__signet_bigint__:";
  const json = JSON.stringify(doc, (_k, v) => (v instanceof RawNumber ? `${marker}${v.value}` : v), indent);
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, "g"), "$1");
}
