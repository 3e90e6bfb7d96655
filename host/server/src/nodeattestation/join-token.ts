import { Code, RpcError } from "@signet/proto";
import type { JoinToken } from "@signet/proto/spire/api/types/jointoken";
import { SpiffeId, type TrustDomain } from "@signet/spiffe";
import type { DataStore } from "../datastore/datastore.js";
import { reasonOf } from "../api/ids.js";
import { AttestationError, causeOf } from "./errors.js";

/** The attestation data type handled by the server itself, never by a plugin. */
export const joinTokenType = "join_token";

const missingMessage = "failed to attest: join token does not exist or has already been used";

/**
 * Join token attestation: the token is claimed (deleted) before it is
 * trusted, so it works once even when several servers race for it; an
 * expired token is claimed too, and refused. The agent is
 * spiffe://<td>/spire/agent/join_token/<token>, has no node selectors and
 * cannot re-attest.
 *
 * With `keepToken` (the request is already known to fail later, e.g. on its
 * CSR) a valid token is only looked at, so bad requests do not burn it.
 */
export async function attestJoinToken(
  payload: Buffer,
  deps: { readonly dataStore: DataStore; readonly trustDomain: TrustDomain; readonly now: () => Date },
  keepToken = false,
): Promise<{ agentId: string; selectors: []; canReattest: false }> {
  const token = payload.toString("utf8");
  // Stored tokens are UTF-8 text; bytes that are not cannot name one (and must not match one after U+FFFD repair).
  if (!Buffer.from(token, "utf8").equals(payload)) throw new AttestationError("invalid", missingMessage);
  const stored = keepToken ? await peek(deps.dataStore, token) : await claim(deps.dataStore, token);
  if (Number(stored.expiresAt) * 1000 < deps.now().getTime()) {
    if (keepToken) await claim(deps.dataStore, token);
    throw new AttestationError("invalid", "join token expired");
  }
  return { agentId: joinTokenAgentId(deps.trustDomain, token).toString(), selectors: [], canReattest: false };
}

/** spiffe://<td>/spire/agent/join_token/<token>; the token must be one valid path segment. */
export function joinTokenAgentId(td: TrustDomain, token: string): SpiffeId {
  try {
    if (token.includes("/")) {
      throw new Error("path segment characters are limited to letters, numbers, dots, dashes, and underscores");
    }
    return SpiffeId.fromPath(td, `/spire/agent/join_token/${token}`);
  } catch (e) {
    throw new AttestationError("internal", `failed to create join token ID: ${reasonOf(e)}`);
  }
}

async function claim(ds: DataStore, value: string): Promise<JoinToken> {
  try {
    const { token } = await ds.deleteJoinToken({ value });
    if (!token) throw new AttestationError("internal", "failed to delete join token: datastore returned no token");
    return token;
  } catch (e) {
    if (e instanceof AttestationError) throw e;
    if (e instanceof RpcError && e.code === Code.NOT_FOUND) throw new AttestationError("invalid", missingMessage);
    throw new AttestationError("internal", `failed to delete join token: ${causeOf(e)}`);
  }
}

async function peek(ds: DataStore, value: string): Promise<JoinToken> {
  try {
    const { token } = await ds.fetchJoinToken({ value });
    if (!token) throw new AttestationError("invalid", missingMessage);
    return token;
  } catch (e) {
    if (e instanceof AttestationError) throw e;
    if (e instanceof RpcError && e.code === Code.NOT_FOUND) throw new AttestationError("invalid", missingMessage);
    throw new AttestationError("internal", `failed to fetch join token: ${causeOf(e)}`);
  }
}
