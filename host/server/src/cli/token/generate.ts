/** `token generate` [Agent/CreateJoinToken] */
import { apiCommand } from "../command.js";
import { idToProto, toInt32 } from "../parse.js";
import { joinToken } from "../print/schemas.js";

export const tokenGenerate = apiCommand({
  name: "token generate",
  flagSetName: "generate",
  synopsis: "Generates a join token",
  define(fs) {
    const ttl = fs.int("ttl", 600, "Token TTL in seconds");
    const spiffeID = fs.string("spiffeID", "", "Additional SPIFFE ID to assign the token owner (optional)");
    return async ({ env, client, printer }) => {
      const agentId = spiffeID.value === "" ? undefined : idToProto(spiffeID.value);
      const t = toInt32(ttl.value, "TTL");
      const resp = await client.agent.createJoinToken({ ttl: t, token: "", agentId });
      await printer.proto(joinToken, resp, (r) => {
        env.stdout(`Token: ${r.value}\n`);
        if (spiffeID.value === "") env.stdout("Warning: Missing SPIFFE ID.\n");
      });
    };
  },
});
