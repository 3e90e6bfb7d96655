/**
 * Join tokens. DeleteJoinToken is the single-use claim: the row count of
 * the DELETE decides which of several racing servers gets the token.
 */
import type { JoinToken } from "@signet/proto/spire/api/types/jointoken";
import { alreadyExists, invalid, notFound } from "./errors.js";
import { type Store, big, dbBig, num, query, write } from "./store.js";

const maxTokenLength = 255;

export async function createJoinToken(store: Store, token: JoinToken | undefined): Promise<void> {
  if (!token || token.value === "") throw invalid("token and expiry are required");
  if (token.expiresAt === 0n) throw invalid("token and expiry are required");
  if (token.value.length > maxTokenLength) throw invalid(`token is longer than ${maxTokenLength} characters`);
  await write(store, async (tx) => {
    if (await tx.trx("join_tokens").where({ token: token.value }).first("token")) throw alreadyExists("join token already exists");
    await tx.trx("join_tokens").insert({ token: token.value, expires_at: dbBig(token.expiresAt) });
  });
}

export async function fetchJoinToken(store: Store, value: string): Promise<JoinToken> {
  if (value === "") throw invalid("token is required");
  const row = await query(() => store.knex("join_tokens").where({ token: value }).first("token", "expires_at"));
  if (!row) throw notFound("no such join token");
  return { value: row.token as string, expiresAt: big(row.expires_at) };
}

export async function deleteJoinToken(store: Store, value: string): Promise<JoinToken> {
  if (value === "") throw invalid("token is required");
  return write(store, async (tx) => {
    const row = await tx.trx("join_tokens").where({ token: value }).first("token", "expires_at");
    if (!row) throw notFound("no such join token");
    const deleted = await tx.trx("join_tokens").where({ token: value }).delete();
    if (deleted !== 1) throw notFound("no such join token");
    return { value: row.token as string, expiresAt: big(row.expires_at) };
  });
}

export async function pruneJoinTokens(store: Store, expiresBefore: bigint): Promise<number> {
  return num(await query(() => store.knex("join_tokens").where("expires_at", "<", dbBig(expiresBefore)).delete()));
}
