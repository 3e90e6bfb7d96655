/**
 * spiffe mode end to end, each half in its own plugin process: the agent half takes its identity
 * from a Workload API (spiffe_endpoint_socket), the server half trusts the bundle its host's
 * IdentityProvider service hands out, and the agent ID is the SVID's path after the prefix.
 * Run through the whole NodeAttestor conformance suite.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implement } from "@signet/proto";
import { IdentityProviderService, FetchX509IdentityResponse } from "@signet/proto/spire/hostservice/server/identityprovider/v1/identityprovider";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import { NodeAttestorService as ServerNodeAttestor } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { PluginHarness, type PluginUnderTest, nodeAttestorSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
import { buildPlugin } from "../../../test/fakes/build-plugin.js";
import { startUnixApiServer } from "../../../test/fakes/server-api/unix-server.js";
import { intermediateCa, leafCert, rootCa } from "./testing/pki.js";

const file = await buildPlugin(join(__dirname, "index.ts"), "nodeattestor-x509pop-spiffe", "NodeAttestor");
const vitest = { describe, it, beforeAll, afterAll };

const root = rootCa();
const intermediate = intermediateCa(root);
const svid = leafCert(intermediate, { uris: ["spiffe://example.org/spire-exchange/node-7"] });

// The node's Workload API: one X509-SVID (leaf + intermediate, PKCS #8 key).
const workloadApi = await startUnixApiServer([
  implement(SpiffeWorkloadAPIService, {
    async *fetchX509Svid(_req, ctx) {
      if (ctx.metadata.get("workload.spiffe.io")[0] !== "true") throw new Error("missing security header");
      yield {
        svids: [
          {
            spiffeId: "spiffe://example.org/spire-exchange/node-7",
            x509Svid: Buffer.concat([svid.der, intermediate.der]),
            x509SvidKey: svid.key.export({ type: "pkcs8", format: "der" }),
            bundle: root.der,
            hint: "",
          },
        ],
        crl: [],
        federatedBundles: {},
      };
    },
  }),
]);
afterAll(() => workloadApi.stop());

// The server's host: its IdentityProvider hands out the trust domain's bundle (the root above).
const identityProvider = implement(IdentityProviderService, {
  async fetchX509Identity() {
    return FetchX509IdentityResponse.fromPartial({ bundle: { trustDomain: "example.org", x509Authorities: [{ asn1: root.der }] } });
  },
});

const base = { type: "NodeAttestor", file, sides: ["server", "agent"] } as const;
const server: PluginUnderTest = { ...base, config: 'mode = "spiffe"', hostServices: [identityProvider] };
const agent: PluginUnderTest = { ...base, config: `spiffe_endpoint_socket = "unix://${workloadApi.socketPath}"` };

registerWithVitest(
  nodeAttestorSuite(server, agent, {
    name: "x509pop",
    expectAttributes: (a) => {
      expect(a.spiffeId).toBe("spiffe://example.org/spire/agent/x509pop/node-7");
      expect(a.selectorValues).toContain("subject:cn:node-1.example.org");
    },
  }),
  vitest,
);

describe("spiffe mode without the IdentityProvider host service", () => {
  it("fails attestation with FailedPrecondition, naming the missing service", async () => {
    const harness = new PluginHarness({
      ...base,
      node: true,
      args: [],
      configurable: true,
      trustDomain: "example.org",
      config: 'mode = "spiffe"',
      badConfigs: [],
      handshakeTimeoutMs: 60_000,
      callTimeoutMs: 30_000,
    });
    try {
      const session = await harness.shared();
      const call = session.client(ServerNodeAttestor).attest({ deadline: Date.now() + 10_000 });
      call.send({ request: { $case: "payload", value: Buffer.from(JSON.stringify({ certificates: [svid.der.toString("base64"), intermediate.der.toString("base64")] })) } });
      await expect(call[Symbol.asyncIterator]().next()).rejects.toThrow(/IdentityProvider host service is required/);
      call.cancel();
    } finally {
      await harness.close();
    }
  });
});
