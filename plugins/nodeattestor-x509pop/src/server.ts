/**
 * The server half: SPIRE's x509pop Attest. The payload's chain is verified to the trusted CAs
 * before anything in it is believed; only then is the agent challenged to prove possession of
 * the leaf's key, and only a valid proof yields the agent ID and selectors. Every refusal is a
 * status with SPIRE's code and wording; nothing an agent sends can take the process down.
 */
import { isIP } from "node:net";
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { AttestRequest, AttestResponse } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { makeAgentId } from "./agent-id.js";
import { type Certificate, CertificateParseError, parseCertificate } from "./certificate.js";
import { JsonDecodeError, decodeAttestationData, decodeResponse, encodeChallenge } from "./codec.js";
import type { ServerConfig } from "./config.js";
import { PopError, generateChallenge, verifyResponse } from "./pop.js";
import { buildSelectorValues, uriSanSelectors } from "./selectors.js";
import { parseUri } from "./uri.js";
import { CertPool, verifyChains } from "./verify.js";

/** Payloads above this are refused before parsing (SPIRE relies on gRPC's 4 MiB limit). */
export const maxPayloadBytes = 1 << 20;
/** Challenge responses above this are refused before parsing. */
export const maxChallengeResponseBytes = 64 << 10;

/** SPIRE's metadata key for the agent's peer IP, set by the server API. */
export const forwardedClientIpKey = "x-forwarded-client-ip";

