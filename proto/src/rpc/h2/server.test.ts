import { setTimeout as sleep } from "node:timers/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream, connect as h2connect, constants } from "node:http2";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Client, Metadata, credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../client.js";
import { Code, RpcError } from "../errors.js";
import { type ServiceRegistration, callCancelled, callDeadlineExceeded, implement } from "../server.js";
import type { AsyncService, CallContext } from "../types.js";
import { frameMessage } from "./frame.js";
import { RequestQueue } from "./request-queue.js";
import { H2Server, type H2ServerOptions, defaultMaxReceiveMessageBytes } from "./server.js";

/** Messages are JSON, so tests read what crossed the wire; `Bytes` methods carry raw bytes. */
type Msg = { readonly n?: number; readonly text?: string; readonly fill?: number };
const json = {
  requestSerialize: (v: Msg) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg,
  responseSerialize: (v: Msg) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer): Msg => JSON.parse(b.toString()) as Msg,
};
const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const m = <S extends boolean, R extends boolean>(name: string, requestStream: S, responseStream: R) =>
  ({ path: `/test.Svc/${name}`, requestStream, responseStream, ...json }) as const;

const TestService = {
  unary: m("Unary", false, false),
  serverStream: m("ServerStream", false, true),
  clientStream: m("ClientStream", true, false),
  bidi: m("Bidi", true, true),
  fail: m("Fail", false, false),
  failStream: m("FailStream", false, true),
  wait: m("Wait", false, false),
  endless: m("Endless", false, true),
  many: m("Many", false, true),
  slow: m("Slow", false, false),
  sumSlowly: m("SumSlowly", true, false),
  readTwo: m("ReadTwo", true, true),
  missing: m("Missing", false, false),
  echoBytes: { path: "/test.Svc/EchoBytes", requestStream: false, responseStream: false, ...bytes } as const,
  bigStream: { path: "/test.Svc/BigStream", requestStream: true, responseStream: false, ...bytes } as const,
} as const;

/** What handlers saw, for the tests to check. */
const seen = {
  token: [] as string[],
  peer: "",
  waitReasons: [] as unknown[],
  endlessReasons: [] as unknown[],
  endlessFinally: 0,
  produced: 0,
  clientStreamCount: 0,
  readTwoAfter: 0,
};

const impl: Partial<AsyncService<typeof TestService>> = {
  async unary(req, ctx) {
    seen.token.push(...ctx.metadata.get("x-token").map(String));
    seen.peer = ctx.peer;
    return { n: (req.n ?? 0) + 1, text: req.text };
  },
  async *serverStream(req) {
    for (let i = 0; i < (req.n ?? 0); i++) yield { n: i };
  },
  async clientStream(requests) {
    let sum = 0;
    let count = 0;
    let last = -1;
    for await (const r of requests) {
      if ((r.n ?? 0) !== last + 1) throw new RpcError(Code.DATA_LOSS, `out of order: ${r.n} after ${last}`);
      last = r.n ?? 0;
      sum += r.n ?? 0;
      count++;
    }
    seen.clientStreamCount = count;
    return { n: sum, text: String(count) };
  },
  async *bidi(requests) {
    for await (const r of requests) yield { n: (r.n ?? 0) * 2 };
  },
  async fail(req) {
    if (req.text === "plain") throw new Error("plain failure");
    const md = new Metadata();
    md.set("x-detail", "why");
    md.set("x-blob-bin", Buffer.from([0, 1, 2, 255]));
    throw new RpcError(Code.FAILED_PRECONDITION, "kein Schlüssel: 100% sicher\nzweite Zeile", md);
  },
  async *failStream() {
    yield { n: 1 };
    yield { n: 2 };
    throw new RpcError(Code.RESOURCE_EXHAUSTED, "später: ∅");
  },
  async wait(_req, ctx) {
    const signal = ctx.signal;
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    seen.waitReasons.push(signal.reason);
    throw signal.reason;
  },
  async *endless(_req, ctx: CallContext) {
    const signal = ctx.signal;
    try {
      for (let i = 0; ; i++) {
        yield { n: i };
        await sleep(5);
      }
    } finally {
      seen.endlessFinally++;
      // The signal is aborted by the time the pump returns us.
      seen.endlessReasons.push(signal.reason);
    }
  },
  async *many(req) {
    seen.produced = 0;
    for (let i = 0; i < (req.n ?? 0); i++) {
      seen.produced++;
      yield { n: i, text: "x".repeat(req.fill ?? 0) };
    }
  },
  async slow(req) {
    await sleep(req.n ?? 300);
    return { text: "slow done" };
  },
  async sumSlowly(requests) {
    let sum = 0;
    let count = 0;
    for await (const r of requests) {
      sum += r.n ?? 0;
      if (++count % 500 === 0) await sleep(1);
    }
    return { n: sum, text: String(count) };
  },
  async *readTwo(requests) {
    let read = 0;
    for await (const r of requests) {
      yield { n: r.n };
      if (++read === 2) break;
    }
    // The request side is left; the response side must go on.
    await sleep(20);
    for (let i = 0; i < 3; i++) yield { n: 100 + i };
    seen.readTwoAfter++;
  },
  async echoBytes(req) {
    return req;
  },
  async bigStream(requests) {
    let total = 0;
    let count = 0;
    for await (const r of requests) {
      total += r.length;
      count++;
    }
    return Buffer.from(JSON.stringify({ total, count }));
  },
};

