/** `agent show|evict|ban`: one agent named by -spiffeID [Agent/GetAgent, DeleteAgent, BanAgent] */
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import { CliError, type Command } from "@signet/host-common";
import { type ApiContext, apiCommand } from "../command.js";
import { idToProto } from "../parse.js";
import { formatAgentShow } from "../print/agent.js";
import { agent as agentSchema, empty } from "../print/schemas.js";

type AgentAction = (id: SPIFFEID, ctx: ApiContext) => Promise<void>;

function agentIdCommand(name: string, synopsis: string, purpose: string, act: AgentAction): Command {
  return apiCommand({
    name,
    synopsis,
    define(fs) {
      const spiffeID = fs.string("spiffeID", "", `The SPIFFE ID of the agent to ${purpose} (agent identity)`);
      return async (ctx) => {
        if (spiffeID.value === "") throw new CliError("a SPIFFE ID is required");
        await act(idToProto(spiffeID.value), ctx);
      };
    },
  });
}

export const agentShow = agentIdCommand("agent show", "Shows the details of an attested agent given its SPIFFE ID", "show", async (id, { env, client, printer }) => {
  const agent = await client.agent.getAgent({ id, outputMask: undefined });
  await printer.proto(agentSchema, agent, (a) => env.stdout(formatAgentShow(a)));
});

export const agentEvict = agentIdCommand("agent evict", "Evicts an attested agent given its SPIFFE ID", "evict", async (id, { env, client, printer }) => {
  const resp = await client.agent.deleteAgent({ id });
  await printer.proto(empty, resp, () => env.stdout("Agent evicted successfully\n"));
});

export const agentBan = agentIdCommand("agent ban", "Ban an attested agent given its SPIFFE ID", "ban", async (id, { env, client, printer }) => {
  const resp = await client.agent.banAgent({ id });
  await printer.proto(empty, resp, () => env.stdout("Agent banned successfully\n"));
});
