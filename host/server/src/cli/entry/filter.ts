/** The filter flags `entry show` and `entry count` share. */
import type { ListEntriesRequest_Filter } from "@signet/proto/spire/api/server/entry/v1/entry";
import { type FlagSet, goQuote, wrap } from "@signet/host-common";
import { federatesWithMatch, idToProto, parseSelector, selectorMatch } from "../parse.js";

export function entryFilterFlags(fs: FlagSet, noun: "show" | "count") {
  const what = noun === "show" ? "records to show" : "records to count";
  const parentID = fs.string("parentID", "", `The Parent ID of the ${what}`);
  const spiffeID = fs.string("spiffeID", "", `The SPIFFE ID of the ${what}`);
  const downstream = fs.bool("downstream", false, "A boolean value that, when set, indicates that the entry describes a downstream SPIRE server");
  const selectors = fs.strings("selector", "A colon-delimited type:value selector. Can be used more than once");
  const federatesWith = fs.strings("federatesWith", "SPIFFE ID of a trust domain an entry is federate with. Can be used more than once");
  const matchFederatesWithOn = fs.string(
    "matchFederatesWithOn",
    "superset",
    "The match mode used when filtering by federates with. Options: exact, any, superset and subset",
  );
  const matchSelectorsOn = fs.string("matchSelectorsOn", "superset", "The match mode used when filtering by selectors. Options: exact, any, superset and subset");
  const hint = fs.string("hint", "", `The Hint of the ${what} (optional)`);

  return {
    parentID,
    spiffeID,
    selectors,
    /** Builds the filter; SPIRE always sends by_downstream, so entries are filtered on it even when the flag is absent. */
    build(): ListEntriesRequest_Filter {
      const filter: ListEntriesRequest_Filter = {
        bySpiffeId: undefined,
        byParentId: undefined,
        bySelectors: undefined,
        byFederatesWith: undefined,
        byHint: undefined,
        byDownstream: downstream.value,
      };
      if (parentID.value !== "") {
        try {
          filter.byParentId = idToProto(parentID.value);
        } catch (e) {
          throw wrap(`error parsing parent ID ${goQuote(parentID.value)}`, e);
        }
      }
      if (spiffeID.value !== "") {
        try {
          filter.bySpiffeId = idToProto(spiffeID.value);
        } catch (e) {
          throw wrap(`error parsing SPIFFE ID ${goQuote(spiffeID.value)}`, e);
        }
      }
      if (selectors.value.length > 0) {
        const match = selectorMatch(matchSelectorsOn.value);
        const parsed = selectors.value.map((s) => {
          try {
            return parseSelector(s);
          } catch (e) {
            throw wrap("error parsing selectors", e);
          }
        });
        filter.bySelectors = { selectors: parsed, match };
      }
      if (federatesWith.value.length > 0) {
        filter.byFederatesWith = { trustDomains: federatesWith.value, match: federatesWithMatch(matchFederatesWithOn.value) };
      }
      if (hint.value !== "") filter.byHint = hint.value;
      return filter;
    },
  };
}
