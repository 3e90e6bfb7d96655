/**
 * The agent half: SPIRE's k8s_psat AidAttestation. The projected service account token is read
 * afresh for every attestation (kubelet rotates the file well before the token expires) and sent
 * with the cluster name as the only message; the server half never challenges.
 */
import { open } from "node:fs/promises";
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { Challenge, PayloadOrChallengeResponse } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import type { AgentConfig } from "./config.js";
import { encodeAttestationData } from "./payload.js";
import { maxPayloadBytes } from "./server.js";

/** Larger token files are refused: the server half would refuse the payload anyway. */
export const maxTokenBytes = maxPayloadBytes - 1024;

export interface AgentDeps {
  readonly config: () => AgentConfig | undefined;
}

export function agentAidAttestation(deps: AgentDeps) {
  return async function* aidAttestation(_challenges: AsyncIterable<Challenge>, _ctx: CallContext): AsyncGenerator<PayloadOrChallengeResponse> {
    const config = deps.config();
    if (!config) throw PluginError.failedPrecondition("not configured");
    let token: string;
    try {
      token = await loadToken(config.tokenPath);
    } catch (e) {
      throw PluginError.invalidArgument(`unable to load token from ${config.tokenPath}: ${(e as Error).message}`);
    }
    yield { data: { $case: "payload", value: encodeAttestationData({ cluster: config.cluster, token }) } };
  };
}

/** The token file's text, as SPIRE reads it (whole, unmodified), refusing empty or oversized files. */
export async function loadToken(path: string): Promise<string> {
  const file = await open(path, "r").catch((e: unknown) => {
    throw new Error(goOpenError(path, e));
  });
  try {
    const buf = Buffer.alloc(maxTokenBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxTokenBytes) throw new Error(`token file is larger than ${maxTokenBytes} bytes`);
    }
    if (length === 0) throw new Error(`${JSON.stringify(path)} is empty`);
    return buf.subarray(0, length).toString("utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") throw new Error(`read ${path}: is a directory`);
    throw e;
  } finally {
    await file.close();
  }
}

function goOpenError(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
  return `open ${path}: ${reason}`;
}
