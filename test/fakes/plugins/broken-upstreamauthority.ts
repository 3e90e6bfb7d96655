/**
 * The disk UpstreamAuthority with one defect injected, chosen by its first
 * argument, so the UpstreamAuthority conformance suite's own tests can show
 * that each check catches what it is meant to:
 *
 *   foreign-roots      answers a root that did not issue the chain
 *   reversed-chain     an intermediate upstream's chain in the wrong order (issuer first)
 *   ignores-ttl        always mints with the default TTL
 *   silent-refusal     a CSR it cannot sign ends the stream with no answer and no error
 *   publishes-nothing  PublishJWTKeyAndSubscribe answers an empty list instead of Unimplemented
 * Anything else: no defect.
 */
import { Code, RpcError, configService, createLogger, serve, toRpcError, upstreamAuthority } from "@signet/plugin-sdk";
import { TrustDomain } from "@signet/spiffe";
import { parseConfig } from "../../../plugins/upstreamauthority-disk/src/config.js";
import { DiskUpstreamAuthority } from "../../../plugins/upstreamauthority-disk/src/disk.js";
import { newKey, selfSignedCa } from "../ca-files.js";

const mode = process.argv[2] ?? "none";
const log = createLogger();
let authority: DiskUpstreamAuthority | undefined;
const foreignRoot = selfSignedCa(newKey());

serve({
  type: "UpstreamAuthority",
  plugin: upstreamAuthority({
    async *mintX509CaAndSubscribe(req) {
      if (!authority) throw new RpcError(Code.FAILED_PRECONDITION, "not configured");
      let minted;
      try {
        minted = await authority.mintX509Ca(req.csr, mode === "ignores-ttl" ? 0 : req.preferredTtl);
      } catch (e) {
        if (mode === "silent-refusal") return;
        throw toRpcError(e);
      }
      let chain = minted.x509CaChain;
      if (mode === "reversed-chain") chain = [...chain].reverse();
      const roots = mode === "foreign-roots" ? [foreignRoot] : minted.upstreamX509Roots;
      yield { x509CaChain: chain.map((asn1) => ({ asn1, tainted: false })), upstreamX509Roots: roots.map((asn1) => ({ asn1, tainted: false })) };
    },
    async *publishJwtKeyAndSubscribe() {
      if (mode === "publishes-nothing") {
        yield { upstreamJwtKeys: [] };
        return;
      }
      throw new RpcError(Code.UNIMPLEMENTED, "publishing upstream is unsupported");
    },
  }),
  services: [
    configService({
      parse: async (text, core) => DiskUpstreamAuthority.load(await parseConfig(text), TrustDomain.parse(core.trustDomain)),
      apply: (loaded) => {
        authority = loaded;
      },
    }),
  ],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
