/**
 * Fetches a federated trust domain's bundle from its bundle endpoint (SPIRE's
 * pkg/server/bundle/client): one HTTPS GET, authenticated per the endpoint's
 * profile. https_spiffe: the server must present an X509-SVID for exactly
 * the configured endpoint SPIFFE ID, chained to the bundle already held for
 * that ID's trust domain (no hostname check). https_web: Web PKI with Node's
 * CA store (system roots plus NODE_EXTRA_CA_CERTS) and the usual hostname
 * check. A non-200 answer or a body that does not decode is an error.
 */
import type { IncomingMessage } from "node:http";
import * as https from "node:https";
import type { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { authorizeId, SpiffeId, type TrustDomain, tlsClientOptions, X509Bundle, X509BundleSet } from "@signet/spiffe";
import { decodeFederatedBundle } from "./bundle-decode.js";

export interface SpiffeAuth {
  readonly endpointSpiffeId: SpiffeId;
  /** The X.509 authorities of the endpoint ID's trust domain, as held locally. */
  readonly roots: readonly X509Certificate[];
}

export interface BundleClientConfig {
  /** The federated trust domain the fetched bundle is for. */
  readonly trustDomain: TrustDomain;
  readonly endpointUrl: string;
  /** Set for https_spiffe; absent means Web PKI (https_web). */
  readonly spiffeAuth?: SpiffeAuth;
  /** Gives up on one fetch after this long (default 30 s). */
  readonly timeoutMs?: number;
}

export class BundleFetchError extends Error {
  override readonly name = "BundleFetchError";
}

const maxRedirects = 10;
const maxBodyBytes = 4 << 20;
const defaultTimeoutMs = 30_000;

/** GETs the bundle and decodes it for `config.trustDomain`; throws BundleFetchError or BundleDecodeError. */
export async function fetchFederatedBundle(config: BundleClientConfig, signal?: AbortSignal): Promise<Bundle> {
  if (config.spiffeAuth && config.spiffeAuth.endpointSpiffeId.toString() === "") {
    throw new BundleFetchError(`no SPIFFE ID specified for federation with ${JSON.stringify(config.trustDomain.name)}`);
  }
  const deadline = fetchDeadline(signal, config.timeoutMs ?? defaultTimeoutMs);
  try {
    return await fetchFrom(config, deadline.signal);
  } finally {
    deadline.release();
  }
}

/**
 * The caller's signal or the timeout, whichever comes first. Not
 * AbortSignal.any: Node keeps each signal it derives from a long-lived one
 * (an updater's stop signal, polled for the life of the server) alive.
 */
function fetchDeadline(signal: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  const timer = setTimeout(() => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), timeoutMs);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

async function fetchFrom(config: BundleClientConfig, combined: AbortSignal): Promise<Bundle> {
  let url = config.endpointUrl;
  for (let hops = 0; ; hops++) {
    const res = await get(url, config, combined);
    const location = res.headers.location;
    if (isRedirect(res.statusCode) && location) {
      res.resume();
      if (hops + 1 >= maxRedirects) throw new BundleFetchError(`failed to fetch bundle: Get ${JSON.stringify(url)}: stopped after ${maxRedirects} redirects`);
      const next = new URL(location, url);
      if (next.protocol !== "https:") {
        throw new BundleFetchError(`failed to fetch bundle: Get ${JSON.stringify(url)}: redirect to a URL that is not https: ${JSON.stringify(next.href)}`);
      }
      url = next.href;
      continue;
    }
    const body = await readBody(res, combined);
    if (res.statusCode !== 200) {
      throw new BundleFetchError(`unexpected status ${res.statusCode} fetching bundle: ${body.subarray(0, 1024).toString("utf8")}`);
    }
    return decodeFederatedBundle(config.trustDomain.name, body.toString("utf8"));
  }
}

function get(url: string, config: BundleClientConfig, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(fetchError(url, config, err, signal));
    let req;
    try {
      req = https.request(url, { method: "GET", agent: false, signal, ...tlsOptions(config) }, resolve);
    } catch (err) {
      fail(err);
      return;
    }
    req.on("error", fail);
    req.end();
  });
}

function tlsOptions(config: BundleClientConfig): https.RequestOptions {
  const auth = config.spiffeAuth;
  if (!auth) return {};
  const bundles = new X509BundleSet([new X509Bundle(auth.endpointSpiffeId.trustDomain, auth.roots)]);
  return tlsClientOptions(bundles, authorizeId(auth.endpointSpiffeId));
}

function fetchError(url: string, config: BundleClientConfig, err: unknown, signal: AbortSignal): BundleFetchError {
  const e = err as Error & { code?: string; cert?: PeerCertificate };
  const message = signal.aborted && e.name === "AbortError" ? abortReason(signal) : e.message;
  if (!config.spiffeAuth && e.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const id = spiffeIdIn(e.cert);
    if (id) {
      return new BundleFetchError(
        `failed to authenticate bundle endpoint using web authentication but the server certificate contains SPIFFE ID ${JSON.stringify(id)}: maybe use https_spiffe instead of https_web: ${message}`,
      );
    }
  }
  return new BundleFetchError(`failed to fetch bundle: Get ${JSON.stringify(url)}: ${message}`);
}

function abortReason(signal: AbortSignal): string {
  const reason = signal.reason as Error | undefined;
  return reason?.name === "TimeoutError" ? "timed out" : (reason?.message ?? "aborted");
}

function spiffeIdIn(cert: PeerCertificate | undefined): string | undefined {
  const first = /URI:([^,]+)/.exec(cert?.subjectaltname ?? "")?.[1];
  if (!first) return undefined;
  try {
    return SpiffeId.parse(first).toString();
  } catch {
    return undefined;
  }
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

async function readBody(res: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) {
        res.destroy();
        throw new BundleFetchError(`bundle endpoint answer is larger than ${maxBodyBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof BundleFetchError) throw err;
    throw new BundleFetchError(`failed to read bundle: ${signal.aborted ? abortReason(signal) : (err as Error).message}`);
  }
  return Buffer.concat(chunks);
}
