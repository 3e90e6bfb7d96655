/**
 * SPIRE's unix WorkloadAttestor without gRPC: a PID in, selector values out,
 * in SPIRE's order:
 *
 *   uid:<n>, user:<name>, gid:<n>, group:<name>,
 *   supplementary_gid:<n> and supplementary_group:<name> per supplementary group,
 *   and with discover_workload_path: path:<exe>, sha256:<hex>.
 *
 * Names appear only when /etc/passwd or /etc/group knows the ID. The host
 * puts the plugin's name in front ("unix:uid:1000").
 *
 * Unlike "not mine" attestors, this one fails for a PID it cannot read (as
 * SPIRE's does): every process has a uid, so a missing one is an error
 * worth logging, not an empty answer.
 */
import { PluginError, goErrorText } from "@signet/plugin-sdk";
import type { Settings } from "./config.js";
import { getSha256Digest } from "./digest.js";
import { isGone } from "./errors.js";
import { type LoadNames, etcNames } from "./names.js";
import { type ProcFs, procFs } from "./proc.js";
import { effectiveId, parseStatus } from "./status.js";

/** Where the attestor reads from; tests pass other roots. */
export interface Sources {
  readonly proc: ProcFs;
  readonly names: LoadNames;
}

export class UnixAttestor {
  private readonly sources: Sources;

  constructor(
    private readonly settings: Settings,
    sources: Partial<Sources> = {},
  ) {
    this.sources = { proc: sources.proc ?? procFs(), names: sources.names ?? etcNames() };
  }

  async attest(pid: number): Promise<string[]> {
    if (!Number.isInteger(pid) || pid <= 0) throw new PluginError("invalid-argument", `failed to get process: invalid pid ${pid}`);
    const { proc } = this.sources;
    const status = parseStatus(await this.readStatus(pid));
    const names = await this.sources.names();
    const selectorValues: string[] = [];
    const add = (kind: string, value: string | undefined) => {
      if (value !== undefined) selectorValues.push(`${kind}:${value}`);
    };

    const uid = required(effectiveId(status.uids, "UIDs"));
    add("uid", uid);
    add("user", names.userName(uid));
    const gid = required(effectiveId(status.gids, "GIDs"));
    add("gid", gid);
    add("group", names.groupName(gid));
    for (const supplementaryGid of status.groups) {
      add("supplementary_gid", supplementaryGid);
      add("supplementary_group", names.groupName(supplementaryGid));
    }

    // Behind a flag, as in SPIRE: reading another user's exe needs privileges the agent may not have.
    if (this.settings.discoverWorkloadPath) {
      const path = await proc.readExe(pid).catch((e: unknown) => {
        throw new PluginError("internal", `path lookup: ${goErrorText(e)}`);
      });
      add("path", path);
      if (this.settings.workloadSizeLimit >= 0) {
        const digest = await getSha256Digest(proc.exePath(pid), this.settings.workloadSizeLimit).catch((e: unknown) => {
          throw new PluginError("internal", (e as Error).message);
        });
        add("sha256", digest);
      }
    }
    return selectorValues;
  }

  private async readStatus(pid: number): Promise<string> {
    try {
      return await this.sources.proc.readStatus(pid);
    } catch (e) {
      if (isGone(e)) throw new PluginError("internal", "failed to get process: process does not exist");
      throw new PluginError("internal", `UIDs lookup: ${goErrorText(e)}`);
    }
  }
}

function required(result: { id: string } | { error: string }): string {
  if ("error" in result) throw new PluginError("internal", result.error);
  return result.id;
}
