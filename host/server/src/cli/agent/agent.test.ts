/** `agent …` and `token generate` against Signet's Agent handlers on the SQL DataStore. */
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@signet/host-common";
import { startApiServer, type TestApiServer } from "../../../../../test/fakes/api-server.js";
import { startTestDataStore, type TestDataStore } from "../../../../../test/fakes/datastore.js";
import { InMemoryServerCa } from "../../../../../test/fakes/memory-server-ca.js";
import { agentHandlers } from "../../api/agent/v1/service.js";
import { localCaller } from "../../api/rpccontext/caller.js";
import { runCli } from "../cli.js";
import type { CliEnv } from "@signet/host-common";

async function cli(args: string[]) {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars: {},
    baseDir: "",
  };
  return { code: await runCli(args, env), ...out };
}

const td = TrustDomain.parse("example.org");
const nowSeconds = BigInt(Math.floor(Date.now() / 1000));

describe("agent commands", () => {
  let ds: TestDataStore;
  let api: TestApiServer;
  let sock: string[];

  beforeAll(async () => {
    ds = await startTestDataStore();
    const node = (name: string, over: object) => ({
      spiffeId: `spiffe://example.org/spire/agent/${name}`,
      attestationDataType: "x509pop",
      certSerialNumber: "1234",
      certNotAfter: nowSeconds + 3600n,
      newCertSerialNumber: "",
      newCertNotAfter: 0n,
      selectors: [],
      canReattest: true,
      agentVersion: "",
      ...over,
    });
    await ds.dataStore.createAttestedNode({ node: node("x509pop/a", { agentVersion: "1.2.3" }) });
    await ds.dataStore.createAttestedNode({ node: node("join_token/b", { attestationDataType: "join_token", canReattest: false }) });
    await ds.dataStore.createAttestedNode({ node: node("x509pop/old", { certNotAfter: nowSeconds - 40n * 86400n }) });
    await ds.dataStore.setNodeSelectors({
      spiffeId: "spiffe://example.org/spire/agent/x509pop/a",
      selectors: [{ type: "x509pop", value: "subject:cn:a" }],
    });
    const ca = new InMemoryServerCa({ trustDomain: "example.org", now: () => new Date() });
    const log = createLogger({ write: () => {} });
    api = await startApiServer(
      [{ definition: AgentService, impl: agentHandlers({ trustDomain: td, dataStore: ds.dataStore, ca, nodeAttestor: () => undefined, log }) }],
      localCaller(),
    );
    sock = ["-socketPath", api.socket];
  });
  afterAll(async () => {
    await api?.close();
    await ds?.close();
  });

  it("lists, counts and filters agents", async () => {
    const list = await cli(["agent", "list", ...sock]);
    expect(list.stderr).toBe("");
    expect(list.stdout.startsWith("Found 3 attested agents:\n\nSPIFFE ID         : spiffe://example.org/spire/agent/")).toBe(true);
    expect(list.stdout).toContain("Serial number     : 1234\nCan re-attest     : true\nAgent version     : 1.2.3\n\n");
    expect((await cli(["agent", "count", ...sock])).stdout).toBe("3 attested agents\n");
    expect((await cli(["agent", "count", ...sock, "-attestationType", "join_token"])).stdout).toBe("1 attested agent\n");
    expect((await cli(["agent", "count", ...sock, "-canReattest", "false"])).stdout).toBe("1 attested agent\n");
    expect((await cli(["agent", "count", ...sock, "-selector", "x509pop:subject:cn:a"])).stdout).toBe("1 attested agent\n");
    expect((await cli(["agent", "list", ...sock, "-expiresBefore", "yesterday"])).stderr).toMatch(/^Error: date is not valid: /);
    expect((await cli(["agent", "list", ...sock, "-selector", "bad"])).stderr).toBe(
      'Error: error parsing selector "bad": selector "bad" must be formatted as type:value\n',
    );
  });

  it("shows one agent with its selectors", async () => {
    const r = await cli(["agent", "show", ...sock, "-spiffeID", "spiffe://example.org/spire/agent/x509pop/a"]);
    expect(r.stdout.startsWith("Found an attested agent given its SPIFFE ID\n\nSPIFFE ID         : spiffe://example.org/spire/agent/x509pop/a\n")).toBe(true);
    expect(r.stdout.endsWith("\nSelectors         : x509pop:subject:cn:a\n")).toBe(true);
    const json = JSON.parse((await cli(["agent", "show", ...sock, "-spiffeID", "spiffe://example.org/spire/agent/x509pop/a", "-output", "json"])).stdout);
    expect(json.x509svid_serial_number).toBe("1234");
    expect(json.agent_version).toBe("1.2.3");
    expect((await cli(["agent", "show", ...sock])).stderr).toBe("Error: a SPIFFE ID is required\n");
  });

  it("purges long-expired re-attestable agents (dry run first)", async () => {
    const dry = await cli(["agent", "purge", ...sock, "-dryRun"]);
    expect(dry.stdout).toBe("Found 1 expired agent\n\n\nAgents that can be purged:\nSPIFFE ID         : spiffe://example.org/spire/agent/x509pop/old\n");
    const json = await cli(["agent", "purge", ...sock, "-output", "json"]);
    expect(json.stdout).toBe('{"expired_agents":[{"agent_id":"spiffe://example.org/spire/agent/x509pop/old","deleted":true}]}\n');
    expect((await cli(["agent", "purge", ...sock])).stdout).toBe("No agents to purge.\n");
  });

  it("bans and evicts", async () => {
    const id = "spiffe://example.org/spire/agent/join_token/b";
    expect((await cli(["agent", "ban", ...sock, "-spiffeID", id])).stdout).toBe("Agent banned successfully\n");
    expect((await cli(["agent", "list", ...sock, "-banned", "true"])).stdout).toContain("Banned            : true\n");
    expect((await cli(["agent", "evict", ...sock, "-spiffeID", id])).stdout).toBe("Agent evicted successfully\n");
    const again = await cli(["agent", "evict", ...sock, "-spiffeID", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^Error: rpc error: code = NotFound desc = /);
  });

  it("token generate prints the token and warns without a SPIFFE ID", async () => {
    const r = await cli(["token", "generate", ...sock, "-ttl", "60"]);
    expect(r.stdout).toMatch(/^Token: [0-9a-f-]{36}\nWarning: Missing SPIFFE ID\.\n$/);
    const json = JSON.parse((await cli(["token", "generate", ...sock, "-spiffeID", "spiffe://example.org/node1", "-output", "json"])).stdout);
    expect(json.value).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof json.expires_at).toBe("string");
    expect((await cli(["token", "generate", ...sock, "-ttl", "x"])).stderr.startsWith('invalid value "x" for flag -ttl: parse error\nUsage of generate:\n')).toBe(true);
  });
});