export interface ServerDeps {
  readonly config: () => ServerConfig | undefined;
  /** The server's own X.509 authorities (spiffe mode), from the IdentityProvider host service. */
  readonly fetchTrustBundle: (signal: AbortSignal) => Promise<Buffer[]>;
  readonly warn: (message: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => Date;
}

export function serverAttest(deps: ServerDeps) {
  return async function* attest(requests: AsyncIterable<AttestRequest>, ctx: CallContext): AsyncGenerator<AttestResponse> {
    const incoming = requests[Symbol.asyncIterator]();
    const first = await incoming.next();
    if (first.done) return;
    const config = deps.config();
    if (!config) throw PluginError.failedPrecondition("not configured");
    if (first.value.request?.$case !== "payload") throw PluginError.invalidArgument("missing attestation payload");
    const payload = first.value.request.value;
    if (payload.length > maxPayloadBytes) {
      throw PluginError.invalidArgument(`failed to unmarshal data: attestation payload is ${payload.length} bytes; the limit is ${maxPayloadBytes}`);
    }

    const { leaf, intermediates } = readChain(payload, config);
    const roots = config.mode === "spiffe" ? await serverBundle(deps, ctx) : config.trustBundle;
    let chains: Certificate[][];
    try {
      chains = verifyChains(leaf, { roots, intermediates, now: deps.now?.() ?? new Date() });
    } catch (e) {
      throw PluginError.permissionDenied(`certificate verification failed: ${(e as Error).message}`);
    }
    if (config.verifyClientIp) checkClientIp(leaf, ctx, deps);

    // The leaf is trusted: now the agent must prove it holds the leaf's key.
    let challenge;
    try {
      challenge = generateChallenge(leaf);
    } catch (e) {
      // SPIRE answers Internal here, but the cause is the agent's certificate (no digitalSignature
      // usage, or a key type with no challenge), not the server: refuse it as the agent's fault.
      if (e instanceof PopError) throw PluginError.permissionDenied(`unable to generate challenge: ${e.message}`);
      throw e;
    }
    yield { response: { $case: "challenge", value: encodeChallenge(challenge) } };

    const next = await incoming.next();
    if (next.done) return;
    const responseBytes = next.value.request?.$case === "challengeResponse" ? next.value.request.value : Buffer.alloc(0);
    if (responseBytes.length > maxChallengeResponseBytes) {
      throw PluginError.invalidArgument(`unable to unmarshal challenge response: challenge response is ${responseBytes.length} bytes; the limit is ${maxChallengeResponseBytes}`);
    }
    let response;
    try {
      response = decodeResponse(responseBytes);
    } catch (e) {
      if (e instanceof JsonDecodeError) throw PluginError.invalidArgument(`unable to unmarshal challenge response: ${e.message}`);
      throw e;
    }
    try {
      verifyResponse(leaf, challenge, response);
    } catch (e) {
      if (e instanceof PopError) throw PluginError.permissionDenied(`challenge response verification failed: ${e.message}`);
      throw e;
    }

    const svidPath = config.mode === "spiffe" ? trimmedSvidPath(leaf, config.svidPrefix) : "";
    const sanSelectors = uriSanSelectors(leaf, config.trustDomain.name, (uri) => deps.warn(`cannot extract x509pop san selectors from ${uri}`));
    let spiffeId: string;
    try {
      spiffeId = makeAgentId(config.trustDomain, config.pathTemplate, leaf, svidPath, sanSelectors).toString();
    } catch (e) {
      throw PluginError.internal(`failed to make spiffe id: ${(e as Error).message}`);
    }
    yield {
      response: {
        $case: "agentAttributes",
        value: { spiffeId, selectorValues: buildSelectorValues(leaf, chains, sanSelectors), canReattest: true },
      },
    };
  };
}

/** The leaf and a pool of the intermediates, each parsed and size-checked as SPIRE does, in its order. */
function readChain(payload: Buffer, config: ServerConfig): { leaf: Certificate; intermediates: CertPool } {
  let certificates: readonly Buffer[];
  try {
    ({ certificates } = decodeAttestationData(payload));
  } catch (e) {
    if (e instanceof JsonDecodeError) throw PluginError.invalidArgument(`failed to unmarshal data: ${e.message}`);
    throw e;
  }
  if (certificates.length === 0) throw PluginError.invalidArgument("no certificate to attest");
  if (certificates.length - 1 > config.maxIntermediates) throw PluginError.invalidArgument("too many intermediate certificates");

  let leaf: Certificate;
  try {
    leaf = parseCertificate(certificates[0]!);
  } catch (e) {
    if (e instanceof CertificateParseError) throw PluginError.invalidArgument(`unable to parse leaf certificate: ${e.message}`);
    throw e;
  }
  if (rsaTooLarge(leaf, config.maxRsaKeySize)) throw PluginError.invalidArgument("leaf certificate key size too large");

  const intermediates = new CertPool();
  certificates.slice(1).forEach((der, i) => {
    let cert: Certificate;
    try {
      cert = parseCertificate(der);
    } catch (e) {
      if (e instanceof CertificateParseError) throw PluginError.invalidArgument(`unable to parse intermediate certificate ${i}: ${e.message}`);
      throw e;
    }
    if (rsaTooLarge(cert, config.maxRsaKeySize)) throw PluginError.invalidArgument(`intermediate certificate ${i} key size too large`);
    intermediates.add(cert);
  });
  return { leaf, intermediates };
}

function rsaTooLarge(cert: Certificate, maxBits: number): boolean {
  return cert.publicKey.type === "rsa" && cert.publicKey.bits > maxBits;
}

async function serverBundle(deps: ServerDeps, ctx: CallContext): Promise<CertPool> {
  let authorities: Buffer[];
  try {
    authorities = await deps.fetchTrustBundle(ctx.signal);
  } catch (e) {
    if (e instanceof PluginError) throw e;
    throw PluginError.internal(`failed to get trust bundle: ${(e as Error).message}`);
  }
  const pool = new CertPool();
  for (const der of authorities) {
    try {
      pool.add(parseCertificate(der));
    } catch (e) {
      throw PluginError.internal(`failed to get trust bundle: ${(e as Error).message}`);
    }
  }
  if (pool.size === 0) deps.warn("No trust bundle retrieved from SPIRE");
  return pool;
}

function checkClientIp(leaf: Certificate, ctx: CallContext, deps: ServerDeps): void {
  const values = ctx.metadata.get(forwardedClientIpKey).map(String);
  const first = values[0];
  if (first === undefined || first === "") throw PluginError.internal("client IP not available for verification");
  if (values.length > 1) deps.warn("Multiple client IP values found in metadata, using first value");
  const ip = ipBytes(first);
  if (!ip) throw PluginError.internal(`invalid client IP ${JSON.stringify(first)}`);
  if (!leaf.ipAddresses.some((certIp) => sameIp(certIp, ip))) {
    throw PluginError.permissionDenied(`client IP ${first} does not match any certificate IP SAN`);
  }
}

/** Go's net.IP.Equal: an IPv4 address equals its IPv4-mapped IPv6 form. */
function sameIp(a: Buffer, b: Buffer): boolean {
  return as16(a).equals(as16(b));
}

function as16(ip: Buffer): Buffer {
  return ip.length === 4 ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ip]) : ip;
}

function ipBytes(text: string): Buffer | undefined {
  const kind = isIP(text);
  if (kind === 4) return Buffer.from(text.split(".").map(Number));
  if (kind !== 6 || text.includes("%")) return undefined;
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    return s.split(":").flatMap((part) => {
      if (part.includes(".")) {
        const v4 = part.split(".").map(Number);
        return [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
      }
      return [parseInt(part, 16)];
    });
  };
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** spiffe mode: the leaf's first spiffe:// URI SAN, which must start with the SVID prefix, without it. */
function trimmedSvidPath(leaf: Certificate, svidPrefix: string): string {
  const spiffe = leaf.uris.map(parseUri).find((u) => u?.scheme === "spiffe");
  if (!spiffe) throw PluginError.permissionDenied("valid SVID x509 cert not found");
  if (!spiffe.escapedPath.startsWith(svidPrefix)) throw PluginError.permissionDenied("x509 cert doesnt match SVID prefix");
  return spiffe.escapedPath.slice(svidPrefix.length);
}
