import { describe, expect, it } from "vitest";
import { validationReport } from "./validation-report.js";
import type { CatalogValidation } from "./validation.js";

const plugin = (name: string, valid: boolean, notes: string[]) => ({ type: "WorkloadAttestor", name, valid, notes, answer: "validated" as const });

describe("validationReport", () => {
  it("prints only the valid line when nothing has notes", () => {
    const v: CatalogValidation = { valid: true, constraints: [], plugins: [plugin("unix", true, [])] };
    expect(validationReport(v, "agent")).toEqual({ exitCode: 0, stdout: "SPIRE agent configuration file is valid.\n", stderr: "" });
  });

  it("keeps a valid file valid when a valid plugin adds informational notes, and lists them", () => {
    const v: CatalogValidation = { valid: true, constraints: [], plugins: [plugin("docker", true, ["Using the new container locator"]), plugin("unix", true, [])] };
    expect(validationReport(v, "agent")).toEqual({
      exitCode: 0,
      stdout: 'SPIRE agent configuration file is valid.\nValidation notes:\n\tWorkloadAttestor "docker":\n\t\tUsing the new container locator\n',
      stderr: "",
    });
  });

  it("lists every heading with notes, informational ones included, when something is invalid", () => {
    const v: CatalogValidation = {
      valid: false,
      constraints: [{ id: "KeyManager", notes: ["constraint not satisfied: expected exactly 1 but got 0"] }],
      plugins: [plugin("docker", true, ["Using the new container locator"]), plugin("unix", false, ["a", "b"]), plugin("quiet", true, [])],
    };
    expect(validationReport(v, "server")).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        "SPIRE server configuration file is invalid.\nValidation errors:\n" +
        '\tWorkloadAttestor "docker":\n\t\tUsing the new container locator\n' +
        '\tWorkloadAttestor "unix":\n\t\ta\n\t\tb\n' +
        "\tKeyManager:\n\t\tconstraint not satisfied: expected exactly 1 but got 0\n",
    });
  });
});
