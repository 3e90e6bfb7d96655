/**
 * The IAM policy set on each CryptoKey the plugin creates: the one in
 * key_policy_file (IAM Policy v3 JSON: {"bindings": [{"role", "members",
 * "condition"}], …}), or by default the Cloud KMS CryptoKey Signer/Verifier
 * role for the service account the plugin runs as. A key that already has
 * bindings keeps them.
 */
import { readFile } from "node:fs/promises";
import type { IamBinding, IamPolicy } from "./kms-client.js";

export const defaultRole = "roles/cloudkms.signerVerifier";

export function defaultPolicy(serviceAccountEmail: string, current: IamPolicy): IamPolicy {
  return { ...current, bindings: [{ role: defaultRole, members: [`serviceAccount:${serviceAccountEmail}`] }] };
}

/** Reads key_policy_file; throws with what is wrong. Field names match as Go's encoding/json does (case-insensitively). */
export async function readPolicyFile(path: string): Promise<IamPolicy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`failed to read file: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`failed to parse custom JSON policy: ${(e as Error).message}`);
  }
  const problem = (what: string) => new Error(`failed to parse custom JSON policy: ${what}`);
  if (!isObject(data)) throw problem("expected a JSON object");
  const bindings = field(data, "bindings");
  if (bindings === undefined || bindings === null) return { bindings: [] };
  if (!Array.isArray(bindings)) throw problem('"bindings" must be an array');
  return {
    bindings: bindings.map((b: unknown, i): IamBinding => {
      if (!isObject(b)) throw problem(`binding ${i} must be an object`);
      const role = field(b, "role");
      const members = field(b, "members") ?? [];
      const condition = field(b, "condition");
      if (typeof role !== "string" || role === "") throw problem(`binding ${i} has no role`);
      if (!Array.isArray(members) || !members.every((m) => typeof m === "string")) throw problem(`binding ${i}: "members" must be an array of strings`);
      if (condition !== undefined && condition !== null && !isObject(condition)) throw problem(`binding ${i}: "condition" must be an object`);
      return { role, members, ...(isObject(condition) ? { condition: conditionOf(condition) } : {}) };
    }),
  };
}

function conditionOf(c: Record<string, unknown>): NonNullable<IamBinding["condition"]> {
  const text = (name: string) => {
    const v = field(c, name);
    return typeof v === "string" ? v : undefined;
  };
  return { expression: text("expression"), title: text("title"), description: text("description"), location: text("location") };
}

function field(o: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(o).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : o[key];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
