#!/usr/bin/env -S node --max-semi-space-size=8 --min-semi-space-size=8
/**
 * `signet-agent`: SPIRE's spire-agent command line.
 *
 * The #! line caps V8's young generation at 2 × 8 MB (by default it grows to
 * 32 MB under a sync's allocation rate and stays there): the agent's memory
 * is its SVID cache, and what a sync or a Workload API call allocates dies
 * young either way. It also keeps it from shrinking below that: an idle
 * agent's young generation otherwise shrinks to ~1 MB, so each 5 s sync of
 * 10k entries scavenged 4-5 times, promoted its short-lived revision objects
 * and set off a mark-compact of the whole heap every ~20 s (bench/agent-sync:
 * idle CPU 1.0-2.1 % of a core before, 0.9-1.05 % after, RSS no higher).
 * The benchmarks run the agent under the flags on this line.
 */
import { processEnv } from "@signet/host-common";
import { runAgentCli } from "./cli.js";

process.exitCode = await runAgentCli(process.argv.slice(2), processEnv());
