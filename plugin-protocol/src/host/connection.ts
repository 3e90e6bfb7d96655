import { connect as netConnect } from "node:net";
import { Channel, credentials } from "@grpc/grpc-js";
import { type AsyncClient, type BidiCall, Code, H2UnaryClient, RpcError, createClient, serviceNames, noChannelz, unlimitedMessageSize } from "@signet/proto";
import { type ConnInfo, GRPCBrokerService } from "@signet/proto/plugin/grpc_broker";
import { GRPCControllerService } from "@signet/proto/plugin/grpc_controller";
import { GRPCStdioService } from "@signet/proto/plugin/grpc_stdio";
import { ConfigService } from "@signet/proto/spire/service/common/config/v1/config";
import { InitService } from "@signet/proto/spire/service/private/init/v1/init";
import type { ProtocolLog } from "../log.js";
import type { Handshake } from "./handshake.js";
import type { HostServiceServer } from "./host-services.js";

/** SDK constant: the broker id under which host services are announced. */
const hostServiceBrokerId = 1;

/**
 * A gRPC connection to one running plugin process, set up as SPIRE does:
 * broker stream held open with host services announced as id 1, stdio
 * drained, Init exchanged. What it serves is in `pluginServices`.
 *
 * Unary calls (nearly every call a host makes) go over a lean HTTP/2
 * session of their own (`H2UnaryClient`); streams (broker, stdio, node
 * attestation, upstream subscriptions) over a grpc-js channel. Both are
 * plain gRPC to the plugin, which sees two connections.
 */
export class PluginConnection {
  readonly channel: Channel;
  private readonly unary: H2UnaryClient;
  private broker: BidiCall<ConnInfo, ConnInfo> | undefined;
  private stdio: AbortController | undefined;
  pluginServices: ReadonlySet<string> = new Set();

  constructor(
    handshake: Handshake,
    private readonly log: ProtocolLog,
  ) {
    const target = handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
    this.channel = new Channel(target, credentials.createInsecure(), { ...unlimitedMessageSize, ...noChannelz });
    this.unary = new H2UnaryClient({ target, connect: () => dial(handshake) });
  }

  client<S extends Parameters<typeof createClient>[0]>(definition: S): AsyncClient<S> {
    return createClient(definition, this.channel, this.unary) as AsyncClient<S>;
  }

  /** Broker + stdio + Init. Returns the service names the plugin says it serves. */
  async initialize(hostServices: HostServiceServer, deadlineMs: number): Promise<ReadonlySet<string>> {
    this.broker = this.client(GRPCBrokerService).startStream();
    void this.drainBroker(this.broker);
    // Announce right before Init: the plugin forgets an announcement after 5 s.
    this.broker.send({ serviceId: hostServiceBrokerId, network: "unix", address: hostServices.address, knock: undefined });
    const res = await this.client(InitService).init(
      { hostServiceNames: [...hostServices.names] },
      { deadline: deadlineMs },
    );
    this.pluginServices = new Set(res.pluginServiceNames);
    // Plugins buffer what they print until a host streams it, so this can wait until the start-up calls are done.
    this.drainStdio();
    return this.pluginServices;
  }

  hasConfig(): boolean {
    return this.pluginServices.has(serviceNames.config);
  }

  async configure(trustDomain: string, text: string, deadlineMs: number): Promise<void> {
    await this.client(ConfigService).configure(
      { coreConfiguration: { trustDomain }, hclConfiguration: text },
      { deadline: deadlineMs },
    );
  }

  async validate(trustDomain: string, text: string, deadlineMs: number): Promise<{ valid: boolean; notes: string[] }> {
    try {
      return await this.client(ConfigService).validate(
        { coreConfiguration: { trustDomain }, hclConfiguration: text },
        { deadline: deadlineMs },
      );
    } catch (e) {
      // Plugins built before Validate existed: no opinion.
      if (e instanceof RpcError && e.code === Code.UNIMPLEMENTED) return { valid: true, notes: [] };
      throw e;
    }
  }

  /** Deinit (Unimplemented counts as done), then close the broker, then ask the process to exit. */
  async shutdown(deinitMs: number): Promise<void> {
    try {
      await this.client(InitService).deinit({}, { deadline: deinitMs });
    } catch (e) {
      if (!(e instanceof RpcError && e.code === Code.UNIMPLEMENTED)) {
        this.log.log("warn", "Plugin deinit failed", { error: (e as Error).message });
      }
    }
    this.broker?.end();
    try {
      await this.client(GRPCControllerService).shutdown({}, { deadline: 2_000 });
    } catch {
      // the process may be gone already; the caller escalates to signals
    }
  }

  close(): void {
    this.stdio?.abort();
    this.broker?.cancel();
    this.channel.close();
    this.unary.close();
  }

  private async drainBroker(call: BidiCall<ConnInfo, ConnInfo>): Promise<void> {
    try {
      for await (const info of call) {
        // Plugins do not announce listeners to SPIRE hosts; note and ignore.
        this.log.log("debug", "Plugin announced a broker connection", { service_id: info.serviceId });
      }
    } catch {
      // ends when the plugin goes away
    }
  }

  private drainStdio(): void {
    this.stdio = new AbortController();
    const stream = this.client(GRPCStdioService).streamStdio({}, { signal: this.stdio.signal });
    void (async () => {
      try {
        for await (const chunk of stream) {
          const text = chunk.data.toString("utf8").trimEnd();
          if (text) this.log.log("debug", "Plugin output", { channel: chunk.channel === 1 ? "stdout" : "stderr", output: text });
        }
      } catch {
        // Unimplemented, Unavailable or cancelled: all fine, as for SPIRE
      }
    })();
  }
}

/** The plugin's listener from its handshake: a Unix socket path, or host:port for tcp. */
function dial(handshake: Handshake) {
  if (handshake.network === "unix") return netConnect(handshake.address);
  const colon = handshake.address.lastIndexOf(":");
  const host = handshake.address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return netConnect({ host, port: Number(handshake.address.slice(colon + 1)) });
}
