/**
 * CSR verification spread over worker threads. The signature checks of a
 * BatchNewX509SVID call (~150 µs each for P-256) are the API's own largest
 * CPU cost; with a pool, a batch is split between the workers and the calling
 * thread, which keeps verifying its share meanwhile. Optional: the inline
 * verifier is the default, and bench/svid-batch says whether the pool pays on
 * a given machine. A worker that fails only costs speed: its share is
 * verified inline and the worker is replaced on the next batch.
 */
import { Worker } from "node:worker_threads";
import type { CsrJob } from "./csr-worker.js";
import { type CsrCheck, type CsrVerifier, checkCsr } from "./csr-verifier.js";

export interface CsrWorkerPoolOptions {
  /** Worker threads (default 1: the main thread verifies a share too). */
  readonly threads?: number;
  /** Batches smaller than this are verified inline (default 64). */
  readonly minBatch?: number;
  /** The compiled worker (default: csr-worker.js beside this module). */
  readonly workerFile?: string | URL;
}

interface Pending {
  readonly resolve: (results: CsrCheck[]) => void;
  readonly reject: (error: Error) => void;
}

export function workerCsrVerifier(options: CsrWorkerPoolOptions = {}): CsrVerifier {
  const threads = Math.max(1, options.threads ?? 1);
  const minBatch = options.minBatch ?? 64;
  const file = options.workerFile ?? new URL("./csr-worker.js", import.meta.url);
  const slots: Array<{ worker: Worker; pending: Map<number, Pending> } | undefined> = new Array(threads).fill(undefined);
  let nextId = 0;
  let closed = false;

  const slot = (i: number) => {
    const existing = slots[i];
    if (existing) return existing;
    const worker = new Worker(file);
    worker.unref();
    const pending = new Map<number, Pending>();
    const fail = (error: Error) => {
      slots[i] = undefined;
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    worker.on("message", (msg: { id: number; results: CsrCheck[] }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      p?.resolve(msg.results.map(revive));
    });
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`CSR worker exited with code ${code}`)));
    const s = { worker, pending };
    slots[i] = s;
    return s;
  };

  const onWorker = (i: number, csrs: readonly Buffer[]): Promise<CsrCheck[]> => {
    let s;
    try {
      s = slot(i);
    } catch {
      return Promise.resolve(csrs.map(checkCsr));
    }
    const id = nextId++;
    const job: CsrJob = { id, csrs };
    return new Promise<CsrCheck[]>((resolve, reject) => {
      s.pending.set(id, { resolve, reject });
      s.worker.postMessage(job);
    }).catch(() => csrs.map(checkCsr));
  };

  return {
    async verify(csrs) {
      if (closed || csrs.length < minBatch) return csrs.map(checkCsr);
      // Equal shares for every worker and for this thread, which takes the first one.
      const share = Math.ceil(csrs.length / (threads + 1));
      const jobs = [];
      for (let i = 0; i < threads; i++) {
        const part = csrs.slice(share * (i + 1), share * (i + 2));
        if (part.length > 0) jobs.push(onWorker(i, part));
      }
      const mine = csrs.slice(0, share).map(checkCsr);
      const theirs = await Promise.all(jobs);
      return mine.concat(...theirs);
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s?.worker.terminate()));
    },
  };
}

/** Buffers arrive as plain Uint8Arrays after structured cloning. */
function revive(check: CsrCheck): CsrCheck {
  return check.ok ? { ...check, spki: Buffer.from(check.spki.buffer, check.spki.byteOffset, check.spki.byteLength) } : check;
}
