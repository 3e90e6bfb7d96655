/**
 * x509pop under Signet's own hosts' machinery: the plugin catalog launches the bundled program
 * twice (a server-side and an agent-side catalog, each configured with plugin_data in HCL as the
 * host sends it) and the NodeAttestor facades relay an attestation between them, as the server's
 * AttestAgent and the agent's attestation client do. Also: `NodeAttestor "x509pop"` with neither
 * plugin_cmd nor plugin_package resolves to this package.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { Code, RpcError } from "@signet/proto";
import { NodeAttestorService as AgentNodeAttestor } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { NodeAttestorService as ServerNodeAttestor } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalog, type PluginRequest, resolvePluginCommand } from "../../host/common/src/catalog/index.js";
import { AgentNodeAttestorFacade, ServerNodeAttestorFacade } from "../../host/common/src/facades/index.js";
import { createLogger } from "../../host/common/src/log/logger.js";
import { encodeAttestationData } from "../../plugins/nodeattestor-x509pop/src/codec.js";
import { intermediateCa, leafCert, rootCa, writeAgentFiles, writeBundle } from "../../plugins/nodeattestor-x509pop/src/testing/pki.js";
import { buildPlugin } from "../fakes/build-plugin.js";

const dir = mkdtempSync(join(tmpdir(), "x509pop-host-"));
const root = rootCa();
const intermediate = intermediateCa(root);
const leaf = leafCert(intermediate, { ips: [Buffer.from([192, 0, 2, 10])] });
const bundle = writeBundle(dir, "bundle", [root]);
const files = writeAgentFiles(dir, "agent", { leaf, chain: [intermediate] });
const log = createLogger({ level: "error", write: () => {} });
const catalogs: Catalog[] = [];
let file = "";

function request(text: string): PluginRequest {
  return { type: "NodeAttestor", name: "x509pop", source: { kind: "cmd", path: file }, args: [], data: { kind: "inline", text } };
}

async function load(side: "server" | "agent", text: string): Promise<Catalog> {
  const c = await Catalog.load([request(text)], {
    side,
    trustDomain: "example.org",
    log,
    liveness: false,
    hostServices: () => [],
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 60_000 },
  });
  catalogs.push(c);
  return c;
}

beforeAll(async () => {
  file = await buildPlugin(join(__dirname, "../../plugins/nodeattestor-x509pop/src/index.ts"), "nodeattestor-x509pop-host", "NodeAttestor");
});

afterAll(async () => {
  await Promise.all(catalogs.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("x509pop through Signet's catalog and NodeAttestor facades", () => {
  it("NodeAttestor \"x509pop\" with no plugin_cmd runs @signet/plugin-nodeattestor-x509pop on either side", () => {
    for (const side of ["server", "agent"] as const) {
      const cmd = resolvePluginCommand({ kind: "builtin" }, { type: "NodeAttestor", name: "x509pop", side, args: [] });
      expect(cmd.file).toMatch(/(@signet\/plugin-|plugins\/)nodeattestor-x509pop\/dist\/plugin\.mjs$/);
      expect(cmd.node).toBe(true);
    }
  });

  it("attests an agent: agent-side catalog's payload and answers, server-side catalog's verdict", async () => {
    const server = await load("server", `ca_bundle_path = "${bundle}"\nverify_client_ip = true`);
    const agent = await load("agent", `private_key_path = "${files.privateKeyPath}"\ncertificate_path = "${files.certificatePath}"`);
    const serverFacade = new ServerNodeAttestorFacade(server.get("NodeAttestor", "x509pop")!.client(ServerNodeAttestor), "x509pop");
    const agentFacade = new AgentNodeAttestorFacade(agent.get("NodeAttestor", "x509pop")!.client(AgentNodeAttestor), "x509pop");

    const metadata = new Metadata();
    metadata.set("x-forwarded-client-ip", "192.0.2.10");
    const attestation = await agentFacade.begin();
    try {
      const result = await serverFacade.attest(attestation.payload, (c) => attestation.answer(c), { metadata });
      expect(result.agentId).toMatch(/^spiffe:\/\/example\.org\/spire\/agent\/x509pop\/[0-9a-f]{40}$/);
      expect(result.selectors).toContainEqual({ type: "x509pop", value: "subject:cn:node-1.example.org" });
      expect(result.canReattest).toBe(true);
    } finally {
      attestation.close();
    }

    // From another address, the same agent is refused: its certificate names 192.0.2.10 only.
    const other = new Metadata();
    other.set("x-forwarded-client-ip", "192.0.2.11");
    const again = await agentFacade.begin();
    try {
      const refused = await serverFacade.attest(again.payload, (c) => again.answer(c), { metadata: other }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RpcError);
      expect((refused as RpcError).code).toBe(Code.PERMISSION_DENIED);
      expect((refused as RpcError).message).toBe("nodeattestor(x509pop): client IP 192.0.2.11 does not match any certificate IP SAN");
    } finally {
      again.close();
    }
  });

  it("refuses a payload chained to another CA with PermissionDenied, prefixed as SPIRE's facade does", async () => {
    const server = await load("server", `ca_bundle_paths = ["${bundle}"]`);
    const facade = new ServerNodeAttestorFacade(server.get("NodeAttestor", "x509pop")!.client(ServerNodeAttestor), "x509pop");
    const stranger = intermediateCa(rootCa({ commonName: "Stranger CA" }));
    const payload = encodeAttestationData({ certificates: [leafCert(stranger).der, stranger.der] });
    const err = await facade.attest(payload, async () => Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(Code.PERMISSION_DENIED);
    expect((err as RpcError).message).toBe("nodeattestor(x509pop): certificate verification failed: x509: certificate signed by unknown authority");
  });
});
