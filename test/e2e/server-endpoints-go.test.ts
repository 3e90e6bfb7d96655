/**
 * A Go gRPC client configured as the stock spire-agent configures it
 * (go-spiffe tlsconfig.TLSClientConfig / MTLSClientConfig, server authorized
 * by its exact SPIFFE ID) against Signet's server endpoints: without a client
 * certificate it reaches the open methods, with an agent X509-SVID it is
 * recognised as that agent. Built from test/e2e/go/server-tls-client.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { implement } from "@signet/proto";
import { AgentService } from "@signet/proto/spire/api/server/agent/v1/agent";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerOf } from "../../host/server/src/api/rpccontext/caller.js";
import { Endpoints } from "../../host/server/src/endpoints/index.js";
import { InMemoryAuthorizedEntries } from "../fakes/authorized-entries.js";
import { startTestDataStore, type TestDataStore } from "../fakes/datastore.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, haveGo, requireGoInCI } from "./go-toolchain.js";
import { createIntermediateCa, createRootCa, keyPem, mintSvid, pem, type TestSvid } from "./spiffe-test-pki.js";

requireGoInCI("(to build test/e2e/go/server-tls-client)");

interface GoResult {
  code: number;
  message: string;
  field1?: string;
}

describe.skipIf(!haveGo)("stock Go gRPC client (go-spiffe tlsconfig) against the server endpoints", () => {
  const root = createRootCa("example.org");
  const ca = createIntermediateCa(root); // agents and server behind an intermediate, as with an UpstreamAuthority
  const serverSvid = mintSvid(ca, "spiffe://example.org/spire/server");
  let ds: TestDataStore;
  let endpoints: Endpoints;
  let dir: string;

  beforeAll(async () => {
    await goBuild("server-tls-client", ["."]);
    dir = mkdtempSync(join(tmpdir(), "signet-go-endpoints-"));
    writeFileSync(join(dir, "bundle.pem"), pem([root.der]));
    ds = await startTestDataStore();
    await ds.dataStore.createBundle({ bundle: { trustDomain: "example.org", x509Authorities: [{ asn1: root.der, tainted: false }], jwtAuthorities: [], witAuthorities: [], refreshHint: 0n, sequenceNumber: 1n } });
    endpoints = new Endpoints({
      trustDomain: root.trustDomain,
      bindAddress: "127.0.0.1",
      bindPort: 0,
      socketPath: join(dir, "api.sock"),
      adminIds: [],
      rateLimit: { attestation: true, signing: true },
      svid: { current: () => ({ certChain: serverSvid.chain, privateKey: serverSvid.key }) },
      dataStore: ds.dataStore,
      authorizedEntries: new InMemoryAuthorizedEntries("example.org"),
      gracefulStopTimeoutMs: 1000,
    });
    const describeCaller = (ctx: Parameters<typeof callerOf>[0]) => {
      const c = callerOf(ctx);
      return JSON.stringify({ id: c.x509Svid?.id.toString() ?? null, agent: c.agentId?.toString() ?? null });
    };
    endpoints.register(
      implement(BundleService, {
        async getBundle(_req, ctx) {
          return { trustDomain: describeCaller(ctx), x509Authorities: [], jwtAuthorities: [], witAuthorities: [], refreshHint: 0n, sequenceNumber: 0n };
        },
      }),
      { tcp: true, uds: true },
    );
    endpoints.register(implement(AgentService, { postStatus: async () => ({}) }), { tcp: true, uds: true });
    await endpoints.start();
  }, goBuildTimeoutMs);

  afterAll(async () => {
    await endpoints?.stop();
    await ds?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function goCall(method: string, svid?: TestSvid): Promise<GoResult> {
    const args = ["-addr", `127.0.0.1:${endpoints.tcpPort}`, "-bundle", join(dir, "bundle.pem"), "-server-id", "spiffe://example.org/spire/server", "-method", method];
    if (svid) {
      const name = svid.serial.toString(16);
      writeFileSync(join(dir, `${name}.crt`), pem(svid.chain));
      writeFileSync(join(dir, `${name}.key`), keyPem(svid.key));
      args.push("-cert", join(dir, `${name}.crt`), "-key", join(dir, `${name}.key`));
    }
    return new Promise((resolve, reject) =>
      execFile(join(goBuildDir, "server-tls-client"), args, { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`server-tls-client failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as GoResult);
      }),
    );
  }

  async function attested(name: string): Promise<TestSvid> {
    const svid = mintSvid(ca, `spiffe://example.org/spire/agent/go/${name}`);
    await ds.dataStore.createAttestedNode({
      node: { spiffeId: svid.id.toString(), attestationDataType: "go", certSerialNumber: svid.serial.toString(10), certNotAfter: 0n, newCertSerialNumber: "", newCertNotAfter: 0n, selectors: [], canReattest: false, agentVersion: "" },
    });
    return svid;
  }

  it("connects without a client certificate (TLSClientConfig) and calls GetBundle", async () => {
    const res = await goCall("/spire.api.server.bundle.v1.Bundle/GetBundle");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.field1!)).toEqual({ id: null, agent: null });
  });

  it("is refused agent methods without a client certificate", async () => {
    const res = await goCall("/spire.api.server.agent.v1.Agent/PostStatus");
    expect(res).toEqual({ code: 7, message: "authorization denied for method /spire.api.server.agent.v1.Agent/PostStatus" });
  });

  it("connects with an agent X509-SVID (MTLSClientConfig) and is recognised as that agent", async () => {
    const svid = await attested("one");
    const bundle = await goCall("/spire.api.server.bundle.v1.Bundle/GetBundle", svid);
    expect(bundle.code).toBe(0);
    expect(JSON.parse(bundle.field1!)).toEqual({ id: svid.id.toString(), agent: null });
    const status = await goCall("/spire.api.server.agent.v1.Agent/PostStatus", svid);
    expect(status).toEqual({ code: 0, message: "" });
  });
});
