#!/usr/bin/env node
/** `signet-agent`: SPIRE's spire-agent command line. */
import { processEnv } from "@signet/host-common";
import { runAgentCli } from "./cli.js";

process.exitCode = await runAgentCli(process.argv.slice(2), processEnv());
