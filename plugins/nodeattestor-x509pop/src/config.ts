/**
 * The x509pop configuration, with SPIRE's keys, defaults and messages. One program serves both
 * halves, so the keys say which half is being configured: any of the agent's keys
 * (`private_key_path`, `certificate_path`, `intermediates_path`, `spiffe_endpoint_socket`) make
 * it the agent's; otherwise it is the server's (`mode`, `ca_bundle_path(s)`, `spiffe_prefix`,
 * `agent_path_template`, `max_intermediates`, `max_rsa_key_size`, `verify_client_ip`).
 */
import { readFile } from "node:fs/promises";
import { TrustDomain } from "@signet/spiffe";
import { AgentPathTemplate, TemplateError, bool, decodePluginConfig, int, list, object, str } from "@signet/plugin-sdk";
import { CertificateParseError, type Certificate, parseCertificate } from "./certificate.js";
import { pemBlocks } from "./pem.js";
import { CertPool } from "./verify.js";

export const pluginName = "x509pop";

export const defaultAgentPathTemplateExternalPki = "/{{ .PluginName }}/{{ .Fingerprint }}";
export const defaultAgentPathTemplateSpiffe = "/{{ .PluginName }}/{{ .SVIDPathTrimmed }}";
export const defaultSpiffePrefix = "/spire-exchange/";
export const defaultMaxIntermediates = 4;
export const defaultMaxRsaKeySize = 8192;

export type Mode = "external_pki" | "spiffe";

export interface ServerConfig {
  readonly side: "server";
  readonly trustDomain: TrustDomain;
  readonly mode: Mode;
  /** The CAs of `ca_bundle_path(s)`; empty in spiffe mode (the server's own bundle is used). */
  readonly trustBundle: CertPool;
  readonly pathTemplate: AgentPathTemplate;
  /** Always ends with "/". */
  readonly svidPrefix: string;
  readonly maxIntermediates: number;
  readonly maxRsaKeySize: number;
  readonly verifyClientIp: boolean;
}

export interface AgentConfig {
  readonly side: "agent";
  readonly privateKeyPath: string;
  readonly certificatePath: string;
  readonly intermediatesPath: string;
  readonly spiffeEndpointSocket: string;
}

export type X509PopConfig = ServerConfig | AgentConfig;

const agentKeys = ["private_key_path", "certificate_path", "intermediates_path", "spiffe_endpoint_socket"] as const;
const serverKeys = ["mode", "spiffe_prefix", "ca_bundle_path", "ca_bundle_paths", "agent_path_template", "max_intermediates", "max_rsa_key_size", "verify_client_ip"] as const;

const schema = object({
  mode: str().optional(),
  spiffe_prefix: str().optional(),
  ca_bundle_path: str().optional(),
  ca_bundle_paths: list(str()).optional(),
  agent_path_template: str().optional(),
  max_intermediates: int().optional(),
  max_rsa_key_size: int().optional(),
  verify_client_ip: bool().optional(),
  private_key_path: str().optional(),
  certificate_path: str().optional(),
  intermediates_path: str().optional(),
  spiffe_endpoint_socket: str().optional(),
  svid_prefix: str().optional(),
});
type Raw = Partial<Record<(typeof agentKeys)[number] | "mode" | "spiffe_prefix" | "ca_bundle_path" | "agent_path_template", string>> & {
  ca_bundle_paths?: string[] | undefined;
  max_intermediates?: number | undefined;
  max_rsa_key_size?: number | undefined;
  verify_client_ip?: boolean | undefined;
};

/** A configuration SPIRE would refuse; the message is SPIRE's (all problems, first one first). */
export class ConfigProblem extends Error {
  override readonly name = "ConfigProblem";
}

export async function parseConfig(hclConfiguration: string, trustDomainName: string): Promise<X509PopConfig> {
  let raw: Raw & { svid_prefix?: string | undefined };
  try {
    raw = (await decodePluginConfig(schema, hclConfiguration)) as Raw;
  } catch (e) {
    throw new ConfigProblem(`unable to decode configuration: ${(e as Error).message}`);
  }
  if (raw.svid_prefix !== undefined) {
    // SPIRE's docs say svid_prefix, but SPIRE reads spiffe_prefix and silently ignores svid_prefix: refuse, do not guess.
    throw new ConfigProblem('svid_prefix is not read by x509pop; the SVID prefix setting is "spiffe_prefix"');
  }
  const trustDomain = TrustDomain.parse(trustDomainName);
  const agentSet = agentKeys.filter((k) => raw[k] !== undefined);
  const serverSet = serverKeys.filter((k) => raw[k] !== undefined);
  if (agentSet.length && serverSet.length) {
    throw new ConfigProblem(
      `agent settings (${agentSet.join(", ")}) and server settings (${serverSet.join(", ")}) are both present; configure the agent's plugin with the first, the server's with the second`,
    );
  }
  if (agentSet.length) return agentConfig(raw);
  if (hclConfiguration.trim() === "" || isEmptyJsonObject(hclConfiguration)) {
    throw new ConfigProblem("one of ca_bundle_path or ca_bundle_paths must be configured (server), or private_key_path is required (agent)");
  }
  return serverConfig(raw, trustDomain);
}

