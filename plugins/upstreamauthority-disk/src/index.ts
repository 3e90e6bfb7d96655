/**
 * Entry point of the disk UpstreamAuthority plugin program: SPIRE's
 * spire.plugin.server.upstreamauthority.v1.UpstreamAuthority over a CA
 * certificate and key on disk. This file is the edge: wire messages in,
 * domain calls, status codes out.
 */
import { Code, PluginError, RpcError, configService, createLogger, serve, toRpcError, upstreamAuthority } from "@signet/plugin-sdk";
import { TrustDomain } from "@signet/spiffe";
import { type DiskConfig, configMessagePrefix, parseConfig } from "./config.js";
import { DiskUpstreamAuthority } from "./disk.js";

const log = createLogger();
let authority: DiskUpstreamAuthority | undefined;

interface Loaded {
  readonly config: DiskConfig;
  readonly authority: DiskUpstreamAuthority;
}

/** Parsing loads the files too, so Validate and Configure refuse a CA that cannot sign. */
async function parse(text: string, core: { trustDomain: string }): Promise<Loaded> {
  const config = await parseConfig(text);
  let trustDomain: TrustDomain;
  try {
    trustDomain = TrustDomain.parse(core.trustDomain);
  } catch (e) {
    throw new RpcError(Code.INVALID_ARGUMENT, `server core configuration trust_domain is malformed: ${(e as Error).message}`);
  }
  try {
    const loaded = await DiskUpstreamAuthority.load(config, trustDomain, (error) =>
      log.warn("Reloading the upstream CA failed; signing with the last one that loaded", { error: error.message }),
    );
    return { config, authority: loaded };
  } catch (e) {
    if (e instanceof PluginError) throw new RpcError(e.code, `${configMessagePrefix}: ${e.message}`);
    throw e;
  }
}

serve({
  type: "UpstreamAuthority",
  plugin: upstreamAuthority({
    async *mintX509CaAndSubscribe(req) {
      if (!authority) throw new RpcError(Code.FAILED_PRECONDITION, `${configMessagePrefix}: not configured`);
      let minted;
      try {
        minted = await authority.mintX509Ca(req.csr, req.preferredTtl);
      } catch (e) {
        throw toRpcError(e);
      }
      log.info("Signed the server's intermediate CA", { chain_length: minted.x509CaChain.length, roots: minted.upstreamX509Roots.length });
      yield {
        x509CaChain: minted.x509CaChain.map((asn1) => ({ asn1, tainted: false })),
        upstreamX509Roots: minted.upstreamX509Roots.map((asn1) => ({ asn1, tainted: false })),
      };
      // As SPIRE's disk plugin: no root updates are streamed; the stream ends after the first answer.
    },
    // eslint-disable-next-line require-yield
    async *publishJwtKeyAndSubscribe() {
      throw new RpcError(Code.UNIMPLEMENTED, "publishing upstream is unsupported");
    },
    // eslint-disable-next-line require-yield
    async *subscribeToLocalBundle() {
      throw new RpcError(Code.UNIMPLEMENTED, "fetching upstream trust bundle is unsupported");
    },
  }),
  services: [
    configService({
      parse,
      apply: (loaded: Loaded) => {
        authority = loaded.authority;
        log.info("Upstream CA loaded", { cert_file_path: loaded.config.certFilePath, bundle_file_path: loaded.config.bundleFilePath ?? "" });
      },
    }),
  ],
}).catch((e: unknown) => {
  log.error("Plugin failed to start", { error: e });
  process.exit(1);
});
