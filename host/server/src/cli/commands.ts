/** Every `signet-server` command, as spire-server names them. */
import type { Command } from "@signet/host-common";
import { agentBan, agentEvict, agentShow } from "./agent/by-id.js";
import { agentCount } from "./agent/count.js";
import { agentList } from "./agent/list.js";
import { agentPurge } from "./agent/purge.js";
import { bundleCount, bundleDelete, bundleList, bundleSet, bundleShow } from "./bundle/commands.js";
import { debugGetInfo } from "./debug/getinfo.js";
import { entryCount } from "./entry/count.js";
import { entryCreate } from "./entry/create.js";
import { entryDelete } from "./entry/delete.js";
import { entryShow } from "./entry/show.js";
import { entryUpdate } from "./entry/update.js";
import {
  federationCreate,
  federationDelete,
  federationList,
  federationRefresh,
  federationShow,
  federationUpdate,
} from "./federation/commands.js";
import { healthcheck } from "./healthcheck/healthcheck.js";
import { jwtMint } from "./jwt/mint.js";
import { localAuthorityCommands, upstreamAuthorityCommands } from "./localauthority/commands.js";
import { loggerGet, loggerReset, loggerSet } from "./logger/commands.js";
import { run } from "./run/run.js";
import { tokenGenerate } from "./token/generate.js";
import { validate } from "./validate/validate.js";
import { witFeatureFlag, witMint } from "./wit/mint.js";
import { x509Mint } from "./x509/mint.js";

export const commands: readonly Command[] = [
  agentBan,
  agentCount,
  agentEvict,
  agentList,
  agentPurge,
  agentShow,
  bundleCount,
  bundleDelete,
  bundleList,
  bundleSet,
  bundleShow,
  debugGetInfo,
  entryCount,
  entryCreate,
  entryDelete,
  entryShow,
  entryUpdate,
  federationCreate,
  federationDelete,
  federationList,
  federationRefresh,
  federationShow,
  federationUpdate,
  healthcheck,
  jwtMint,
  ...localAuthorityCommands,
  loggerGet,
  loggerReset,
  loggerSet,
  run,
  tokenGenerate,
  ...upstreamAuthorityCommands,
  validate,
  x509Mint,
];

/** The table for this environment: `wit mint` only when SPIRE_SERVER_FFLAGS lists "wit-svid". */
export function commandsFor(vars: Readonly<Record<string, string | undefined>>): readonly Command[] {
  const flags = (vars.SPIRE_SERVER_FFLAGS ?? "").split(" ");
  return flags.includes(witFeatureFlag) ? [...commands, witMint] : commands;
}