const dir = mkdtempSync(join(tmpdir(), "signet-h2s-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let socketCount = 0;
const socketPath = () => join(dir, `s${socketCount++}.sock`);

async function startServer(registrations: readonly ServiceRegistration[] = [implement(TestService, impl)], options: H2ServerOptions = { maxReceiveMessageBytes: Number.POSITIVE_INFINITY }) {
  const path = socketPath();
  const server = new H2Server(registrations, options);
  await server.listen(path);
  return { path, server };
}

const unlimited = { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 };
const channelTo = (path: string) => new Channel(`unix:${path}`, credentials.createInsecure(), unlimited);

/** One raw HTTP/2 exchange, to see exactly what the server puts on the wire. */
async function rawCall(path: string, headers: OutgoingHttpHeaders, body: readonly Buffer[]) {
  const session = h2connect("http://localhost", { createConnection: () => netConnect(path) });
  session.on("error", () => {});
  try {
    const stream = session.request({ ":method": "POST", ":path": "/test.Svc/Unary", "content-type": "application/grpc", te: "trailers", ...headers });
    let response: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      response = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    for (const b of body) stream.write(b);
    stream.end();
    await new Promise<void>((resolve) => stream.on("close", resolve));
    stream.on("error", () => {});
    return { response, trailers, data: Buffer.concat(chunks), rstCode: stream.rstCode };
  } finally {
    session.close();
  }
}

const frameJson = (v: Msg) => frameMessage(Buffer.from(JSON.stringify(v)));

describe("H2Server with a grpc-js client", () => {
  let path: string;
  let server: H2Server;
  let channel: Channel;
  let client: ReturnType<typeof createClient<typeof TestService>>;
  beforeAll(async () => {
    ({ path, server } = await startServer());
    channel = channelTo(path);
    client = createClient(TestService, channel);
  });
  afterAll(() => {
    channel.close();
    server.forceShutdown();
  });

  it("answers a unary call and shows the handler its metadata and peer", async () => {
    const md = new Metadata();
    md.set("x-token", "t0k3n");
    expect(await client.unary({ n: 41, text: "grüße" }, { metadata: md })).toEqual({ n: 42, text: "grüße" });
    expect(seen.token).toEqual(["t0k3n"]);
    expect(seen.peer).toBe("unknown");
  });

  it("streams a server's answer, also an empty one", async () => {
    const got: Msg[] = [];
    for await (const r of client.serverStream({ n: 5 })) got.push(r);
    expect(got).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    const none: Msg[] = [];
    for await (const r of client.serverStream({ n: 0 })) none.push(r);
    expect(none).toEqual([]);
  });

  it("reads a client's stream, also an empty one, and many messages in order", async () => {
    expect(await client.clientStream([{ n: 0 }, { n: 1 }, { n: 2 }])).toEqual({ n: 3, text: "3" });
    expect(await client.clientStream([])).toEqual({ n: 0, text: "0" });
    const many = Array.from({ length: 5000 }, (_, n) => ({ n }));
    expect(await client.clientStream(many)).toEqual({ n: (4999 * 5000) / 2, text: "5000" });
    expect(await client.sumSlowly(many)).toEqual({ n: (4999 * 5000) / 2, text: "5000" });
  });

  it("runs a bidi call, also an empty one", async () => {
    const call = client.bidi();
    const got: Msg[] = [];
    for (let i = 1; i <= 3; i++) call.send({ n: i });
    call.end();
    for await (const r of call) got.push(r);
    expect(got).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }]);
    const empty = client.bidi();
    empty.end();
    const none: Msg[] = [];
    for await (const r of empty) none.push(r);
    expect(none).toEqual([]);
  });

  it("keeps answering when a bidi handler stops reading its requests", async () => {
    const call = client.readTwo();
    for (let i = 0; i < 50; i++) call.send({ n: i });
    const got: Msg[] = [];
    for await (const r of call) got.push(r);
    expect(got).toEqual([{ n: 0 }, { n: 1 }, { n: 100 }, { n: 101 }, { n: 102 }]);
    expect(seen.readTwoAfter).toBe(1);
    call.end();
  });

  it("sends an RpcError's code, non-ASCII message and metadata as trailers", async () => {
    const err = await client.fail({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    const e = err as RpcError;
    expect(e.code).toBe(Code.FAILED_PRECONDITION);
    expect(e.message).toBe("kein Schlüssel: 100% sicher\nzweite Zeile");
    expect(e.metadata?.get("x-detail")).toEqual(["why"]);
    expect(e.metadata?.get("x-blob-bin")).toEqual([Buffer.from([0, 1, 2, 255])]);
  });

  it("turns any other error into INTERNAL with its message", async () => {
    await expect(client.fail({ text: "plain" })).rejects.toMatchObject({ code: Code.INTERNAL, message: "plain failure" });
  });

  it("ends a stream that fails midway with its status after the messages", async () => {
    const got: Msg[] = [];
    const err = await (async () => {
      for await (const r of client.failStream({})) got.push(r);
    })().catch((e: unknown) => e);
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(err).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: "später: ∅" });
  });

  it("answers UNIMPLEMENTED for a method missing from the implementation and for unknown paths", async () => {
    await expect(client.missing({})).rejects.toMatchObject({ code: Code.UNIMPLEMENTED, message: "method /test.Svc/Missing not implemented" });
    const raw = new Client("unused", credentials.createInsecure(), { channelOverride: channel });
    const call = (p: string) =>
      new Promise<{ code: number; details: string }>((resolve) =>
        raw.makeUnaryRequest(p, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (e) => resolve({ code: e?.code ?? 0, details: e?.details ?? "" })),
      );
    expect(await call("/nope.Svc/Do")).toEqual({ code: status.UNIMPLEMENTED, details: "unknown service nope.Svc" });
    expect(await call("/test.Svc/Nope")).toEqual({ code: status.UNIMPLEMENTED, details: "unknown method Nope for service test.Svc" });
  });

  it("aborts the handler's signal with the deadline reason when the caller's deadline passes", async () => {
    seen.waitReasons.length = 0;
    await expect(client.wait({}, { deadline: 150 })).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED });
    await sleep(50);
    expect(seen.waitReasons).toEqual([callDeadlineExceeded]);
  });

  it("aborts the handler's signal as cancelled and returns its iterator when the caller cancels mid-stream", async () => {
    seen.endlessReasons.length = 0;
    const before = seen.endlessFinally;
    const got: Msg[] = [];
    for await (const r of client.endless({})) {
      got.push(r);
      if (got.length === 3) break; // cancels the call
    }
    await sleep(100);
    expect(got).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(seen.endlessFinally).toBe(before + 1);
    expect(seen.endlessReasons).toEqual([callCancelled]);
  });

  it("carries 20 MB each way", async () => {
    const big = Buffer.alloc(20 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const started = Date.now();
    const back = await client.echoBytes(big);
    expect(back.equals(big)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(JSON.parse((await client.bigStream([big, big.subarray(1)])).toString())).toEqual({ total: 2 * big.length - 1, count: 2 });
  });

  it("refuses a request message over its limit (default 4 MiB) with ResourceExhausted from the length prefix alone", async () => {
    const limited = await startServer(undefined, {});
    const channel = channelTo(limited.path);
    try {
      const c = createClient(TestService, channel);
      const over = Buffer.alloc(defaultMaxReceiveMessageBytes + 1);
      await expect(c.echoBytes(over)).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: `Received message larger than max (${over.length} vs. ${defaultMaxReceiveMessageBytes})` });
      expect((await c.echoBytes(Buffer.alloc(defaultMaxReceiveMessageBytes))).length).toBe(defaultMaxReceiveMessageBytes);
      // A prefix claiming 1 GB is refused before its body: the status comes back while the body is still being sent.
      const prefix = Buffer.from([0, 0x40, 0, 0, 0]);
      const answer = await rawCall(limited.path, {}, [prefix, Buffer.alloc(64 * 1024)]);
      expect(answer.trailers["grpc-status"] ?? answer.response["grpc-status"]).toBe(String(Code.RESOURCE_EXHAUSTED));
    } finally {
      channel.close();
      limited.server.forceShutdown();
    }
  });

  it("holds a server stream back while the reader is slow, losing nothing and keeping order", async () => {
    const total = 10_000;
    const iterator = client.many({ n: total, fill: 1000 })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ n: 0 });
    await sleep(300);
    // ~10 MB in all; without backpressure the handler would have produced everything by now.
    expect(seen.produced).toBeLessThan(total);
    let expected = 1;
    for (;;) {
      const r = await iterator.next();
      if (r.done) break;
      expect(r.value.n).toBe(expected++);
      if (expected % 2000 === 0) await sleep(20);
    }
    expect(expected).toBe(total);
  });
});

