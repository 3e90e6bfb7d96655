/**
 * Workload attestation (SPIRE's pkg/agent/attestor/workload): every
 * WorkloadAttestor is asked about the PID at once, and their selectors,
 * typed with each plugin's name, are put together.
 *
 * As SPIRE does: a plugin that fails is logged and left out while others
 * succeed; when every plugin fails the attestation fails with all their
 * errors; running out of time fails it whatever arrived. Unlike SPIRE, the
 * time limit is our own (SPIRE relies on the caller's context) and its error
 * names the plugins still pending.
 */
import type { Logger, Selector, WorkloadAttestorFacade } from "@signet/host-common";
import { isRpcError } from "@signet/proto";

export interface AttestWorkloadOptions {
  /** Time allowed for all plugins together. */
  readonly deadlineMs: number;
  readonly log: Logger;
  /** The caller went away (the Workload API call was cancelled). */
  readonly signal?: AbortSignal;
}

export type WorkloadAttestationFailure =
  /** Every plugin failed. */
  | "failed"
  /** The deadline passed before every plugin answered. */
  | "timeout"
  /** The caller's signal aborted the attestation. */
  | "canceled";

export class WorkloadAttestationError extends Error {
  constructor(
    readonly kind: WorkloadAttestationFailure,
    message: string,
    /** The plugins that failed, or were still pending when time ran out. */
    readonly plugins: readonly string[],
  ) {
    super(message);
    this.name = "WorkloadAttestationError";
  }
}

const attestationOver = new Error("workload attestation is over");

type Outcome = { readonly ok: true; readonly selectors: Selector[] } | { readonly ok: false; readonly error: string };

export async function attestWorkload(pid: number, attestors: readonly WorkloadAttestorFacade[], options: AttestWorkloadOptions): Promise<Selector[]> {
  const { log, deadlineMs } = options;
  const controller = new AbortController();
  const outcomes: (Outcome | undefined)[] = attestors.map(() => undefined);
  const calls = attestors.map((attestor, i) =>
    Promise.resolve()
      .then(() => attestor.attest(pid, { signal: controller.signal }))
      .then(
        (selectors): Outcome => ({ ok: true, selectors }),
        (err: unknown): Outcome => ({ ok: false, error: `workload attestor "${attestor.name}" failed: ${messageOf(err)}` }),
      )
      .then((outcome) => {
        outcomes[i] = outcome;
      }),
  );

  const stop = await race(Promise.all(calls), deadlineMs, options.signal);
  // Only calls still running need stopping; a plain reason spares building a DOMException per call.
  if (stop !== "done") controller.abort(attestationOver);
  if (stop !== "done") {
    const pending = attestors.filter((_, i) => outcomes[i] === undefined).map((a) => a.name);
    const partial = collect(outcomes);
    if (stop === "canceled") throw new WorkloadAttestationError("canceled", "workload attestation canceled: the caller went away", pending);
    const message = `workload attestation timed out after ${deadlineMs}ms waiting for ${pending.map((n) => `workload attestor "${n}"`).join(", ")}`;
    log.error("Timed out collecting selectors", { pid, error: message, partial_selectors: partial.selectors.map(formatSelector) });
    throw new WorkloadAttestationError("timeout", message, pending);
  }

  const { selectors, errors, failed } = collect(outcomes);
  if (attestors.length > 0 && failed.length === attestors.length) {
    throw new WorkloadAttestationError("failed", errors.join("\n"), failed);
  }
  if (errors.length > 0) {
    log.error("Failed to collect all selectors", { pid, error: errors.join("\n"), selectors: selectors.map(formatSelector) });
  } else if (pid !== process.pid && log.enabled("debug")) {
    // The agent's own health check calls the Workload API often: SPIRE keeps
    // those out of the log. The selectors are formatted only when the line is kept.
    log.debug("PID attested to have selectors", { pid, selectors: selectors.map(formatSelector) });
  }
  return selectors;

  function collect(all: readonly (Outcome | undefined)[]) {
    const out = { selectors: [] as Selector[], errors: [] as string[], failed: [] as string[] };
    all.forEach((o, i) => {
      if (!o) return;
      if (o.ok) out.selectors.push(...o.selectors);
      else {
        out.errors.push(o.error);
        out.failed.push(attestors[i]!.name);
      }
    });
    return out;
  }
}

/** `unix:uid:1000` */
export function formatSelector(selector: Selector): string {
  return `${selector.type}:${selector.value}`;
}

function race(work: Promise<unknown>, deadlineMs: number, signal: AbortSignal | undefined): Promise<"done" | "timeout" | "canceled"> {
  if (signal?.aborted) return Promise.resolve("canceled");
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish("timeout"), deadlineMs);
    const onAbort = () => finish("canceled");
    signal?.addEventListener("abort", onAbort, { once: true });
    void work.then(() => finish("done"));
    function finish(result: "done" | "timeout" | "canceled") {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(result);
    }
  });
}

/** A plugin's error as grpc-go prints a status, which is what SPIRE's log shows. */
function messageOf(err: unknown): string {
  if (isRpcError(err)) return `rpc error: code = ${err.codeName} desc = ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
