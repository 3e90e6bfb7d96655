/**
 * A small Docker Engine API client over node:http: the two calls the
 * attestor makes (container inspect, image inspect) and the API-version
 * negotiation the Docker Go client performs, with the Go client's error
 * texts so operators see what they would see under SPIRE:
 *
 *   Error response from daemon: No such container: 0123…
 *   Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?
 *
 * Every request is bounded: by the caller's abort signal (the RPC deadline),
 * by a per-request timeout for callers without one, and by a cap on the
 * response body.
 */
import { Agent, type IncomingMessage, request } from "node:http";
import { posix } from "node:path";
import { CallAborted } from "./errors.js";
import type { DockerHost } from "./docker-host.js";

/** The highest API version this client speaks (the Docker Go client SPIRE builds with says 1.55). */
export const maxApiVersion = "1.55";
/** Daemons older than this are not negotiated with (Docker Go client's minimum). */
const minApiVersion = "1.40";
/** The Go client's limit on error bodies, and its message when exceeded. */
const maxErrorBodyBytes = 1024 * 1024;
/** The name the Go client puts in URLs and Host headers for socket connections. */
const socketHostName = "api.moby.localhost";

export interface DockerClientOptions {
  /** `docker_version`, normalized ("1.43"); unset: negotiated with the daemon. */
  readonly apiVersion?: string | undefined;
  /** Per request, for callers whose RPC has no deadline. */
  readonly requestTimeoutMs?: number;
  /** Largest successful response body accepted. */
  readonly maxBodyBytes?: number;
}

/** What the attestor reads of `GET /containers/{id}/json`: its `Config`. */
export interface ContainerConfig {
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly env: readonly string[];
  readonly image: string;
}

/** What the attestor reads of the inspect answer's `State`: the container's init process. */
export interface ContainerState {
  /** The init process's PID as the engine's host sees it; 0 when the container is not running. */
  readonly pid: number;
  readonly running: boolean;
}

/** What the attestor reads of `GET /containers/{id}/json`: its `Config` and `State`. */
export interface ContainerInspect {
  readonly config: ContainerConfig;
  readonly state: ContainerState;
}

/** What the attestor reads of `GET /images/{name}/json`. */
export interface ImageSummary {
  readonly id: string;
}

/** Any failure talking to the daemon; the message is the Docker Go client's where it has one. */
export class DockerApiError extends Error {}

interface Response {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string | undefined;
  readonly apiVersion: string | undefined;
  readonly body: Buffer;
  readonly truncated: boolean;
}

