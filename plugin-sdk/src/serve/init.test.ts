/**
 * The SDK's Init service: host services are dialled during Init (the host's
 * broker announcement is only kept 5 s), once, and closed at Deinit.
 */
import { describe, expect, it } from "vitest";
import type { Broker, HostConnection } from "@signet/plugin-protocol";
import { createLogger } from "../log/logger.js";
import { hostServiceBrokerId, initService } from "./init.js";

function fakeBroker() {
  const dials: number[] = [];
  let closed = 0;
  const channel = { close: () => void closed++ };
  const broker = {
    dial: (id: number) => {
      dials.push(id);
      return Promise.resolve(channel);
    },
  } as unknown as Broker;
  return { broker, dials, closed: () => closed, channel };
}

const quiet = createLogger({ write: () => {} });
type InitImpl = { init(req: { hostServiceNames: string[] }): Promise<{ pluginServiceNames: string[] }>; deinit(req: object): Promise<object> };
const implOf = (reg: ReturnType<typeof initService>) => reg.asyncImplementation as unknown as InitImpl;

describe("Init", () => {
  it("dials the host services during Init when the host offers some, once, and closes them at Deinit", async () => {
    const b = fakeBroker();
    let host: HostConnection | undefined;
    const init = implOf(initService([], b.broker, { onInit: (h) => void (host = h) }, quiet));
    await init.init({ hostServiceNames: ["spire.hostservice.server.agentstore.v1.AgentStore"] });
    expect(b.dials).toEqual([hostServiceBrokerId]);
    expect(await host!.channel()).toBe(b.channel);
    expect(await host!.channel()).toBe(b.channel);
    expect(b.dials).toEqual([hostServiceBrokerId]);
    await init.deinit({});
    expect(b.closed()).toBe(1);
  });

  it("dials nothing when no host service is offered", async () => {
    const b = fakeBroker();
    const init = implOf(initService([], b.broker, {}, quiet));
    expect(await init.init({ hostServiceNames: [] })).toEqual({ pluginServiceNames: [] });
    expect(b.dials).toEqual([]);
  });

  it("refuses Init when a required host service is not offered", async () => {
    const b = fakeBroker();
    const init = implOf(initService([], b.broker, { requiredHostServices: ["a.B"] }, quiet));
    await expect(init.init({ hostServiceNames: ["c.D"] })).rejects.toMatchObject({ message: "required host service a.B is not offered by the host" });
  });
});
