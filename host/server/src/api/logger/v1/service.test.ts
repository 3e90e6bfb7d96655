import { createLogger } from "@signet/host-common";
import { type AsyncClient, Code, RpcError, createClient } from "@signet/proto";
import { LoggerService } from "@signet/proto/spire/api/server/logger/v1/logger";
import { LogLevel } from "@signet/proto/spire/api/types/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestApiServer, startApiServer } from "../../../../../../test/fakes/api-server.js";
import { localCaller } from "../../rpccontext/caller.js";
import { loggerHandlers } from "./service.js";

const lines: string[] = [];
const log = createLogger({ level: "info", write: (l) => lines.push(l) });
const child = log.with({ subsystem_name: "api" });
let api: TestApiServer;
let client: AsyncClient<typeof LoggerService>;

beforeAll(async () => {
  api = await startApiServer([{ definition: LoggerService, impl: loggerHandlers({ log }) }], localCaller());
  client = createClient(LoggerService, api.channel);
});
afterAll(async () => {
  await api?.close();
});

describe("Logger API", () => {
  it("reports the launch level", async () => {
    expect(await client.getLogger({})).toEqual({ currentLevel: LogLevel.INFO, launchLevel: LogLevel.INFO });
  });

  it("changes the level of the whole process, children included, and resets it", async () => {
    lines.length = 0;
    child.debug("hidden");
    expect(await client.setLogLevel({ newLevel: LogLevel.DEBUG })).toEqual({ currentLevel: LogLevel.DEBUG, launchLevel: LogLevel.INFO });
    child.debug("shown");
    expect(await client.setLogLevel({ newLevel: LogLevel.PANIC })).toEqual({ currentLevel: LogLevel.PANIC, launchLevel: LogLevel.INFO });
    child.error("hidden at panic");
    expect(await client.resetLogLevel({})).toEqual({ currentLevel: LogLevel.INFO, launchLevel: LogLevel.INFO });
    child.debug("hidden again");
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain("shown");
    expect(messages.filter((m) => m.startsWith("hidden"))).toEqual([]);
  });

  it("refuses an unspecified or unknown level", async () => {
    for (const [newLevel, message] of [
      [LogLevel.UNSPECIFIED, "newLevel value cannot be LogLevel_UNSPECIFIED"],
      [42 as LogLevel, "unsupported log level"],
    ] as const) {
      const err = (await client.setLogLevel({ newLevel }).catch((e: unknown) => e)) as RpcError;
      expect(err).toBeInstanceOf(RpcError);
      expect([err.code, err.message]).toEqual([Code.INVALID_ARGUMENT, message]);
    }
    expect((await client.getLogger({})).currentLevel).toBe(LogLevel.INFO);
  });
});
