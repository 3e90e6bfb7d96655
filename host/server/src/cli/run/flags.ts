/** SPIRE's `run`/`validate` flags, turned into ServerFlagOverrides. */
import { FlagSet } from "@signet/host-common";
import type { ServerFlagOverrides } from "../../config/server-config.js";

export const defaultConfigPath = "conf/server/server.conf";

export interface RunFlags {
  readonly configPath: string;
  readonly expandEnv: boolean;
  readonly overrides: ServerFlagOverrides;
}

export function runFlagSet(name: string) {
  const fs = new FlagSet(name);
  const bindAddress = fs.string("bindAddress", "", "IP address or DNS name of the SPIRE server");
  const serverPort = fs.int("serverPort", 0, "Port number of the SPIRE server");
  const config = fs.string("config", "", "Path to a SPIRE config file");
  const dataDir = fs.string("dataDir", "", "Directory to store runtime data to");
  const logFile = fs.string("logFile", "", "File to write logs to");
  const logFormat = fs.string("logFormat", "", "'text' or 'json'");
  fs.bool("logSourceLocation", false, "Include source file, line number and function name in log lines");
  const logLevel = fs.string("logLevel", "", "'debug', 'info', 'warn', or 'error'");
  const trustDomain = fs.string("trustDomain", "", "The trust domain that this server belongs to");
  const expandEnv = fs.bool("expandEnv", false, "Expand environment variables in SPIRE config file");
  const socketPath = fs.string("socketPath", "", "Path to bind the SPIRE Server API socket to");
  return {
    fs,
    /** Only flags given a non-zero value override the file, as in SPIRE's mergeInput. */
    result(): RunFlags {
      const o: { -readonly [K in keyof ServerFlagOverrides]: ServerFlagOverrides[K] } = {};
      if (bindAddress.value !== "") o.bindAddress = bindAddress.value;
      if (serverPort.value !== 0) o.serverPort = serverPort.value;
      if (socketPath.value !== "") o.socketPath = socketPath.value;
      if (dataDir.value !== "") o.dataDir = dataDir.value;
      if (logFile.value !== "") o.logFile = logFile.value;
      if (logFormat.value !== "") o.logFormat = logFormat.value;
      if (logLevel.value !== "") o.logLevel = logLevel.value;
      if (trustDomain.value !== "") o.trustDomain = trustDomain.value;
      return { configPath: config.value === "" ? defaultConfigPath : config.value, expandEnv: expandEnv.value, overrides: o };
    },
  };
}

export { missingConfigError } from "@signet/host-common";
