/**
 * The UpstreamAuthority suite: what a SPIRE or Signet server relies on when
 * it asks the plugin to sign its intermediate CA (plugin-protocol.md §3.6).
 * A CA CSR for the trust domain's ID must come back as a chain whose first
 * certificate is a CA for the CSR's key, with the trust domain's ID, that
 * verifies through the rest of the chain up to one of the answered roots;
 * the preferred TTL is honoured (or capped by the upstream's own expiry);
 * bad CSRs are refused with a status, never answered with a certificate or
 * a silently closed stream. PublishJWTKeyAndSubscribe answers keys or
 * Unimplemented.
 */
import { type KeyObject, X509Certificate, generateKeyPairSync } from "node:crypto";
import { type AsyncClient, codeName } from "@signet/proto";
import { type MintX509CAResponse, UpstreamAuthorityService } from "@signet/proto/spire/plugin/server/upstreamauthority/v1/upstreamauthority";
import { createCsr } from "@signet/spiffe";
import { Code, expect, fail, outcome, describeRpcError, quote } from "./assert.js";
import { defineCheck, defineSuite } from "./define.js";
import { PluginHarness } from "./harness.js";
import { type PluginUnderTest, resolvePlugin } from "./plugin.js";
import type { Check, Suite } from "./suite.js";

export interface UpstreamAuthoritySuiteOptions {
  /**
   * The TTL the plugin gives when the preferred TTL is 0, in seconds, if it
   * has a fixed one (SPIRE's disk plugin: 3600); checked unless the upstream
   * CA expires first. Undefined: any positive lifetime passes.
   */
  readonly defaultTtlSeconds?: number;
  /**
   * Codes a refused CSR may carry. Default InvalidArgument and Internal:
   * SPIRE's own plugins answer Internal ("unable to sign CSR: …").
   */
  readonly badCsrCodes?: readonly Code[];
  /** The plugin publishes JWT keys upstream; default false (PublishJWTKeyAndSubscribe must be Unimplemented). */
  readonly publishesJwtKeys?: boolean;
}

type Client = AsyncClient<typeof UpstreamAuthorityService>;

/** Seconds of slack for clocks and the 10 s backdating SPIRE applies to notBefore. */
const slackSeconds = 30;