export class DockerClient {
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 4, timeout: 30_000 });
  private readonly requestTimeoutMs: number;
  private readonly maxBodyBytes: number;
  private negotiated: string | undefined;
  private negotiation: Promise<string | undefined> | undefined;

  constructor(
    readonly host: DockerHost,
    options: DockerClientOptions = {},
  ) {
    this.negotiated = options.apiVersion;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  }

  async inspectContainer(containerId: string, signal?: AbortSignal): Promise<ContainerInspect> {
    const id = containerId.trim();
    if (id === "") throw new DockerApiError("invalid container name or ID: value is empty");
    const json = await this.getJson(`/containers/${id}/json`, signal);
    return { config: containerConfigOf(json), state: containerStateOf(json) };
  }

  async inspectImage(imageName: string, signal?: AbortSignal): Promise<ImageSummary> {
    if (imageName === "") throw new DockerApiError("Error: No such image: ");
    const json = await this.getJson(`/images/${imageName}/json`, signal);
    const id = field(json, "Id");
    if (id !== undefined && id !== null && typeof id !== "string") throw new DockerApiError("decoding image inspect response: Id: expected a string");
    return { id: id ?? "" };
  }

  /** Idle connections close now; requests under way finish, and their sockets time out idle. */
  close(): void {
    for (const sockets of Object.values(this.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }

  private async getJson(route: string, signal: AbortSignal | undefined): Promise<unknown> {
    const version = await this.apiVersion(signal);
    const response = await this.send("GET", this.apiPath(version, route), signal, this.maxBodyBytes);
    if (response.status < 200 || response.status >= 400) throw responseError(response, this.requestUrl(this.apiPath(version, route)));
    if (response.truncated) throw new DockerApiError(`response of ${route} is larger than ${this.maxBodyBytes} bytes`);
    try {
      return JSON.parse(response.body.toString("utf8")) as unknown;
    } catch (e) {
      throw new DockerApiError(`decoding response of ${route}: ${(e as Error).message}`);
    }
  }

  /** Go: path.Join(basePath, "/v"+version, route), escaped as a URL path. */
  private apiPath(version: string, route: string): string {
    const base = this.host.kind === "tcp" ? this.host.basePath : "";
    return escapePath(posix.join("/", base, `/v${version}`, route));
  }

  private requestUrl(path: string): string {
    return this.host.kind === "unix" ? `http://${socketHostName}${path}` : `http://${this.host.hostname}:${this.host.port}${path}`;
  }

  /**
   * The API version for the next request: `docker_version` when set, else
   * the lower of ours and the daemon's (asked once via /_ping). A failed
   * ping is not remembered: the request goes out with our version and the
   * next call asks again, as the Go client does.
   */
  private async apiVersion(signal: AbortSignal | undefined): Promise<string> {
    if (this.negotiated !== undefined) return this.negotiated;
    this.negotiation ??= this.ping(signal).finally(() => {
      this.negotiation = undefined;
    });
    const version = await this.negotiation;
    if (version !== undefined) this.negotiated = version;
    return version ?? maxApiVersion;
  }

  private async ping(signal: AbortSignal | undefined): Promise<string | undefined> {
    let response: Response;
    try {
      const base = this.host.kind === "tcp" ? this.host.basePath : "";
      response = await this.send("GET", escapePath(posix.join("/", base, "/_ping")), signal, 4096);
    } catch (e) {
      if (e instanceof CallAborted) throw e;
      return undefined;
    }
    if (response.status !== 200) return undefined;
    const offered = response.apiVersion?.trim();
    if (!offered) return maxApiVersion;
    const parsed = parseApiVersion(offered);
    if (typeof parsed !== "string" || compareVersions(parsed, minApiVersion) < 0) return undefined;
    return compareVersions(parsed, maxApiVersion) < 0 ? parsed : maxApiVersion;
  }

  private send(method: string, path: string, signal: AbortSignal | undefined, maxBytes: number): Promise<Response> {
    if (signal?.aborted) return Promise.reject(new CallAborted());
    const host = this.host;
    const target =
      host.kind === "unix" ? { socketPath: host.socketPath, headers: { Host: socketHostName } } : { hostname: host.hostname, port: host.port, headers: {} };
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, response?: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = request({ ...target, agent: this.agent, method, path, headers: { ...target.headers, "User-Agent": "signet-workloadattestor-docker" } });
      const onAbort = () => {
        finish(new CallAborted());
        req.destroy();
      };
      const timer = setTimeout(() => {
        finish(new DockerApiError(`request to the docker API at ${host.url} timed out after ${this.requestTimeoutMs / 1000}s`));
        req.destroy();
      }, this.requestTimeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (e) => finish(connectError(e, host.url)));
      req.on("response", (res) => {
        collect(res, maxBytes).then(
          ({ body, truncated }) => {
            finish(undefined, {
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              contentType: res.headers["content-type"],
              apiVersion: headerOf(res, "api-version"),
              body,
              truncated,
            });
            if (truncated) res.destroy();
          },
          (e: unknown) => finish(new DockerApiError(`reading response from the docker API at ${host.url}: ${(e as Error).message}`)),
        );
      });
      req.end();
    });
  }
}

/** Reads at most `maxBytes`; says whether there was more. */
function collect(res: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        res.off("data", onData);
        resolve({ body: Buffer.concat(chunks), truncated: true });
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    res.on("data", onData);
    res.once("end", () => resolve({ body: Buffer.concat(chunks), truncated: false }));
    res.once("error", reject);
    res.once("aborted", () => reject(new Error("connection closed before the response ended")));
  });
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Docker Go client's words for an error status (its checkResponseErr). */
function responseError(response: Response, url: string): DockerApiError {
  const status = `${response.status} ${response.statusText}`.trim();
  if (response.body.length >= maxErrorBodyBytes) {
    return new DockerApiError(
      `request returned ${status} with a message (> ${maxErrorBodyBytes} bytes) for API route and version ${url}, check if the server supports the requested API version`,
    );
  }
  if (response.body.length === 0) {
    return new DockerApiError(`request returned ${status} for API route and version ${url}, check if the server supports the requested API version`);
  }
  const text = response.body.toString("utf8");
  if (response.contentType !== "application/json") return new DockerApiError(`Error response from daemon: ${text.trim()}`);
  let message: unknown;
  try {
    message = field(JSON.parse(text), "message");
  } catch (e) {
    return new DockerApiError(`error reading JSON: ${(e as Error).message}`);
  }
  if (typeof message !== "string" || message === "") {
    return new DockerApiError(`Error response from daemon: API returned a ${response.status} (${response.statusText}) but provided no error-message`);
  }
  return new DockerApiError(`Error response from daemon: ${message.trim()}`);
}

