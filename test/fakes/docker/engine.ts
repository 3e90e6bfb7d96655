/**
 * A fake Docker Engine: dockerd's REST API (https://docs.docker.com/reference/api/engine/)
 * over a Unix socket, speaking the same HTTP and JSON as the real daemon for
 * what SPIRE's docker WorkloadAttestor calls:
 *
 *   GET|HEAD /_ping                       "OK", with the Api-Version header (version negotiation)
 *   GET [/v1.N]/containers/{id|name}/json container inspect
 *   GET [/v1.N]/images/{name|id}/json     image inspect
 *
 * As dockerd: every response carries Api-Version/Server/Ostype headers;
 * errors are JSON `{"message": "..."}` with Content-Type application/json
 * (404 "No such container: <id>", 404 "page not found" for unknown routes,
 * 400 for an API version above the daemon's). Podman's Docker-compatible
 * service answers the same way, so one fake stands for both sockets.
 *
 * Test controls: containers that appear only after N lookups (a container
 * the daemon does not know yet), injected failures, a daemon that never
 * answers, and the log of requests received.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeContainer {
  /** 64 hex digits. */
  readonly id: string;
  /** Without the leading "/", which the API adds. */
  readonly name?: string;
  /** The container's `Config` object, as dockerd returns it (Labels, Env, Image, …); merged over defaults. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** `Image` at top level: the image ID the container runs ("sha256:…"). */
  readonly imageId?: string;
  /**
   * The container's init process as dockerd reports it in `State.Pid` (a
   * host PID) and `State.Running` (default: `pid !== 0`); default state:
   * running with PID 4242. Give `{ pid: 0 }` for a stopped container
   * (dockerd then answers `Pid: 0`, `Running: false`, `Status: "exited"`).
   */
  readonly state?: { readonly pid: number; readonly running?: boolean };
  /** A whole inspect body to answer instead (malformed-response tests). */
  readonly rawBody?: string;
}

export interface FakeImage {
  /** "sha256:<64 hex>", the image config digest. */
  readonly id: string;
  readonly repoTags?: readonly string[];
  readonly repoDigests?: readonly string[];
}

export interface InjectedResponse {
  readonly status: number;
  readonly body?: string;
  readonly contentType?: string;
}

export interface FakeDockerOptions {
  /** The daemon's API version (Api-Version header, highest accepted path version). */
  readonly apiVersion?: string;
  readonly minApiVersion?: string;
  /** Socket path; default: a fresh temporary directory. */
  readonly socketPath?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
}

