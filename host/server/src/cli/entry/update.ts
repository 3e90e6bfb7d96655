/** `entry update` [Entry/BatchUpdateEntry without input mask; Entry/GetEntry to merge additional attributes] */
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { CliError, readInput, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { idToProto, parseSelector, toInt32 } from "../parse.js";
import { batchEntryResponse } from "../print/schemas.js";
import { parseEntriesJson } from "./data.js";
import { attachRequested, printEntryResults } from "./results.js";

export const entryUpdate = apiCommand({
  name: "entry update",
  synopsis: "Updates registration entries",
  define(fs) {
    const entryID = fs.string("entryID", "", "The Registration Entry ID of the record to update");
    const parentID = fs.string("parentID", "", "The SPIFFE ID of this record's parent");
    const spiffeID = fs.string("spiffeID", "", "The SPIFFE ID that this record represents");
    const x509SVIDTTL = fs.int("x509SVIDTTL", 0, "The lifetime, in seconds, for x509-SVIDs issued based on this registration entry.");
    const jwtSVIDTTL = fs.int("jwtSVIDTTL", 0, "The lifetime, in seconds, for JWT-SVIDs issued based on this registration entry.");
    const data = fs.string("data", "", "Path to a file containing registration JSON (optional). If set to '-', read the JSON from stdin.");
    const selectors = fs.strings("selector", "A colon-delimited type:value selector. Can be used more than once");
    const federatesWith = fs.strings("federatesWith", "SPIFFE ID of a trust domain to federate with. Can be used more than once");
    const admin = fs.bool("admin", false, "If set, the SPIFFE ID in this entry will be granted access to the SPIRE Server's management APIs");
    const downstream = fs.bool("downstream", false, "A boolean value that, when set, indicates that the entry describes a downstream SPIRE server");
    const storeSVID = fs.bool("storeSVID", false, "A boolean value that, when set, indicates that the resulting issued SVID from this entry must be stored through an SVIDStore plugin");
    const entryExpiry = fs.int("entryExpiry", 0, "An expiry, from epoch in seconds, for the resulting registration entry to be pruned");
    const dns = fs.strings("dns", "A DNS name that will be included in SVIDs issued based on this entry, where appropriate. Can be used more than once");
    const hint = fs.string("hint", "", "The entry hint, used to disambiguate entries with the same SPIFFE ID");
    // BoolFunc flags: any occurrence sets them (even "=false"), as in SPIRE.
    const disablePrefetch = fs.boolFunc("disableX509SVIDPrefetch", "A boolean value that, when set, disables prefetching X509 SVID for this entry", () => {});
    const includeJti = fs.boolFunc(
      "jwtSVIDIncludeJTI",
      "A boolean value that, when set, includes a unique 'jti' claim in JWT-SVIDs issued for this entry and bypasses the agent JWT-SVID cache",
      () => {},
    );

    return async ({ env, client, printer }) => {
      let entries: Entry[];
      if (data.value !== "") {
        entries = parseEntriesJson(await readInput(env, data.value));
      } else {
        if (entryID.value === "") throw new CliError("entry ID is required");
        if (selectors.value.length < 1) throw new CliError("at least one selector is required");
        if (parentID.value === "") throw new CliError("a parent ID is required");
        if (spiffeID.value === "") throw new CliError("a SPIFFE ID is required");
        if (x509SVIDTTL.value < 0) throw new CliError("a positive x509-SVID TTL is required");
        if (jwtSVIDTTL.value < 0) throw new CliError("a positive JWT-SVID TTL is required");
        const parent = idToProto(parentID.value);
        const id = idToProto(spiffeID.value);
        const entry: Entry = {
          id: entryID.value,
          spiffeId: id,
          parentId: parent,
          selectors: [],
          x509SvidTtl: toInt32(x509SVIDTTL.value, "X509 SVID TTL"),
          federatesWith: federatesWith.value,
          admin: admin.value,
          downstream: downstream.value,
          expiresAt: BigInt(entryExpiry.value),
          dnsNames: dns.value,
          revisionNumber: 0n,
          storeSvid: storeSVID.value,
          jwtSvidTtl: toInt32(jwtSVIDTTL.value, "JWT SVID TTL"),
          hint: hint.value,
          createdAt: 0n,
        };
        entry.selectors = selectors.value.map(parseSelector);
        if (disablePrefetch.set || includeJti.set) {
          let existing: Entry;
          try {
            existing = await client.entry.getEntry({ id: entryID.value, outputMask: undefined });
          } catch (e) {
            throw wrap("failed to fetch existing entry to merge additional attributes", e);
          }
          const attrs = existing.additionalAttributes
            ? { ...existing.additionalAttributes }
            : { disableX509SvidPrefetch: false, jwtSvidIncludeJti: false };
          if (disablePrefetch.set) attrs.disableX509SvidPrefetch = true;
          if (includeJti.set) attrs.jwtSvidIncludeJti = true;
          entry.additionalAttributes = attrs;
        }
        entries = [entry];
      }
      const resp = await client.entry.batchUpdateEntry({ entries, inputMask: undefined, outputMask: undefined });
      attachRequested(resp.results, entries);
      await printer.proto(batchEntryResponse, resp, (r) => printEntryResults(env, r.results, "update"));
    };
  },
});
