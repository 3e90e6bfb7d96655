/** `bundle show|list|set|delete|count` [Bundle API] */
import { BatchDeleteFederatedBundleRequest_Mode } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { CliError, goQuote, readInput, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { formatBundle, formatPem, formatSpiffe, parseBundle, validateFormat } from "../print/bundle.js";
import { batchBundleResponse, batchDeleteByTrustDomainResponse, bundle as bundleSchema, count, listFederatedBundlesResponse } from "../print/schemas.js";

const formatUsage = (what: string) =>
  `The format to ${what} (only pretty output format supports this flag). Either ${goQuote(formatPem)} or ${goQuote(formatSpiffe)}.`;

export const bundleShow = apiCommand({
  name: "bundle show",
  synopsis: "Prints server CA bundle to stdout",
  define(fs) {
    const format = fs.string("format", formatPem, formatUsage("show the bundle"));
    return async ({ env, client, printer }) => {
      const b = await client.bundle.getBundle({ outputMask: undefined });
      await printer.proto(bundleSchema, b, (x) => env.stdout(formatBundle(x, format.value, false)));
    };
  },
});

export const bundleList = apiCommand({
  name: "bundle list",
  synopsis: "Lists federated bundle data",
  define(fs) {
    const id = fs.string("id", "", "SPIFFE ID of the trust domain");
    const format = fs.string("format", formatPem, formatUsage("list federated bundles"));
    return async ({ env, client, printer }) => {
      if (id.value !== "") {
        const b = await client.bundle.getFederatedBundle({ trustDomain: id.value, outputMask: undefined });
        await printer.proto(bundleSchema, b, (x) => env.stdout(formatBundle(x, format.value, false)));
        return;
      }
      const resp = await client.bundle.listFederatedBundles({ outputMask: undefined, pageSize: 0, pageToken: "" });
      await printer.proto(listFederatedBundlesResponse, resp, (r) => {
        r.bundles.forEach((b, i) => {
          if (i !== 0) env.stdout("\n");
          env.stdout(formatBundle(b, format.value, true));
        });
      });
    };
  },
});

export const bundleCount = apiCommand({
  name: "bundle count",
  synopsis: "Count bundles",
  define() {
    return async ({ env, client, printer }) => {
      const resp = await client.bundle.countBundles({});
      await printer.proto(count, resp, (r) => env.stdout(`${r.count} ${r.count === 1 ? "bundle" : "bundles"}\n`));
    };
  },
});

export const bundleSet = apiCommand({
  name: "bundle set",
  synopsis: "Creates or updates federated bundle data",
  define(fs) {
    const id = fs.string("id", "", "SPIFFE ID of the trust domain");
    const path = fs.string("path", "", "Path to the bundle data");
    const format = fs.string("format", formatPem, `The format of the bundle data. Either ${goQuote(formatPem)} or ${goQuote(formatSpiffe)}.`);
    return async ({ env, client, printer }) => {
      if (id.value === "") throw new CliError("id flag is required");
      const f = validateFormat(format.value);
      let data: Buffer;
      try {
        data = await readInput(env, path.value, true);
      } catch (e) {
        throw wrap("unable to load bundle data", e);
      }
      const b = parseBundle(data, f, id.value);
      let resp;
      try {
        resp = await client.bundle.batchSetFederatedBundle({ bundle: [b], outputMask: undefined });
      } catch (e) {
        throw wrap("failed to set federated bundle", e);
      }
      await printer.proto(batchBundleResponse, resp, (r) => {
        const result = r.results[0];
        if (!result || (result.status?.code ?? 0) !== 0) {
          throw new CliError(`failed to set federated bundle: ${result?.status?.message ?? "no result"}`);
        }
        env.stdout("bundle set.\n");
      });
    };
  },
});

const modes: Record<string, BatchDeleteFederatedBundleRequest_Mode> = {
  "": BatchDeleteFederatedBundleRequest_Mode.RESTRICT,
  restrict: BatchDeleteFederatedBundleRequest_Mode.RESTRICT,
  dissociate: BatchDeleteFederatedBundleRequest_Mode.DISSOCIATE,
  delete: BatchDeleteFederatedBundleRequest_Mode.DELETE,
};

export const bundleDelete = apiCommand({
  name: "bundle delete",
  synopsis: "Deletes federated bundle data",
  define(fs) {
    const id = fs.string("id", "", "SPIFFE ID of the trust domain");
    const mode = fs.string("mode", "restrict", "Deletion mode: one of restrict, delete, or dissociate");
    return async ({ env, client, printer }) => {
      if (id.value === "") throw new CliError("id is required");
      const m = modes[mode.value];
      if (m === undefined) throw new CliError(`unsupported mode ${goQuote(mode.value)}`);
      let resp;
      try {
        resp = await client.bundle.batchDeleteFederatedBundle({ trustDomains: [id.value], mode: m });
      } catch (e) {
        throw wrap("failed to delete federated bundle", e);
      }
      await printer.proto(batchDeleteByTrustDomainResponse, resp, (r) => {
        const result = r.results[0];
        if (!result || (result.status?.code ?? 0) !== 0) {
          throw new CliError(`failed to delete federated bundle ${goQuote(result?.trustDomain ?? id.value)}: ${result?.status?.message ?? "no result"}`);
        }
        env.stdout("bundle deleted.\n");
      });
    };
  },
});
