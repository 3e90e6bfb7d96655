/**
 * Command dispatch for a nested command CLI as SPIRE builds its binaries
 * (mitchellh/cli): `-h`/`-help`/`--help` anywhere before `--` prints help
 * and exits 0; `-v`/`--version` before the command prints the version; an
 * unknown or missing command prints the command list to stderr with exit
 * 127; a command group alone (`entry`) prints its subcommands with exit 1.
 * Everything help-like goes to stderr, as there.
 */
import type { Command } from "./command.js";
import type { CliEnv } from "./env.js";

export interface CliProgram {
  /** The binary's name as usage shows it, e.g. "signet-server". */
  readonly name: string;
  readonly version: string;
  readonly commands: readonly Command[];
}

const groupHelp = "This command is accessed by using one of the subcommands below.";

export async function dispatch(program: CliProgram, args: readonly string[], env: CliEnv): Promise<number> {
  const table = program.commands;
  const byName = new Map(table.map((c) => [c.name, c]));
  const groups = groupNames(table);
  const parsed = processArgs(args, (k) => byName.has(k) || groups.has(k));

  if (parsed.version && parsed.command === "") {
    env.stderr(`${program.version}\n`);
    return 0;
  }
  if (parsed.help && parsed.command === "") {
    env.stderr(`${topHelp(program, groups, "")}\n`);
    return 0;
  }
  const command = byName.get(parsed.command);
  if (!command) {
    if (groups.has(parsed.command)) {
      env.stderr(groupUsage(table, groups, parsed.command));
      return parsed.help ? 0 : 1;
    }
    env.stderr(`${topHelp(program, groups, parentOf(parsed.command))}\n`);
    return 127;
  }
  if (parsed.help && !command.ownHelp) {
    env.stderr(command.help());
    return 0;
  }
  if (parsed.topFlags.length > 0) {
    env.stderr("Invalid flags before the subcommand. If these flags are for\nthe subcommand, please put them after the subcommand.\n\n");
    env.stderr(command.help());
    return 1;
  }
  return command.run(parsed.rest, env);
}

interface ParsedArgs {
  command: string;
  rest: readonly string[];
  help: boolean;
  version: boolean;
  topFlags: string[];
}

function processArgs(args: readonly string[], known: (key: string) => boolean): ParsedArgs {
  const out: ParsedArgs = { command: "", rest: [], help: false, version: false, topFlags: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg === "-h" || arg === "-help" || arg === "--help") {
      out.help = true;
      continue;
    }
    if (out.command === "") {
      if (arg === "-v" || arg === "-version" || arg === "--version") {
        out.version = true;
        continue;
      }
      if (arg !== "" && arg[0] === "-") out.topFlags.push(arg);
    }
    if (out.command === "" && arg !== "" && arg[0] !== "-") {
      out.command = arg;
      if (arg.includes(" ")) {
        out.command = "";
        return out;
      }
      // The longest run of plain words that names a command or group.
      let j = i;
      while (j < args.length && args[j] !== "" && args[j]![0] !== "-" && !args[j]!.includes(" ")) j++;
      for (let end = j; end > i; end--) {
        const key = args.slice(i, end).join(" ");
        if (known(key)) {
          out.command = key;
          i = end - 1;
          break;
        }
      }
      out.rest = args.slice(i + 1);
    }
  }
  return out;
}

function groupNames(table: readonly Command[]): Set<string> {
  const groups = new Set<string>();
  for (const c of table) {
    const words = c.name.split(" ");
    for (let n = 1; n < words.length; n++) groups.add(words.slice(0, n).join(" "));
  }
  return groups;
}

function parentOf(key: string): string {
  const i = key.trimEnd().lastIndexOf(" ");
  return i < 0 ? "" : key.slice(0, i);
}

/** The direct children of `prefix` with their synopses (groups have none). */
function children(table: readonly Command[], groups: Set<string>, prefix: string): [string, string][] {
  const p = prefix === "" ? "" : `${prefix} `;
  const out = new Map<string, string>();
  for (const c of table) if (c.name.startsWith(p) && !c.name.slice(p.length).includes(" ")) out.set(c.name, c.synopsis);
  for (const g of groups) if (g.startsWith(p) && g !== prefix && !g.slice(p.length).includes(" ") && !out.has(g)) out.set(g, "");
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function topHelp(program: CliProgram, groups: Set<string>, prefix: string): string {
  const items = children(program.commands, groups, prefix);
  const width = Math.max(0, ...items.map(([k]) => k.length));
  let out = `Usage: ${program.name} [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n`;
  for (const [k, synopsis] of items) out += `    ${k.padEnd(width)}    ${synopsis}\n`;
  return out;
}

function groupUsage(table: readonly Command[], groups: Set<string>, group: string): string {
  const items = children(table, groups, group).map(([k, s]) => [k.slice(group.length + 1), s] as const);
  const width = Math.max(0, ...items.map(([k]) => k.length));
  return `${groupHelp}\n\nSubcommands:\n${items.map(([k, s]) => `    ${k.padEnd(width)}    ${s}`).join("\n")}\n`;
}
