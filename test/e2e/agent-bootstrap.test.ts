// Trust bootstrap without a bundle file: insecure_bootstrap attests as long
// as the server's certificate names spiffe://<td>/spire/server, and refuses a
// server that names another trust domain's server.
import { rmSync } from "node:fs";
import { TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestNode } from "../../host/agent/src/attestor/node/attest.js";
import { startTestAgent, startTestServer, type TestServer } from "../fakes/signet-pair.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe("insecure_bootstrap", () => {
  it("attests and then trusts the bundle the server returned", async () => {
    const { agent, dir } = await startTestAgent(server, { token: await server.joinToken(), insecureBootstrap: true });
    try {
      expect(agent.cache.ownBundle?.x509Authorities).toHaveLength(1);
      expect(agent.cache.ownBundle?.x509Authorities[0]!.asn1.toString("base64")).toBe((await server.bundlePem()).split("\n").slice(1, -2).join(""));
    } finally {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("refuses a server whose certificate names another trust domain's server", async () => {
    const err = await attestNode({
      trustDomain: TrustDomain.parse("other.org"),
      address: `127.0.0.1:${server.server.tcpPort}`,
      roots: [],
      attestor: { kind: "join_token", token: await server.joinToken() },
    }).then(
      () => new Error("attested"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toContain("does not name spiffe://other.org/spire/server");
  });
});
