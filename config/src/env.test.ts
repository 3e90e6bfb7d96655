import { describe, expect, it } from "vitest";
import { expandEnv, goExpand } from "./env.js";

// Outputs produced by Go 1.26 os.Expand with SPIRE's -expandEnv mapping
// (pkg/common/config: "$" maps to "$", anything else to the environment).
const GO_EXPAND_CASES: readonly (readonly [input: string, output: string])[] = [
  ["$HOME/x", "/home/u/x"],
  ["${HOME}/x", "/home/u/x"],
  ["$$", "$"],
  ["$$HOME", "$HOME"],
  ["${$}", "$"],
  ["$", "$"],
  ["a$", "a$"],
  ["${}", ""],
  ["${", ""],
  ["${A", "A"],
  ["$UNSET.", "."],
  ["${UNSET}", ""],
  ["$A_1x", ""],
  ["${A}_1", "x_1"],
  ["$1$2", "one"],
  ["${1}", "one"],
  ["$*", "star"],
  ["${*}", "star"],
  ["$-x", "x"],
  ["${a-b}", "dash"],
  ["$%", "$%"],
  ["$ A", "$ A"],
  ["100$", "100$"],
  ["${EMPTY}z", "z"],
  ["$A$A", "xx"],
  ["${A}}", "x}"],
  ["${{A}}", "}"],
  ["é$A", "éx"],
  ["${HOME:-d}", ""],
];

const ENV = { HOME: "/home/u", A: "x", A_1: "y", EMPTY: "", "1": "one", "*": "star", "a-b": "dash" };

describe("expandEnv", () => {
  it.each(GO_EXPAND_CASES)("%j as SPIRE expands it", (input, output) => {
    expect(expandEnv(input, ENV)).toBe(output);
  });

  it("expands a whole configuration file", () => {
    const text = 'server {\n  trust_domain = "${TD}"\n  data_dir = "$DATA/spire"\n  # costs $$5\n}\n';
    expect(expandEnv(text, { TD: "example.org", DATA: "/var/lib" })).toBe(
      'server {\n  trust_domain = "example.org"\n  data_dir = "/var/lib/spire"\n  # costs $5\n}\n',
    );
  });

  it("returns the same string when there is nothing to expand", () => {
    const text = "no dollars here";
    expect(expandEnv(text, {})).toBe(text);
  });
});

describe("goExpand", () => {
  it("passes every name to the mapping, $ included", () => {
    const names: string[] = [];
    goExpand("$a ${b} $$ $1", (n) => {
      names.push(n);
      return "";
    });
    expect(names).toEqual(["a", "b", "$", "1"]);
  });
});
