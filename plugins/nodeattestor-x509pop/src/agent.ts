/**
 * The agent half: SPIRE's x509pop AidAttestation. The node's key and certificate chain are read
 * afresh for every attestation (so a rotated certificate is picked up), sent as the payload, and
 * the server's nonce challenge is answered with a signature by the leaf's key.
 */
import { type KeyObject, createPrivateKey, createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { Challenge as ChallengeMessage, PayloadOrChallengeResponse } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { CertificateParseError, parseCertificate } from "./certificate.js";
import { JsonDecodeError, decodeChallenge, encodeAttestationData, encodeResponse } from "./codec.js";
import { type AgentConfig, goFileError, loadCertificates } from "./config.js";
import { pemBlocks } from "./pem.js";
import { PopError, calculateResponse } from "./pop.js";

/** What the agent proves: its chain (leaf first, DER) and the leaf's private key. */
export interface NodeIdentity {
  readonly certificates: readonly Buffer[];
  readonly privateKey: KeyObject;
}

export interface AgentDeps {
  readonly config: () => AgentConfig | undefined;
  /** The first X509-SVID of the Workload API at `socket` (spiffe_endpoint_socket). */
  readonly fetchSvid: (socket: string, signal: AbortSignal) => Promise<NodeIdentity>;
}

export function agentAidAttestation(deps: AgentDeps) {
  return async function* aidAttestation(challenges: AsyncIterable<ChallengeMessage>, ctx: CallContext): AsyncGenerator<PayloadOrChallengeResponse> {
    const config = deps.config();
    if (!config) throw PluginError.failedPrecondition("not configured");
    const identity = await loadIdentity(config, deps, ctx.signal);
    yield { data: { $case: "payload", value: encodeAttestationData({ certificates: identity.certificates }) } };

    const incoming = challenges[Symbol.asyncIterator]();
    const next = await incoming.next();
    if (next.done) return;
    let challenge;
    try {
      challenge = decodeChallenge(next.value.challenge);
    } catch (e) {
      if (e instanceof JsonDecodeError) throw PluginError.internal(`unable to unmarshal challenge: ${e.message}`);
      throw e;
    }
    let response;
    try {
      response = calculateResponse(identity.privateKey, challenge);
    } catch (e) {
      if (e instanceof PopError) throw PluginError.internal(`failed to calculate challenge response: ${e.message}`);
      throw e;
    }
    yield { data: { $case: "challengeResponse", value: encodeResponse(response) } };
  };
}

export async function loadIdentity(config: AgentConfig, deps: Pick<AgentDeps, "fetchSvid">, signal: AbortSignal): Promise<NodeIdentity> {
  if (config.spiffeEndpointSocket !== "") {
    try {
      return await deps.fetchSvid(config.spiffeEndpointSocket, signal);
    } catch (e) {
      throw PluginError.unavailable(`unable to fetch SVID from workload API: ${(e as Error).message}`);
    }
  }
  let identity: NodeIdentity;
  try {
    identity = await loadKeyPair(config.certificatePath, config.privateKeyPath);
  } catch (e) {
    throw PluginError.invalidArgument(`unable to load keypair: ${(e as Error).message}`);
  }
  if (config.intermediatesPath.trim() === "") return identity;
  try {
    const intermediates = await loadCertificates(config.intermediatesPath);
    return { ...identity, certificates: [...identity.certificates, ...intermediates.map((c) => c.raw)] };
  } catch (e) {
    throw PluginError.invalidArgument(`unable to load intermediate certificates: ${(e as Error).message}`);
  }
}

/**
 * Go's tls.LoadX509KeyPair: every CERTIFICATE block of the certificate file (leaf first), the
 * first "… PRIVATE KEY" block of the key file (PKCS #1, PKCS #8 or SEC 1), and the key must
 * belong to the leaf.
 */
export async function loadKeyPair(certificatePath: string, privateKeyPath: string): Promise<NodeIdentity> {
  const certPem = await readFile(certificatePath).catch((e: unknown) => {
    throw new Error(goFileError("open", certificatePath, e));
  });
  const keyPem = await readFile(privateKeyPath).catch((e: unknown) => {
    throw new Error(goFileError("open", privateKeyPath, e));
  });
  const blocks = pemBlocks(certPem);
  const certificates = blocks.filter((b) => b.type === "CERTIFICATE").map((b) => b.bytes);
  if (certificates.length === 0) {
    if (blocks.length === 0) throw new Error("tls: failed to find any PEM data in certificate input");
    throw new Error(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${blocks.map((b) => b.type).join(" ")}]`);
  }
  const keyBlocks = pemBlocks(keyPem);
  const keyBlock = keyBlocks.find((b) => b.type === "PRIVATE KEY" || b.type.endsWith(" PRIVATE KEY"));
  if (!keyBlock) {
    if (keyBlocks.length === 0) throw new Error("tls: failed to find any PEM data in key input");
    throw new Error(`tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${keyBlocks.map((b) => b.type).join(" ")}]`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keyBlock.text, format: "pem" });
  } catch {
    throw new Error("tls: failed to parse private key");
  }
  if (privateKey.asymmetricKeyType !== "rsa" && privateKey.asymmetricKeyType !== "ec" && privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error("tls: found unknown private key type in PKCS#8 wrapping");
  }
  let leaf;
  try {
    leaf = parseCertificate(certificates[0]!);
  } catch (e) {
    if (e instanceof CertificateParseError) throw new Error(e.message);
    throw e;
  }
  if (leaf.publicKey.type === "unknown") throw new Error("tls: unknown public key algorithm");
  const keyType = { rsa: "rsa", ecdsa: "ec", ed25519: "ed25519" }[leaf.publicKey.type];
  if (keyType !== privateKey.asymmetricKeyType) throw new Error("tls: private key type does not match public key type");
  const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  if (!spki(leaf.publicKey.key).equals(spki(createPublicKey(privateKey)))) throw new Error("tls: private key does not match public key");
  return { certificates, privateKey };
}
