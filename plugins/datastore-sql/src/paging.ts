/**
 * Opaque page tokens: the last key of the page, tagged with the RPC that
 * made it so a token from one list is refused by another.
 */
import { invalid } from "./errors.js";

export const defaultPageSize = 500;
export const maxPageSize = 10_000;

export function pageToken(rpc: string, lastKey: string): string {
  return Buffer.from(`${rpc}\n${lastKey}`, "utf8").toString("base64url");
}

/** The key to resume after; undefined for an empty token. */
export function resumeAfter(rpc: string, token: string): string | undefined {
  if (token === "") return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString("utf8") : "";
  const nl = text.indexOf("\n");
  if (nl < 0 || text.slice(0, nl) !== rpc) throw invalid(`could not parse page token ${JSON.stringify(token)}`);
  return text.slice(nl + 1);
}

export function pageSizeOf(requested: number): number {
  if (requested < 0) throw invalid("page size must not be negative");
  if (requested === 0) return defaultPageSize;
  return Math.min(requested, maxPageSize);
}
