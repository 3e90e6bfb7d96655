/**
 * The disk UpstreamAuthority's configuration, with SPIRE's keys: the CA's
 * certificate and key files, and for an intermediate upstream CA the bundle
 * of roots its chain leads to.
 */
import { decodePluginConfig, object, str } from "@signet/plugin-sdk";

export const configMessagePrefix = "upstreamauthority disk";

export interface DiskConfig {
  readonly certFilePath: string;
  readonly keyFilePath: string;
  /** Absent: the certificate is a self-signed root, and the only root. */
  readonly bundleFilePath: string | undefined;
}

const schema = object({
  cert_file_path: str().optional(),
  key_file_path: str().optional(),
  bundle_file_path: str().optional(),
});

/** Parses the text the host sends; throws with a message naming what is wrong. */
export async function parseConfig(hclConfiguration: string): Promise<DiskConfig> {
  let raw: { cert_file_path?: string | undefined; key_file_path?: string | undefined; bundle_file_path?: string | undefined };
  try {
    raw = await decodePluginConfig(schema, hclConfiguration);
  } catch (e) {
    throw new Error(`${configMessagePrefix}: ${(e as Error).message}`);
  }
  if (!raw.cert_file_path || !raw.key_file_path) {
    // SPIRE's wording.
    throw new Error(`${configMessagePrefix}: 'cert_file_path' and 'key_file_path' must be set and not empty`);
  }
  return {
    certFilePath: raw.cert_file_path,
    keyFilePath: raw.key_file_path,
    bundleFilePath: raw.bundle_file_path ? raw.bundle_file_path : undefined,
  };
}
