/** `agent purge` [Agent/ListAgents (re-attestable, expiry only) + Agent/DeleteAgent] */
import { errorText } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { idString } from "../print/entry.js";

interface ExpiredAgent {
  agent_id: string;
  deleted: boolean;
  error?: string;
}

export const agentPurge = apiCommand({
  name: "agent purge",
  synopsis: "Purge expired agents that were attested using a non-TOFU security model based on a given time",
  define(fs) {
    const expiredFor = fs.duration(
      "expiredFor",
      30n * 24n * 3_600_000_000_000n,
      "Amount of time that has passed since the agent's SVID has expired. It is used to determine which agents to purge.",
    );
    const dryRun = fs.bool("dryRun", false, "Indicates that the command will not perform any action, but will print the agents that would be purged.");
    return async ({ env, client, printer }) => {
      let resp;
      try {
        resp = await client.agent.listAgents({
          filter: { byAttestationType: "", bySelectorMatch: undefined, byBanned: undefined, byCanReattest: true, byExpiresBefore: "" },
          outputMask: {
            attestationType: false,
            x509svidSerialNumber: false,
            x509svidExpiresAt: true,
            selectors: false,
            banned: false,
            canReattest: false,
            agentVersion: false,
          },
          pageSize: 0,
          pageToken: "",
        });
      } catch (e) {
        throw new Error(`failed to list agents: ${errorText(e)}`);
      }
      const nowNanos = BigInt(Date.now()) * 1_000_000n;
      const expired: ExpiredAgent[] = [];
      for (const agent of resp.agents) {
        const sinceNanos = nowNanos - agent.x509svidExpiresAt * 1_000_000_000n;
        if (sinceNanos <= expiredFor.value) continue;
        const result: ExpiredAgent = { agent_id: idString(agent.id), deleted: false };
        if (!dryRun.value) {
          try {
            await client.agent.deleteAgent({ id: agent.id });
            result.deleted = true;
          } catch (e) {
            result.error = errorText(e);
          }
        }
        expired.push(result);
      }
      await printer.struct({ expired_agents: expired }, ({ expired_agents: list }) => {
        if (list.length === 0) {
          env.stdout("No agents to purge.\n");
          return;
        }
        env.stdout(`Found ${list.length} expired ${list.length === 1 ? "agent" : "agents"}\n\n`);
        if (dryRun.value) {
          env.stdout("\nAgents that can be purged:\n");
          for (const a of list) env.stdout(`SPIFFE ID         : ${a.agent_id}\n`);
          return;
        }
        const purged = list.filter((a) => a.deleted);
        const notPurged = list.filter((a) => !a.deleted);
        if (purged.length > 0) {
          env.stdout("Agents purged:\n");
          for (const a of purged) env.stdout(`SPIFFE ID         : ${a.agent_id}\n`);
        }
        if (notPurged.length > 0) {
          env.stdout("Agents not purged:\n");
          for (const a of notPurged) env.stdout(`SPIFFE ID         : ${a.agent_id}\nError             : ${a.error ?? ""}\n`);
        }
      });
    };
  },
});
