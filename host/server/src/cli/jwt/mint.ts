/** `jwt mint` [SVID/MintJWTSVID] */
import { writeFile } from "node:fs/promises";
import { CliError, fileErrorText, goRfc3339Utc, resolvePath, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { durationToSeconds, idToProto, jwtExpiry } from "../parse.js";
import { mintJwtSvidResponse } from "../print/schemas.js";

export const jwtMint = apiCommand({
  name: "jwt mint",
  synopsis: "Mints a JWT-SVID",
  define(fs) {
    const spiffeID = fs.string("spiffeID", "", "SPIFFE ID of the JWT-SVID");
    const ttl = fs.duration("ttl", 0n, "TTL of the JWT-SVID");
    const audience = fs.strings("audience", "Audience claim that will be included in the SVID. Can be used more than once.");
    const write = fs.string("write", "", "File to write token to instead of stdout");
    return async ({ env, client, printer }) => {
      if (spiffeID.value === "") throw new CliError("spiffeID must be specified");
      if (audience.value.length === 0) throw new CliError("at least one audience must be specified");
      const id = idToProto(spiffeID.value);
      const ttlSeconds = durationToSeconds(ttl.value);
      let resp;
      try {
        resp = await client.svid.mintJwtsvid({ id, audience: audience.value, ttl: ttlSeconds });
      } catch (e) {
        throw wrap("unable to mint SVID", e);
      }
      const token = resp.svid?.token ?? "";
      if (token === "") throw new CliError("server response missing token");
      const exp = jwtExpiry(token);
      if (typeof exp === "string") env.stderr(`Unable to determine JWT-SVID lifetime: ${exp}\n`);
      else if (BigInt(Date.now()) * 1_000_000n + ttl.value > BigInt(exp) * 1_000_000_000n) {
        env.stderr(`JWT-SVID lifetime was capped shorter than specified ttl; expires "${goRfc3339Utc(exp)}"\n`);
      }
      if (write.value === "") {
        await printer.proto(mintJwtSvidResponse, resp, (r) => env.stdout(`${r.svid?.token ?? ""}\n`));
        return;
      }
      const file = resolvePath(env, write.value);
      try {
        await writeFile(file, token, { mode: 0o600 });
      } catch (e) {
        throw new CliError(`unable to write token: ${fileErrorText("open", file, e)}`);
      }
      env.stdout(`JWT-SVID written to ${file}\n`);
    };
  },
});
