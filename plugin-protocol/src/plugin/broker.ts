import { Channel, credentials } from "@grpc/grpc-js";
import { type ServiceRegistration, implement, noChannelz, unlimitedMessageSize } from "@signet/proto";
import { type ConnInfo, GRPCBrokerService } from "@signet/proto/plugin/grpc_broker";

/** How long an announced connection waits to be dialed, and a dial waits for its announcement (go-plugin's value). */
export const brokerTimeoutMs = 5_000;

/**
 * The plugin side of go-plugin's broker. The host announces listeners on the
 * StartStream call it keeps open; SPIRE announces its host services as id 1
 * just before Init. An announcement nobody dials within 5 s is dropped.
 */
export class Broker {
  private readonly pending = new Map<number, { info: ConnInfo; timer: NodeJS.Timeout }>();
  private readonly waiters = new Map<number, Array<(info: ConnInfo) => void>>();

  readonly registration: ServiceRegistration = implement(GRPCBrokerService, {
    startStream: (requests) => this.receive(requests),
  });

  private async *receive(requests: AsyncIterable<ConnInfo>): AsyncIterable<ConnInfo> {
    for await (const info of requests) this.announce(info);
    // The host closed its side: nothing more will be announced.
  }

  private announce(info: ConnInfo): void {
    const waiting = this.waiters.get(info.serviceId);
    const resolve = waiting?.shift();
    if (resolve) {
      resolve(info);
      return;
    }
    const old = this.pending.get(info.serviceId);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => this.pending.delete(info.serviceId), brokerTimeoutMs);
    timer.unref();
    this.pending.set(info.serviceId, { info, timer });
  }

  /** Waits (up to 5 s) for the host to announce `id`, then connects to it. */
  async dial(id: number): Promise<Channel> {
    const info = await this.take(id);
    const target = info.network === "unix" ? `unix:${info.address}` : info.address;
    if (info.network !== "unix" && info.network !== "tcp") {
      throw new Error(`broker connection ${id} announced unknown network "${info.network}"`);
    }
    return new Channel(target, credentials.createInsecure(), { ...unlimitedMessageSize, ...noChannelz });
  }

  private take(id: number): Promise<ConnInfo> {
    const ready = this.pending.get(id);
    if (ready) {
      clearTimeout(ready.timer);
      this.pending.delete(id);
      return Promise.resolve(ready.info);
    }
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      const timer = setTimeout(() => {
        const i = list.indexOf(onInfo);
        if (i >= 0) list.splice(i, 1);
        reject(new Error(`timeout waiting for the host to announce broker connection ${id}`));
      }, brokerTimeoutMs);
      const onInfo = (info: ConnInfo) => {
        clearTimeout(timer);
        resolve(info);
      };
      list.push(onInfo);
      this.waiters.set(id, list);
    });
  }
}
