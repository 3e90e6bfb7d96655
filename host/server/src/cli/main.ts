#!/usr/bin/env node
/** `signet-server`: SPIRE's spire-server command line. */
import { runCli } from "./cli.js";
import { processEnv } from "./env.js";

process.exitCode = await runCli(process.argv.slice(2), processEnv());
