import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { type ServiceRegistration, noChannelz, unlimitedMessageSize } from "@signet/proto";

/**
 * The gRPC server a host runs for one plugin's host-service calls, announced
 * to the plugin as broker connection 1. One server per plugin, as SPIRE does,
 * so every call is known to come from that plugin.
 */
export class HostServiceServer {
  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly address: string,
    readonly names: readonly string[],
  ) {}

  static async start(services: readonly ServiceRegistration[], label: string): Promise<HostServiceServer> {
    const dir = mkdtempSync(join(tmpdir(), "signet-host-"));
    const address = join(dir, `${label.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}.sock`);
    const server = new Server({ ...unlimitedMessageSize, ...noChannelz });
    for (const s of services) server.addService(s.definition, s.implementation);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${address}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    return new HostServiceServer(server, dir, address, services.map((s) => s.name).sort());
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