export function upstreamAuthoritySuite(pluginUnderTest: PluginUnderTest, options: UpstreamAuthoritySuiteOptions = {}): Suite {
  const plugin = resolvePlugin({ ...pluginUnderTest, sides: ["server"] });
  const harness = new PluginHarness(plugin);
  const trustDomainId = `spiffe://${plugin.trustDomain}`;
  const badCodes = options.badCsrCodes ?? [Code.INVALID_ARGUMENT, Code.INTERNAL];
  const deadline = () => ({ deadline: plugin.callTimeoutMs });
  const client = async (): Promise<Client> => (await harness.shared()).client(UpstreamAuthorityService);

  const caKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caCsr = (uri = trustDomainId, key: KeyObject = caKey.privateKey) =>
    createCsr({ privateKey: key, subject: { country: ["US"], organization: ["SPIFFE"] }, uriSans: [uri] });

  /** The first response of MintX509CAAndSubscribe; the stream is closed after it. */
  async function mint(c: Client, csr: Buffer, preferredTtl: number) {
    const stream = c.mintX509CaAndSubscribe({ csr, preferredTtl }, deadline())[Symbol.asyncIterator]();
    try {
      const first = await stream.next();
      return first.done ? undefined : first.value;
    } finally {
      void stream.return?.();
    }
  }

  async function mintOk(csr: Buffer, preferredTtl: number, what: string): Promise<{ chain: X509Certificate[]; roots: X509Certificate[]; res: MintX509CAResponse }> {
    const r = await outcome(client().then((c) => mint(c, csr, preferredTtl)));
    if (!r.ok) fail(`${what}: failed with ${describeRpcError(r.error)}`);
    const res = r.value;
    expect(res, `${what}: the stream ended without a response (SPIRE: "plugin closed stream unexpectedly")`);
    expect(res.x509CaChain.length > 0, `${what}: the first response has no x509_ca_chain (SPIRE: "plugin response missing X.509 CA chain")`);
    expect(res.upstreamX509Roots.length > 0, `${what}: the first response has no upstream_x509_roots (SPIRE: "plugin response missing upstream X.509 roots")`);
    const parse = (list: typeof res.x509CaChain, name: string) =>
      list.map((c, i) => {
        try {
          return new X509Certificate(c.asn1);
        } catch (e) {
          return fail(`${what}: ${name}[${i}] is not a DER certificate: ${(e as Error).message}`);
        }
      });
    return { chain: parse(res.x509CaChain, "x509_ca_chain"), roots: parse(res.upstreamX509Roots, "upstream_x509_roots"), res };
  }

  async function refused(csr: Buffer, what: string): Promise<void> {
    const r = await outcome(client().then((c) => mint(c, csr, 0)));
    if (r.ok) {
      fail(
        r.value
          ? `${what}: answered a certificate chain; expected ${badCodes.map(codeName).join(" or ")}`
          : `${what}: ended the stream without a response or a status; hosts report "plugin closed stream unexpectedly" instead of the reason`,
      );
    }
    expect(badCodes.includes(r.error.code), `${what}: failed with ${describeRpcError(r.error)}; expected ${badCodes.map(codeName).join(" or ")}`);
    expect(r.error.message.trim() !== "", `${what}: refused with an empty message`);
  }

  /** notAfter − now, in seconds, of the minted CA, and whether the upstream's own expiry capped it. */
  function lifetimeOf(chain: X509Certificate[], roots: X509Certificate[], issuedAt: number) {
    const leaf = chain[0]!;
    const notAfter = Date.parse(leaf.validTo);
    const issuer = chain[1] ?? roots.find((r) => leaf.checkIssued(r));
    const capped = issuer !== undefined && Math.abs(notAfter - Date.parse(issuer.validTo)) < 1000;
    return { seconds: (notAfter - issuedAt) / 1000, capped };
  }

  const check = (name: string, run: () => Promise<void>, timeoutMs?: number) => defineCheck(harness, name, run, timeoutMs);
  const checks: Check[] = [
    check("mint: a CA CSR comes back as a CA certificate for the CSR's key and the trust domain's ID, first in the chain", async () => {
      const { chain } = await mintOk(caCsr(), 0, "MintX509CAAndSubscribe(CA CSR)");
      const leaf = chain[0]!;
      expect(leaf.ca, "x509_ca_chain[0] is not a CA certificate (basic constraints cA must be set: the server signs SVIDs with it)");
      expect(
        leaf.publicKey.export({ type: "spki", format: "der" }).equals(caKey.publicKey.export({ type: "spki", format: "der" })),
        "x509_ca_chain[0] is not for the CSR's public key",
      );
      const uris = (leaf.subjectAltName ?? "").split(", ").filter((s) => s.startsWith("URI:"));
      expect(uris.length === 1 && uris[0] === `URI:${trustDomainId}`, `x509_ca_chain[0] has URI SANs ${quote(uris.join(", "))}; expected exactly ${quote(`URI:${trustDomainId}`)}`);
      const now = Date.now();
      expect(Date.parse(leaf.validFrom) <= now + 1000 && now < Date.parse(leaf.validTo), `x509_ca_chain[0] is not valid now (${leaf.validFrom} to ${leaf.validTo})`);
    }),
    check("mint: the chain verifies, certificate by certificate, up to one of upstream_x509_roots", async () => {
      const { chain, roots } = await mintOk(caCsr(), 0, "MintX509CAAndSubscribe(CA CSR)");
      const problem = chainProblem(chain, roots);
      if (problem) fail(problem);
    }),
    check("ttl: a preferred TTL is honoured (or capped at the upstream CA's expiry)", async () => {
      const ttl = 1800;
      const issuedAt = Date.now();
      const { chain, roots } = await mintOk(caCsr(), ttl, `MintX509CAAndSubscribe(CA CSR, preferred_ttl ${ttl})`);
      const { seconds, capped } = lifetimeOf(chain, roots, issuedAt);
      expect(seconds <= ttl + slackSeconds, `the CA lives ${Math.round(seconds)} s, longer than the preferred TTL of ${ttl} s`);
      expect(capped || seconds >= ttl - slackSeconds, `the CA lives ${Math.round(seconds)} s, not the preferred TTL of ${ttl} s (nor capped at the upstream CA's expiry)`);
    }),
    check(
      options.defaultTtlSeconds !== undefined
        ? `ttl: preferred TTL 0 gives the plugin's default of ${options.defaultTtlSeconds} s`
        : "ttl: preferred TTL 0 lets the plugin decide: a positive lifetime",
      async () => {
        const issuedAt = Date.now();
        const { chain, roots } = await mintOk(caCsr(), 0, "MintX509CAAndSubscribe(CA CSR, preferred_ttl 0)");
        const { seconds, capped } = lifetimeOf(chain, roots, issuedAt);
        expect(seconds > 0, `the CA minted with preferred_ttl 0 is already expired (${Math.round(seconds)} s)`);
        const want = options.defaultTtlSeconds;
        if (want !== undefined && !capped) {
          expect(Math.abs(seconds - want) <= slackSeconds, `with preferred_ttl 0 the CA lives ${Math.round(seconds)} s; expected the default of ${want} s`);
        }
      },
    ),
    check("mint: a CSR that is not DER is refused", () => refused(Buffer.from("not a certificate request"), "MintX509CAAndSubscribe(garbage CSR)")),
    check("mint: an empty CSR is refused", () => refused(Buffer.alloc(0), "MintX509CAAndSubscribe(empty CSR)")),
    check("mint: a CSR whose signature does not verify is refused", async () => {
      const csr = Buffer.from(caCsr());
      csr[csr.length - 5] = csr[csr.length - 5]! ^ 0xff; // inside the signature BIT STRING
      await refused(csr, "MintX509CAAndSubscribe(CSR with a broken signature)");
    }),
    check("mint: a CSR for a workload's ID rather than the trust domain's is refused", () =>
      refused(caCsr(`${trustDomainId}/workload`), `MintX509CAAndSubscribe(CSR for ${trustDomainId}/workload)`),
    ),
    check("mint: a CSR for another trust domain is refused", () =>
      refused(caCsr("spiffe://another-domain.test"), "MintX509CAAndSubscribe(CSR for spiffe://another-domain.test)"),
    ),
    check(
      options.publishesJwtKeys ? "publish-jwt-key: answers the upstream's JWT keys" : "publish-jwt-key: answers Unimplemented (the plugin does not publish)",
      async () => {
        const c = await client();
        const jwtKey = { publicKey: caKey.publicKey.export({ type: "spki", format: "der" }), keyId: "conformance-kid", expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600), tainted: false };
        const stream = c.publishJwtKeyAndSubscribe({ jwtKey }, deadline())[Symbol.asyncIterator]();
        const r = await outcome(stream.next());
        void stream.return?.();
        if (options.publishesJwtKeys) {
          if (!r.ok) fail(`PublishJWTKeyAndSubscribe failed with ${describeRpcError(r.error)}`);
          expect(!r.value.done, "PublishJWTKeyAndSubscribe ended the stream without a response");
          expect(r.value.value.upstreamJwtKeys.length > 0, "PublishJWTKeyAndSubscribe answered no upstream JWT keys");
        } else {
          if (r.ok) fail("PublishJWTKeyAndSubscribe answered; a plugin that does not publish must answer Unimplemented (hosts then skip publishing)");
          expect(r.error.code === Code.UNIMPLEMENTED, `PublishJWTKeyAndSubscribe failed with ${describeRpcError(r.error)}; expected Unimplemented`);
        }
      },
    ),
  ];
  return defineSuite(`UpstreamAuthority (trust domain ${plugin.trustDomain})`, harness, checks);
}

