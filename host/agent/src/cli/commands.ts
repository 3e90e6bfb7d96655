/** Every `signet-agent` command, as spire-agent names them. */
import type { Command } from "@signet/host-common";
import { fetch, fetchX509 } from "./api/fetch-x509.js";
import { fetchJwt } from "./api/fetch-jwt.js";
import { validateJwt } from "./api/validate-jwt.js";
import { watch } from "./api/watch.js";
import { healthcheck } from "./healthcheck/healthcheck.js";
import { run } from "./run/run.js";
import { validate } from "./validate/validate.js";

export const commands: readonly Command[] = [fetch, fetchJwt, fetchX509, validateJwt, watch, healthcheck, run, validate];
