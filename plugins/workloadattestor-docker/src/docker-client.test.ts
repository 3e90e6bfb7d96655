/**
 * The Docker Engine API client against the fake engine (test/fakes/docker):
 * paths, version negotiation, and the Docker Go client's error texts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeDockerEngine } from "../../../test/fakes/docker/engine.js";
import { DockerClient, maxApiVersion } from "./docker-client.js";
import { parseDockerHost } from "./docker-host.js";

const A = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
let engine: FakeDockerEngine;
const client = (options: ConstructorParameters<typeof DockerClient>[1] = {}) => new DockerClient(parseDockerHost(engine.url), options);

beforeAll(async () => {
  engine = await FakeDockerEngine.start({ apiVersion: "1.45" });
});
afterAll(() => engine.close());
beforeEach(() => {
  engine.requests.length = 0;
  engine.hang(false);
  engine.addContainer({ id: A, name: "web", config: { Labels: { b: "2", a: "1" }, Env: ["PATH=/bin", "X=y=z"], Image: "envoyproxy/envoy:v1.29.1" } });
});

describe("DockerClient against the fake engine", () => {
  it("negotiates once (the daemon's 1.45 is below ours) and inspects at /v1.45/containers/{id}/json", async () => {
    const c = client();
    const inspected = await c.inspectContainer(A);
    expect(inspected).toEqual({
      config: { labels: [["b", "2"], ["a", "1"]], env: ["PATH=/bin", "X=y=z"], image: "envoyproxy/envoy:v1.29.1" },
      state: { pid: 4242, running: true },
    });
    await c.inspectContainer(` ${A} `);
    expect(engine.requests).toEqual([
      { method: "GET", path: "/_ping" },
      { method: "GET", path: `/v1.45/containers/${A}/json` },
      { method: "GET", path: `/v1.45/containers/${A}/json` },
    ]);
    c.close();
  });

  it("uses docker_version as given, without a ping", async () => {
    const c = client({ apiVersion: "1.41" });
    await c.inspectContainer(A);
    expect(engine.requests).toEqual([{ method: "GET", path: `/v1.41/containers/${A}/json` }]);
  });

  it("caps the negotiated version at ours when the daemon is newer", async () => {
    const newer = await FakeDockerEngine.start({ apiVersion: "1.99" });
    newer.addContainer({ id: A });
    try {
      await new DockerClient(parseDockerHost(newer.url)).inspectContainer(A);
      expect(newer.requests.at(-1)?.path).toBe(`/v${maxApiVersion}/containers/${A}/json`);
    } finally {
      await newer.close();
    }
  });

  it("reports a version the daemon refuses in the daemon's words", async () => {
    await expect(client({ apiVersion: "1.50" }).inspectContainer(A)).rejects.toThrow(
      "Error response from daemon: client version 1.50 is too new. Maximum supported API version is 1.45",
    );
  });

  it("inspects images by name with slashes and tags, escaping the path as Go does", async () => {
    engine.addImage({ id: `sha256:${"9".repeat(64)}`, repoTags: ["envoyproxy/envoy:v1.29.1", "my image:1"] });
    const c = client({ apiVersion: "1.45" });
    expect(await c.inspectImage("envoyproxy/envoy:v1.29.1")).toEqual({ id: `sha256:${"9".repeat(64)}` });
    expect(engine.requests.at(-1)?.path).toBe("/v1.45/images/envoyproxy/envoy:v1.29.1/json");
    expect(await c.inspectImage("my image:1")).toEqual({ id: `sha256:${"9".repeat(64)}` });
    await expect(c.inspectImage("nope")).rejects.toThrow("Error response from daemon: No such image: nope:latest");
  });

  it("answers Docker's 404 as the Go client words it", async () => {
    await expect(client().inspectContainer("f".repeat(64))).rejects.toThrow(`Error response from daemon: No such container: ${"f".repeat(64)}`);
    await expect(client().inspectContainer("  ")).rejects.toThrow("invalid container name or ID: value is empty");
  });

  it("words other error bodies as the Go client does", async () => {
    const c = client({ apiVersion: "1.45" });
    engine.injectResponses(
      { status: 500, body: "daemon is sad\n", contentType: "text/plain" },
      { status: 500, body: "{}", contentType: "application/json" },
      { status: 502 },
      { status: 500, body: "{not json", contentType: "application/json" },
    );
    await expect(c.inspectContainer(A)).rejects.toThrow(/^Error response from daemon: daemon is sad$/);
    await expect(c.inspectContainer(A)).rejects.toThrow("Error response from daemon: API returned a 500 (Internal Server Error) but provided no error-message");
    await expect(c.inspectContainer(A)).rejects.toThrow(
      `request returned 502 Bad Gateway for API route and version http://api.moby.localhost/v1.45/containers/${A}/json, check if the server supports the requested API version`,
    );
    await expect(c.inspectContainer(A)).rejects.toThrow(/^error reading JSON: /);
  });

  it("refuses malformed and oversized inspect bodies with a clear error", async () => {
    const id = "e".repeat(64);
    const c = client({ apiVersion: "1.45", maxBodyBytes: 64 * 1024 });
    for (const [rawBody, message] of [
      ["{", /^decoding response of \/containers\/e+\/json: /],
      ["{}", "container inspect response has no Config"],
      ['{"Config": null}', "container inspect response has no Config"],
      ['{"Config": {"Env": "A=B"}}', "Config.Env: expected an array of strings"],
      ['{"Config": {"Labels": {"a": 1}}}', "Config.Labels: expected an object of strings"],
      ['{"Config": {"Image": 7}}', "Config.Image: expected a string"],
      ['{"Config": {}, "State": []}', "State: expected an object"],
      ['{"Config": {}, "State": {"Pid": "42"}}', "State.Pid: expected an integer"],
      ['{"Config": {}, "State": {"Pid": 4.5}}', "State.Pid: expected an integer"],
      ['{"Config": {}, "State": {"Pid": 42, "Running": "yes"}}', "State.Running: expected a boolean"],
      [JSON.stringify({ Config: { Env: ["X=" + "x".repeat(100_000)] } }), `response of /containers/${id}/json is larger than 65536 bytes`],
    ] as const) {
      engine.addContainer({ id, rawBody });
      await expect(c.inspectContainer(id)).rejects.toThrow(message);
    }
    // Go's encoding/json matches member names ignoring case; nulls decode as empty; no State reads as not running.
    engine.addContainer({ id, rawBody: '{"config": {"labels": null, "env": null, "image": "x"}}' });
    expect(await c.inspectContainer(id)).toEqual({ config: { labels: [], env: [], image: "x" }, state: { pid: 0, running: false } });
    engine.addContainer({ id, rawBody: '{"Config": {}, "state": {"pid": 77, "running": true}}' });
    expect((await c.inspectContainer(id)).state).toEqual({ pid: 77, running: true });
  });

  it("words connection failures as the Go client does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "no-docker-"));
    try {
      const missing = new DockerClient(parseDockerHost(`unix://${dir}/docker.sock`));
      await expect(missing.inspectContainer(A)).rejects.toThrow(
        `failed to connect to the docker API at unix://${dir}/docker.sock; check if the path is correct and if the daemon is running: dial unix ${dir}/docker.sock: connect: no such file or directory`,
      );
      const refused = new DockerClient(parseDockerHost("tcp://127.0.0.1:1"));
      await expect(refused.inspectContainer(A)).rejects.toThrow("Cannot connect to the Docker daemon at tcp://127.0.0.1:1. Is the docker daemon running?");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives up on a daemon that never answers: at the caller's abort, or at its own timeout", async () => {
    engine.hang();
    const controller = new AbortController();
    const pending = client({ apiVersion: "1.45" }).inspectContainer(A, controller.signal);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: "cancelled", message: "context canceled" });
    await expect(client({ apiVersion: "1.45", requestTimeoutMs: 50 }).inspectContainer(A)).rejects.toThrow(
      `request to the docker API at ${engine.url} timed out after 0.05s`,
    );
    // The ping is bounded the same way: a caller's abort is not mistaken for a failed ping.
    await expect(client().inspectContainer(A, AbortSignal.abort())).rejects.toMatchObject({ kind: "cancelled" });
  });
});
