import { describe, expect, it } from "vitest";
import { svidKeyPolicy } from "./svid-key-policy.js";

describe("svidKeyPolicy", () => {
  it("keeps the key in data_dir with the disk KeyManager only", () => {
    expect(svidKeyPolicy("disk")).toEqual({ persist: true });
    expect(svidKeyPolicy("memory")).toEqual({ persist: false });
  });

  it("warns, and never persists, when another KeyManager is configured", () => {
    const policy = svidKeyPolicy("azure_key_vault");
    expect(policy.persist).toBe(false);
    expect(policy.warning).toContain(`KeyManager "azure_key_vault" does not hold the agent SVID key`);
    expect(policy.warning).toContain("never written to disk");
  });

  it("takes names as written: only the exact built-in names are recognised", () => {
    expect(svidKeyPolicy("Disk").persist).toBe(false);
    expect(svidKeyPolicy("disk ").warning).toBeDefined();
  });
});
