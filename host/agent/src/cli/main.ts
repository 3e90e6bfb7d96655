#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * `signet-agent`: SPIRE's spire-agent command line.
 *
 * The #! line caps V8's young generation at 2 × 8 MB (by default it grows to
 * 32 MB under a sync's allocation rate and stays there): the agent's memory
 * is its SVID cache, and what a sync or a Workload API call allocates dies
 * young either way. The benchmarks run the agent under the flags on this line.
 */
import { processEnv } from "@signet/host-common";
import { runAgentCli } from "./cli.js";

process.exitCode = await runAgentCli(process.argv.slice(2), processEnv());