describe("H2Server on the wire", () => {
  let path: string;
  let server: H2Server;
  beforeAll(async () => {
    ({ path, server } = await startServer());
  });
  afterAll(() => server.forceShutdown());

  it("answers a unary call with headers, one message and grpc-status 0 trailers", async () => {
    const r = await rawCall(path, {}, [frameJson({ n: 1 })]);
    expect(r.response[":status"]).toBe(200);
    expect(r.response["content-type"]).toBe("application/grpc");
    expect(r.response["grpc-status"]).toBeUndefined();
    expect(r.data.equals(frameJson({ n: 2 }))).toBe(true);
    expect(r.trailers["grpc-status"]).toBe("0");
    expect(r.trailers["grpc-message"]).toBeUndefined();
  });

  it("sends an error before any message as trailers-only, percent-encoding the message", async () => {
    const r = await rawCall(path, { ":path": "/test.Svc/Fail" }, [frameJson({})]);
    expect(r.response[":status"]).toBe(200);
    expect(r.response["grpc-status"]).toBe(String(Code.FAILED_PRECONDITION));
    expect(r.response["grpc-message"]).toBe("kein Schl%C3%BCssel: 100%25 sicher%0Azweite Zeile");
    expect(r.response["x-detail"]).toBe("why");
    expect(r.data.length).toBe(0);
  });

  it("answers DEADLINE_EXCEEDED on its own when grpc-timeout passes", async () => {
    seen.waitReasons.length = 0;
    const started = Date.now();
    const r = await rawCall(path, { ":path": "/test.Svc/Wait", "grpc-timeout": "100m" }, [frameJson({})]);
    expect(r.response["grpc-status"]).toBe(String(Code.DEADLINE_EXCEEDED));
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    await sleep(20);
    expect(seen.waitReasons).toEqual([callDeadlineExceeded]);
  });

  it("refuses a malformed grpc-timeout", async () => {
    const r = await rawCall(path, { "grpc-timeout": "soon" }, [frameJson({})]);
    expect(r.response["grpc-status"]).toBe(String(Code.INTERNAL));
  });

  it("answers 415 to a request that is not gRPC, and 405 to one that is not a POST", async () => {
    const r = await rawCall(path, { "content-type": "application/json" }, [Buffer.from("{}")]);
    expect(r.response[":status"]).toBe(415);
    const g = await rawCall(path, { ":method": "GET" }, []);
    expect(g.response[":status"]).toBe(405);
    expect((await rawCall(path, { "content-type": "application/grpcx" }, [frameJson({})])).response[":status"]).toBe(415);
    expect((await rawCall(path, { "content-type": "application/grpc+proto" }, [frameJson({ n: 1 })])).trailers["grpc-status"]).toBe("0");
  });

  it("refuses a unary request of zero or two messages, a cut message and a compressed one with INTERNAL", async () => {
    for (const body of [[], [frameJson({ n: 1 }), frameJson({ n: 2 })], [frameJson({ n: 1 }).subarray(0, 7)], [Buffer.from([1, 0, 0, 0, 2, 0x7b, 0x7d])]]) {
      const r = await rawCall(path, {}, body);
      expect(r.response["grpc-status"] ?? r.trailers["grpc-status"]).toBe(String(Code.INTERNAL));
      expect(r.data.length).toBe(0);
    }
  });

  it("refuses a request it cannot parse with INTERNAL", async () => {
    const r = await rawCall(path, {}, [frameMessage(Buffer.from("not json"))]);
    expect(r.response["grpc-status"]).toBe(String(Code.INTERNAL));
  });

  it("sends its status to a client-streaming peer that is still sending, and keeps reading until it half-closes", async () => {
    const session = h2connect("http://localhost", { createConnection: () => netConnect(path) });
    session.on("error", () => {});
    const stream = session.request({ ":method": "POST", ":path": "/test.Svc/ClientStream", "content-type": "application/grpc" });
    stream.on("error", () => {});
    stream.resume();
    const status = new Promise<string | undefined>((resolve) => {
      stream.on("response", (h) => h["grpc-status"] !== undefined && resolve(h["grpc-status"] as string));
      stream.on("trailers", (t) => resolve(t["grpc-status"] as string));
    });
    stream.write(frameJson({ n: 5 })); // out of order: the handler fails at once
    expect(await status).toBe(String(Code.DATA_LOSS));
    // Still sending after the status: the server drops it and the stream ends cleanly when we do.
    stream.write(frameMessage(Buffer.alloc(1 << 20)));
    stream.end();
    await new Promise<void>((resolve) => stream.on("close", resolve));
    session.close();
    expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
  });

  it("survives garbage bytes, a connection cut mid-message and a stream reset mid-message", async () => {
    const garbage = netConnect(path);
    garbage.on("error", () => {});
    garbage.resume();
    garbage.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x00garbage"));
    await new Promise((resolve) => garbage.on("close", resolve));

    const preface = netConnect(path);
    preface.on("error", () => {});
    preface.resume();
    preface.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x01\x00\x00\x00\x00\x00");
    preface.write(Buffer.alloc(64, 0xee));
    await new Promise((resolve) => preface.on("close", resolve));

    for (const cut of ["session", "stream"] as const) {
      const session = h2connect("http://localhost", { createConnection: () => netConnect(path) });
      session.on("error", () => {});
      const stream = session.request({ ":method": "POST", ":path": "/test.Svc/BigStream", "content-type": "application/grpc" });
      stream.on("error", () => {});
      stream.write(frameMessage(Buffer.alloc(100_000)).subarray(0, 50_000));
      await sleep(20);
      if (cut === "session") session.destroy();
      else {
        stream.close(constants.NGHTTP2_CANCEL);
        session.close();
      }
    }
    await sleep(50);
    const r = await rawCall(path, {}, [frameJson({ n: 9 })]);
    expect(r.trailers["grpc-status"]).toBe("0");
    expect(r.data.equals(frameJson({ n: 10 }))).toBe(true);
  });
});

