import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Channel, Server, ServerCredentials, credentials } from "@grpc/grpc-js";
import { type AsyncService, Code, RpcError, createClient, implement } from "@signet/proto";
import { WorkloadAttestorService } from "@signet/proto/spire/plugin/agent/workloadattestor/v1/workloadattestor";
import { WorkloadAttestorFacade, createLogger } from "@signet/host-common";
import { afterEach, describe, expect, it } from "vitest";
import { WorkloadAttestationError, attestWorkload } from "./index.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

type Attest = AsyncService<typeof WorkloadAttestorService>["attest"];

/** A WorkloadAttestor plugin served in process over a Unix socket, seen through the host's facade. */
async function plugin(name: string, attest: Attest): Promise<WorkloadAttestorFacade> {
  const dir = mkdtempSync(join(tmpdir(), "signet-wla-"));
  const path = join(dir, "plugin.sock");
  const registration = implement(WorkloadAttestorService, { attest });
  const server = new Server();
  server.addService(registration.definition, registration.implementation);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${path}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  const channel = new Channel(`unix:${path}`, credentials.createInsecure(), {});
  cleanups.push(() => {
    channel.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return new WorkloadAttestorFacade(createClient(WorkloadAttestorService, channel), name);
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

const workloadPid = 4242;

describe("attestWorkload", () => {
  it("asks every plugin about the PID and types each selector with the plugin's name", async () => {
    const asked: string[] = [];
    const unix = await plugin("unix", async (req) => {
      asked.push(`unix:${req.pid}`);
      return { selectorValues: ["uid:1000", "gid:1000"] };
    });
    const docker = await plugin("docker", async (req) => {
      asked.push(`docker:${req.pid}`);
      return { selectorValues: ["label:app:web"] };
    });
    const { log, lines } = logCapture();
    const selectors = await attestWorkload(workloadPid, [unix, docker], { deadlineMs: 5000, log });
    expect(selectors).toEqual([
      { type: "unix", value: "uid:1000" },
      { type: "unix", value: "gid:1000" },
      { type: "docker", value: "label:app:web" },
    ]);
    expect(asked.sort()).toEqual([`docker:${workloadPid}`, `unix:${workloadPid}`]);
    expect(lines).toEqual([
      expect.objectContaining({ level: "debug", msg: "PID attested to have selectors", pid: workloadPid, selectors: ["unix:uid:1000", "unix:gid:1000", "docker:label:app:web"] }),
    ]);
  });

  it("calls the plugins in parallel", async () => {
    // "first" answers only once "second" has been asked: called one after the other they would time out.
    let secondAsked!: () => void;
    const asked = new Promise<void>((resolve) => (secondAsked = resolve));
    const first = await plugin("first", async () => {
      await asked;
      return { selectorValues: ["a"] };
    });
    const second = await plugin("second", async () => {
      secondAsked();
      return { selectorValues: ["b"] };
    });
    const selectors = await attestWorkload(workloadPid, [first, second], { deadlineMs: 5000, log: logCapture().log });
    expect(selectors).toEqual([
      { type: "first", value: "a" },
      { type: "second", value: "b" },
    ]);
  });

  it("leaves out a failing plugin while another succeeds, with one error line", async () => {
    const unix = await plugin("unix", async () => ({ selectorValues: ["uid:1000"] }));
    const broken = await plugin("broken", async () => {
      throw new RpcError(Code.INTERNAL, "cannot read /proc");
    });
    const { log, lines } = logCapture();
    const selectors = await attestWorkload(workloadPid, [unix, broken], { deadlineMs: 5000, log });
    expect(selectors).toEqual([{ type: "unix", value: "uid:1000" }]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        msg: "Failed to collect all selectors",
        pid: workloadPid,
        error: 'workload attestor "broken" failed: rpc error: code = Internal desc = cannot read /proc',
        selectors: ["unix:uid:1000"],
      }),
    ]);
  });

  it("fails when every plugin fails, with all their errors", async () => {
    const a = await plugin("a", async () => {
      throw new RpcError(Code.NOT_FOUND, "no such process");
    });
    const b = await plugin("b", async () => {
      throw new RpcError(Code.UNAVAILABLE, "plugin restarting");
    });
    const err = await attestWorkload(workloadPid, [a, b], { deadlineMs: 5000, log: logCapture().log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkloadAttestationError);
    expect(err).toMatchObject({
      kind: "failed",
      plugins: ["a", "b"],
      message: 'workload attestor "a" failed: rpc error: code = NotFound desc = no such process\nworkload attestor "b" failed: rpc error: code = Unavailable desc = plugin restarting',
    });
  });

  it("fails at the deadline naming the plugin still pending, and cancels its call", async () => {
    let slowCancelled!: () => void;
    const cancelled = new Promise<void>((resolve) => (slowCancelled = resolve));
    const fast = await plugin("fast", async () => ({ selectorValues: ["uid:1000"] }));
    const slow = await plugin("slow", async (_req, ctx) => {
      ctx.signal.addEventListener("abort", () => slowCancelled());
      return new Promise(() => {});
    });
    const { log, lines } = logCapture();
    const started = Date.now();
    const err = await attestWorkload(workloadPid, [fast, slow], { deadlineMs: 300, log }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(WorkloadAttestationError);
    expect(err).toMatchObject({ kind: "timeout", plugins: ["slow"], message: 'workload attestation timed out after 300ms waiting for workload attestor "slow"' });
    expect(lines).toEqual([expect.objectContaining({ level: "error", msg: "Timed out collecting selectors", pid: workloadPid, partial_selectors: ["fast:uid:1000"] })]);
    await cancelled;
  });

  it("stops when the caller goes away", async () => {
    const hang = await plugin("hang", async () => new Promise(() => {}));
    const controller = new AbortController();
    const pending = attestWorkload(workloadPid, [hang], { deadlineMs: 5000, log: logCapture().log, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ kind: "canceled", plugins: ["hang"] });
  });

  it("gives no selectors, and no error, without plugins", async () => {
    expect(await attestWorkload(workloadPid, [], { deadlineMs: 1000, log: logCapture().log })).toEqual([]);
  });

  it("keeps the agent's own attestations (health checks) out of the log", async () => {
    const unix = await plugin("unix", async () => ({ selectorValues: ["uid:0"] }));
    const { log, lines } = logCapture();
    await attestWorkload(process.pid, [unix], { deadlineMs: 5000, log });
    expect(lines).toEqual([]);
  });
});
