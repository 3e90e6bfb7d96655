/**
 * @signet/plugin-sdk/conformance: black-box checks that a plugin program
 * behaves as SPIRE and Signet hosts expect. Each suite runs the real binary
 * as a separate process over the real protocol and is framework-free:
 *
 *   import { describe, it, beforeAll, afterAll } from "vitest";
 *   import { keyManagerSuite, lifecycleSuite, registerWithVitest } from "@signet/plugin-sdk/conformance";
 *
 *   const plugin = { type: "KeyManager", file: "dist/plugin.mjs", sides: ["server", "agent"] } as const;
 *   registerWithVitest(lifecycleSuite(plugin), { describe, it, beforeAll, afterAll });
 *   registerWithVitest(keyManagerSuite(plugin, { side: "server" }), { describe, it, beforeAll, afterAll });
 *
 * Kept out of the SDK's main entry so plugin bundles never carry it.
 */
export { type Check, type Suite, type CheckResult, type SuiteResult, type TestFunctions, runSuite, registerWithVitest, combineSuites } from "./suite.js";
export { type PluginUnderTest, type BadConfig, type Side, type ResolvedPlugin, serviceName, resolvePlugin } from "./plugin.js";
export { PluginHarness, PluginSession, type LaunchOptions, type StopResult, type ExitInfo } from "./harness.js";
export { ConformanceError } from "./assert.js";
export { lifecycleSuite, hclogProblem, type LifecycleOptions } from "./lifecycle.js";
export { keyManagerSuite, type KeyManagerSuiteOptions } from "./keymanager.js";
export { batchSignerServiceName } from "./keymanager-batch.js";
export { upstreamAuthoritySuite, type UpstreamAuthoritySuiteOptions } from "./upstreamauthority.js";
export { workloadAttestorSuite, type WorkloadAttestorSuiteOptions } from "./workloadattestor.js";
export { nodeAttestorSuite, type NodeAttestorSuiteOptions } from "./nodeattestor.js";
export { type KeyTypeName, type SignatureAlgorithm, signatureAlgorithmsFor } from "./signatures.js";
export {
  dataStoreSuite,
  dataStoreFromPlugin,
  dataStoreChecks,
  type DataStoreSuiteOptions,
  type DataStoreUnderTest,
  type DataStoreDatabase,
  type DataStoreInstance,
  type DataStoreClient,
  type CheckContext as DataStoreCheckContext,
} from "./datastore.js";