export class FakeDockerEngine {
  readonly requests: RecordedRequest[] = [];
  private readonly containers = new Map<string, { container: FakeContainer; hiddenLookups: number }>();
  private readonly images: FakeImage[] = [];
  private readonly injected: InjectedResponse[] = [];
  private hanging = false;

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly dir: string | undefined,
    readonly apiVersion: string,
    private readonly minApiVersion: string,
  ) {}

  static async start(options: FakeDockerOptions = {}): Promise<FakeDockerEngine> {
    const dir = options.socketPath === undefined ? mkdtempSync(join(tmpdir(), "fake-docker-")) : undefined;
    const socketPath = options.socketPath ?? join(dir!, "docker.sock");
    let engine: FakeDockerEngine | undefined;
    const server = createServer((req, res) => engine!.handle(req, res));
    engine = new FakeDockerEngine(server, socketPath, dir, options.apiVersion ?? "1.47", options.minApiVersion ?? "1.24");
    server.listen(socketPath);
    await once(server, "listening");
    return engine;
  }

  /** The address a client is configured with: `unix:///…/docker.sock`. */
  get url(): string {
    return `unix://${this.socketPath}`;
  }

  /** Adds (or replaces) a container; it answers 404 for its first `hiddenLookups` inspects. */
  addContainer(container: FakeContainer, options: { hiddenLookups?: number } = {}): void {
    this.containers.set(container.id, { container, hiddenLookups: options.hiddenLookups ?? 0 });
  }

  addImage(image: FakeImage): void {
    this.images.push(image);
  }

  /** The next container/image requests get these responses, in order. */
  injectResponses(...responses: InjectedResponse[]): void {
    this.injected.push(...responses);
  }

  /** Accept requests and never answer them (a wedged daemon). */
  hang(on = true): void {
    this.hanging = on;
  }

  inspectCount(containerId: string): number {
    return this.requests.filter((r) => r.path.endsWith(`/containers/${containerId}/json`)).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://docker");
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? "", path });
    res.setHeader("Api-Version", this.apiVersion);
    res.setHeader("Docker-Experimental", "false");
    res.setHeader("Ostype", "linux");
    res.setHeader("Server", "Docker/27.5.1 (linux)");
    if (this.hanging) return;

    if (path === "/_ping" && (req.method === "GET" || req.method === "HEAD")) {
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
      res.end(req.method === "GET" ? "OK" : undefined);
      return;
    }

    const versioned = /^\/v([0-9]+\.[0-9]+)(\/.*)$/.exec(path);
    const route = versioned ? versioned[2]! : path;
    if (versioned) {
      const requested = versioned[1]!;
      if (compare(requested, this.apiVersion) > 0) {
        return json(res, 400, { message: `client version ${requested} is too new. Maximum supported API version is ${this.apiVersion}` });
      }
      if (compare(requested, this.minApiVersion) < 0) {
        return json(res, 400, {
          message: `client version ${requested} is too old. Minimum supported API version is ${this.minApiVersion}, please upgrade your client to a newer version`,
        });
      }
    }
    if (req.method !== "GET") return json(res, 404, { message: "page not found" });

    const container = /^\/containers\/([^/]+)\/json$/.exec(route);
    const image = /^\/images\/(.+)\/json$/.exec(route);
    if ((container || image) && this.injected.length > 0) {
      const injected = this.injected.shift()!;
      res.statusCode = injected.status;
      if (injected.contentType !== undefined) res.setHeader("Content-Type", injected.contentType);
      res.end(injected.body ?? "");
      return;
    }
    if (container) return this.inspectContainer(res, container[1]!);
    if (image) return this.inspectImage(res, image[1]!);
    json(res, 404, { message: "page not found" });
  }

  private inspectContainer(res: ServerResponse, idOrName: string): void {
    const entry = [...this.containers.values()].find(({ container }) => container.id === idOrName || container.name === idOrName);
    if (!entry || entry.hiddenLookups > 0) {
      if (entry) entry.hiddenLookups--;
      return json(res, 404, { message: `No such container: ${idOrName}` });
    }
    const { container } = entry;
    if (container.rawBody !== undefined) {
      res.setHeader("Content-Type", "application/json");
      res.end(container.rawBody);
      return;
    }
    json(res, 200, containerJson(container));
  }

  private inspectImage(res: ServerResponse, reference: string): void {
    const wanted = reference.includes(":") || reference.includes("@") ? reference : `${reference}:latest`;
    const image = this.images.find(
      (i) => i.id === reference || i.id === `sha256:${reference}` || i.repoTags?.includes(wanted) || i.repoDigests?.includes(reference),
    );
    if (!image) return json(res, 404, { message: `No such image: ${wanted}` });
    json(res, 200, {
      Id: image.id,
      RepoTags: image.repoTags ?? [],
      RepoDigests: image.repoDigests ?? [],
      Parent: "",
      Comment: "",
      Created: "2024-01-01T00:00:00Z",
      DockerVersion: "",
      Author: "",
      Config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], Labels: null },
      Architecture: "amd64",
      Os: "linux",
      Size: 7_800_000,
      RootFS: { Type: "layers", Layers: [`sha256:${"1".repeat(64)}`] },
      Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
    });
  }
}

/** A container inspect body shaped as dockerd's (fields the attestor ignores included, so it must skip them). */
function containerJson(container: FakeContainer): unknown {
  return {
    Id: container.id,
    Created: "2024-01-01T00:00:00.000000000Z",
    Path: "/bin/sh",
    Args: [],
    State: stateJson(container.state ?? { pid: 4242 }),
    Image: container.imageId ?? `sha256:${"0".repeat(64)}`,
    Name: `/${container.name ?? container.id.slice(0, 12)}`,
    RestartCount: 0,
    Driver: "overlay2",
    Platform: "linux",
    HostConfig: { NetworkMode: "bridge", CgroupnsMode: "private" },
    Mounts: [],
    Config: {
      Hostname: container.id.slice(0, 12),
      User: "",
      Tty: false,
      Env: [],
      Cmd: ["/bin/sh"],
      Image: "",
      WorkingDir: "",
      Entrypoint: null,
      Labels: {},
      ...container.config,
    },
    NetworkSettings: { Networks: {} },
  };
}

/** dockerd's `State` object: a stopped container has Pid 0, an exit code and a finish time. */
function stateJson(state: NonNullable<FakeContainer["state"]>): unknown {
  const running = state.running ?? state.pid !== 0;
  return {
    Status: running ? "running" : "exited",
    Running: running,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: state.pid,
    ExitCode: running ? 0 : 137,
    Error: "",
    StartedAt: "2024-01-01T00:00:01.000000000Z",
    FinishedAt: running ? "0001-01-01T00:00:00Z" : "2024-01-01T01:00:00.000000000Z",
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(`${JSON.stringify(body)}\n`);
}

function compare(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number) as [number, number];
  const [bm, bn] = b.split(".").map(Number) as [number, number];
  return am - bm || an - bn;
}
