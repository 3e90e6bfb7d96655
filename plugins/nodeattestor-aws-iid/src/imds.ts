/**
 * The EC2 Instance Metadata Service, as the agent half reads it (Go SDK's imds client, which
 * SPIRE's agent uses): IMDSv2, a session token from PUT /latest/api/token sent with every GET,
 * falling back to IMDSv1 only where the service says it has no token API (403/404/405) and
 * AWS_EC2_METADATA_V1_DISABLED is not set. Each operation has 5 s and 3 attempts (network
 * errors and 5xx are retried), all within the RPC's deadline. Endpoint: ec2_metadata_endpoint,
 * else AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254; as the Go SDK, only its
 * scheme, host and port are used.
 */
import type { AttestationData } from "./payload.js";

export const defaultEndpoint = "http://169.254.169.254";
export const tokenTtlSeconds = 21600;
const operationTimeoutMs = 5_000;
const attempts = 3;
const maxResponseBytes = 64 * 1024;

export class ImdsError extends Error {
  override readonly name = "ImdsError";
}

export interface ImdsOptions {
  readonly endpoint: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The three instance-identity documents SPIRE's agent sends: document, RSA-1024 signature, RSA-2048 PKCS #7. */
export async function fetchInstanceIdentity(options: ImdsOptions, signal: AbortSignal): Promise<AttestationData> {
  const env = options.env ?? process.env;
  const origin = new URL(options.endpoint || env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] || defaultEndpoint).origin;
  const token = await getToken(origin, env["AWS_EC2_METADATA_V1_DISABLED"]?.toLowerCase() === "true", signal);
  const get = (path: string) => getDynamicData(origin, token, path, signal);
  const document = await get("instance-identity/document");
  const signature = await get("instance-identity/signature");
  const rsa2048 = await get("instance-identity/rsa2048");
  return { document, signature, rsa2048 };
}

async function getToken(origin: string, v1Disabled: boolean, signal: AbortSignal): Promise<string | undefined> {
  const res = await request("GetToken", `${origin}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": String(tokenTtlSeconds) } }, signal);
  if (res.status === 200) return res.body;
  if ([403, 404, 405].includes(res.status) && !v1Disabled) return undefined;
  throw statusError("GetToken", res.status);
}

async function getDynamicData(origin: string, token: string | undefined, path: string, signal: AbortSignal): Promise<string> {
  const headers: Record<string, string> = token === undefined ? {} : { "x-aws-ec2-metadata-token": token };
  const res = await request("GetDynamicData", `${origin}/latest/dynamic/${path}`, { method: "GET", headers }, signal);
  if (res.status < 200 || res.status >= 300) throw statusError("GetDynamicData", res.status);
  return res.body;
}

function statusError(operation: string, status: number): ImdsError {
  return new ImdsError(`operation error ec2imds: ${operation}, http response error StatusCode: ${status}, request to EC2 IMDS failed`);
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

async function request(operation: string, url: string, init: { method: string; headers: Record<string, string> }, signal: AbortSignal): Promise<Answer> {
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (signal.aborted) break;
    try {
      const res = await fetch(url, { ...init, redirect: "error", signal: AbortSignal.any([signal, AbortSignal.timeout(operationTimeoutMs)]) });
      const body = await readLimited(res);
      if (res.status >= 500 && attempt < attempts) {
        last = statusError(operation, res.status);
        await pause(attempt, signal);
        continue;
      }
      return { status: res.status, body };
    } catch (e) {
      if (e instanceof ImdsError) throw e;
      last = e;
      if (attempt < attempts) await pause(attempt, signal);
    }
  }
  if (signal.aborted) throw new ImdsError(`operation error ec2imds: ${operation}, context canceled`);
  const cause = last instanceof Error ? ((last.cause as Error | undefined)?.message ?? last.message) : String(last);
  throw new ImdsError(`operation error ec2imds: ${operation}, exceeded maximum number of attempts, ${attempts}, request send failed, ${init.method} ${JSON.stringify(url)}: ${cause}`);
}

async function readLimited(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxResponseBytes) {
      await reader.cancel();
      throw new ImdsError(`EC2 IMDS response larger than ${maxResponseBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function pause(attempt: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.min(1_000, 50 * 2 ** attempt));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
