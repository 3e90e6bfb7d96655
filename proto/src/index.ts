/**
 * @signet/proto: Signet's wire contracts.
 *
 * Every generated module is its own entry point, named after its .proto file:
 *
 *   import { InitClient } from "@signet/proto/spire/service/private/init/v1/init";
 *
 * so a process loads only the contracts it speaks (plugins start faster). This
 * index holds the few facts about those contracts that are not in the messages.
 */
export * from "./service-names.js";
export * from "./grpc-options.js";
export * from "./rpc/index.js";
