export {
  KeyManagerFacade,
  keyManagerFacadeFor,
  batchSignerServiceName,
  batchSignerLimits,
  KeyType,
  HashAlgorithm,
  type BatchSignerAccess,
  type ManagedKey,
  type SignerOpts,
} from "./keymanager.js";
export { WorkloadAttestorFacade, type Selector } from "./workloadattestor.js";
export {
  ServerNodeAttestorFacade,
  AgentNodeAttestorFacade,
  type AttestationResult,
  type AgentAttestation,
} from "./nodeattestor.js";
export {
  UpstreamAuthorityFacade,
  type MintedX509Ca,
  type MintX509CaOptions,
  type UpstreamJwtKey,
} from "./upstreamauthority.js";
