/** `api validate jwt` [Workload API ValidateJWTSVID] */
import { Code, isRpcError } from "@signet/proto";
import { CliError, errorText, goJsonSorted } from "@signet/host-common";
import { apiCommand } from "./adapter.js";
import { addOutputFlag } from "./output.js";
import { dropNulls } from "./schemas.js";

export const validateJwt = apiCommand({
  name: "validate jwt",
  synopsis: "Validates a JWT SVID",
  define(fs) {
    const audience = fs.string("audience", "", "expected audience value");
    const svid = fs.string("svid", "", "JWT SVID");
    const output = addOutputFlag(fs);
    return async ({ env, client }) => {
      if (audience.value === "") throw new CliError("audience must be specified");
      if (svid.value === "") throw new CliError("svid must be specified");
      let resp;
      try {
        resp = await client.workload.validateJwtsvid({ audience: audience.value, svid: svid.value }, client.callOptions());
      } catch (e) {
        const go = client.goError(e);
        if (isRpcError(go) && go.code === Code.INVALID_ARGUMENT) throw new CliError(`SVID is not valid: ${go.message}`);
        throw new CliError(`unable to validate JWT SVID: ${errorText(go)}`);
      }
      if (output.value === "json") {
        const value = dropNulls({ spiffe_id: resp.spiffeId, ...(resp.claims ? { claims: resp.claims } : {}) });
        env.stdout(`${goJsonSorted(value)}\n`);
        return;
      }
      env.stdout(`SVID is valid.\nSPIFFE ID : ${resp.spiffeId}\nClaims    : ${claimsJson(resp.claims)}\n`);
    };
  },
});

/** protojson.Marshal of a Struct: compact, keys sorted, no HTML escaping ("{}" when unset). */
function claimsJson(claims: Readonly<Record<string, unknown>> | undefined): string {
  return JSON.stringify(sortKeys(claims ?? {}));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}
