/** `api fetch x509` (and plain `api fetch`) [Workload API FetchX509SVID, first message] */
import type { X509SVIDResponse } from "@signet/proto/workload/workload";
import { CliError, goJsonSorted, protoJsonValue, resolvePath } from "@signet/host-common";
import { type ApiCommandSpec, type ApiContext, apiCommand } from "./adapter.js";
import { addOutputFlag } from "./output.js";
import { formatX509SvidResponse } from "./print-x509.js";
import { bytesMap, x509SvidResponse } from "./schemas.js";
import { writeX509Svids } from "./write-x509.js";
import { parseAndValidateX509SvidResponse } from "./x509-svids.js";

const spec: ApiCommandSpec = {
  name: "fetch x509",
  synopsis: "Fetches X509 SVIDs from the Workload API",
  define(fs) {
    const silent = fs.bool("silent", false, "Suppress stdout");
    const write = fs.string("write", "", "Write SVID data to the specified path (optional; only available for pretty output format)");
    const output = addOutputFlag(fs);
    return async ({ env, client }) => {
      const start = process.hrtime.bigint();
      const resp = await fetchX509Svid(client);
      const respTime = process.hrtime.bigint() - start;
      if (output.value === "json") {
        env.stdout(`${goJsonSorted({ ...protoJsonValue(x509SvidResponse, resp), federated_bundles: bytesMap(resp.federatedBundles) })}\n`);
        return;
      }
      const svids = parseAndValidateX509SvidResponse(resp);
      if (!silent.value) env.stdout(formatX509SvidResponse(svids, respTime));
      if (write.value !== "") {
        await writeX509Svids(resolvePath(env, write.value), svids, (line) => env.stdout(`${line}\n`));
      }
    };
  },
};

export const fetchX509 = apiCommand(spec);
/** `api fetch` alone is `api fetch x509`, as spire-agent registers it. */
export const fetch = apiCommand(spec, "api fetch");

/** The first message of the FetchX509SVID stream (stream.Recv once), under the call's deadline. */
export async function fetchX509Svid(client: ApiContext["client"]): Promise<X509SVIDResponse> {
  const controller = new AbortController();
  try {
    for await (const resp of client.workload.fetchX509Svid({}, client.callOptions(controller.signal))) return resp;
  } finally {
    controller.abort();
  }
  // The agent closed the stream without a message: grpc-go's Recv returns io.EOF.
  throw new CliError("EOF");
}
