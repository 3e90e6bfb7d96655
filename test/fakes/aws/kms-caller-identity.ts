/**
 * Stands for AWS Security Token Service (STS) GetCallerIdentity, in the AWS
 * Query protocol the SDKs use for STS (form-encoded POST with
 * `Action=GetCallerIdentity&Version=2011-06-15`, XML answer). KMS clients
 * call it to name their role in a default key policy, so the KMS fake
 * (kms.ts) answers it on the same endpoint.
 */
import type { IncomingMessage } from "node:http";
import { randomUUID } from "node:crypto";

export function isCallerIdentityRequest(req: IncomingMessage, body: Buffer): boolean {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) return false;
  return new URLSearchParams(body.toString("utf8")).get("Action") === "GetCallerIdentity";
}

export function callerIdentityResponse(arn: string, account: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
    `<GetCallerIdentityResult><Arn>${escape(arn)}</Arn><UserId>AROAEXAMPLEID:session</UserId><Account>${escape(account)}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
  );
}

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
