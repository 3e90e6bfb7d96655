import { describe, expect, it } from "vitest";
import type { LogLevel } from "./log.js";
import { HandshakeError, LineTail, handshakeLine, hasCookie, parseHandshakeLine, relayPluginLine } from "./index.js";

describe("handshake line", () => {
  it("is what a stock SDK plugin prints: six fields, empty certificate, newline", () => {
    expect(handshakeLine("unix", "/tmp/plugin2718281")).toBe("1|1|unix|/tmp/plugin2718281|grpc|\n");
  });

  it("parses stock lines, with or without the trailing fields", () => {
    expect(parseHandshakeLine("1|1|unix|/tmp/plugin1|grpc|\n")).toEqual({ appVersion: 1, network: "unix", address: "/tmp/plugin1" });
    expect(parseHandshakeLine("1|1|tcp|127.0.0.1:10001|grpc")).toEqual({ appVersion: 1, network: "tcp", address: "127.0.0.1:10001" });
    expect(parseHandshakeLine("1|1|unix|/tmp/p|grpc||false").network).toBe("unix");
  });

  it.each([
    ["hello", /unrecognized handshake line "hello"/],
    ["2|1|unix|/tmp/p|grpc|", /incompatible go-plugin core protocol version "2"/],
    ["1|3|unix|/tmp/p|grpc|", /plugin answered protocol version "3", but this host offers 1/],
    ["1|1|pipe|/tmp/p|grpc|", /unknown address type "pipe"/],
    ["1|1|unix|/tmp/p", /speaks "netrpc"; only gRPC plugins are supported/],
    ["1|1|unix||grpc|", /empty address/],
    [`1|1|unix|/tmp/p|grpc|${"A".repeat(60)}`, /AutoMTLS/],
  ])("rejects %j", (line, message) => {
    expect(() => parseHandshakeLine(line)).toThrow(HandshakeError);
    expect(() => parseHandshakeLine(line)).toThrow(message);
  });

  it("checks the cookie by plugin type", () => {
    expect(hasCookie("KeyManager", { KeyManager: "KeyManager" })).toBe(true);
    expect(hasCookie("KeyManager", { KeyManager: "NodeAttestor" })).toBe(false);
    expect(hasCookie("KeyManager", {})).toBe(false);
  });
});

describe("plugin stderr", () => {
  function capture() {
    const got: Array<{ level: LogLevel; message: string; fields?: Readonly<Record<string, unknown>> }> = [];
    return { got, log: { log: (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => got.push({ level, message, fields }) } };
  }

  it("turns hclog JSON lines into leveled entries with fields", () => {
    const { got, log } = capture();
    relayPluginLine('{"@level":"warn","@message":"disk almost full","@timestamp":"2026-11-23T09:40:00.123456Z","free_mb":12}', log);
    expect(got).toEqual([{ level: "warn", message: "disk almost full", fields: { free_mb: 12 } }]);
  });

  it("relays other lines raw, guessing the level like go-plugin", () => {
    const { got, log } = capture();
    relayPluginLine("[ERROR] cannot open key", log);
    relayPluginLine("panic: runtime error", log);
    relayPluginLine("just text", log);
    relayPluginLine("{not json", log);
    expect(got.map((g) => g.level)).toEqual(["error", "error", "debug", "debug"]);
  });

  it("keeps the last lines for error messages, reduced to their messages", () => {
    const tail = new LineTail(2);
    tail.push("one");
    tail.push('{"@level":"error","@message":"failed to load key","error":"permission denied"}');
    tail.push("three");
    expect(tail.summary()).toBe("failed to load key: permission denied | three");
  });
});
