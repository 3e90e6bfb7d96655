/**
 * @signet/plugin-sdk: write a SPIRE/Signet plugin in TypeScript.
 *
 *   import { serve, configService } from "@signet/plugin-sdk";
 *   await serve({ type: "KeyManager", plugin: keyManager.server(impl), services: [configService(cfg)] });
 */
export { serve, type ServeOptions, type RunningPlugin, type PluginType } from "./serve/serve.js";
export type { HostConnection } from "@signet/plugin-protocol";
export type { InitHooks } from "./serve/init.js";
export { configService, type ConfigHandlers, type CoreConfig } from "./config/config-service.js";
export { createLogger, hclogTimestamp, type Logger, type LogLevel, type LogFields } from "./log/logger.js";
export { Code, RpcError, createClient, implement, type AsyncService, type CallContext } from "@signet/proto";
export { keyManager, type ServerKeyManagerImpl, type AgentKeyManagerImpl } from "./types/keymanager.js";
export { nodeAttestor, type ServerNodeAttestorImpl, type AgentNodeAttestorImpl } from "./types/nodeattestor.js";
// KeyManager keys for plugins that hold their own (memory, disk): generation, the store answering
// GetPublicKey(s)/SignData, and digest signing as Go's crypto.Signer does. See src/keys/.
export {
  KeyStore,
  KeyType,
  keyManagerHandlers,
  batchSignerService,
  batchLimits,
  type KeyManagerDomain,
  type KeyManagerHandlerOptions,
  KeyManagerError,
  generateKeyEntry,
  keyEntryFromPrivateKey,
  fingerprintOf,
  isKeyType,
  type KeyManagerErrorKind,
  type PublicKeyInfo,
  type KeyEntry,
  type SignerOpts,
  type Signature,
  type Signatures,
} from "./keys/index.js";
export { workloadAttestor, type WorkloadAttestorImpl } from "./types/workloadattestor.js";
export { upstreamAuthority, type UpstreamAuthorityImpl } from "./types/upstreamauthority.js";
export { svidStore, type SVIDStoreImpl } from "./types/svidstore.js";
export { bundlePublisher, credentialComposer, notifier } from "./types/server-extras.js";
// Typed plugin configuration: decodePluginConfig(schema, hclConfiguration) parses the text the host
// sends (JSON fast path, HCL v1 otherwise) and names the key in every error.
export {
  ConfigError,
  decodePluginConfig,
  str,
  int,
  num,
  bool,
  duration,
  oneOf,
  list,
  object,
  map,
  raw,
  custom,
  unknownKeysError,
  type Infer,
} from "@signet/config";
// SPIRE's agent path templates (Go text/template subset with missingkey=error) for node attestors
// that let the operator shape the agent ID path. See src/template/.
export {
  AgentPathTemplate,
  TemplateError,
  type TemplateValue,
  type TemplateStruct,
  type TemplateMap,
} from "./template/agent-path-template.js";
// Go's encoding/json, where a plugin must match SPIRE byte for byte: strings written with Go's
// escapes, and syntax errors in Go's words. See src/gojson/.
export { goJsonString } from "./gojson/string.js";
export { goJsonSyntaxError } from "./gojson/syntax-error.js";
// Time for background tasks, injectable so tests move it by hand. See src/clock/.
export { systemClock, type Clock } from "./clock/clock.js";
// Files a plugin keeps: atomic replacement (temporary file, fsync, rename) and the KMS key
// managers' server ID file. See src/files/.
export { writeFileAtomic, type WriteFileAtomicOptions } from "./files/atomic-write.js";
export { readOrCreateServerId, ServerIdFileError, type ServerIdFileProblem } from "./files/server-id.js";
// Errors as values with a kind (a gRPC status by name) and the one place they become statuses:
// toRpcError, and withStatus / withUnaryStatus at a handler's edge; goErrorText words a Node
// file-system error as Go's os package does. See src/errors/.
export {
  PluginError,
  codeOfKind,
  toRpcError,
  withStatus,
  withUnaryStatus,
  type PluginErrorKind,
} from "./errors/plugin-error.js";
export { goErrorText } from "./errors/go-error-text.js";
