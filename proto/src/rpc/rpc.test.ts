import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials, Channel, credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InitService } from "../../gen/spire/service/private/init/v1/init.js";
import { GRPCBrokerService, type ConnInfo } from "../../gen/plugin/grpc_broker.js";
import { HealthService, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health.js";
import { Code, RpcError, callCancelled, callDeadlineExceeded, createClient, implement, serviceNameOf } from "./index.js";

const abortReasons: unknown[] = [];

describe("rpc adapter over a Unix socket", () => {
  const dir = mkdtempSync(join(tmpdir(), "signet-rpc-"));
  const socket = join(dir, "s.sock");
  const server = new Server();
  let channel: Channel;

  beforeAll(async () => {
    const init = implement(InitService, {
      async init(req, ctx) {
        if (req.hostServiceNames.includes("wait")) {
          const signal = ctx.signal;
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          abortReasons.push(signal.reason);
          throw signal.reason;
        }
        if (req.hostServiceNames.includes("bad")) throw new RpcError(Code.INVALID_ARGUMENT, "bad host service");
        if (req.hostServiceNames.includes("boom")) throw new Error("exploded");
        return { pluginServiceNames: req.hostServiceNames.map((n) => `echo:${n}`) };
      },
    });
    const broker = implement(GRPCBrokerService, {
      async *startStream(requests) {
        for await (const info of requests) yield { ...info, serviceId: info.serviceId + 1 };
      },
    });
    const health = implement(HealthService, {
      async *watch(req) {
        yield { status: HealthCheckResponse_ServingStatus.SERVING };
        throw new RpcError(Code.NOT_FOUND, `unknown service ${req.service}`);
      },
    });
    for (const s of [init, broker, health]) server.addService(s.definition, s.implementation);
    await new Promise<void>((res, rej) =>
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())),
    );
    channel = new Channel(`unix:${socket}`, credentials.createInsecure(), {});
  });
  afterAll(() => {
    channel.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("derives the full service name from a definition", () => {
    expect(serviceNameOf(InitService)).toBe("spire.service.private.init.v1.Init");
  });

  it("round-trips a unary call", async () => {
    const client = createClient(InitService, channel);
    const res = await client.init({ hostServiceNames: ["a", "b"] });
    expect(res.pluginServiceNames).toEqual(["echo:a", "echo:b"]);
  });

  it("keeps the code of a thrown RpcError and maps other errors to Internal", async () => {
    const client = createClient(InitService, channel);
    await expect(client.init({ hostServiceNames: ["bad"] })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: "bad host service",
    });
    await expect(client.init({ hostServiceNames: ["boom"] })).rejects.toMatchObject({
      code: Code.INTERNAL,
      message: "exploded",
    });
  });

  it("answers Unimplemented for methods left out", async () => {
    const client = createClient(InitService, channel);
    await expect(client.deinit({})).rejects.toBeInstanceOf(RpcError);
    await expect(client.deinit({})).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
  });

  it("streams both ways on a bidi call", async () => {
    const client = createClient(GRPCBrokerService, channel);
    const call = client.startStream();
    const seen: ConnInfo[] = [];
    call.send({ serviceId: 1, network: "unix", address: "/a", knock: undefined });
    call.send({ serviceId: 5, network: "unix", address: "/b", knock: undefined });
    call.end();
    for await (const info of call) seen.push(info);
    expect(seen.map((i) => [i.serviceId, i.address])).toEqual([
      [2, "/a"],
      [6, "/b"],
    ]);
  });

  it("delivers messages then the error status of a server stream", async () => {
    const client = createClient(HealthService, channel);
    const got: number[] = [];
    const run = async () => {
      for await (const r of client.watch({ service: "x" })) got.push(r.status);
    };
    await expect(run()).rejects.toMatchObject({ code: Code.NOT_FOUND, message: "unknown service x" });
    expect(got).toEqual([HealthCheckResponse_ServingStatus.SERVING]);
  });

  it("tells a handler whether its caller's deadline passed or the caller cancelled", async () => {
    const client = createClient(InitService, channel);
    await expect(client.init({ hostServiceNames: ["wait"] }, { deadline: new Date(Date.now() + 200) })).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED });
    const stop = new AbortController();
    const cancelled = client.init({ hostServiceNames: ["wait"] }, { signal: stop.signal, deadline: new Date(Date.now() + 60_000) });
    setTimeout(() => stop.abort(), 100);
    await expect(cancelled).rejects.toMatchObject({ code: Code.CANCELLED });
    await expect.poll(() => abortReasons.length).toBe(2);
    expect(abortReasons).toEqual([callDeadlineExceeded, callCancelled]);
    expect(abortReasons.map((r) => (r as RpcError).message)).toEqual(["context deadline exceeded", "context canceled"]);
  });

  it("honours a deadline", async () => {
    const client = createClient(InitService, channel);
    await expect(client.init({ hostServiceNames: [] }, { deadline: new Date(Date.now() - 1) })).rejects.toMatchObject({
      code: Code.DEADLINE_EXCEEDED,
    });
  });
});
