/**
 * DockerAttestor end to end in-process: PIDs of the fixture proc root
 * (src/testing/proc, one per cgroup layout) against fake Docker and Podman
 * engines on Unix sockets (test/fakes/docker). A workload 10xx is in the
 * container whose init process is 20xx (the engine's State.Pid).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeContainer, FakeDockerEngine } from "../../../test/fakes/docker/engine.js";
import { DockerAttestor } from "./attestor.js";
import { parseSettings } from "./config.js";
import { procFs } from "./proc.js";
import { type RetryPolicy, spireRetryPolicy } from "./retry.js";

const A = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const P = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const imageId = `sha256:${"9".repeat(64)}`;
const proc = procFs(join(__dirname, "testing"));

let docker: FakeDockerEngine;
let podman: FakeDockerEngine;
let rootlessPodman: FakeDockerEngine;
let dir: string;
let waits: number[];
const retry: RetryPolicy = { ...spireRetryPolicy, sleep: async (ms) => void waits.push(ms) };

async function attestor(extra = ""): Promise<DockerAttestor> {
  const settings = await parseSettings(
    `docker_socket_path = "${docker.url}"\npodman_socket_path = "${podman.url}"\npodman_socket_path_template = "unix://${dir}/user-%d.sock"\n${extra}`,
  );
  return new DockerAttestor(settings, { proc, retry });
}

/** Container A as Docker knows it, its init process at `initPid` (2003: cgroup v2, systemd driver). */
const web = (initPid = 2003): FakeContainer => ({
  id: A,
  name: "web",
  config: { Labels: { "com.example.tier": "front", "com.example.name": "web" }, Env: ["PATH=/usr/bin", "MODE=prod"], Image: "example/web:1.0" },
  state: { pid: initPid },
});
/** Container A with another Config, its init at 2003. */
const addA = (container: Omit<FakeContainer, "id">, options?: { hiddenLookups?: number }) => docker.addContainer({ state: { pid: 2003 }, ...container, id: A }, options);