function isEmptyJsonObject(text: string): boolean {
  return /^\s*\{\s*\}\s*$/.test(text);
}

function agentConfig(raw: Raw): AgentConfig {
  const problems: string[] = [];
  const socket = raw.spiffe_endpoint_socket ?? "";
  if (socket === "") {
    if (!raw.private_key_path) problems.push("private_key_path is required");
    if (!raw.certificate_path) problems.push("certificate_path is required");
  }
  report(problems);
  return {
    side: "agent",
    privateKeyPath: raw.private_key_path ?? "",
    certificatePath: raw.certificate_path ?? "",
    intermediatesPath: raw.intermediates_path ?? "",
    spiffeEndpointSocket: socket,
  };
}

async function serverConfig(raw: Raw, trustDomain: TrustDomain): Promise<ServerConfig> {
  const problems: string[] = [];
  const mode = raw.mode === undefined || raw.mode === "" ? "external_pki" : raw.mode;
  if (mode !== "external_pki" && mode !== "spiffe") problems.push("mode can only be either spiffe or external_pki");
  const paths = raw.ca_bundle_paths ?? [];
  const single = raw.ca_bundle_path ?? "";
  const trustBundle = new CertPool();
  if (mode === "external_pki") {
    if (single !== "" && paths.length > 0) problems.push("only one of ca_bundle_path or ca_bundle_paths can be configured, not both");
    const caPaths = single !== "" ? [single] : paths;
    if (caPaths.length === 0) problems.push("one of ca_bundle_path or ca_bundle_paths must be configured");
    for (const path of caPaths) {
      try {
        for (const cert of await loadCertificates(path)) trustBundle.add(cert);
      } catch (e) {
        problems.push(`unable to load trust bundle ${JSON.stringify(path)}: ${(e as Error).message}`);
      }
    }
  }
  if (mode === "spiffe" && (single !== "" || paths.length > 0)) problems.push("you can not use ca_bundle_path or ca_bundle_paths in spiffe mode");

  let templateText = mode === "spiffe" ? defaultAgentPathTemplateSpiffe : defaultAgentPathTemplateExternalPki;
  if (raw.agent_path_template) templateText = raw.agent_path_template;
  let pathTemplate: AgentPathTemplate | undefined;
  try {
    pathTemplate = AgentPathTemplate.parse(templateText);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    problems.push(`failed to parse agent svid template: ${JSON.stringify(templateText)} (${e.message})`);
  }

  let svidPrefix = defaultSpiffePrefix;
  if (raw.spiffe_prefix !== undefined) svidPrefix = raw.spiffe_prefix.endsWith("/") ? raw.spiffe_prefix : `${raw.spiffe_prefix}/`;

  const maxIntermediates = raw.max_intermediates ?? defaultMaxIntermediates;
  if (raw.max_intermediates !== undefined && raw.max_intermediates <= 0) problems.push("max_intermediates must be greater than 0");
  const maxRsaKeySize = raw.max_rsa_key_size ?? defaultMaxRsaKeySize;
  if (raw.max_rsa_key_size !== undefined && raw.max_rsa_key_size <= 0) problems.push("max_rsa_key_size must be greater than 0");

  report(problems);
  return {
    side: "server",
    trustDomain,
    mode: mode as Mode,
    trustBundle,
    pathTemplate: pathTemplate!,
    svidPrefix,
    maxIntermediates,
    maxRsaKeySize,
    verifyClientIp: raw.verify_client_ip ?? false,
  };
}

/**
 * SPIRE reports the first problem as the error and all of them as notes: one message holds all
 * (Configure's), and with several, an AggregateError gives Validate one note each.
 */
function report(problems: readonly string[]): void {
  if (problems.length === 1) throw new ConfigProblem(problems[0]!);
  if (problems.length > 1) throw new AggregateError(problems.map((p) => new ConfigProblem(p)), problems.join("; "));
}

/** SPIRE's util.LoadCertificates: every CERTIFICATE block of a PEM file, at least one. */
export async function loadCertificates(path: string): Promise<Certificate[]> {
  const text = await readFile(path).catch((e: unknown) => {
    throw new Error(goFileError("open", path, e));
  });
  const certs: Certificate[] = [];
  let blockNumber = 0;
  for (const block of pemBlocks(text)) {
    if (block.type === "CERTIFICATE") {
      try {
        certs.push(parseCertificate(block.bytes));
      } catch (e) {
        if (e instanceof CertificateParseError) throw new Error(`unable to parse certificate in block ${blockNumber}: ${e.message}`);
        throw e;
      }
    }
    blockNumber++;
  }
  if (certs.length === 0) throw new Error("no certificates found in file");
  return certs;
}

/** Go's *PathError wording for a failed open or read. */
export function goFileError(op: string, path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES"
        ? "permission denied"
        : code === "EISDIR"
          ? "is a directory"
          : (e as Error).message;
  return `${code === "EISDIR" ? "read" : op} ${path}: ${reason}`;
}
