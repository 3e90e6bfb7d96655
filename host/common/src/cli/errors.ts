/**
 * How a command failure reads on stderr. SPIRE's adapter prints
 * "Error: " + err.Error(); gRPC failures read as grpc-go's status errors.
 */
import { isRpcError } from "@signet/proto";

/** A failure whose message is the whole line after "Error: ". */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** Go's fmt.Errorf("<prefix>: %w", err). */
export function wrap(prefix: string, e: unknown): CliError {
  return new CliError(`${prefix}: ${errorText(e)}`);
}

/** err.Error() as the Go CLI would print it. */
export function errorText(e: unknown): string {
  if (isRpcError(e)) return `rpc error: code = ${e.codeName} desc = ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Node's errno codes in the words Go's syscall package uses. */
const errnoText: Record<string, string> = {
  ENOENT: "no such file or directory",
  ECONNREFUSED: "connection refused",
  EACCES: "permission denied",
  ENOTSOCK: "socket operation on non-socket",
  ENAMETOOLONG: "file name too long",
  ENOTDIR: "not a directory",
};

export function errnoWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : errnoText[code];
}

/** os.Open's error: "open <path>: no such file or directory". */
export function fileErrorText(op: string, file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return `${op} ${file}: ${errnoWords(code) ?? (e instanceof Error ? e.message : String(e))}`;
}
