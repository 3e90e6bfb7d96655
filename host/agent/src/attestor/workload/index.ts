export { attestWorkload, formatSelector, WorkloadAttestationError, type AttestWorkloadOptions, type WorkloadAttestationFailure } from "./attest-workload.js";
export { ConnectionSelectors } from "./connection-selectors.js";
