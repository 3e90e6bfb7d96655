/** `agent count` [Agent/CountAgents] */
import { apiCommand } from "../command.js";
import { count } from "../print/schemas.js";
import { agentFilterFlags } from "./filter.js";

export const agentCount = apiCommand({
  name: "agent count",
  synopsis: "Count attested agents",
  define(fs) {
    const filter = agentFilterFlags(fs);
    return async ({ env, client, printer }) => {
      const resp = await client.agent.countAgents({ filter: filter() });
      await printer.proto(count, resp, (r) => env.stdout(`${r.count} attested ${r.count === 1 ? "agent" : "agents"}\n`));
    };
  },
});
