/**
 * The AWS SDK clients the plugin talks to KMS (and STS, for the default key
 * policy) with, and how a failed call is described.
 *
 * Region and static credentials come from the configuration; without them the
 * SDK's default credential chain applies, as in SPIRE. The endpoint is the
 * SDK's own business: it honours AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL_STS and
 * AWS_ENDPOINT_URL (and `endpoint_url` in the shared config file), which is how
 * a VPC endpoint, LocalStack or a test double is reached, with no key of ours.
 *
 * Throttling and transient failures are retried by the SDK (standard mode:
 * exponential backoff with jitter); every call also has a deadline, below the
 * 30 s a host gives a KeyManager call, so no RPC outlives its caller.
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsKmsConfig } from "./config.js";

export interface AwsClients {
  readonly kms: KMSClient;
  readonly sts: STSClient;
}

/** Attempts per call, the first included (the SDK's default is 3). */
export const maxAttempts = 4;
/** One attempt's time limit. */
const attemptTimeoutMs = 10_000;
/** A whole call's limit, retries included. */
export const callDeadlineMs = 25_000;

/** `endpoint` is for tests that cannot set AWS_ENDPOINT_URL for their whole process. */
export function createAwsClients(config: Pick<AwsKmsConfig, "region" | "credentials">, endpoint?: string): AwsClients {
  // The SDK would print a multi-line Node version notice on stderr, which go-plugin hosts read as hclog JSON.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const common = {
    region: config.region,
    maxAttempts,
    retryMode: "standard",
    requestHandler: { connectionTimeout: 5_000, requestTimeout: attemptTimeoutMs },
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
  return { kms: new KMSClient(common), sts: new STSClient(common) };
}

/** A signal that ends a call at the deadline (or sooner, with `parent`). */
export function callSignal(parent?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(callDeadlineMs);
  return parent ? AbortSignal.any([parent, deadline]) : deadline;
}

/** The AWS error code of `e` (e.g. "NotFoundException"), if it is a service error. */
export function awsErrorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const name = (e as { name?: unknown }).name;
  return typeof name === "string" && name !== "Error" ? name : undefined;
}

/** "<code>: <message>", as SPIRE prints a Go SDK error, without the SDK's request-level noise. */
export function describeAwsError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === "AbortError" || e.name === "TimeoutError") return `no answer from AWS within ${callDeadlineMs / 1000} s`;
  const code = awsErrorCode(e);
  return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}
