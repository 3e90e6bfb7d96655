/** gRPC dial failures in grpc-go's words, so scripts matching on SPIRE's CLI output keep working. */
import { Code, isRpcError, RpcError } from "@signet/proto";
import { errnoWords } from "./errors.js";

export function translateDialError(e: unknown, socketPath: string): unknown {
  if (!isRpcError(e) || e.code !== Code.UNAVAILABLE) return e;
  const m = /connect (E[A-Z]+)/.exec(e.message);
  if (!m) return e;
  const words = errnoWords(m[1]) ?? m[1];
  return new RpcError(
    Code.UNAVAILABLE,
    `connection error: desc = "transport: Error while dialing: dial unix ${socketPath}: connect: ${words}"`,
  );
}
