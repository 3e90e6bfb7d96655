/**
 * SPIRE's docker WorkloadAttestor without gRPC: a PID in, selector values
 * out.
 *
 *   1. The container ID from /proc (container-locator.ts, or the legacy
 *      cgroup matchers); no container means no selectors and no error.
 *   2. Docker, or Podman when the cgroup path is Podman's (podman.ts).
 *   3. `GET /containers/{id}/json`, retried as SPIRE does (retry.ts):
 *      labels, env and image name.
 *   4. `GET /images/{image}/json` for image_config_digest; a failure there
 *      only leaves that selector out, as in SPIRE.
 */
import type { Logger } from "@signet/plugin-sdk";
import { containerIdFromCgroups } from "./cgroup-matchers.js";
import type { Cgroup } from "./cgroups.js";
import type { Settings } from "./config.js";
import { locateContainer, readCgroups } from "./container-locator.js";
import { DockerClient, type DockerClientOptions } from "./docker-client.js";
import { parseDockerHost } from "./docker-host.js";
import { AttestError, CallAborted, goErrorText } from "./errors.js";
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

    const config = await retry(this.retryPolicy, signal, () => client.inspectContainer(located.containerId, signal)).catch(asUnknown);
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
      const cgroups = await readCgroups(this.proc, pid).catch((e: AttestError) => {
        throw new AttestError("unknown", e.message.replace(/^unable to obtain cgroups: /, ""));
      });
      if (cgroups === undefined) throw new AttestError("unknown", `open ${this.proc.cgroupPath(pid)}: no such file or directory`);
      const containerId = containerIdFromCgroups(matchers, cgroups);
      return containerId === "" ? undefined : { containerId, podmanSocket: this.podmanSocket(cgroups) };
    }

    const containerId = await locateContainer(this.proc, pid, { verbose: this.settings.verboseContainerLocatorLogs, log: this.deps.log });
    if (containerId === "") return undefined;
    let cgroups: Cgroup[] | undefined;
    try {
      cgroups = await readCgroups(this.proc, pid);
    } catch (e) {
      this.deps.log?.warn("Failed to read cgroups for Podman detection, falling back to Docker client", { pid, err: goErrorText(e) });
    }
    if (cgroups === undefined) return { containerId, podmanSocket: undefined };
    return { containerId, podmanSocket: this.podmanSocket(cgroups) };
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
        throw new AttestError("unknown", `unable to create Podman client for socket ${JSON.stringify(socket)}: ${(e as Error).message}`);
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
  if (e instanceof AttestError) throw e;
  throw new AttestError("unknown", e instanceof Error ? e.message : String(e));
}
