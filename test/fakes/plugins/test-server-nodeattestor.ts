/**
 * A server NodeAttestor for the Agent API tests. The agent's payload is a
 * node name ([a-z0-9-]{1,32}); the plugin challenges it with a random nonce
 * and accepts the nonce reversed as the answer. Then it names the agent
 * spiffe://<td>/spire/agent/test/<name> with selectors name:<name> (twice, to
 * exercise deduplication) and group:nodes; names starting with "re" may
 * re-attest. Special names:
 *   server       names the agent /spire/server (the host must refuse it)
 *   outsider     names an agent outside /spire/agent/test/ (host only warns)
 *   noid         answers without an agent ID
 *   two-rounds   asks two challenges before answering
 */
import { randomBytes } from "node:crypto";
import { Code, RpcError, configService, nodeAttestor, serve } from "@signet/plugin-sdk";

let trustDomain = "";

serve({
  type: "NodeAttestor",
  plugin: nodeAttestor.server({
    async *attest(requests) {
      const incoming = requests[Symbol.asyncIterator]();
      const first = await incoming.next();
      const payload = first.done ? undefined : first.value.request;
      if (payload?.$case !== "payload") throw new RpcError(Code.INVALID_ARGUMENT, "expected payload");
      const name = payload.value.toString("utf8");
      if (!/^[a-z0-9-]{1,32}$/.test(name)) throw new RpcError(Code.INVALID_ARGUMENT, "nodeattestor(test): malformed payload");
      const rounds = name === "two-rounds" ? 2 : 1;
      for (let i = 0; i < rounds; i++) {
        const nonce = randomBytes(16);
        yield { response: { $case: "challenge", value: nonce } };
        const next = await incoming.next();
        const reply = next.done ? undefined : next.value.request;
        if (reply?.$case !== "challengeResponse" || !reply.value.equals(Buffer.from(nonce).reverse())) {
          throw new RpcError(Code.PERMISSION_DENIED, "nodeattestor(test): challenge response does not match");
        }
      }
      const path = name === "server" ? "/spire/server" : name === "outsider" ? `/elsewhere/${name}` : `/spire/agent/test/${name}`;
      yield {
        response: {
          $case: "agentAttributes",
          value: {
            spiffeId: name === "noid" ? "" : `spiffe://${trustDomain}${path}`,
            selectorValues: [`name:${name}`, `name:${name}`, "group:nodes"],
            canReattest: name.startsWith("re"),
          },
        },
      };
    },
  }),
  services: [
    configService({
      parse: (_text, core) => core.trustDomain,
      apply: (td) => {
        trustDomain = td;
      },
    }),
  ],
});
