import type { Channel } from "@grpc/grpc-js";

/**
 * What a plugin learns at Init: which host services the host offers, and a
 * connection to them (dialed through broker id 1 on first use).
 */
export interface HostConnection {
  /** Full gRPC names of the host services offered, e.g. "spire.hostservice.common.metrics.v1.Metrics". */
  readonly offered: ReadonlySet<string>;
  /** The channel to the host's service server. Rejects if the host announced none. */
  channel(): Promise<Channel>;
}
