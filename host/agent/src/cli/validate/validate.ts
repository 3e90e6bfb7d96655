/** `validate`: registered with the other commands; its work is loaded only when it runs (command.ts). */
import { daemonCommand } from "../run/run.js";

export const validate = daemonCommand(
  "validate",
  "Validates a SPIRE agent configuration file",
  async () => (await import("./command.js")).validateAgentCommand,
);
