/**
 * Node attestation against the server (spire-apis.md 4.2): a fresh
 * server-authenticated connection (no client certificate), AttestAgent
 * with the attestor's payload and a CSR for a new EC P-256 key, challenges
 * relayed to the NodeAttestor plugin, then GetBundle on the same connection.
 * A join token is sent as type `join_token` and must not draw a challenge.
 */
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { Channel } from "@grpc/grpc-js";
import type { AgentNodeAttestorFacade } from "@signet/host-common";
import { Code, createClient, RpcError } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { TrustDomain } from "@signet/spiffe";
import { channelOptions, dialTarget, rpcTimeoutMs } from "../../client/client.js";
import { serverCredentials, serverId } from "../../client/server-tls.js";
import { csrFor, generateKey } from "../../keys/keys.js";
import type { StoredSvid } from "../../storage/storage.js";

/** What attests the node: a join token, or the configured NodeAttestor plugin. */
export type NodeAttestor =
  | { readonly kind: "join_token"; readonly token: string }
  | { readonly kind: "plugin"; readonly plugin: AgentNodeAttestorFacade };

export interface AttestOptions {
  readonly trustDomain: TrustDomain;
  readonly address: string;
  /** X.509 roots (DER) the server must chain to; empty for insecure bootstrap. */
  readonly roots: readonly Buffer[];
  readonly attestor: NodeAttestor;
}

export interface Attested {
  readonly svid: StoredSvid & { readonly privateKey: NonNullable<StoredSvid["privateKey"]> };
  readonly bundle: Bundle;
}

export async function attestNode(options: AttestOptions): Promise<Attested> {
  // Without a bundle nothing checks the chain; still make sure the peer is the server (SPIRE's insecure_bootstrap).
  if (options.roots.length === 0) await checkServerLeaf(options.address, options.trustDomain);
  const key = generateKey("ec-p256");
  // csrFor, not createCsr: asking a fresh key for its details can deadlock Node 20 (see keys.ts).
  const csr = await csrFor(key);
  const channel = new Channel(dialTarget(options.address), serverCredentials(options.trustDomain, options.roots), channelOptions(options.trustDomain));
  try {
    const agent = createClient(AgentService, channel);
    const plugin = options.attestor.kind === "plugin" ? await options.attestor.plugin.begin() : undefined;
    const call = agent.attestAgent({ deadline: rpcTimeoutMs });
    try {
      const data = plugin
        ? { type: options.attestor.kind === "plugin" ? options.attestor.plugin.name : "", payload: plugin.payload }
        : { type: "join_token", payload: Buffer.from(options.attestor.kind === "join_token" ? options.attestor.token : "") };
      call.send({ step: { $case: "params", value: { data, params: { csr } } } });
      let result: { certChain: Buffer[]; reattestable: boolean } | undefined;
      for await (const msg of call) {
        if (msg.step?.$case === "challenge") {
          if (!plugin) throw new RpcError(Code.INTERNAL, "join token attestation does not support challenge/response");
          call.send({ step: { $case: "challengeResponse", value: await plugin.answer(msg.step.value) } });
        } else if (msg.step?.$case === "result") {
          const svid = msg.step.value.svid;
          if (!svid || svid.certChain.length === 0) throw new RpcError(Code.INTERNAL, "attestation result has no SVID");
          result = { certChain: svid.certChain, reattestable: msg.step.value.reattestable };
          call.end();
        }
      }
      if (!result) throw new RpcError(Code.INTERNAL, "attestation stream ended without a result");
      const bundle = await createClient(BundleService, channel).getBundle({ outputMask: undefined }, { deadline: rpcTimeoutMs });
      if (bundle.x509Authorities.length === 0) throw new RpcError(Code.INTERNAL, "server bundle has no X.509 authorities");
      return { svid: { chain: result.certChain, privateKey: key.privateKey, reattestable: result.reattestable }, bundle };
    } finally {
      plugin?.close();
      call.cancel();
    }
  } finally {
    channel.close();
  }
}

/** insecure_bootstrap: the server's leaf must carry exactly one URI SAN, `spiffe://<td>/spire/server`. */
function checkServerLeaf(address: string, trustDomain: TrustDomain): Promise<void> {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(i + 1));
  const expected = serverId(trustDomain);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ["h2"], servername: trustDomain.name, timeout: rpcTimeoutMs }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      const uris = raw ? (new X509Certificate(raw).subjectAltName ?? "").split(", ").filter((n) => n.startsWith("URI:")) : [];
      if (uris.length === 1 && uris[0] === `URI:${expected}`) resolve();
      else reject(new RpcError(Code.UNAVAILABLE, `insecure bootstrap: server certificate does not name ${expected} (found ${uris.join(", ") || "no URI SAN"})`));
    });
    socket.once("timeout", () => socket.destroy(new Error("timed out")));
    socket.once("error", (e) => reject(new RpcError(Code.UNAVAILABLE, `insecure bootstrap: cannot reach the server: ${e.message}`)));
  });
}