describe("H2Server construction and shutdown", () => {
  it("refuses a registration without an async implementation", () => {
    const reg = implement(TestService, impl);
    const { asyncImplementation: _, ...bare } = reg;
    expect(() => new H2Server([bare])).toThrow(/no async implementation/);
  });

  it("tryShutdown lets a call in flight finish, then reports done", async () => {
    const { path, server } = await startServer();
    const channel = channelTo(path);
    const client = createClient(TestService, channel);
    const events: string[] = [];
    const call = client.slow({ n: 300 }).then((r) => events.push(`call ${r.text}`));
    await sleep(50);
    const done = new Promise<void>((resolve) =>
      server.tryShutdown(() => {
        events.push("shutdown");
        resolve();
      }),
    );
    await call;
    channel.close();
    await done;
    expect(events).toEqual(["call slow done", "shutdown"]);
  });

  it("forceShutdown ends calls in flight", async () => {
    const { path, server } = await startServer();
    const channel = channelTo(path);
    const client = createClient(TestService, channel);
    const call = client.slow({ n: 5_000 }).catch((e: unknown) => e);
    await sleep(50);
    server.forceShutdown();
    expect(await call).toMatchObject({ code: Code.CANCELLED });
    channel.close();
  });
});

describe("H2Server serving connections accepted elsewhere", () => {
  it("serves an injected socket, each call's context carrying what its connection was injected with; tryShutdown ends when its sessions do", async () => {
    const { createServer: createNetServer } = await import("node:net");
    const dir = mkdtempSync(join(tmpdir(), "signet-h2inject-"));
    const path = join(dir, "s.sock");
    const connections: unknown[] = [];
    const server = new H2Server([
      implement(TestService, {
        async unary(req, ctx) {
          connections.push(ctx.connection);
          return { n: req.n };
        },
      }),
    ]);
    let accepted = 0;
    const listener = createNetServer((socket) => server.injectConnection(socket, { connection: ++accepted }));
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    try {
      for (let i = 0; i < 2; i++) {
        const channel = new Channel(`unix:${path}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
        const client = createClient(TestService, channel);
        expect(await client.unary({ n: i })).toEqual({ n: i });
        expect(await client.unary({ n: i })).toEqual({ n: i });
        channel.close();
      }
      expect(connections).toEqual([{ connection: 1 }, { connection: 1 }, { connection: 2 }, { connection: 2 }]);
      const kept = new Channel(`unix:${path}`, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
      await createClient(TestService, kept).unary({ n: 9 });
      let done = false;
      server.tryShutdown(() => {
        done = true;
      });
      await sleep(20);
      kept.close();
      for (let i = 0; i < 100 && !done; i++) await sleep(10);
      expect(done).toBe(true);
    } finally {
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("RequestQueue", () => {
  /** Just the flow-control half of a stream: whether it is paused. */
  const fakeStream = () => {
    const state = { paused: false, pauses: 0 };
    const stream = {
      pause: () => {
        state.paused = true;
        state.pauses++;
      },
      resume: () => {
        state.paused = false;
      },
    };
    return { state, stream: stream as unknown as ServerHttp2Stream };
  };

  it("pauses the stream while many messages wait unread and resumes it as they are read, in order", async () => {
    const { state, stream } = fakeStream();
    const q = new RequestQueue(stream);
    for (let i = 0; i < 31; i++) q.push(i, 10);
    expect(state.paused).toBe(false);
    q.push(31, 10);
    q.push(32, 10); // what was already in flight still queues
    expect(state.paused).toBe(true);
    const read: unknown[] = [];
    for (let i = 0; i < 17; i++) read.push((await q.next()).value);
    expect(state.paused).toBe(true); // 16 still unread
    read.push((await q.next()).value);
    expect(state.paused).toBe(false);
    q.end();
    for await (const v of q) read.push(v);
    expect(read).toEqual(Array.from({ length: 33 }, (_, i) => i));
  });

  it("pauses on queued bytes too", () => {
    const { state, stream } = fakeStream();
    const q = new RequestQueue(stream);
    q.push("big", 20 << 20);
    expect(state.paused).toBe(true);
  });

  it("hands a message straight to a waiting reader, throws the call's failure, and drops all after return()", async () => {
    const { state, stream } = fakeStream();
    const q = new RequestQueue(stream);
    const pending = q.next();
    q.push("now", 3);
    expect(await pending).toEqual({ done: false, value: "now" });
    const failing = q.next();
    q.fail(callCancelled);
    await expect(failing).rejects.toBe(callCancelled);

    const r = new RequestQueue(stream);
    for (let i = 0; i < 40; i++) r.push(i, 1);
    expect(state.paused).toBe(true);
    await r.return();
    expect(state.paused).toBe(false);
    r.push("late", 4);
    expect(await r.next()).toEqual({ done: true, value: undefined });
  });
});
