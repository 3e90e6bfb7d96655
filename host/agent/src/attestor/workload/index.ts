export { attestWorkload, formatSelector, WorkloadAttestationError, type AttestWorkloadOptions, type WorkloadAttestationFailure } from "./attest-workload.js";
