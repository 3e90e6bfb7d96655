/** `localauthority` and `upstreamauthority` against Signet's LocalAuthority handlers and a real CA stack. */
import { LocalAuthorityService } from "@signet/proto/spire/api/server/localauthority/v1/localauthority";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliEnv } from "@signet/host-common";
import { startApiServer, type TestApiServer } from "../../../../../test/fakes/api-server.js";
import { startTestCa, type TestCa } from "../../../../../test/fakes/server-ca.js";
import { localAuthorityHandlers } from "../../api/localauthority/v1/service.js";
import { localCaller } from "../../api/rpccontext/caller.js";
import { runCli } from "../cli.js";

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

describe("localauthority commands", () => {
  let ca: TestCa;
  let api: TestApiServer;
  let sock: string[];

  beforeAll(async () => {
    ca = await startTestCa({});
    await ca.rotator.initialize();
    api = await startApiServer(
      [{ definition: LocalAuthorityService, impl: localAuthorityHandlers({ manager: ca.manager, bundle: ca.bundle }) }],
      localCaller(),
    );
    sock = ["-socketPath", api.socket];
  });
  afterAll(async () => {
    await api?.close();
    await ca?.close();
  });

  it("shows the X.509 authorities in SPIRE's layout", async () => {
    const r = await cli(["localauthority", "x509", "show", ...sock]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /^Active X\.509 authority:\n {2}Authority ID: [0-9a-f]+\n {2}Expires at: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC\n {2}Upstream authority ID: No upstream authority\n\nPrepared X\.509 authority:\n {2}No prepared X\.509 authority found\n\nOld X\.509 authority:\n {2}No old X\.509 authority found\n$/,
    );
  });

  it("prepares and activates, then taints the old authority", async () => {
    const prepared = await cli(["localauthority", "x509", "prepare", ...sock, "-output", "json"]);
    expect(prepared.stderr).toBe("");
    const id: string = JSON.parse(prepared.stdout).prepared_authority.authority_id;
    expect(id).toMatch(/^[0-9a-f]+$/);
    const activated = await cli(["localauthority", "x509", "activate", ...sock, "-authorityID", id]);
    expect(activated.stdout.startsWith(`Activated X.509 authority:\n  Authority ID: ${id}\n`)).toBe(true);
    const state = JSON.parse((await cli(["localauthority", "x509", "show", ...sock, "-output", "json"])).stdout);
    const old: string = state.old.authority_id;
    const tainted = await cli(["localauthority", "x509", "taint", ...sock, "-authorityID", old]);
    expect(tainted.stderr).toBe("");
    expect(tainted.stdout.startsWith(`Tainted X.509 authority:\n  Authority ID: ${old}\n`)).toBe(true);
  });

  it("shows JWT authorities without the upstream line, and rejects missing IDs before calling", async () => {
    const r = await cli(["localauthority", "jwt", "show", ...sock]);
    expect(r.stdout).toMatch(/^Active JWT authority:\n {2}Authority ID: \S+\n {2}Expires at: [^\n]+\n\nPrepared JWT authority:\n/);
    expect((await cli(["localauthority", "jwt", "activate", ...sock])).stderr).toBe("Error: an authority ID is required\n");
    expect((await cli(["upstreamauthority", "taint", ...sock])).stderr).toBe(
      "Error: the Subject Key ID of the X.509 upstream authority is required\n",
    );
  });

  it("wraps server refusals as SPIRE does", async () => {
    const r = await cli(["localauthority", "x509", "revoke", ...sock, "-authorityID", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: could not revoke X\.509 authority: rpc error: code = \w+ desc = .+\n$/);
  });
});
