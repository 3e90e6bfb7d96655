/**
 * The docker attestor's settings, SPIRE's keys (Unix side) and defaults:
 *
 *   WorkloadAttestor "docker" {
 *     plugin_data {
 *       docker_socket_path             = "unix:///var/run/docker.sock"
 *       docker_version                 = ""        # "": negotiated with the daemon
 *       podman_socket_path             = "unix:///run/podman/podman.sock"
 *       podman_socket_path_template    = "unix:///run/user/%d/podman/podman.sock"
 *       use_new_container_locator      = true
 *       verbose_container_locator_logs = false
 *       container_id_cgroup_matchers   = []        # only with use_new_container_locator = false
 *     }
 *   }
 *
 * The text is JSON from a Signet host or HCL from SPIRE; decodePluginConfig
 * reads both. Unknown keys are refused, naming the key. `sigstore` is
 * refused with its own message: silently dropping a signature-verification
 * requirement would hand out identities the operator meant to withhold.
 */
import { ConfigError, bool, decodePluginConfig, list, object, str } from "@signet/plugin-sdk";
import { type ContainerIdFinder, MatcherConfigError, compileMatchers } from "./cgroup-matchers.js";
import { parseApiVersion } from "./docker-client.js";
import { type DockerHost, DockerHostError, parseDockerHost } from "./docker-host.js";
import { type PodmanSockets, formatTemplate, validatePodmanTemplate } from "./podman.js";

export const defaultDockerSocketPath = "unix:///var/run/docker.sock";
export const defaultPodmanSocketPath = "unix:///run/podman/podman.sock";
export const defaultPodmanSocketPathTemplate = "unix:///run/user/%d/podman/podman.sock";

export interface Settings {
  readonly dockerHost: DockerHost;
  /** Normalized `docker_version` ("1.43"); undefined: negotiate. */
  readonly dockerVersion: string | undefined;
  /** The legacy locator's matchers; undefined: the new container locator. */
  readonly matchers: ContainerIdFinder | undefined;
  readonly verboseContainerLocatorLogs: boolean;
  readonly podman: PodmanSockets;
  /** What SPIRE reports as info notes at Configure, for the log. */
  readonly notes: readonly string[];
}

const schema = object({
  docker_socket_path: str().default(""),
  docker_version: str().default(""),
  container_id_cgroup_matchers: list(str()).default([]),
  use_new_container_locator: bool().optional(),
  verbose_container_locator_logs: bool().default(false),
  podman_socket_path: str().default(""),
  podman_socket_path_template: str().default(""),
});

const bothLocators =
  "the new container locator and custom cgroup matchers cannot both be used; please open an issue if the new container locator fails to locate workload containers in your environment; to continue using custom matchers set use_new_container_locator=false";
export const legacyLocatorNote = "Using the legacy container locator with custom cgroup matchers. This feature will be removed in a future release.";

/** Parse, don't apply: Validate calls this alone. */
export async function parseSettings(hclConfiguration: string): Promise<Settings> {
  const unknown: { path: string; message: string }[] = [];
  const raw = await decodePluginConfig(schema, hclConfiguration, { unknownKeys: (key) => unknown.push(key) });
  if (unknown.some((key) => key.path === "sigstore")) {
    throw new ConfigError({
      path: "sigstore",
      detail: "image signature verification (sigstore) is not supported by this plugin; remove the block, or run SPIRE's built-in docker attestor where signatures must be verified",
    });
  }
  if (unknown.length > 0) throw new Error(unknown.map((key) => key.message).join("; "));

  const notes: string[] = [];
  // SPIRE: unset means true; with false but no matchers the new locator still runs.
  const useNewLocator = raw.use_new_container_locator ?? true;
  let matchers: ContainerIdFinder | undefined;
  if (raw.container_id_cgroup_matchers.length > 0) {
    if (useNewLocator) throw new ConfigError({ path: "container_id_cgroup_matchers", detail: bothLocators });
    notes.push(legacyLocatorNote);
    matchers = attempt("container_id_cgroup_matchers", () => compileMatchers(raw.container_id_cgroup_matchers));
  } else {
    notes.push("Using the new container locator");
  }

  const rootlessTemplate = raw.podman_socket_path_template || defaultPodmanSocketPathTemplate;
  const templateProblem = validatePodmanTemplate(rootlessTemplate);
  if (templateProblem) throw new ConfigError({ path: "podman_socket_path_template", detail: `invalid podman_socket_path_template: ${templateProblem}` });
  // SPIRE finds a bad Podman address only when a Podman workload calls; we check it now.
  attempt("podman_socket_path_template", () => parseDockerHost(formatTemplate(rootlessTemplate, 0)));
  const rootful = raw.podman_socket_path || defaultPodmanSocketPath;
  attempt("podman_socket_path", () => parseDockerHost(rootful));

  return {
    dockerHost: attempt("docker_socket_path", () => parseDockerHost(raw.docker_socket_path || defaultDockerSocketPath)),
    dockerVersion: dockerVersion(raw.docker_version),
    matchers,
    verboseContainerLocatorLogs: raw.verbose_container_locator_logs,
    podman: { rootful, rootlessTemplate },
    notes,
  };
}

/** As the Docker Go client's WithAPIVersion: "" or "v" leave it unset. */
function dockerVersion(text: string): string | undefined {
  if (text.trim().replace(/^v/, "") === "") return undefined;
  const parsed = parseApiVersion(text);
  if (typeof parsed === "string") return parsed;
  throw new ConfigError({ path: "docker_version", detail: `invalid API version (${text.trim()}): ${parsed.problem}` });
}

function attempt<T>(key: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DockerHostError || e instanceof MatcherConfigError) throw new ConfigError({ path: key, detail: e.message });
    throw e;
  }
}
