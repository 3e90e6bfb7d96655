/**
 * A NodeAttestor used to show that the NodeAttestor conformance suite catches what it claims to.
 * Both halves share a secret from the configuration ({"secret": "…", "node": "…"}): the agent's
 * payload is {"node": <name>}, the server challenges with a random nonce and the agent answers
 * HMAC-SHA256(secret, nonce) in hex; the agent ID is spiffe://<td>/spire/agent/test/<node>.
 * Its first argument picks a flaw:
 *   good             none
 *   fixed-nonce      the server always sends the same nonce (so a replayed answer passes)
 *   lenient          the server accepts any answer of the right length
 *   crash-on-garbage the server process exits on a payload that is not JSON
 *   unconfigured-ok  answers before Configure as if configured with defaults
 *   no-challenge     the server names the agent from the payload alone
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Code, RpcError, configService, createLogger, nodeAttestor, serve } from "@signet/plugin-sdk";

const mode = process.argv[2] ?? "good";
const log = createLogger();

interface Config {
  readonly secret: string;
  readonly node: string;
  readonly trustDomain: string;
}
let config: Config | undefined = mode === "unconfigured-ok" ? { secret: "default", node: "default", trustDomain: "example.org" } : undefined;

const fixedNonce = Buffer.alloc(16, 7);

function current(): Config {
  if (!config) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
  return config;
}

function mac(secret: string, nonce: Buffer): string {
  return createHmac("sha256", secret).update(nonce).digest("hex");
}

serve({
  type: "NodeAttestor",
  plugin: nodeAttestor.server({
    async *attest(requests) {
      const incoming = requests[Symbol.asyncIterator]();
      const first = await incoming.next();
      if (first.done) return;
      const c = current();
      if (first.value.request?.$case !== "payload") throw new RpcError(Code.INVALID_ARGUMENT, "missing attestation payload");
      let node: unknown;
      try {
        node = (JSON.parse(first.value.request.value.toString("utf8")) as { node?: unknown }).node;
      } catch {
        if (mode === "crash-on-garbage") process.exit(4);
        throw new RpcError(Code.INVALID_ARGUMENT, "failed to unmarshal data");
      }
      if (typeof node !== "string" || !/^[a-z0-9-]+$/.test(node)) throw new RpcError(Code.INVALID_ARGUMENT, "payload has no valid node name");
      if (mode !== "no-challenge") {
        const nonce = mode === "fixed-nonce" ? fixedNonce : randomBytes(16);
        yield { response: { $case: "challenge", value: nonce } };
        const answer = await incoming.next();
        if (answer.done) return;
        const got = answer.value.request?.$case === "challengeResponse" ? answer.value.request.value : Buffer.alloc(0);
        const want = Buffer.from(mac(c.secret, nonce));
        const ok = mode === "lenient" ? got.length === want.length : got.length === want.length && timingSafeEqual(got, want);
        if (!ok) throw new RpcError(Code.PERMISSION_DENIED, "challenge response verification failed");
      }
      yield {
        response: {
          $case: "agentAttributes",
          value: { spiffeId: `spiffe://${c.trustDomain}/spire/agent/test/${node}`, selectorValues: [`node:${node}`], canReattest: true },
        },
      };
    },
  }),
  services: [
    nodeAttestor.agent({
      async *aidAttestation(challenges) {
        const c = current();
        yield { data: { $case: "payload", value: Buffer.from(JSON.stringify({ node: c.node })) } };
        for await (const challenge of challenges) {
          yield { data: { $case: "challengeResponse", value: Buffer.from(mac(c.secret, challenge.challenge)) } };
        }
      },
    }),
    configService<Config>({
      parse(text, core) {
        const parsed = JSON.parse(text) as { secret?: unknown; node?: unknown };
        if (typeof parsed.secret !== "string" || parsed.secret === "") throw new Error("secret is required");
        return { secret: parsed.secret, node: typeof parsed.node === "string" ? parsed.node : "node-1", trustDomain: core.trustDomain };
      },
      apply(next) {
        config = next;
        log.info("Configured", { node: next.node });
      },
    }),
  ],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
