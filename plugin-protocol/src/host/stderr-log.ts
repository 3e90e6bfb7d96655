import type { LogLevel, ProtocolLog } from "../log.js";

const levels = new Set(["trace", "debug", "info", "warn", "error"]);

/**
 * Plugins log JSON lines on stderr in hclog's shape ("@level", "@message",
 * other keys are fields); anything else is relayed raw, at a level guessed
 * from a [LEVEL] prefix, as go-plugin hosts do. Go panics go out at error.
 */
export function relayPluginLine(line: string, log: ProtocolLog): void {
  if (line.trim() === "") return;
  if (line.startsWith("{")) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const level = String(entry["@level"] ?? "debug").toLowerCase();
      const message = String(entry["@message"] ?? "");
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(entry)) if (!k.startsWith("@")) fields[k] = v;
      // SPIRE drops plugin trace lines; we keep them at trace.
      log.log(levels.has(level) ? (level as LogLevel) : "debug", message, fields);
      return;
    } catch {
      // not JSON after all: fall through to raw
    }
  }
  log.log(guessLevel(line), line);
}

function guessLevel(line: string): LogLevel {
  const m = /^\s*\[(TRACE|DEBUG|INFO|WARN|ERROR)\]/.exec(line);
  if (m?.[1]) return m[1].toLowerCase() as LogLevel;
  if (/^(panic:|fatal error:)/.test(line)) return "error";
  return "debug";
}

/** The last lines a plugin wrote to stderr, for error messages when it dies. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 20) {}
  push(line: string): void {
    this.lines.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  text(): string {
    return this.lines.join("\n");
  }
  /** The messages only (JSON lines reduced to their @message), for one-line errors. */
  summary(n = 3): string {
    return this.lines
      .slice(-n)
      .map((l) => {
        try {
          const e = JSON.parse(l) as Record<string, unknown>;
          if (typeof e["@message"] === "string") {
            const err = typeof e.error === "string" ? `: ${e.error}` : "";
            return `${e["@message"]}${err}`;
          }
        } catch {
          // raw line
        }
        return l;
      })
      .join(" | ");
  }
}
