/**
 * Worker thread body for csr-worker-pool.ts: verifies the CSRs it is sent
 * with checkCsr and answers with the results, in order.
 */
import { parentPort } from "node:worker_threads";
import { checkCsr } from "./csr-verifier.js";

export interface CsrJob {
  readonly id: number;
  readonly csrs: readonly Uint8Array[];
}

parentPort?.on("message", (job: CsrJob) => {
  const results = job.csrs.map((csr) => checkCsr(Buffer.from(csr.buffer, csr.byteOffset, csr.byteLength)));
  parentPort!.postMessage({ id: job.id, results });
});
