/**
 * verify_organization with `account_list_file`: the instance's account must be in a JSON array
 * of 12-digit account IDs that the operator keeps current. As SPIRE: the file is checked at
 * Configure, cached for `org_account_map_ttl` (default 3 m) and re-read lazily after it; an
 * account missing from a cache that was not just re-read triggers a re-read, at most 5 times per
 * TTL; a file that became unreadable fails attestation (fail-closed).
 */
import { readFile } from "node:fs/promises";
import { GoJsonError } from "./go-struct.js";
import { goJsonSyntaxError } from "@signet/plugin-sdk";

export interface OrganizationConfig {
  readonly accountListFile: string;
  readonly ttlMs: number;
}

const accountIdPattern = /^[0-9]{12}$/;
const missRetries = 5;

export async function parseAccountListFile(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`unable to read account list file: ${goFileError(path, e)}`);
  }
  let ids: unknown;
  try {
    ids = JSON.parse(text);
    if (ids !== null && !Array.isArray(ids)) throw new GoJsonError(`json: cannot unmarshal ${typeof ids === "object" ? "object" : typeof ids} into Go value of type []string`);
    for (const id of (ids as unknown[] | null) ?? []) {
      if (typeof id !== "string") throw new GoJsonError(`json: cannot unmarshal ${Array.isArray(id) ? "array" : id === null ? "null" : typeof id} into Go value of type string`);
    }
  } catch (e) {
    const reason = e instanceof GoJsonError ? e.message : (goJsonSyntaxError(text) ?? (e as Error).message);
    throw new Error(`unable to parse account list file ${JSON.stringify(path)}, expected a JSON array of account IDs: ${reason}`);
  }
  const out = new Set<string>();
  for (const id of (ids as string[] | null) ?? []) {
    if (!accountIdPattern.test(id)) throw new Error(`invalid account id ${JSON.stringify(id)} in account list file ${JSON.stringify(path)}, expected a 12-digit AWS account id`);
    out.add(id);
  }
  return out;
}

function goFileError(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
  return `${code === "EISDIR" ? "read" : "open"} ${path}: ${reason}`;
}

/** The cached account list of one configuration. */
export class OrganizationValidator {
  private accounts = new Set<string>();
  private validUntil: number | undefined;
  private retries = missRetries;
  private loading: Promise<Set<string>> | undefined;

  constructor(
    private readonly config: OrganizationConfig,
    private readonly now: () => number = Date.now,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void = () => {},
  ) {}

  async isMemberAccount(accountId: string): Promise<boolean> {
    let reloaded = false;
    if (this.validUntil === undefined || this.now() > this.validUntil) {
      await this.reload(true);
      reloaded = true;
    }
    if (this.accounts.has(accountId) || reloaded || this.retries <= 0) return this.accounts.has(accountId);
    // A miss on a cache that was not just re-read: the file may have gained the account.
    this.retries--;
    await this.reload(false);
    return this.accounts.has(accountId);
  }

  private async reload(resetTtl: boolean): Promise<void> {
    this.loading ??= parseAccountListFile(this.config.accountListFile).finally(() => {
      this.loading = undefined;
    });
    let accounts: Set<string>;
    try {
      accounts = await this.loading;
    } catch (e) {
      throw new Error(`failed to load org account list: ${(e as Error).message}`);
    }
    if (accounts.size === 0) this.warn("org account list file is empty; all accounts will fail organization validation", { account_list_file: this.config.accountListFile });
    this.accounts = accounts;
    if (resetTtl) {
      this.validUntil = this.now() + this.config.ttlMs;
      this.retries = missRetries;
    }
  }
}
