// README command 1: the quickstart runs from the built tree, end to end
// (server on SQLite, join token, agent, entries, X509/JWT fetch, two Node
// workloads over mTLS authorized by SPIFFE ID), and stops what it started.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../../scripts/quickstart.mjs", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "signet-quickstart-test-"));
const state = join(stateDir, "state.json");

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe("quickstart", () => {
  it("stands up server, agent and two mTLS workloads, then stops them", async () => {
    const { stdout } = await run(process.execPath, [script, "--stop-after"], { env: { ...process.env, SIGNET_QUICKSTART_STATE: state }, timeout: 90_000 });
    expect(stdout).toContain("Agent attested");
    expect(stdout).toContain("SPIFFE ID:\t\tspiffe://example.org/quickstart/server");
    expect(stdout).toMatch(/token\(spiffe:\/\/example\.org\/quickstart\/(client|server)\)/);
    expect(stdout).toContain("client: connected over mTLS to spiffe://example.org/quickstart/server");
    expect(stdout).toContain('server replied: hello spiffe://example.org/quickstart/client, you said "ping from the client"');
    expect(stdout).toContain("Stopped the server and the agent");
    expect(existsSync(state)).toBe(false);
  }, 120_000);
});