const webSelectors = ["label:com.example.name:web", "label:com.example.tier:front", "env:PATH=/usr/bin", "env:MODE=prod", "image_id:example/web:1.0", `image_config_digest:${imageId}`];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "docker-attestor-"));
  [docker, podman, rootlessPodman] = await Promise.all([
    FakeDockerEngine.start({ apiVersion: "1.47" }),
    FakeDockerEngine.start({ apiVersion: "1.41" }),
    FakeDockerEngine.start({ apiVersion: "1.41", socketPath: join(dir, "user-1000.sock") }),
  ]);
});
afterAll(async () => {
  await Promise.all([docker.close(), podman.close(), rootlessPodman.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  waits = [];
  for (const engine of [docker, podman, rootlessPodman]) engine.requests.length = 0;
  docker.hang(false);
  docker.addContainer(web());
  docker.addImage({ id: imageId, repoTags: ["example/web:1.0"] });
  for (const engine of [podman, rootlessPodman]) {
    const rootful = engine === podman;
    engine.addContainer({ id: P, config: { Labels: { engine: rootful ? "rootful" : "rootless" }, Env: [], Image: "" }, state: { pid: rootful ? 2010 : 2011 } });
  }
});

describe("DockerAttestor: Docker workloads", () => {
  it.each([
    [1001, "cgroup v1, cgroupfs"],
    [1002, "cgroup v1, systemd"],
    [1003, "cgroup v2, systemd"],
    [1004, "cgroup v2, cgroupfs"],
    [1005, "cgroup v2, another namespace"],
    [1006, "mountinfo fallback"],
    [1007, "cgroup file over spoofed mountinfo"],
    [1008, "containerd CRI shape"],
    [1009, "CRI-O shape"],
  ])("pid %i (%s), beside the container's init: labels sorted by key, env in order, image_id, image_config_digest", async (pid) => {
    docker.addContainer(web(pid + 1000));
    const a = await attestor();
    expect(await a.attest(pid)).toEqual(webSelectors);
    expect(docker.requests.map((r) => r.path)).toEqual(["/_ping", `/v1.47/containers/${A}/json`, "/v1.47/images/example/web:1.0/json"]);
    a.close();
  });

  it.each([
    [1020, "a host process (cgroup v2)"],
    [1021, "a host process (hybrid v1)"],
    [999_999, "an exited process"],
    [0, "PID 0"],
    [-5, "a negative PID"],
  ])("%i, %s: no selectors, no error, and no call to Docker", async (pid) => {
    expect(await (await attestor()).attest(pid)).toEqual([]);
    expect(docker.requests).toEqual([]);
  });

  it("retries a container Docker does not know yet, waiting 100 then 200 ms", async () => {
    addA({ config: { Labels: { late: "yes" }, Env: [], Image: "" } }, { hiddenLookups: 2 });
    expect(await (await attestor()).attest(1003)).toEqual(["label:late:yes"]);
    expect(docker.inspectCount(A)).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it("fails Unknown with Docker's message after SPIRE's 3 retries", async () => {
    addA({}, { hiddenLookups: 10 });
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({ kind: "unknown", message: `Error response from daemon: No such container: ${A}` });
    expect(docker.inspectCount(A)).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it("leaves image_config_digest out when image inspect fails, and skips it for a container without an image name", async () => {
    addA({ config: { Labels: {}, Env: ["A=1"], Image: "gone:1" } });
    expect(await (await attestor()).attest(1003)).toEqual(["env:A=1", "image_id:gone:1"]);
    addA({ config: { Labels: {}, Env: [], Image: "" } });
    docker.requests.length = 0;
    expect(await (await attestor()).attest(1003)).toEqual([]);
    expect(docker.requests.some((r) => r.path.includes("/images/"))).toBe(false);
  });

  it("uses docker_version for the path prefix", async () => {
    await (await attestor('docker_version = "1.43"')).attest(1003);
    expect(docker.requests.map((r) => r.path)).toEqual([`/v1.43/containers/${A}/json`, "/v1.43/images/example/web:1.0/json"]);
  });

  it("fails Unknown, not a crash, when Docker is down or answers garbage", async () => {
    const settings = await parseSettings(`docker_socket_path = "unix://${dir}/absent.sock"`);
    await expect(new DockerAttestor(settings, { proc, retry }).attest(1003)).rejects.toMatchObject({
      kind: "unknown",
      message: expect.stringMatching(/^failed to connect to the docker API at unix:\/\/.*absent.sock/),
    });
    addA({ rawBody: "<html>" });
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({ kind: "unknown", message: /^decoding response of / });
  });

  it("stops retrying when the call is cancelled", async () => {
    docker.hang();
    const controller = new AbortController();
    const pending = (await attestor('docker_version = "1.47"')).attest(1003, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: "cancelled", message: "context canceled" });
  });

  it("passes locator failures through with SPIRE's codes, without calling Docker", async () => {
    const a = await attestor();
    await expect(a.attest(1030)).rejects.toMatchObject({ kind: "internal", message: /^unable to obtain cgroups: invalid cgroup entry/ });
    await expect(a.attest(1031)).rejects.toMatchObject({ kind: "internal", message: /^failed to parse mount info at / });
    await expect(a.attest(1032)).rejects.toMatchObject({ kind: "failed-precondition", message: /^multiple container IDs found/ });
    expect(docker.requests).toEqual([]);
  });
});

describe("DockerAttestor: the workload must be in the container its cgroups name", () => {
  const refused = (pid: number, workloadPath: string, containerPath: string, initPath = containerPath, initPid = 2003) => ({
    kind: "permission-denied",
    message: expect.stringContaining(
      `workload is not in container "${A}": its cgroup "${workloadPath}" on hierarchy ` +
        `${pid === 1042 ? "12 (hugetlb)" : "0"} is neither the container's cgroup "${containerPath}" (from its init process, PID ${initPid}, in "${initPath}") nor below it`,
    ),
  });

  it.each([
    [1040, "a cgroup named <id> in a user's delegated systemd subtree (cgroup v2)", "/user.slice/user-1000.slice/user@1000.service/app.slice/" + A],
    [1041, "a scope named evil-<id>.scope there", `/user.slice/user-1000.slice/user@1000.service/app.slice/evil-${A}.scope`],
  ])("pid %i, %s: PermissionDenied naming both paths, no selectors, no image lookup", async (pid, _name, path) => {
    const a = await attestor();
    await expect(a.attest(pid)).rejects.toMatchObject(refused(pid, path, `/system.slice/docker-${A}.scope`));
    expect(docker.requests.map((r) => r.path)).toEqual(["/_ping", `/v1.47/containers/${A}/json`]);
  });

  it("pid 1042: the same spoof on every cgroup v1 hierarchy is refused on the first", async () => {
    docker.addContainer(web(2001));
    await expect((await attestor()).attest(1042)).rejects.toMatchObject(
      refused(1042, `/user.slice/user-1000.slice/user@1000.service/app.slice/${A}`, `/docker/${A}`, `/docker/${A}`, 2001),
    );
  });

  it("pid 1043: mountinfo naming the container is checked against the cgroup file, which puts the process in a user session", async () => {
    await expect((await attestor()).attest(1043)).rejects.toMatchObject(refused(1043, "/user.slice/user-1000.slice/session-3.scope", `/system.slice/docker-${A}.scope`));
  });

  it.each([
    [1003, 2003, "docker exec into a cgroup v2 container (systemd driver): the init's own cgroup"],
    [1001, 2001, "docker exec into a cgroup v1 container (cgroupfs driver): every hierarchy the init's"],
    [2003, 2003, "the container's init process itself"],
    [1044, 2004, "a sub-cgroup the container made under its own (cgroupfs, v2)"],
    [1045, 2045, "a service of a container running systemd (v2): init in <container>/init.scope, service in <container>/system.slice/…"],
    [1046, 2046, "the same on cgroup v1"],
  ])("pid %i in the container whose init is %i (%s): attested", async (pid, initPid) => {
    docker.addContainer(web(initPid));
    expect(await (await attestor()).attest(pid)).toEqual(webSelectors);
  });

  it("a container whose init process is not visible (the agent in its own PID namespace): FailedPrecondition saying why", async () => {
    docker.addContainer(web(999_998));
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({
      kind: "failed-precondition",
      message:
        `init process of container "${A}" (PID 999998, from the engine) is not visible at ${proc.pidPath(999_998)}: ` +
        "the agent must share the host's PID namespace with the containers (e.g. run with pid: host), since a workload is attested as a container " +
        "only after its cgroups are checked against those of the container's init process",
    });
  });

  it("a container the engine reports with State.Pid 0 or not running: FailedPrecondition, no selectors", async () => {
    docker.addContainer({ ...web(), state: { pid: 0 } });
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({
      kind: "failed-precondition",
      message: `container "${A}" is not running (engine reports State.Running false, State.Pid 0): cannot verify that the workload is in it`,
    });
    docker.addContainer({ ...web(), state: { pid: 2003, running: false } });
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({ kind: "failed-precondition", message: /is not running \(engine reports State.Running false, State.Pid 2003\)/ });
  });

  it("an unreadable init cgroup file: Internal naming the init process", async () => {
    docker.addContainer(web(1030));
    await expect((await attestor()).attest(1003)).rejects.toMatchObject({
      kind: "internal",
      message: `init process of container "${A}" (PID 1030): unable to obtain cgroups: invalid cgroup entry, contains 1 colon separated fields but expected at least 3: "not a cgroup line"`,
    });
  });

  it("rootless Podman: a workload of another container of the same user is refused", async () => {
    rootlessPodman.addContainer({ id: P, state: { pid: 2010 } });
    await expect((await attestor()).attest(1011)).rejects.toMatchObject({ kind: "permission-denied", message: /^workload is not in container "a1b2/ });
  });
});

describe("DockerAttestor: Podman workloads", () => {
  it("asks rootful Podman at podman_socket_path", async () => {
    expect(await (await attestor()).attest(1010)).toEqual(["label:engine:rootful"]);
    expect(podman.requests.map((r) => r.path)).toEqual(["/_ping", `/v1.41/containers/${P}/json`]);
    expect(docker.requests).toEqual([]);
  });

  it("asks rootless Podman at the template's socket for the user's UID", async () => {
    expect(await (await attestor()).attest(1011)).toEqual(["label:engine:rootless"]);
    expect(rootlessPodman.inspectCount(P)).toBe(1);
    expect(podman.requests).toEqual([]);
  });

  it("ignores docker_version for Podman (it negotiates, as SPIRE's Podman client does)", async () => {
    podman.addContainer({ id: P, config: { Labels: { engine: "rootful" } }, state: { pid: 2012 } });
    expect(await (await attestor('docker_version = "1.47"')).attest(1012)).toEqual(["label:engine:rootful"]);
    expect(podman.requests.map((r) => r.path)).toEqual(["/_ping", `/v1.41/containers/${P}/json`]);
  });
});

describe("DockerAttestor: legacy container_id_cgroup_matchers", () => {
  const legacy = (patterns: string[]) => attestor(`use_new_container_locator = false\ncontainer_id_cgroup_matchers = ${JSON.stringify(patterns)}`);

  it("finds the container only where a pattern matches", async () => {
    docker.addContainer(web(2013));
    expect(await (await legacy(["/my.slice/*/<id>/*"])).attest(1013)).toEqual(webSelectors);
    expect(await (await legacy(["/my.slice/*/<id>/*"])).attest(1003)).toEqual([]);
    docker.addContainer(web(2001));
    expect(await (await legacy(["/docker/<id>"])).attest(1001)).toEqual(webSelectors);
  });

  it("checks membership too: a user-slice cgroup the pattern matches is refused", async () => {
    await expect((await legacy(["/user.slice/*/*/*/<id>"])).attest(1040)).rejects.toMatchObject({
      kind: "permission-denied",
      message: expect.stringContaining(`workload is not in container "${A}"`),
    });
  });

  it("fails Unknown for an unreadable or malformed cgroup file, as SPIRE's legacy path does", async () => {
    const a = await legacy(["/docker/<id>"]);
    await expect(a.attest(999_999)).rejects.toMatchObject({ kind: "unknown", message: `open ${proc.cgroupPath(999_999)}: no such file or directory` });
    await expect(a.attest(1030)).rejects.toMatchObject({ kind: "unknown", message: /^invalid cgroup entry, contains 1 colon/ });
    await expect(a.attest(1032)).rejects.toMatchObject({ kind: "unknown", message: /^workloadattestor\/docker: multiple container IDs found in cgroups/ });
  });
});
