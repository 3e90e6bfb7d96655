import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError, withStatus } from "@signet/plugin-sdk";
import type { Challenge } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { afterAll, describe, expect, it } from "vitest";
import { agentAidAttestation, loadToken, maxTokenBytes } from "./agent.js";
import type { AgentConfig } from "./config.js";

const dir = mkdtempSync(join(tmpdir(), "k8s-psat-agent-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function payloadOf(config: AgentConfig | undefined): Promise<string> {
  const aid = withStatus(agentAidAttestation({ config: () => config }));
  async function* none(): AsyncGenerator<Challenge> {}
  const out: string[] = [];
  for await (const m of aid(none(), { method: "AidAttestation", metadata: new Metadata(), peer: "test", signal: new AbortController().signal })) {
    if (m.data?.$case === "payload") out.push(m.data.value.toString());
  }
  expect(out).toHaveLength(1);
  return out[0]!;
}

describe("k8s_psat agent half", () => {
  it("sends the cluster and the token file as read now (kubelet rotates it)", async () => {
    const tokenPath = join(dir, "token");
    writeFileSync(tokenPath, "first.token.sig");
    expect(await payloadOf({ side: "agent", cluster: "prod", tokenPath })).toBe('{"cluster":"prod","token":"first.token.sig"}');
    writeFileSync(tokenPath, "second.token.sig");
    expect(await payloadOf({ side: "agent", cluster: "prod", tokenPath })).toBe('{"cluster":"prod","token":"second.token.sig"}');
  });

  it("refuses a missing, empty or oversized token file with InvalidArgument naming the path", async () => {
    const missing = join(dir, "missing");
    const empty = join(dir, "empty");
    const big = join(dir, "big");
    const folder = join(dir, "folder");
    writeFileSync(empty, "");
    writeFileSync(big, "x".repeat(maxTokenBytes + 1));
    mkdirSync(folder);
    const cases: [string, string][] = [
      [missing, `unable to load token from ${missing}: open ${missing}: no such file or directory`],
      [empty, `unable to load token from ${empty}: "${empty}" is empty`],
      [big, `unable to load token from ${big}: token file is larger than ${maxTokenBytes} bytes`],
      [folder, `unable to load token from ${folder}: read ${folder}: is a directory`],
    ];
    for (const [tokenPath, message] of cases) {
      const e = await payloadOf({ side: "agent", cluster: "prod", tokenPath }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(RpcError);
      expect({ code: (e as RpcError).code, message: (e as RpcError).message }).toEqual({ code: Code.INVALID_ARGUMENT, message });
    }
  });

  it("fails with FailedPrecondition before it is configured as the agent", async () => {
    const e = await payloadOf(undefined).catch((err: unknown) => err);
    expect((e as RpcError).code).toBe(Code.FAILED_PRECONDITION);
  });

  it("reads a token of exactly the limit", async () => {
    const p = join(dir, "limit");
    writeFileSync(p, "y".repeat(maxTokenBytes));
    expect((await loadToken(p)).length).toBe(maxTokenBytes);
  });
});