/** The Docker Go client's words for a failed connection. */
function connectError(e: Error, url: string): DockerApiError {
  const code = (e as NodeJS.ErrnoException).code;
  const address = (e as { address?: string }).address;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return new DockerApiError(`permission denied while trying to connect to the docker API at ${url}`);
    case "ENOENT":
      return new DockerApiError(
        `failed to connect to the docker API at ${url}; check if the path is correct and if the daemon is running: dial unix ${address ?? ""}: connect: no such file or directory`,
      );
    case "ECONNREFUSED":
    case "ETIMEDOUT":
      return new DockerApiError(`Cannot connect to the Docker daemon at ${url}. Is the docker daemon running?`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new DockerApiError(`failed to connect to the docker API at ${url}: ${e.message}`);
    default:
      return new DockerApiError(`error during connect: ${e.message}`);
  }
}

/** The container's `Config` as Go's encoding/json would decode it into SPIRE's struct. */
function containerConfigOf(json: unknown): ContainerConfig {
  const config = field(json, "Config");
  if (config === undefined || config === null) throw new DockerApiError("container inspect response has no Config");
  if (!isObject(config)) throw new DockerApiError("decoding container inspect response: Config: expected an object");
  const labels = field(config, "Labels") ?? {};
  if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === "string")) {
    throw new DockerApiError("decoding container inspect response: Config.Labels: expected an object of strings");
  }
  const env = field(config, "Env") ?? [];
  if (!Array.isArray(env) || !env.every((v) => typeof v === "string")) {
    throw new DockerApiError("decoding container inspect response: Config.Env: expected an array of strings");
  }
  const image = field(config, "Image") ?? "";
  if (typeof image !== "string") throw new DockerApiError("decoding container inspect response: Config.Image: expected a string");
  return { labels: Object.entries(labels as Record<string, string>), env: env as string[], image };
}

/**
 * The container's `State` (Docker and Podman both answer `Pid` and
 * `Running`); a missing `State` or `Pid` reads as not running, which the
 * attestor refuses.
 */
function containerStateOf(json: unknown): ContainerState {
  const state = field(json, "State") ?? {};
  if (!isObject(state)) throw new DockerApiError("decoding container inspect response: State: expected an object");
  const pid = field(state, "Pid") ?? 0;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid)) throw new DockerApiError("decoding container inspect response: State.Pid: expected an integer");
  const running = field(state, "Running") ?? false;
  if (typeof running !== "boolean") throw new DockerApiError("decoding container inspect response: State.Running: expected a boolean");
  return { pid, running };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object's member, matched as Go's encoding/json does: exact name first, then ignoring case. */
function field(value: unknown, name: string): unknown {
  if (!isObject(value)) return undefined;
  if (Object.hasOwn(value, name)) return value[name];
  const lower = name.toLowerCase();
  const key = Object.keys(value).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : value[key];
}

/**
 * `docker_version` as the Docker Go client reads it: "<major>.<minor>",
 * an optional leading "v" dropped; "" means not set. Returns the
 * normalized version, or the problem.
 */
export function parseApiVersion(text: string): string | { problem: string } {
  const value = text.trim().replace(/^v/, "");
  if (value.replace(/^v/, "") === "") return { problem: "value is empty" };
  const dot = value.indexOf(".");
  if (value.startsWith("v") || dot < 0) return { problem: "must be formatted <major>.<minor>" };
  const [major, minor] = [value.slice(0, dot), value.slice(dot + 1)];
  if (!/^[+-]?\d+$/.test(major)) return { problem: "invalid major version: must be formatted <major>.<minor>" };
  if (!/^[+-]?\d+$/.test(minor)) return { problem: "invalid minor version: must be formatted <major>.<minor>" };
  return `${Number(major)}.${Number(minor)}`;
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number) as [number, number];
  const [bm, bn] = b.split(".").map(Number) as [number, number];
  return am - bm || an - bn;
}

/** Go's URL path escaping: unreserved characters and $&+,/:;=@ stay, the rest is %XX of its UTF-8 bytes. */
function escapePath(path: string): string {
  return path.replace(/[^A-Za-z0-9\-_.~$&+,/:;=@]/gu, (c) =>
    Array.from(Buffer.from(c, "utf8"), (b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}
