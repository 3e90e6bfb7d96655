import { describe, expect, it } from "vitest";
import { parseSettings } from "./config.js";

describe("parseSettings", () => {
  it("defaults as SPIRE does: no path discovery, no size limit", async () => {
    expect(await parseSettings("")).toEqual({ discoverWorkloadPath: false, workloadSizeLimit: 0 });
  });

  it("reads JSON (Signet) and HCL (SPIRE) alike", async () => {
    const fromJson = await parseSettings(JSON.stringify({ discover_workload_path: true, workload_size_limit: -1 }));
    const fromHcl = await parseSettings("discover_workload_path = true\nworkload_size_limit = -1");
    expect(fromJson).toEqual({ discoverWorkloadPath: true, workloadSizeLimit: -1 });
    expect(fromHcl).toEqual(fromJson);
    expect(await parseSettings('workload_size_limit = 1048576')).toEqual({ discoverWorkloadPath: false, workloadSizeLimit: 1048576 });
  });

  it("names the key in every error", async () => {
    await expect(parseSettings('discover_workload_paths = true')).rejects.toThrow(/discover_workload_paths/);
    await expect(parseSettings('discover_workload_path = "yes"')).rejects.toThrow(/discover_workload_path.*boolean/);
    await expect(parseSettings('{"workload_size_limit": 1.5}')).rejects.toThrow(/workload_size_limit.*integer/);
    await expect(parseSettings('workload_size_limit = "big"')).rejects.toThrow(/workload_size_limit.*integer/);
  });
});
