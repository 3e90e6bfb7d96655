/** `federation create|update|delete|list|show|refresh` [TrustDomain API] */
import { readFile } from "node:fs/promises";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import type { FederationRelationship } from "@signet/proto/spire/api/types/federationrelationship";
import type { Status } from "@signet/proto/spire/api/types/status";
import { isRpcError, Code } from "@signet/proto";
import { type CliEnv, CliError, type Command, errorText, type FlagSet, goQuote, readInput, resolvePath, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { codeString, idToProto } from "../parse.js";
import { formatPem, formatSpiffe, parseBundle } from "../print/bundle.js";
import { batchDeleteByTrustDomainResponse, batchFederationResponse, federationRelationship, listFederationRelationshipsResponse, status } from "../print/schemas.js";

interface RelationshipConfig {
  trustDomain: string;
  bundleEndpointURL: string;
  bundleEndpointProfile: string;
  endpointSPIFFEID: string;
  trustDomainBundle?: unknown;
  trustDomainBundleFormat: string;
  trustDomainBundlePath: string;
}

export function formatRelationship(fr: FederationRelationship): string {
  let out = `Trust domain              : ${fr.trustDomain}\nBundle endpoint URL       : ${fr.bundleEndpointUrl}\n`;
  const p = fr.bundleEndpointProfile;
  if (p?.$case === "httpsWeb") out += "Bundle endpoint profile   : https_web\n";
  if (p?.$case === "httpsSpiffe") out += `Bundle endpoint profile   : https_spiffe\nEndpoint SPIFFE ID        : ${p.value.endpointSpiffeId}\n`;
  return out;
}

function configFlags(fs: FlagSet) {
  const trustDomain = fs.string("trustDomain", "", "Name of the trust domain to federate with (e.g., example.org)");
  const url = fs.string("bundleEndpointURL", "", "URL of the SPIFFE bundle endpoint that provides the trust bundle (must use the HTTPS protocol)");
  const profile = fs.string("bundleEndpointProfile", "", `Endpoint profile type (either "https_web" or "https_spiffe")`);
  const endpointId = fs.string("endpointSpiffeID", "", "SPIFFE ID of the SPIFFE bundle endpoint server. Only used for 'spiffe' profile.");
  const bundlePath = fs.string("trustDomainBundlePath", "", "Path to the trust domain bundle data (optional).");
  const bundleFormat = fs.string(
    "trustDomainBundleFormat",
    formatPem,
    `The format of the bundle data (optional). Either ${goQuote(formatPem)} or ${goQuote(formatSpiffe)}.`,
  );
  return (): RelationshipConfig => ({
    trustDomain: trustDomain.value,
    bundleEndpointURL: url.value,
    bundleEndpointProfile: profile.value,
    endpointSPIFFEID: endpointId.value,
    trustDomainBundleFormat: bundleFormat.value,
    trustDomainBundlePath: bundlePath.value,
  });
}

async function toProto(env: CliEnv, c: RelationshipConfig): Promise<FederationRelationship> {
  if (c.trustDomain === "") throw new CliError("trust domain is required");
  if (c.bundleEndpointURL === "") throw new CliError("bundle endpoint URL is required");
  const fr: FederationRelationship = {
    trustDomain: c.trustDomain,
    bundleEndpointUrl: c.bundleEndpointURL,
    bundleEndpointProfile: undefined,
    trustDomainBundle: undefined,
  };
  let bundleTd = c.trustDomain;
  if (c.bundleEndpointProfile === "https_web") fr.bundleEndpointProfile = { $case: "httpsWeb", value: {} };
  else if (c.bundleEndpointProfile === "https_spiffe") {
    if (c.endpointSPIFFEID === "") throw new CliError("endpoint SPIFFE ID is required if 'https_spiffe' endpoint profile is set");
    try {
      bundleTd = idToProto(c.endpointSPIFFEID).trustDomain;
    } catch (e) {
      throw wrap("cannot parse bundle endpoint SPIFFE ID", e);
    }
    fr.bundleEndpointProfile = { $case: "httpsSpiffe", value: { endpointSpiffeId: c.endpointSPIFFEID } };
  } else throw new CliError(`unknown bundle endpoint profile type: ${goQuote(c.bundleEndpointProfile)}`);

  if (c.trustDomainBundlePath !== "") {
    let data: Buffer;
    try {
      data = await readFile(resolvePath(env, c.trustDomainBundlePath));
    } catch (e) {
      throw wrap("cannot read bundle file", e);
    }
    fr.trustDomainBundle = parseBundleAs(data, c.trustDomainBundleFormat, bundleTd, "cannot parse bundle file");
  } else if (c.trustDomainBundle !== undefined && c.trustDomainBundle !== null) {
    let data: Buffer;
    if (c.trustDomainBundleFormat === formatPem) {
      if (typeof c.trustDomainBundle !== "string") throw new CliError("cannot parse bundle raw message: failed to unmarshal json: json: cannot unmarshal into Go value of type string");
      data = Buffer.from(c.trustDomainBundle);
    } else if (c.trustDomainBundleFormat === formatSpiffe) data = Buffer.from(JSON.stringify(c.trustDomainBundle));
    else throw new CliError(`cannot parse bundle raw message: bundle format ${goQuote(c.trustDomainBundleFormat)} is unsupported`);
    fr.trustDomainBundle = parseBundleAs(data, c.trustDomainBundleFormat, bundleTd, "cannot parse bundle raw message");
  }
  return fr;
}

function parseBundleAs(data: Buffer, format: string, td: string, prefix: string): Bundle {
  try {
    return parseBundle(data, format === formatPem ? "pem" : "spiffe", td);
  } catch (e) {
    throw wrap(prefix, e);
  }
}

async function relationships(env: CliEnv, config: RelationshipConfig, dataPath: string): Promise<FederationRelationship[]> {
  if (dataPath === "") return [await toProto(env, config)];
  const empty =
    config.bundleEndpointProfile === "" &&
    config.bundleEndpointURL === "" &&
    config.trustDomainBundleFormat === formatPem &&
    config.trustDomainBundlePath === "" &&
    config.endpointSPIFFEID === "" &&
    config.trustDomain === "";
  if (!empty) throw new CliError("cannot use other flags to specify relationship fields when 'data' flag is set");
  let doc: { federationRelationships?: Record<string, unknown>[] };
  try {
    doc = JSON.parse((await readInput(env, dataPath)).toString("utf8")) as typeof doc;
  } catch (e) {
    if (e instanceof SyntaxError) throw new CliError(`failed to parse JSON: ${e.message}`);
    throw e;
  }
  const out: FederationRelationship[] = [];
  for (const [i, item] of (doc?.federationRelationships ?? []).entries()) {
    const s = (k: string) => (typeof item?.[k] === "string" ? (item[k] as string) : "");
    try {
      out.push(
        await toProto(env, {
          trustDomain: s("trustDomain"),
          bundleEndpointURL: s("bundleEndpointURL"),
          bundleEndpointProfile: s("bundleEndpointProfile"),
          endpointSPIFFEID: s("endpointSPIFFEID"),
          trustDomainBundle: item?.trustDomainBundle,
          trustDomainBundleFormat: s("trustDomainBundleFormat"),
          trustDomainBundlePath: "",
        }),
      );
    } catch (e) {
      throw wrap(`could not parse item ${i}`, e);
    }
  }
  return out;
}

function createOrUpdate(verb: "create" | "update"): Command {
  return apiCommand({
    name: `federation ${verb}`,
    synopsis:
      verb === "create"
        ? "Creates a dynamic federation relationship with a foreign trust domain"
        : "Updates a dynamic federation relationship with a foreign trust domain",
    define(fs) {
      const data = fs.string(
        "data",
        "",
        "Path to a file containing federation relationships in JSON format (optional). If set to '-', read the JSON from stdin.",
      );
      const config = configFlags(fs);
      return async ({ env, client, printer }) => {
        const sent = await relationships(env, config(), data.value);
        let resp: { results: { status: Status | undefined; federationRelationship: FederationRelationship | undefined }[] };
        try {
          resp =
            verb === "create"
              ? await client.trustDomain.batchCreateFederationRelationship({ federationRelationships: sent, outputMask: undefined })
              : await client.trustDomain.batchUpdateFederationRelationship({ federationRelationships: sent, inputMask: undefined, outputMask: undefined });
        } catch (e) {
          throw wrap("request failed", e);
        }
        await printer.proto(batchFederationResponse, resp, (r) => {
          const failed = [];
          for (const [i, x] of r.results.entries()) {
            if ((x.status?.code ?? 0) === 0) {
              env.stdout(`\n${x.federationRelationship ? formatRelationship(x.federationRelationship) : ""}`);
            } else failed.push({ ...x, federationRelationship: sent[i] });
          }
          for (const x of failed) {
            env.stdout("\n");
            env.stderr(
              `Failed to ${verb} the following federation relationship (code: ${codeString(x.status!.code)}, msg: ${goQuote(x.status!.message)}):\n`,
            );
            if (x.federationRelationship) env.stderr(formatRelationship(x.federationRelationship));
          }
          if (failed.length > 0) throw new CliError(`failed to ${verb} one or more federation relationships`);
        });
      };
    },
  });
}

export const federationCreate = createOrUpdate("create");
export const federationUpdate = createOrUpdate("update");

export const federationDelete = apiCommand({
  name: "federation delete",
  synopsis: "Deletes a dynamic federation relationship",
  define(fs) {
    const id = fs.string("id", "", "SPIFFE ID of the trust domain");
    return async ({ env, client, printer }) => {
      if (id.value === "") throw new CliError("id is required");
      let resp;
      try {
        resp = await client.trustDomain.batchDeleteFederationRelationship({ trustDomains: [id.value] });
      } catch (e) {
        throw wrap("failed to delete federation relationship", e);
      }
      await printer.proto(batchDeleteByTrustDomainResponse, resp, (r) => {
        const x = r.results[0];
        if (!x) throw new CliError("internal error: cli printer; please report this bug");
        if ((x.status?.code ?? 0) !== 0) {
          throw new CliError(`failed to delete federation relationship ${goQuote(x.trustDomain)}: ${x.status!.message}`);
        }
        env.stdout("federation relationship deleted.\n");
      });
    };
  },
});

export const federationList = apiCommand({
  name: "federation list",
  synopsis: "Lists all dynamic federation relationships",
  define() {
    return async ({ env, client, printer }) => {
      let resp;
      try {
        resp = await client.trustDomain.listFederationRelationships({ outputMask: undefined, pageSize: 0, pageToken: "" });
      } catch (e) {
        throw wrap("error listing federation relationship", e);
      }
      await printer.proto(listFederationRelationshipsResponse, resp, (r) => {
        const n = r.federationRelationships.length;
        env.stdout(`Found ${n} ${n === 1 ? "federation relationship" : "federation relationships"}\n`);
        for (const fr of r.federationRelationships) env.stdout(`\n${formatRelationship(fr)}`);
      });
    };
  },
});

export const federationShow = apiCommand({
  name: "federation show",
  synopsis: "Shows a dynamic federation relationship",
  define(fs) {
    const trustDomain = fs.string("trustDomain", "", "The trust domain name of the federation relationship to show");
    return async ({ env, client, printer }) => {
      if (trustDomain.value === "") throw new CliError("a trust domain name is required");
      let fr;
      try {
        fr = await client.trustDomain.getFederationRelationship({ trustDomain: trustDomain.value, outputMask: undefined });
      } catch (e) {
        throw wrap("error showing federation relationship", e);
      }
      await printer.proto(federationRelationship, fr, (x) =>
        env.stdout(`Found a federation relationship with trust domain ${trustDomain.value}:\n\n${formatRelationship(x)}`),
      );
    };
  },
});

export const federationRefresh = apiCommand({
  name: "federation refresh",
  synopsis: "Refreshes the bundle from the specified federated trust domain",
  define(fs) {
    const id = fs.string("id", "", "SPIFFE ID of the trust domain");
    return async ({ env, client, printer }) => {
      if (id.value === "") throw new CliError("id is required");
      try {
        await client.trustDomain.refreshBundle({ trustDomain: id.value });
      } catch (e) {
        if (isRpcError(e) && e.code === Code.NOT_FOUND) {
          throw new CliError(`there is no federation relationship with trust domain ${goQuote(id.value)}`);
        }
        throw new CliError(`failed to refresh bundle: ${errorText(e)}`);
      }
      await printer.proto(status, { code: 0, message: "OK" }, () => env.stdout("Bundle refreshed\n"));
    };
  },
});
