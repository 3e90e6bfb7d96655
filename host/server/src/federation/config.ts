/**
 * The `server.federation` block as SPIRE reads it (cmd/spire-server/cli/run):
 * a bundle endpoint this server serves, and the trust domains it fetches
 * bundles from. The profile blocks are labelled (`profile "https_web" {…}`),
 * so the schema keeps them raw and this file decodes them with SPIRE's rules
 * and messages. ACME is refused: Signet cannot reach an ACME CA.
 */
import type { ConfigSource, ConfigValue, Path, Schema } from "@signet/config";
import { ConfigError, decode, duration, formatPath, isConfigObject, object, raw, str } from "@signet/config";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";

/** The profile a bundle endpoint is served with. */
export type BundleEndpointProfile =
  | { readonly kind: "https_spiffe" }
  | { readonly kind: "https_web"; readonly servingCertFile: ServingCertFile };

export interface ServingCertFile {
  readonly certFilePath: string;
  readonly keyFilePath: string;
  /** How often the files are checked for changes (default 1h). */
  readonly fileSyncIntervalMs: number;
}

/** `federation.bundle_endpoint`. */
export interface BundleEndpointConfig {
  readonly address: string;
  /** 0 (SPIRE's default when unset) picks a free port. */
  readonly port: number;
  /** spiffe_refresh_hint of the served bundle (default 5m). */
  readonly refreshHintSeconds: number;
  readonly profile: BundleEndpointProfile;
}

/** How the bundle endpoint of a federated trust domain is authenticated. */
export type EndpointProfile = { readonly kind: "https_web" } | { readonly kind: "https_spiffe"; readonly endpointSpiffeId: SpiffeId };

/** One federation relationship: where the trust domain's bundle is fetched from (SPIRE's TrustDomainConfig). */
export interface TrustDomainConfig {
  readonly endpointUrl: string;
  readonly profile: EndpointProfile;
}

export interface FederationConfig {
  readonly bundleEndpoint?: BundleEndpointConfig;
  /** `federates_with`, by trust domain name. */
  readonly federatesWith: ReadonlyMap<string, TrustDomainConfig>;
  /** SPIRE's start-up warnings about this block (logged when the server starts). */
  readonly warnings: readonly string[];
}

/** What the schema decoded for `server.federation`. */
export interface FederationSection {
  readonly bundle_endpoint?:
    | {
        readonly address: string;
        readonly port: number;
        readonly refresh_hint?: number | undefined;
        readonly profile?: ConfigValue | undefined;
        readonly acme?: ConfigValue | undefined;
      }
    | undefined;
  readonly federates_with: Readonly<Record<string, { readonly bundle_endpoint_url: string; readonly bundle_endpoint_profile?: ConfigValue | undefined }>>;
}

export const defaultBundleEndpointRefreshHintMs = 5 * 60_000;
export const defaultFileSyncIntervalMs = 3600_000;
const minimumRefreshHintMs = 60_000;
const supportedProfiles = `current supported profiles are "https_spiffe" and 'https_web"`;
const acmeUnsupported =
  "ACME is not supported by Signet (it has no way to reach an ACME CA); serve a certificate from your CA with " +
  `profile "https_web" { serving_cert_file { cert_file_path, key_file_path } }, or use profile "https_spiffe"`;

const root: Path = ["server", "federation"];

export function federationFromSection(section: FederationSection | undefined, source?: ConfigSource): FederationConfig {
  const warnings: string[] = [];
  if (!section) return { federatesWith: new Map(), warnings };
  const decoder = new ProfileDecoder(source);
  const bundleEndpoint = section.bundle_endpoint ? bundleEndpointOf(section.bundle_endpoint, decoder, warnings) : undefined;
  const federatesWith = new Map<string, TrustDomainConfig>();
  for (const [name, relationship] of Object.entries(section.federates_with)) {
    const td = relationshipOf(name, relationship, decoder);
    federatesWith.set(td.trustDomain.name, td.config);
  }
  return { ...(bundleEndpoint ? { bundleEndpoint } : {}), federatesWith, warnings };
}

