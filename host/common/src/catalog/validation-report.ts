/**
 * How `signet-server validate` and `signet-agent validate` print a
 * CatalogValidation, in spire-server validate's words: the verdict line,
 * then each heading with notes as "\t<heading>:" and "\t\t<note>".
 */
import { type CatalogValidation, pluginId, type ValidationNotes } from "./validation.js";

export interface ValidationReport {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

/** `host` is "server" or "agent", as in "SPIRE server configuration file is valid." */
export function validationReport(v: CatalogValidation, host: "server" | "agent"): ValidationReport {
  const headings: ValidationNotes[] = [
    ...v.plugins.map((p) => ({ id: pluginId(p), notes: p.notes })),
    ...v.constraints,
  ].filter((h) => h.notes.length > 0);
  const listed = headings.map((h) => `\t${h.id}:\n${h.notes.map((n) => `\t\t${n}\n`).join("")}`).join("");
  if (!v.valid) {
    return { exitCode: 1, stdout: "", stderr: `SPIRE ${host} configuration file is invalid.\nValidation errors:\n${listed}` };
  }
  // Valid, with informational notes: SPIRE would call the file invalid; Signet says valid and shows them.
  return {
    exitCode: 0,
    stdout: `SPIRE ${host} configuration file is valid.\n${headings.length > 0 ? `Validation notes:\n${listed}` : ""}`,
    stderr: "",
  };
}
