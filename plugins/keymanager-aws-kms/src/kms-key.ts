/** One key this server manages: where it lives in KMS, the alias naming it, and its public half as the wire answers it. */
import type { PublicKeyInfo } from "@signet/plugin-sdk";

export interface KmsKey {
  readonly arn: string;
  readonly aliasName: string;
  readonly info: PublicKeyInfo;
}
