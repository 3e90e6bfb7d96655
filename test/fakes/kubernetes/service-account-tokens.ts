/**
 * Stands for the Kubernetes API server's service account token issuer and authenticator
 * (kube-apiserver's pkg/serviceaccount): projected service account tokens are RS256 JWTs signed
 * with the cluster's service-account key, carrying `iss`, `sub`, `aud`, `exp`/`iat`/`nbf`, `jti`
 * and the private `kubernetes.io` claim (namespace, service account, and the pod and node the
 * token is bound to). Verification does what the real authenticator does, in its order: a token
 * that is not a JWT of this issuer is not handled at all; then the signature, the time claims
 * (one minute of leeway) and the audiences are checked, each failure being an error.
 */
import { type KeyObject, createPublicKey, randomUUID, sign, verify } from "node:crypto";

export interface BoundPod {
  readonly name: string;
  readonly uid: string;
}

export interface ServiceAccountClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly nbf: number;
  readonly jti: string;
  readonly "kubernetes.io": {
    readonly namespace: string;
    readonly pod?: BoundPod;
    readonly node?: BoundPod;
    readonly serviceaccount: { readonly name: string; readonly uid: string };
  };
}

export interface TokenRequest {
  readonly issuer: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly serviceAccountUid: string;
  readonly audiences: readonly string[];
  readonly pod?: BoundPod;
  readonly node?: BoundPod;
  /** Seconds since the epoch; default now. */
  readonly issuedAt?: number;
  /** Lifetime in seconds (kubelet asks for 600 to 3600+); default 3600. */
  readonly expirationSeconds?: number;
}

export function issueToken(key: KeyObject, keyId: string, req: TokenRequest): string {
  const iat = req.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: ServiceAccountClaims = {
    aud: [...req.audiences],
    exp: iat + (req.expirationSeconds ?? 3600),
    iat,
    iss: req.issuer,
    jti: randomUUID(),
    "kubernetes.io": {
      namespace: req.namespace,
      ...(req.node ? { node: req.node } : {}),
      ...(req.pod ? { pod: req.pod } : {}),
      serviceaccount: { name: req.serviceAccount, uid: req.serviceAccountUid },
    },
    nbf: iat,
    sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount}`,
  };
  const header = b64url(JSON.stringify({ alg: "RS256", kid: keyId }));
  const body = b64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${body}`), key);
  return `${header}.${body}.${signature.toString("base64url")}`;
}

export type Verification =
  /** Not a JWT, or not one of this issuer: the service account authenticator does not handle it. */
  | { readonly kind: "not-handled" }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "ok"; readonly claims: ServiceAccountClaims; readonly audiences: readonly string[] };

export interface VerifyOptions {
  readonly issuer: string;
  readonly publicKeys: readonly KeyObject[];
  /** The audiences asked for (TokenReview spec.audiences, else the API server's own). */
  readonly audiences: readonly string[];
  /** False: audiences are not checked (an authenticator that is not audience-aware). */
  readonly checkAudiences?: boolean;
  readonly now?: number;
}

const leewaySeconds = 60;

export function verifyToken(token: string, opts: VerifyOptions): Verification {
  const parts = token.split(".");
  if (parts.length !== 3) return { kind: "not-handled" };
  let header: { alg?: unknown };
  let claims: ServiceAccountClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as ServiceAccountClaims;
  } catch {
    return { kind: "not-handled" };
  }
  if (typeof claims !== "object" || claims === null || claims.iss !== opts.issuer) return { kind: "not-handled" };
  if (header.alg !== "RS256") return { kind: "error", message: `unexpected signature algorithm ${JSON.stringify(header.alg)}; expected "RS256"` };
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, "base64url");
  if (!opts.publicKeys.some((k) => verify("sha256", signed, k, signature))) {
    return { kind: "error", message: "go-jose/go-jose: error in cryptographic primitive" };
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== "number" || now > claims.exp + leewaySeconds) return { kind: "error", message: "service account token has expired" };
  if (typeof claims.nbf === "number" && now + leewaySeconds < claims.nbf) return { kind: "error", message: "service account token is not valid yet" };
  const tokenAudiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const matched = tokenAudiences.filter((a) => opts.audiences.includes(a));
  if (opts.checkAudiences === false) return { kind: "ok", claims, audiences: [] };
  if (matched.length === 0) {
    return { kind: "error", message: `token audiences ${goQuoteList(tokenAudiences)} is invalid for the target audiences ${goQuoteList(opts.audiences)}` };
  }
  return { kind: "ok", claims, audiences: matched };
}

export function publicKeyOf(key: KeyObject): KeyObject {
  return createPublicKey(key);
}

function b64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** Go's %q of a []string. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}
