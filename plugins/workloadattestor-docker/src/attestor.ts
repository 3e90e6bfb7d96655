/**
 * SPIRE's docker WorkloadAttestor without gRPC: a PID in, selector values
 * out.
 *
 *   1. The container ID from /proc (container-locator.ts, or the legacy
 *      cgroup matchers); no container means no selectors and no error.
 *   2. Docker, or Podman when the cgroup path is Podman's (podman.ts).
 *   3. `GET /containers/{id}/json`, retried as SPIRE does (retry.ts):
 *      labels, env, image name, and the init process (`State.Pid`).
 *   4. The workload must really be in that container (not in SPIRE): the
 *      init process must be visible in our /proc, and the workload's cgroups
 *      that named the container must be the container's or below them
 *      (container-membership.ts).
 *   5. `GET /images/{image}/json` for image_config_digest; a failure there
 *      only leaves that selector out, as in SPIRE.
 */
import { type Logger, PluginError, goErrorText } from "@signet/plugin-sdk";
import { containerIdFromCgroups } from "./cgroup-matchers.js";
import type { Cgroup } from "./cgroups.js";
import type { Settings } from "./config.js";
import { locateContainer, readCgroups } from "./container-locator.js";
import { verifyMembership } from "./container-membership.js";
import { type ContainerState, DockerClient, type DockerClientOptions } from "./docker-client.js";
import { parseDockerHost } from "./docker-host.js";
import { CallAborted, goQuote } from "./errors.js";
import { podmanSocketFor } from "./podman.js";
import { type ProcFs, procFs } from "./proc.js";
import { type RetryPolicy, retry, spireRetryPolicy } from "./retry.js";
import { configSelectorValues, imageConfigDigestValue } from "./selectors.js";

/** What tests replace: the proc root, the retry waits, the HTTP limits. */
export interface AttestorDeps {
  readonly proc?: ProcFs;
  readonly log?: Logger;
  readonly retry?: RetryPolicy;
  readonly client?: Omit<DockerClientOptions, "apiVersion">;
}

interface Located {
  readonly containerId: string;
  /** The workload's cgroups to check against the container's (the ones that named it). */
  readonly evidence: readonly Cgroup[];
  /** Set for Podman workloads. */
  readonly podmanSocket: string | undefined;
}

/** Rootless Podman has a socket per user; keep at most this many clients around. */
const maxPodmanClients = 64;

export class DockerAttestor {
  private readonly proc: ProcFs;
  private readonly retryPolicy: RetryPolicy;
  private readonly docker: DockerClient;
  private readonly podmanClients = new Map<string, DockerClient>();

  constructor(
    private readonly settings: Settings,
    private readonly deps: AttestorDeps = {},
  ) {
    this.proc = deps.proc ?? procFs();
    this.retryPolicy = deps.retry ?? spireRetryPolicy;
    this.docker = new DockerClient(settings.dockerHost, { ...deps.client, apiVersion: settings.dockerVersion });
  }

  async attest(pid: number, signal?: AbortSignal): Promise<string[]> {
    // No /proc/<pid> can exist for these: not a container, as SPIRE answers (it finds no file).
    if (!Number.isInteger(pid) || pid <= 0) return [];
    const located = await this.locate(pid);
    if (located === undefined) return [];
    const client = located.podmanSocket === undefined ? this.docker : this.podmanClient(located.podmanSocket);

    const { config, state } = await retry(this.retryPolicy, signal, () => client.inspectContainer(located.containerId, signal)).catch(asUnknown);
    await this.verifyInContainer(located, state);
    const values = configSelectorValues(config);
    if (config.image !== "") {
      const image = await client.inspectImage(config.image, signal).catch((e: unknown) => {
        if (e instanceof CallAborted) throw e;
        this.deps.log?.debug("Image inspect failed; no image_config_digest selector", { image: config.image, error: (e as Error).message });
        return undefined;
      });
      if (image !== undefined && image.id !== "") values.push(imageConfigDigestValue(image.id));
    }
    return values;
  }

  /** Closes idle connections; calls under way finish. */
  close(): void {
    this.docker.close();
    this.closePodmanClients();
  }