function bundleEndpointOf(
  be: NonNullable<FederationSection["bundle_endpoint"]>,
  decoder: ProfileDecoder,
  warnings: string[],
): BundleEndpointConfig {
  const at: Path = [...root, "bundle_endpoint"];
  let refreshHintMs = defaultBundleEndpointRefreshHintMs;
  if (be.refresh_hint !== undefined) {
    refreshHintMs = be.refresh_hint;
    if (refreshHintMs >= 24 * 3600_000) {
      warnings.push(
        "Bundle endpoint refresh hint set to a high value. To cover the case of unscheduled trust bundle updates, it's recommended to have a smaller value, e.g. 5m",
      );
    }
    if (refreshHintMs < minimumRefreshHintMs) {
      warnings.push("Bundle endpoint refresh hint set too low. SPIRE will not refresh more often than 1 minute");
    }
  }
  const common = { address: be.address, port: be.port, refreshHintSeconds: Math.floor(refreshHintMs / 1000) };
  if (be.acme !== undefined && be.profile !== undefined) {
    throw new ConfigError({ path: formatPath(at), detail: "either bundle endpoint 'acme' or 'profile' can be set, but not both" });
  }
  if (be.acme !== undefined) throw new ConfigError({ path: formatPath([...at, "acme"]), detail: acmeUnsupported });
  if (be.profile === undefined) {
    warnings.push(
      "Bundle endpoint is configured but has no profile set, using https_spiffe as default; please configure a profile explicitly. This will be fatal in a future release.",
    );
    return { ...common, profile: { kind: "https_spiffe" } };
  }
  const profileAt: Path = [...at, "profile"];
  const { label, body } = decoder.single(be.profile, profileAt, `unknown bundle endpoint profile configured; ${supportedProfiles}`);
  const bodyAt: Path = [...profileAt, { label }];
  switch (label) {
    case "https_spiffe":
      decoder.decode(object({}), body, bodyAt);
      return { ...common, profile: { kind: "https_spiffe" } };
    case "https_web": {
      const web = decoder.decode(
        object({
          acme: raw().optional(),
          serving_cert_file: object({
            cert_file_path: str().default(""),
            key_file_path: str().default(""),
            file_sync_interval: duration().optional(),
          }).optional(),
        }),
        body,
        bodyAt,
      );
      if (web.acme !== undefined) throw new ConfigError({ path: formatPath([...bodyAt, "acme"]), detail: acmeUnsupported });
      const files = web.serving_cert_file;
      if (!files) {
        throw new ConfigError({
          path: formatPath(bodyAt),
          detail: "malformed https_web profile configuration: 'acme' or 'serving_cert_file' is required",
        });
      }
      const filesAt: Path = [...bodyAt, "serving_cert_file"];
      if (files.cert_file_path === "") throw new ConfigError({ path: formatPath([...filesAt, "cert_file_path"]), detail: "must be configured" });
      if (files.key_file_path === "") throw new ConfigError({ path: formatPath([...filesAt, "key_file_path"]), detail: "must be configured" });
      const interval = files.file_sync_interval;
      return {
        ...common,
        profile: {
          kind: "https_web",
          servingCertFile: {
            certFilePath: files.cert_file_path,
            keyFilePath: files.key_file_path,
            fileSyncIntervalMs: interval === undefined || interval <= 0 ? defaultFileSyncIntervalMs : interval,
          },
        },
      };
    }
    default:
      throw new ConfigError({ path: formatPath(profileAt), detail: `unknown bundle endpoint profile configured; ${supportedProfiles}` });
  }
}

