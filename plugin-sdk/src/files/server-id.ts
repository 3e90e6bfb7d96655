/**
 * A server ID kept in a file (the KMS key managers' `key_identifier_file`): a UUID made on first
 * start and written atomically with mode 0600, then read back on every start, so a restarted
 * server finds the keys it named after it. Losing the file means a new ID, hence new keys.
 *
 * The file is read as Go's uuid.FromString reads it (canonical, upper case, no dashes, braces,
 * urn:uuid:), forgiving surrounding whitespace such as an editor's trailing newline. The ID comes
 * back canonical (lower case, dashed).
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";

/** Which step failed: each plugin words it as its SPIRE namesake does. */
export type ServerIdFileProblem = "read" | "parse" | "persist";

/** The server ID file could not be read, did not hold a UUID, or could not be created. */
export class ServerIdFileError extends Error {
  override readonly name = "ServerIdFileError";
  constructor(
    readonly problem: ServerIdFileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const uuidPattern = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/**
 * The ID kept in `path`, creating the file with a fresh random UUID when there is none.
 * ServerIdFileError otherwise: "read" and "persist" carry the file system's message, "parse"
 * says which path does not hold a UUID.
 */
export async function readOrCreateServerId(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return createServerId(path);
    throw new ServerIdFileError("read", (e as Error).message, { cause: e });
  }
  const match = uuidPattern.exec(text.trim());
  if (!match) throw new ServerIdFileError("parse", `${JSON.stringify(path)} does not hold a UUID`);
  return match.slice(1, 6).join("-").toLowerCase();
}

async function createServerId(path: string): Promise<string> {
  const id = randomUUID();
  try {
    await writeFileAtomic(path, id, { mode: 0o600 });
  } catch (e) {
    throw new ServerIdFileError("persist", (e as Error).message, { cause: e });
  }
  return id;
}
