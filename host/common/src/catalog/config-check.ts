/**
 * One plugin's verdict on its configuration, asked as SPIRE's `validate`
 * asks (pkg/common/catalog ValidatePluginConfigs): read the plugin data,
 * then Config.Validate with the core configuration in place of Configure.
 */
import { readFileSync } from "node:fs";
import { Code, isRpcError } from "@signet/proto";
import { ConfigService } from "@signet/proto/spire/service/common/config/v1/config";
import type { PluginConnection } from "@signet/plugin-protocol";
import { errorText, fileErrorText } from "../cli/errors.js";
import type { PluginSpec } from "./supervisor.js";

/** Who decided, so a caller can tell "checked and fine" from "not checkable". */
export type ConfigAnswer =
  /** The plugin's Validate answered. */
  | "validated"
  /** Validate is Unimplemented (plugins built before SDK 1.11): no opinion, valid, as SPIRE counts it. */
  | "unimplemented"
  /** Validate failed with another status: the status is the note, as SPIRE's err.Error(). */
  | "failed"
  /** No Config service and no plugin data: nothing to check. */
  | "not-configurable"
  /** plugin_data given to a plugin without a Config service: Configure (and `run`) would refuse it. */
  | "no-config-service"
  /** plugin_data_file could not be read: SPIRE's "failed to read plugin configuration" note. */
  | "unreadable-data";

export interface ConfigCheck {
  readonly valid: boolean;
  /** What the plugin said (or what kept it from being asked), one problem a note. */
  readonly notes: readonly string[];
  readonly answer: ConfigAnswer;
}

export async function checkConfig(connection: PluginConnection, spec: PluginSpec, deadlineMs: number): Promise<ConfigCheck> {
  const data = readPluginData(spec.data);
  if (data.error !== undefined) {
    return { valid: false, notes: [`failed to read plugin configuration: ${data.error}`], answer: "unreadable-data" };
  }
  if (!connection.hasConfig()) {
    return spec.data.kind === "none"
      ? { valid: true, notes: [], answer: "not-configurable" }
      : { valid: false, notes: ["no supported configuration interface found"], answer: "no-config-service" };
  }
  try {
    const res = await connection
      .client(ConfigService)
      .validate({ coreConfiguration: { trustDomain: spec.trustDomain }, hclConfiguration: data.text }, { deadline: deadlineMs });
    // SPIRE's CLI counts any note as a failure and ignores `valid`; Signet trusts `valid` (a note may be
    // informational, e.g. SPIRE's docker attestor "Using the new container locator") and makes sure an
    // invalid answer always says something.
    const notes = !res.valid && res.notes.length === 0 ? ["the plugin reported its configuration as invalid without a note"] : res.notes;
    return { valid: res.valid, notes, answer: "validated" };
  } catch (e) {
    if (isRpcError(e) && e.code === Code.UNIMPLEMENTED) return { valid: true, notes: [], answer: "unimplemented" };
    return { valid: false, notes: [errorText(e)], answer: "failed" };
  }
}

function readPluginData(data: PluginSpec["data"]): { text: string; error?: undefined } | { text?: undefined; error: string } {
  if (data.kind === "inline") return { text: data.text };
  if (data.kind === "none") return { text: "" };
  try {
    return { text: readFileSync(data.path, "utf8") };
  } catch (e) {
    return { error: fileErrorText("open", data.path, e) };
  }
}
