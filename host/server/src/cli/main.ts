#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `signet-server`: SPIRE's spire-server command line.
 *
 * The #! line caps V8's young generation at 2 × 4 MB (the default lets it
 * grow to 32 MB and keep it): the server's memory is a long-lived cache, and
 * what it allocates per request dies young either way. bench/entries
 * measures the entry cache under the flags on this line.
 */
import { processEnv } from "@signet/host-common";
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2), processEnv());
