/**
 * The one error class of configuration handling. Its message reads like a
 * compiler's: `server.conf:12: server.ca_ttl: invalid duration "1x": unknown
 * unit "x"`, and every part is also kept on its own field so a caller can
 * present it differently.
 */
export interface ConfigErrorInit {
  /** What was wrong and what was expected, without location. */
  readonly detail: string;
  /** The key path, e.g. `plugins.KeyManager "disk".plugin_data.keys_path`. */
  readonly path?: string;
  readonly file?: string;
  /** 1-based; only set when the position is known for certain. */
  readonly line?: number;
  readonly column?: number;
  readonly cause?: unknown;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly kind = "config" as const;
  readonly detail: string;
  readonly path: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(init: ConfigErrorInit) {
    super(formatConfigError(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.detail = init.detail;
    this.path = init.path;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
  }

  /** The same error, attributed to `file` if it has no file yet. */
  inFile(file: string | undefined): ConfigError {
    if (file === undefined || this.file !== undefined) return this;
    return new ConfigError({ ...this.init(), file });
  }

  private init(): ConfigErrorInit {
    return {
      detail: this.detail,
      path: this.path,
      file: this.file,
      line: this.line,
      column: this.column,
      cause: this.cause,
    };
  }
}

function formatConfigError(init: ConfigErrorInit): string {
  let location = "";
  if (init.file !== undefined) {
    location = init.file;
    if (init.line !== undefined) location += `:${init.line}`;
    if (init.line !== undefined && init.column !== undefined) location += `:${init.column}`;
  } else if (init.line !== undefined) {
    location = `line ${init.line}`;
    if (init.column !== undefined) location += `, column ${init.column}`;
  }
  const parts = [location, init.path, init.detail].filter((p) => p !== undefined && p !== "");
  return parts.join(": ");
}
