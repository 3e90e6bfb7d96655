import type { CliEnv } from "@signet/host-common";
import { describe, expect, it } from "vitest";
import { runAgentCommand } from "../../run.js";
import { validateAgentCommand } from "../validate/command.js";
import { runAgentCli } from "../cli.js";

function capture() {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.alloc(0),
    vars: {},
    baseDir: "",
  };
  return { env, out };
}

async function cli(args: string[]) {
  const { env, out } = capture();
  return { code: await runAgentCli(args, env), ...out };
}

describe("run and validate", () => {
  it("answer -h with the daemon's flag usage and exit 0", async () => {
    for (const [name, fn] of [["run", runAgentCommand], ["validate", validateAgentCommand]] as const) {
      const direct = capture();
      await fn(["-h"], direct.env);
      expect(direct.out.stderr).toContain("-config");
      expect(await cli([name, "-config", "/nonexistent/agent.conf", "-h"])).toEqual({ code: 0, ...direct.out });
    }
  });

  it("hand validate's arguments to the daemon's command and return its exit code", async () => {
    const args = ["-config", "/nonexistent/agent.conf"];
    const direct = capture();
    const code = await validateAgentCommand(args, direct.env);
    expect(code).toBe(1);
    expect(await cli(["validate", ...args])).toEqual({ code, ...direct.out });
  });
});
