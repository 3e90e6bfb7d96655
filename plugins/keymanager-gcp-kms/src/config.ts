/**
 * The gcp_kms KeyManager's configuration: SPIRE's keys and messages.
 *
 *   key_ring              projects/<p>/locations/<l>/keyRings/<r>: where the keys live (required)
 *   key_identifier_file   file holding this server's ID (a UUID, created on first start), or
 *   key_identifier_value  the ID itself (lowercase letters, digits, "_" and "-"; at most 40)
 *   key_policy_file       IAM policy (v3, JSON) set on every CryptoKey created
 *   service_account_file  service account key file; Application Default Credentials if unset
 */
import { decodePluginConfig, object, str } from "@signet/plugin-sdk";
import { maxKeyIdentifierLength } from "./naming.js";

export const configMessagePrefix = "keymanager gcp_kms";

/** Where this server's ID comes from: a file (created with a new UUID when missing) or the configuration. */
export type KeyIdentifier = { readonly kind: "file"; readonly path: string } | { readonly kind: "value"; readonly value: string };

export interface GcpKmsConfig {
  readonly keyRing: string;
  readonly keyIdentifier: KeyIdentifier;
  readonly keyPolicyFile?: string | undefined;
  readonly serviceAccountFile?: string | undefined;
}

const schema = object({
  key_ring: str().optional(),
  key_identifier_file: str().optional(),
  key_identifier_value: str().optional(),
  key_policy_file: str().optional(),
  service_account_file: str().optional(),
  // Removed from SPIRE's plugin; named here only to say so.
  key_metadata_file: str().optional(),
});

const keys = ["key_ring", "key_identifier_file", "key_identifier_value", "key_policy_file", "service_account_file", "key_metadata_file"] as const;

const keyRingPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+$/;
const keyIdentifierPattern = /^[a-z0-9_-]+$/;

/** Parses the text the host sends; throws with a message naming the offending key. */
export async function parseConfig(hclConfiguration: string): Promise<GcpKmsConfig> {
  const fail = (message: string): never => {
    throw new Error(`${configMessagePrefix}: ${message}`);
  };
  let raw: Partial<Record<(typeof keys)[number], string | undefined>>;
  try {
    raw = await decodePluginConfig(schema, hclConfiguration);
  } catch (e) {
    return fail(`unable to decode configuration: ${(e as Error).message}`);
  }
  const keyRing = raw.key_ring ?? "";
  const file = raw.key_identifier_file ?? "";
  const value = raw.key_identifier_value ?? "";
  if (raw.key_metadata_file !== undefined) {
    fail("key_metadata_file is no longer supported (SPIRE removed it); use key_identifier_file");
  }
  if (keyRing === "") fail("configuration is missing the key ring");
  if (!keyRingPattern.test(keyRing)) {
    fail(`key_ring ${JSON.stringify(keyRing)} is not a key ring resource name; expected projects/<project>/locations/<location>/keyRings/<key ring>`);
  }
  if (file === "" && value === "") fail("configuration requires a key identifier file or a key identifier value");
  if (file !== "" && value !== "") fail("configuration can't have a key identifier file and a key identifier value at the same time");
  if (value !== "") {
    if (!keyIdentifierPattern.test(value)) {
      fail(`key_identifier_value ${JSON.stringify(value)}: Key identifier must contain only lowercase letters, numbers, underscores (_), and dashes (-)`);
    }
    if (value.length > maxKeyIdentifierLength) {
      fail(`key_identifier_value: Key identifier must not be longer than ${maxKeyIdentifierLength} characters`);
    }
  }
  return {
    keyRing,
    keyIdentifier: value !== "" ? { kind: "value", value } : { kind: "file", path: file },
    keyPolicyFile: nonEmpty(raw.key_policy_file),
    serviceAccountFile: nonEmpty(raw.service_account_file),
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
