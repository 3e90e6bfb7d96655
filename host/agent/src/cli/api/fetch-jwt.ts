/** `api fetch jwt` [Workload API FetchJWTBundles (first message), then FetchJWTSVID] */
import { Code, isRpcError } from "@signet/proto";
import type { JWTBundlesResponse } from "@signet/proto/workload/workload";
import { CliError, goJsonSorted, protoJsonValue, wrap } from "@signet/host-common";
import { type ApiContext, apiCommand } from "./adapter.js";
import { addOutputFlag } from "./output.js";
import { bytesMap, jwtSvidResponse } from "./schemas.js";

export const fetchJwt = apiCommand({
  name: "fetch jwt",
  synopsis: "Fetches a JWT SVID from the Workload API",
  define(fs) {
    // CommaStringsFlag: each use replaces the list with the comma-split value.
    let audience: string[] = [];
    fs.custom("audience", "comma separated list of audience values", "", (text) => void (audience = text.split(",")));
    const spiffeID = fs.string("spiffeID", "", "SPIFFE ID subject (optional)");
    const output = addOutputFlag(fs, true);
    return async ({ env, client }) => {
      if (audience.length === 0) throw new CliError("audience must be specified");
      const bundles = await fetchJwtBundles(client);
      const svids = await client.workload.fetchJwtsvid({ audience, spiffeId: spiffeID.value }, client.callOptions());
      if (output.value === "json") {
        env.stdout(`${goJsonSorted([protoJsonValue(jwtSvidResponse, svids), { bundles: bytesMap(bundles.bundles) }])}\n`);
        return;
      }
      let out = "";
      for (const svid of svids.svids) {
        out += `token(${svid.spiffeId}):\n\t${svid.svid}\n`;
        if (svid.hint !== "") out += `hint(${svid.spiffeId}):\n\t${svid.hint}\n`;
      }
      for (const id of Object.keys(bundles.bundles).sort()) {
        out += `bundle(${id}):\n\t${Buffer.from(bundles.bundles[id]!).toString("utf8")}\n`;
      }
      env.stdout(out);
    };
  },
});

async function fetchJwtBundles(client: ApiContext["client"]): Promise<JWTBundlesResponse> {
  const controller = new AbortController();
  try {
    for await (const resp of client.workload.fetchJwtBundles({}, client.callOptions(controller.signal))) return resp;
  } catch (e) {
    // grpc-go fails the stream's start only when it cannot connect, and SPIRE wraps only that failure;
    // an error status from the agent arrives on Recv, unwrapped.
    const go = client.goError(e);
    throw isRpcError(go) && go.code === Code.UNAVAILABLE && go.message.startsWith("connection error:")
      ? wrap("failed to receive JWT bundles", go)
      : go;
  } finally {
    controller.abort();
  }
  throw new CliError("EOF");
}
