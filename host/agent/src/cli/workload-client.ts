/**
 * The CLI's connection to the agent's public socket: plaintext gRPC over
 * the Unix socket, every Workload API call carrying the
 * `workload.spiffe.io: true` header and, when a timeout is set, a deadline
 * (spire-agent's workloadClient.prepareContext). Failures read as grpc-go's.
 */
import { Channel, credentials, Metadata } from "@grpc/grpc-js";
import { type AsyncClient, type CallOptions, Code, createClient, isRpcError, RpcError } from "@signet/proto";
import { HealthService } from "@signet/proto/grpc/health/v1/health";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import { translateDialError } from "@signet/host-common";

export type WorkloadApi = AsyncClient<typeof SpiffeWorkloadAPIService>;
export type HealthApi = AsyncClient<typeof HealthService>;

export interface AgentClient {
  readonly workload: WorkloadApi;
  readonly health: HealthApi;
  /** Options for one Workload API call: the security header and the deadline. */
  callOptions(signal?: AbortSignal): CallOptions;
  /** grpc-go's reading of a failure of a call on this socket. */
  goError(e: unknown): unknown;
  close(): void;
}

/** Opens (lazily: the first call dials) a client for `socketPath`; `timeoutMs` 0 means no deadline. */
export function connectAgent(socketPath: string, timeoutMs = 0): AgentClient {
  const channel = new Channel(`unix:${socketPath}`, credentials.createInsecure(), {});
  return {
    workload: createClient(SpiffeWorkloadAPIService, channel),
    health: createClient(HealthService, channel),
    callOptions(signal) {
      const metadata = new Metadata();
      metadata.set("workload.spiffe.io", "true");
      return {
        metadata,
        ...(timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {}),
        ...(signal ? { signal } : {}),
      };
    },
    goError: (e) => goError(e, socketPath),
    close: () => channel.close(),
  };
}

/** Dial errors and deadlines as grpc-go words them; everything else unchanged. */
export function goError(e: unknown, socketPath: string): unknown {
  if (isRpcError(e) && e.code === Code.DEADLINE_EXCEEDED && /^Deadline exceeded/i.test(e.message)) {
    return new RpcError(Code.DEADLINE_EXCEEDED, "context deadline exceeded");
  }
  if (isRpcError(e) && e.code === Code.CANCELLED && /^Cancelled on client/i.test(e.message)) {
    return new RpcError(Code.CANCELLED, "context canceled");
  }
  return translateDialError(e, socketPath);
}
