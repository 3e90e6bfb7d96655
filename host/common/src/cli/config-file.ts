import { access } from "node:fs/promises";
import path from "node:path";

/** SPIRE's ParseFile wording for a config file that is not there (run and validate of both hosts). */
export async function missingConfigError(configPath: string): Promise<string | undefined> {
  try {
    await access(configPath);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    return `could not find config file ${path.resolve(configPath)}: please use the -config flag`;
  }
}
