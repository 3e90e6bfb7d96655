/**
 * The agent's spiffe_endpoint_socket: the node identity is the first X509-SVID a SPIFFE Workload
 * API hands out (go-spiffe's workloadapi.FetchX509SVID), addressed as go-spiffe addresses it
 * ("unix:///path" or "tcp://ip:port").
 */
import { createPrivateKey } from "node:crypto";
import { Channel, Metadata, credentials } from "@grpc/grpc-js";
import { createClient } from "@signet/plugin-sdk";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import type { NodeIdentity } from "./agent.js";
import { readElement } from "./der.js";

/** The maximum time one fetch may take. */
const fetchTimeoutMs = 30_000;

export async function fetchX509Svid(address: string, signal: AbortSignal): Promise<NodeIdentity> {
  const channel = new Channel(grpcTarget(address), credentials.createInsecure(), {});
  try {
    const client = createClient(SpiffeWorkloadAPIService, channel);
    const metadata = new Metadata();
    metadata.set("workload.spiffe.io", "true");
    for await (const response of client.fetchX509Svid({}, { metadata, signal, deadline: Date.now() + fetchTimeoutMs })) {
      const svid = response.svids[0];
      if (!svid) throw new Error("no SVIDs in response");
      return { certificates: splitDer(svid.x509Svid), privateKey: createPrivateKey({ key: svid.x509SvidKey, format: "der", type: "pkcs8" }) };
    }
    throw new Error("the Workload API closed the stream without an X509-SVID");
  } finally {
    channel.close();
  }
}

/** go-spiffe's address forms, as grpc-js targets. */
export function grpcTarget(address: string): string {
  const unix = /^unix:(?:\/\/)?(\/.*)$/.exec(address);
  if (unix) return `unix:${unix[1]}`;
  const tcp = /^tcp:\/\/([^/]+)$/.exec(address);
  if (tcp) return tcp[1]!;
  throw new Error(`workload endpoint socket URI must have a "tcp" or "unix" scheme: ${JSON.stringify(address)}`);
}

/** Concatenated DER certificates, one Buffer each. */
function splitDer(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { element, next } = readElement(bytes, offset, "X509-SVID certificate");
    out.push(Buffer.from(element.raw));
    offset = next;
  }
  if (out.length === 0) throw new Error("the X509-SVID has no certificates");
  return out;
}
