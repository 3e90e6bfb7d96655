import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliEnv } from "@signet/host-common";
import { InMemoryEntries } from "../../../../test/fakes/server-api/entry-service.js";
import { startUnixApiServer, type UnixApiServer } from "../../../../test/fakes/server-api/unix-server.js";
import { runCli } from "./cli.js";

function capture(stdin = "") {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.from(stdin),
    vars: {},
    baseDir: "",
  };
  return { env, out };
}

async function cli(args: string[], stdin = "") {
  const { env, out } = capture(stdin);
  const code = await runCli(args, env);
  return { code, ...out };
}

describe("signet-server against a local API socket", () => {
  let server: UnixApiServer;
  const store = new InMemoryEntries();
  let sock: string[];

  beforeAll(async () => {
    server = await startUnixApiServer([store.registration()]);
    sock = ["-socketPath", server.socketPath];
  });
  afterAll(async () => {
    await server.stop();
  });

  it("creates an entry and prints it as spire-server does", async () => {
    const r = await cli(["entry", "create", ...sock, "-entryID", "web", "-spiffeID", "spiffe://example.org/web", "-parentID", "spiffe://example.org/agent", "-selector", "unix:uid:1000"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Entry ID                : web\nSPIFFE ID               : spiffe://example.org/web\n");
    expect(store.entries.get("web")?.selectors).toEqual([{ type: "unix", value: "uid:1000" }]);
  });

  it("reports a duplicate on stderr with the code and exits 1", async () => {
    const r = await cli(["entry", "create", ...sock, "-spiffeID", "spiffe://example.org/web", "-parentID", "spiffe://example.org/agent", "-selector", "unix:uid:1000"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to create the following entry (code: AlreadyExists, msg: "similar entry already exists"):\n');
    expect(r.stderr.endsWith("Error: failed to create one or more entries\n")).toBe(true);
  });

  it("pages through more than 500 entries for entry show, and counts them", async () => {
    const entries = Array.from({ length: 520 }, (_, i) => ({
      entry_id: `bulk-${String(i).padStart(3, "0")}`,
      spiffe_id: `spiffe://example.org/bulk/${i}`,
      parent_id: "spiffe://example.org/agent",
      selectors: [{ type: "unix", value: `uid:${i}` }],
    }));
    const created = await cli(["entry", "create", ...sock, "-data", "-", "-output", "json"], JSON.stringify({ entries }));
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).results).toHaveLength(520);

    store.listCalls = 0;
    const shown = await cli(["entry", "show", ...sock, "-parentID", "spiffe://example.org/agent"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout.startsWith("Found 521 entries\n")).toBe(true);
    expect(store.listCalls).toBe(2);

    const counted = await cli(["entry", "count", ...sock]);
    expect(counted.stdout).toBe("521 registration entries\n");
  });

  it("prints -output json as protojson with proto field names", async () => {
    const r = await cli(["entry", "show", ...sock, "-entryID", "web", "-output", "json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.entries[0].spiffe_id).toEqual({ path: "/web", trust_domain: "example.org" });
    expect(doc.entries[0].revision_number).toBe("0");
    expect(doc.next_page_token).toBe("");
  });

  it("updates and deletes", async () => {
    const u = await cli(["entry", "update", ...sock, "-entryID", "web", "-spiffeID", "spiffe://example.org/web", "-parentID", "spiffe://example.org/agent", "-selector", "unix:uid:1001", "-jwtSVIDIncludeJTI"]);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("Revision                : 1\n");
    expect(u.stdout).toContain("JwtSvidIncludeJti       : true\n");
    const d = await cli(["entry", "delete", ...sock, "-entryID", "web"]);
    expect(d.stdout).toBe("Deleted entry with ID: web\n\n\nDeleted 1 entries successfully");
    const again = await cli(["entry", "delete", ...sock, "-entryID", "web"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Failed to delete entry with ID web (code: NotFound, msg: "entry not found")');
  });

  it("reads -data files with SPIRE's JSON shape and rejects bad ones before any RPC", async () => {
    const file = path.join(path.dirname(server.socketPath), "entries.json");
    writeFileSync(file, JSON.stringify({ entries: [{ spiffe_id: "spiffe://example.org/x", parent_id: "example.org", selectors: [{ type: "a", value: "b" }] }] }));
    const r = await cli(["entry", "create", ...sock, "-data", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: invalid parent ID: scheme is missing or invalid\n");
  });

  it("validates flags before calling the server", async () => {
    const noSock = ["-socketPath", "/nonexistent/api.sock"];
    const bad = async (args: string[]) => (await cli(["entry", "create", ...noSock, ...args])).stderr;
    expect(await bad(["-spiffeID", "spiffe://td/w", "-parentID", "spiffe://td/a"])).toBe("Error: at least one selector is required\n");
    expect(await bad(["-spiffeID", "spiffe://td/w", "-parentID", "spiffe://td/a", "-selector", "nocolon"])).toBe(
      'Error: selector "nocolon" must be formatted as type:value\n',
    );
    expect(await bad(["-spiffeID", "td/w", "-parentID", "spiffe://td/a", "-selector", "a:b"])).toBe("Error: scheme is missing or invalid\n");
    expect(await bad(["-spiffeID", "spiffe://td/w", "-parentID", "spiffe://td/a", "-selector", "a:b", "-x509SVIDTTL", "-5"])).toBe(
      "Error: a positive x509-SVID TTL is required\n",
    );
    const flagErr = await cli(["entry", "create", "-x509SVIDTTL", "soon"]);
    expect(flagErr.code).toBe(1);
    expect(flagErr.stderr.startsWith('invalid value "soon" for flag -x509SVIDTTL: parse error\nUsage of entry create:\n')).toBe(true);
  });
});

describe("signet-server without a server", () => {
  it("says the connection failed in grpc-go's words and exits 1", async () => {
    const r = await cli(["entry", "count", "-socketPath", "/nonexistent/dir/api.sock"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /nonexistent/dir/api.sock: connect: no such file or directory"\n',
    );
  });

  it("healthcheck reports an unhealthy server", async () => {
    const r = await cli(["healthcheck", "-socketPath", "/nonexistent/dir/api.sock"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: server is unhealthy: unable to determine health\n");
  });
});

describe("dispatch", () => {
  it("prints the command list for unknown commands with exit 127, and help with 0", async () => {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(127);
    expect(unknown.stderr).toContain("Available commands are:\n");
    expect(unknown.stderr).toContain("    healthcheck ");
    const help = await cli(["entry", "create", "-h"]);
    expect(help.code).toBe(0);
    expect(help.stderr).toContain("  -spiffeID string\n    \tThe SPIFFE ID that this record represents\n");
    const group = await cli(["entry"]);
    expect(group.code).toBe(1);
    expect(group.stderr).toContain("Subcommands:\n    count ");
  });

  it("resolves the socket from SPIRE's environment variables", async () => {
    const { resolveSocketPath } = await import("./command.js");
    expect(resolveSocketPath("/tmp/spire-server/private/api.sock", "", { SPIRE_SERVER_PRIVATE_SOCKET: "/x.sock" })).toBe("/x.sock");
    expect(resolveSocketPath("/tmp/spire-server/private/api.sock", "a", { SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE: "/s/%i.sock" })).toBe("/s/a.sock");
    expect(() => resolveSocketPath("/tmp/spire-server/private/api.sock", "a", {})).toThrow(
      "you must define SPIRE_SERVER_PRIVATE_SOCKET_TEMPLATE to use the instance flag",
    );
  });
});