function relationshipOf(
  name: string,
  relationship: FederationSection["federates_with"][string],
  decoder: ProfileDecoder,
): { trustDomain: TrustDomain; config: TrustDomainConfig } {
  const at: Path = [...root, "federates_with", { label: name }];
  const url = relationship.bundle_endpoint_url;
  if (url === "") {
    throw new ConfigError({ path: formatPath([...at, "bundle_endpoint_url"]), detail: `federation.federates_with[${JSON.stringify(name)}].bundle_endpoint_url must be configured` });
  }
  if (!url.toLowerCase().startsWith("https://")) {
    throw new ConfigError({
      path: formatPath([...at, "bundle_endpoint_url"]),
      detail: `federation.federates_with[${JSON.stringify(name)}].bundle_endpoint_url must use the HTTPS protocol; URL found: ${JSON.stringify(url)}`,
    });
  }
  let trustDomain: TrustDomain;
  try {
    trustDomain = TrustDomain.parse(name);
  } catch (err) {
    const why = err instanceof TrustDomainError ? err.reason : String(err);
    throw new ConfigError({ path: formatPath(at), detail: `invalid trust domain ${JSON.stringify(name)}: ${why}` });
  }
  if (relationship.bundle_endpoint_profile === undefined) {
    throw new ConfigError({
      path: formatPath(at),
      detail: `federation configuration for trust domain ${JSON.stringify(name)}: missing bundle endpoint configuration`,
    });
  }
  const why = (detail: string) => `error parsing federation relationship for trust domain ${JSON.stringify(name)}: ${detail}`;
  const profileAt: Path = [...at, "bundle_endpoint_profile"];
  const { label, body } = decoder.single(relationship.bundle_endpoint_profile, profileAt, why(`no bundle endpoint profile defined; ${supportedProfiles}`), why);
  const bodyAt: Path = [...profileAt, { label }];
  switch (label) {
    case "https_web":
      decoder.decode(object({}), body, bodyAt);
      return { trustDomain, config: { endpointUrl: url, profile: { kind: "https_web" } } };
    case "https_spiffe": {
      const spiffe = decoder.decode(object({ endpoint_spiffe_id: str().default("") }), body, bodyAt);
      let id: SpiffeId;
      try {
        id = SpiffeId.parse(spiffe.endpoint_spiffe_id);
      } catch (err) {
        const reason = err instanceof SpiffeIdError ? err.reason : String(err);
        throw new ConfigError({ path: formatPath([...bodyAt, "endpoint_spiffe_id"]), detail: why(`could not get endpoint SPIFFE ID: ${reason}`) });
      }
      return { trustDomain, config: { endpointUrl: url, profile: { kind: "https_spiffe", endpointSpiffeId: id } } };
    }
    default:
      throw new ConfigError({ path: formatPath(profileAt), detail: why(`no bundle endpoint profile defined; ${supportedProfiles}`) });
  }
}

/** Reads `profile "<label>" { … }` nodes: exactly one labelled block, decoded strictly. */
class ProfileDecoder {
  constructor(private readonly source: ConfigSource | undefined) {}

  single(
    node: ConfigValue,
    at: Path,
    unknownDetail: string,
    wrap: (detail: string) => string = (d) => d,
  ): { label: string; body: ConfigValue } {
    const blocks = Array.isArray(node) ? node : [node];
    if (!blocks.every(isConfigObject)) throw new ConfigError({ path: formatPath(at), detail: wrap("malformed configuration") });
    const labelled = blocks.flatMap((b) => Object.entries(b));
    if (blocks.length > 1 || labelled.length > 1) {
      throw new ConfigError({ path: formatPath(at), detail: wrap("exactly one bundle endpoint profile is expected") });
    }
    const first = labelled[0];
    if (!first) throw new ConfigError({ path: formatPath(at), detail: unknownDetail });
    const [label, body] = first;
    const bodies = Array.isArray(body) ? body : [body];
    if (bodies.length > 1) throw new ConfigError({ path: formatPath(at), detail: wrap("exactly one bundle endpoint profile is expected") });
    return { label, body: bodies[0] ?? {} };
  }

  decode<T>(schema: Schema<T>, body: ConfigValue, at: Path): T {
    return decode(schema, body, { at, ...(this.source ? { source: this.source } : {}) });
  }
}
