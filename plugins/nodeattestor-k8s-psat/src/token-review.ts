/**
 * What a TokenReview's status says about a projected service account token, read as SPIRE's
 * pkg/common/plugin/k8s does: the audiences must be compatible with those asked for, the username
 * names the service account, and the extra fields name the pod the token is bound to.
 */

/** The parts of authentication.k8s.io/v1 TokenReviewStatus the attestor reads. */
export interface TokenReviewStatus {
  readonly authenticated: boolean;
  readonly error: string;
  readonly username: string;
  readonly extra: Readonly<Record<string, readonly string[]>>;
  readonly audiences: readonly string[];
}

export const podNameKey = "authentication.kubernetes.io/pod-name";
export const podUidKey = "authentication.kubernetes.io/pod-uid";

/** The review is unusable (an API server answer SPIRE refuses); the message is SPIRE's. */
export class TokenReviewError extends Error {
  override readonly name = "TokenReviewError";
}

/**
 * An authenticated review must have validated the token for at least one of the audiences asked
 * for: an authenticator that ignores audiences would otherwise accept tokens minted for anyone.
 * With no audiences asked for, the API server's own apply and anything goes.
 */
export function checkAudiences(requested: readonly string[], status: TokenReviewStatus): void {
  if (!status.authenticated || requested.length === 0) return;
  if (requested.some((a) => status.audiences.includes(a))) return;
  throw new TokenReviewError(`token review API did not validate audience: wanted one of ${goQuoteList(requested)} but got ${goQuoteList(status.audiences)}`);
}

export interface ServiceAccountName {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * The namespace and service account of a username `system:serviceaccount:<namespace>:<name>`.
 * SPIRE only counts the colon-separated parts; the first two must also be the service account
 * prefix here, so that no other kind of user (an OIDC or webhook identity shaped like
 * "a:b:ns:sa") can pass for a service account.
 */
export function serviceAccountOf(username: string): ServiceAccountName {
  if (username === "") throw new TokenReviewError("empty username");
  const names = username.split(":");
  if (names.length !== 4 || names[0] !== "system" || names[1] !== "serviceaccount") {
    throw new TokenReviewError(`unexpected username format: ${username}`);
  }
  if (names[2] === "") throw new TokenReviewError("missing namespace");
  if (names[3] === "") throw new TokenReviewError("missing service account name");
  return { namespace: names[2]!, serviceAccount: names[3]! };
}

export function podNameOf(status: TokenReviewStatus): string {
  return singleExtra(status, podNameKey, "pod name", "name");
}

export function podUidOf(status: TokenReviewStatus): string {
  return singleExtra(status, podUidKey, "pod UID", "UID");
}

function singleExtra(status: TokenReviewStatus, key: string, what: string, unit: string): string {
  if (!Object.hasOwn(status.extra, key)) throw new TokenReviewError(`missing ${what}`);
  const values = status.extra[key]!;
  if (values.length !== 1) throw new TokenReviewError(`expected 1 ${unit} but got: ${values.length}`);
  if (values[0] === "") throw new TokenReviewError(`${what} is empty`);
  return values[0]!;
}

/** Go's %q of a []string. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}