  private closePodmanClients(): void {
    for (const client of this.podmanClients.values()) client.close();
    this.podmanClients.clear();
  }

  private async locate(pid: number): Promise<Located | undefined> {
    const { matchers } = this.settings;
    if (matchers !== undefined) {
      // The legacy path fails for any unreadable cgroup file, as SPIRE's does (plain error: Unknown).
      const cgroups = await readCgroups(this.proc, pid).catch((e: PluginError) => {
        throw new PluginError("unknown", e.message.replace(/^unable to obtain cgroups: /, ""));
      });
      if (cgroups === undefined) throw new PluginError("unknown", `open ${this.proc.cgroupPath(pid)}: no such file or directory`);
      const containerId = containerIdFromCgroups(matchers, cgroups);
      if (containerId === "") return undefined;
      const evidence = cgroups.filter((c) => matchers.find(c.groupPath) === containerId);
      return { containerId, evidence, podmanSocket: this.podmanSocket(cgroups) };
    }

    const { containerId, evidence } = await locateContainer(this.proc, pid, { verbose: this.settings.verboseContainerLocatorLogs, log: this.deps.log });
    if (containerId === "") return undefined;
    let cgroups: Cgroup[] | undefined;
    try {
      cgroups = await readCgroups(this.proc, pid);
    } catch (e) {
      this.deps.log?.warn("Failed to read cgroups for Podman detection, falling back to Docker client", { pid, err: goErrorText(e) });
    }
    if (cgroups === undefined) return { containerId, evidence, podmanSocket: undefined };
    return { containerId, evidence, podmanSocket: this.podmanSocket(cgroups) };
  }

  /**
   * The IO half of the membership check: the engine's init PID must be a
   * running process we can see, and its cgroups are read from the same proc
   * root as the workload's, so both paths are written from one viewpoint.
   */
  private async verifyInContainer(located: Located, state: ContainerState): Promise<void> {
    const { containerId } = located;
    if (!state.running || state.pid <= 0) {
      throw new PluginError(
        "failed-precondition",
        `container ${goQuote(containerId)} is not running (engine reports State.Running ${state.running}, State.Pid ${state.pid}): cannot verify that the workload is in it`,
      );
    }
    const init = await readCgroups(this.proc, state.pid).catch((e: PluginError) => {
      throw new PluginError(e.kind, `init process of container ${goQuote(containerId)} (PID ${state.pid}): ${e.message}`);
    });
    if (init === undefined) {
      throw new PluginError(
        "failed-precondition",
        `init process of container ${goQuote(containerId)} (PID ${state.pid}, from the engine) is not visible at ${this.proc.pidPath(state.pid)}: ` +
          "the agent must share the host's PID namespace with the containers (e.g. run with pid: host), since a workload is attested as a container " +
          "only after its cgroups are checked against those of the container's init process",
      );
    }
    verifyMembership({ containerId, initPid: state.pid, workload: located.evidence, init });
    this.deps.log?.debug("Workload is in the container its cgroups name", { container_id: containerId, init_pid: state.pid });
  }

  private podmanSocket(cgroups: readonly Cgroup[]): string | undefined {
    return podmanSocketFor(cgroups, this.settings.podman, this.deps.log);
  }

  private podmanClient(socket: string): DockerClient {
    let client = this.podmanClients.get(socket);
    if (client === undefined) {
      let host;
      try {
        host = parseDockerHost(socket);
      } catch (e) {
        throw new PluginError("unknown", `unable to create Podman client for socket ${JSON.stringify(socket)}: ${(e as Error).message}`);
      }
      if (this.podmanClients.size >= maxPodmanClients) this.closePodmanClients();
      // As in SPIRE, Podman clients always negotiate: docker_version is Docker's.
      client = new DockerClient(host, { ...this.deps.client });
      this.podmanClients.set(socket, client);
    }
    return client;
  }
}

/** Docker failures reach the host as SPIRE's plain errors do: Unknown, with the client's message. */
function asUnknown(e: unknown): never {
  if (e instanceof PluginError) throw e;
  throw new PluginError("unknown", e instanceof Error ? e.message : String(e));
}