/** Why `chain` does not verify up to one of `roots` now, or undefined. */
function chainProblem(chain: readonly X509Certificate[], roots: readonly X509Certificate[]): string | undefined {
  const now = Date.now();
  const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now + 1000 && now <= Date.parse(c.validTo);
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!valid(cert)) return `x509_ca_chain[${i}] is not valid now (${cert.validFrom} to ${cert.validTo})`;
    if (roots.some((r) => r.raw.equals(cert.raw))) {
      return i === chain.length - 1 ? undefined : `x509_ca_chain[${i}] is a root, but certificates follow it`;
    }
    const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (root) {
      if (!root.ca) return `the root that issued x509_ca_chain[${i}] is not a CA certificate`;
      if (!valid(root)) return `the root that issued x509_ca_chain[${i}] is not valid now (${root.validFrom} to ${root.validTo})`;
      if (i !== chain.length - 1) return `x509_ca_chain[${i}] is issued by a root, but ${chain.length - 1 - i} more certificates follow it`;
      return undefined;
    }
    const parent = chain[i + 1];
    if (!parent) return `x509_ca_chain[${chain.length - 1}] (${quote(cert.subject)}, issuer ${quote(cert.issuer)}) is not signed by any of the ${roots.length} upstream_x509_roots`;
    if (!cert.checkIssued(parent) || !cert.verify(parent.publicKey)) {
      return `x509_ca_chain[${i}] is not issued and signed by x509_ca_chain[${i + 1}]: the chain must run from the new CA up towards a root`;
    }
    if (!parent.ca) return `x509_ca_chain[${i + 1}] signs x509_ca_chain[${i}] but is not a CA certificate`;
  }
  return "x509_ca_chain is empty";
}
