/** A grpc-js server on a temporary Unix socket serving the given services, plaintext like SPIRE's local API. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import type { ServiceRegistration } from "@signet/proto";

export interface UnixApiServer {
  readonly socketPath: string;
  stop(): Promise<void>;
}

export async function startUnixApiServer(services: readonly ServiceRegistration[]): Promise<UnixApiServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "signet-cli-"));
  const socketPath = path.join(dir, "api.sock");
  const server = new Server();
  for (const s of services) server.addService(s.definition, s.implementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    socketPath,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
