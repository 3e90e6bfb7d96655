/** `debug getinfo` [Debug/GetInfo] */
import { formatGoDuration, goRfc3339Utc } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { idString } from "../print/entry.js";
import { getInfoResponse } from "../print/schemas.js";

export const debugGetInfo = apiCommand({
  name: "debug getinfo",
  synopsis: "Prints debug information about the server",
  define() {
    return async ({ env, client, printer }) => {
      const resp = await client.debug.getInfo({});
      await printer.proto(getInfoResponse, resp, (r) => {
        let out = "Server Debug Info:\n";
        out += `  Uptime:                  ${formatGoDuration(BigInt(r.uptime) * 1_000_000_000n)}\n`;
        out += `  Registered Agents:       ${r.agentsCount}\n`;
        out += `  Registration Entries:    ${r.entriesCount}\n`;
        out += `  Federated Bundles:       ${r.federatedBundlesCount}\n`;
        if (r.svidChain.length > 0) {
          out += "  SVID Chain:\n";
          r.svidChain.forEach((c, i) => {
            out += `    [${i}] SPIFFE ID:  ${c.id ? idString(c.id) : "(none)"}\n`;
            out += `        Subject:    ${c.subject}\n`;
            out += `        Expires At: ${goRfc3339Utc(c.expiresAt)}\n`;
          });
        }
        env.stdout(out);
      });
    };
  },
});
