#!/usr/bin/env node
/** `signet-server`: SPIRE's spire-server command line. */
import { processEnv } from "@signet/host-common";
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2), processEnv());
