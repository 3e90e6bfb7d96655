/** `agent list` [Agent/ListAgents in pages of 1000] */
import type { Agent } from "@signet/proto/spire/api/types/agent";
import { apiCommand } from "../command.js";
import { formatAgentList } from "../print/agent.js";
import { listAgentsResponse } from "../print/schemas.js";
import { agentFilterFlags } from "./filter.js";

export const listAgentsPageSize = 1000;

export const agentList = apiCommand({
  name: "agent list",
  synopsis: "Lists attested agents and their SPIFFE IDs",
  define(fs) {
    const filter = agentFilterFlags(fs);
    return async ({ env, client, printer }) => {
      const f = filter();
      const agents: Agent[] = [];
      let pageToken = "";
      do {
        const resp = await client.agent.listAgents({ filter: f, outputMask: undefined, pageSize: listAgentsPageSize, pageToken });
        agents.push(...resp.agents);
        pageToken = resp.nextPageToken;
      } while (pageToken !== "");
      await printer.proto(listAgentsResponse, { agents, nextPageToken: "" }, (r) => env.stdout(formatAgentList(r.agents)));
    };
  },
});
