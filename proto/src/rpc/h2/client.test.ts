import { mkdtempSync, rmSync } from "node:fs";
import { constants, createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata, Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, RpcError } from "../errors.js";
import type { MethodDefinition } from "../types.js";
import { H2UnaryClient } from "./client.js";
import { frameMessage } from "./frame.js";

/** A method whose messages are raw bytes, so tests see exactly what crossed the wire. */
const method = (path: string): MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
});
const echo = method("/test.Echo/Echo");
const fail = method("/test.Echo/Fail");
const slow = method("/test.Echo/Slow");
const headers = method("/test.Echo/Headers");
const id = (b: Buffer) => b;

const dir = mkdtempSync(join(tmpdir(), "signet-h2c-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const socketPath = () => join(dir, `s${n++}.sock`);
const clientFor = (path: string) => new H2UnaryClient({ target: `unix:${path}`, connect: () => connect(path) });

async function grpcServer(path: string): Promise<Server> {
  const server = new Server({ "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 });
  server.register("/test.Echo/Echo", (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => cb(null, call.request), id, id, "unary");
  server.register(
    "/test.Echo/Fail",
    (_call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      const md = new Metadata();
      md.set("x-detail", "why");
      md.set("x-blob-bin", Buffer.from([0, 1, 2, 255]));
      cb({ code: status.FAILED_PRECONDITION, details: "kein Schlüssel: 100% sicher\nzweite Zeile", metadata: md });
    },
    id,
    id,
    "unary",
  );
  server.register("/test.Echo/Slow", (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
    const timer = setTimeout(() => cb(null, call.request), 2_000);
    call.on("cancelled", () => {
      clearTimeout(timer);
      slowCancelled++;
    });
  }, id, id, "unary");
  server.register(
    "/test.Echo/Headers",
    (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      const timeout = call.getDeadline();
      const seen = { token: call.metadata.get("x-token"), bin: call.metadata.get("x-bin-bin").map((b) => (b as Buffer).toString("hex")), hasDeadline: timeout !== Number.POSITIVE_INFINITY };
      cb(null, Buffer.from(JSON.stringify(seen)));
    },
    id,
    id,
    "unary",
  );
  await new Promise<void>((res, rej) => server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  return server;
}
let slowCancelled = 0;

describe("H2UnaryClient against a grpc-js server", () => {
  const path = socketPath();
  let server: Server;
  let client: H2UnaryClient;
  beforeAll(async () => {
    server = await grpcServer(path);
    client = clientFor(path);
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it("round-trips a message, including an empty one", async () => {
    expect((await client.call(echo, Buffer.from("hello"))).toString()).toBe("hello");
    expect((await client.call(echo, Buffer.alloc(0))).length).toBe(0);
  });

  it("runs many calls at once on one connection", async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call(echo, Buffer.from(`m${i}`))));
    expect(replies.map((r) => r.toString())).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
  });

  it("carries 20 MB each way", async () => {
    const big = Buffer.alloc(20 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const back = await client.call(echo, big);
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
  });

  it("gives the server's code, its non-ASCII message and its trailer metadata", async () => {
    const err = (await client.call(fail, Buffer.from("x")).catch((e) => e)) as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect(err.message).toBe("kein Schlüssel: 100% sicher\nzweite Zeile");
    expect(err.metadata?.get("x-detail")).toEqual(["why"]);
    expect((err.metadata?.get("x-blob-bin")[0] as Buffer).toString("hex")).toBe("000102ff");
  });

  it("answers Unimplemented for a method the server does not have", async () => {
    await expect(client.call(method("/test.Echo/Nope"), Buffer.alloc(1))).rejects.toMatchObject({ code: Code.UNIMPLEMENTED });
  });

  it("sends metadata (text and -bin) and the deadline as grpc-timeout", async () => {
    const md = new Metadata();
    md.set("x-token", "t1");
    md.set("x-bin-bin", Buffer.from([9, 8]));
    const seen = JSON.parse((await client.call(headers, Buffer.alloc(0), { metadata: md, deadline: 5_000 })).toString());
    expect(seen).toEqual({ token: ["t1"], bin: ["0908"], hasDeadline: true });
    const none = JSON.parse((await client.call(headers, Buffer.alloc(0))).toString());
    expect(none.hasDeadline).toBe(false);
    // Beyond Node's longest timer (~24.8 days): still a deadline on the wire, and no timer that fires at once.
    const far = JSON.parse((await client.call(headers, Buffer.alloc(0), { deadline: new Date(Date.now() + 30 * 86_400_000) })).toString());
    expect(far.hasDeadline).toBe(true);
  });

  it("fails with DeadlineExceeded when the deadline passes, and the server sees the call end", async () => {
    const before = slowCancelled;
    const t = Date.now();
    await expect(client.call(slow, Buffer.from("x"), { deadline: 150 })).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED, message: "Deadline exceeded" });
    expect(Date.now() - t).toBeLessThan(1_500);
    await until(() => slowCancelled > before);
    await expect(client.call(slow, Buffer.from("x"), { deadline: new Date(Date.now() - 1) })).rejects.toMatchObject({ code: Code.DEADLINE_EXCEEDED });
  });

  it("fails with Cancelled when the signal aborts, before or during the call", async () => {
    const before = slowCancelled;
    const c = new AbortController();
    const p = client.call(slow, Buffer.from("x"), { signal: c.signal });
    setTimeout(() => c.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: Code.CANCELLED, message: "Cancelled on client" });
    await until(() => slowCancelled > before);
    await expect(client.call(echo, Buffer.from("x"), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: Code.CANCELLED });
    // the connection is still good
    expect((await client.call(echo, Buffer.from("still"))).toString()).toBe("still");
  });
});

describe("H2UnaryClient when the server goes away", () => {
  it("fails with Unavailable while nothing listens, and reconnects once a server is back", async () => {
    const path = socketPath();
    const client = clientFor(path);
    try {
      await expect(client.call(echo, Buffer.from("x"))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      const server = await grpcServer(path);
      expect((await client.call(echo, Buffer.from("up"))).toString()).toBe("up");
      server.forceShutdown();
      await expect(client.call(echo, Buffer.from("x"))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      rmSync(path, { force: true });
      const again = await grpcServer(path);
      expect((await client.call(echo, Buffer.from("again"))).toString()).toBe("again");
      again.forceShutdown();
    } finally {
      client.close();
    }
  });

  it("fails a call in flight with Unavailable when the connection drops, and every call after close()", async () => {
    const path = socketPath();
    const server = await grpcServer(path);
    const client = clientFor(path);
    const p = client.call(slow, Buffer.from("x"));
    await new Promise((r) => setTimeout(r, 100));
    server.forceShutdown();
    await expect(p).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    client.close();
    await expect(client.call(echo, Buffer.from("x"))).rejects.toMatchObject({ code: Code.UNAVAILABLE, message: expect.stringContaining("closed") });
  });
});

describe("H2UnaryClient reading answers that break the rules", () => {
  let server: Http2Server;
  const path = socketPath();
  let client: H2UnaryClient;
  const answers = new Map<string, (s: ServerHttp2Stream) => void>();
  const ok = { ":status": 200, "content-type": "application/grpc" };
  const withTrailers = (s: ServerHttp2Stream, body: Buffer, trailers: Record<string, string>) => {
    s.respond(ok, { waitForTrailers: true });
    s.once("wantTrailers", () => s.sendTrailers(trailers));
    s.end(body);
  };
  beforeAll(async () => {
    answers.set("/t/TrailersOnly", (s) => s.respond({ ...ok, "grpc-status": "7", "grpc-message": "nope%20here" }, { endStream: true }));
    answers.set("/t/NoMessage", (s) => withTrailers(s, Buffer.alloc(0), { "grpc-status": "0" }));
    answers.set("/t/TwoMessages", (s) => withTrailers(s, Buffer.concat([frameMessage(Buffer.from("a")), frameMessage(Buffer.from("b"))]), { "grpc-status": "0" }));
    answers.set("/t/Split", (s) => {
      const body = frameMessage(Buffer.from("split across frames"));
      s.respond(ok, { waitForTrailers: true });
      s.once("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
      s.write(body.subarray(0, 3));
      setTimeout(() => s.end(body.subarray(3)), 20);
    });
    answers.set("/t/Compressed", (s) => {
      const body = frameMessage(Buffer.from("zz"));
      body[0] = 1;
      withTrailers(s, body, { "grpc-status": "0" });
    });
    answers.set("/t/Http503", (s) => s.respond({ ":status": 503 }, { endStream: true }));
    answers.set("/t/Refused", (s) => s.close(constants.NGHTTP2_REFUSED_STREAM));
    answers.set("/t/Calm", (s) => s.close(constants.NGHTTP2_ENHANCE_YOUR_CALM));
    answers.set("/t/ResetAfterHeaders", (s) => {
      s.respond(ok);
      s.write(frameMessage(Buffer.from("half")).subarray(0, 4), () => s.close(constants.NGHTTP2_INTERNAL_ERROR));
    });
    answers.set("/t/NoStatus", (s) => {
      s.respond(ok);
      s.end(frameMessage(Buffer.from("x")));
    });
    server = createH2Server();
    server.on("stream", (s, h) => {
      s.on("error", () => {});
      s.resume();
      s.on("end", () => answers.get(String(h[":path"]))?.(s));
    });
    await new Promise<void>((r) => server.listen(path, r));
    client = clientFor(path);
  });
  afterAll(() => {
    client.close();
    server.close();
  });

  it("reads a trailers-only status and decodes its percent-encoded message", async () => {
    await expect(client.call(method("/t/TrailersOnly"), Buffer.alloc(0))).rejects.toMatchObject({ code: Code.PERMISSION_DENIED, message: "nope here" });
  });

  it("reassembles a message split over DATA frames", async () => {
    expect((await client.call(method("/t/Split"), Buffer.alloc(0))).toString()).toBe("split across frames");
  });

  it.each([
    ["/t/NoMessage", Code.UNIMPLEMENTED],
    ["/t/TwoMessages", Code.UNIMPLEMENTED],
    ["/t/Compressed", Code.INTERNAL],
    ["/t/Http503", Code.UNAVAILABLE],
    ["/t/Refused", Code.UNAVAILABLE],
    ["/t/Calm", Code.RESOURCE_EXHAUSTED],
    ["/t/ResetAfterHeaders", Code.INTERNAL],
    ["/t/NoStatus", Code.INTERNAL],
  ])("fails %s with code %i, and the connection stays usable", async (path, code) => {
    await expect(client.call(method(path), Buffer.alloc(0))).rejects.toMatchObject({ code });
    expect((await client.call(method("/t/Split"), Buffer.alloc(0))).toString()).toBe("split across frames");
  });
});

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

