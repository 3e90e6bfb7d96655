/** The filter flags `agent list` and `agent count` share. */
import type { ListAgentsRequest_Filter } from "@signet/proto/spire/api/server/agent/v1/agent";
import { CliError, type FlagSet, goQuote, wrap } from "@signet/host-common";
import { parseSelector, selectorMatch } from "../parse.js";

/** Go layout "2006-01-02 15:04:05 -0700 -07". */
const expiresBeforeLayout = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} [+-]\d{2}$/;

export function agentFilterFlags(fs: FlagSet) {
  const selectors = fs.strings("selector", "A colon-delimited type:value selector. Can be used more than once");
  const attestationType = fs.string("attestationType", "", "Filter by attestation type, like join_token or x509pop.");
  const canReattest = fs.triState(
    "canReattest",
    "Filter based on string received, 'true': agents that can reattest, 'false': agents that can't reattest, other value will return all.",
  );
  const banned = fs.triState("banned", "Filter based on string received, 'true': banned agents, 'false': not banned agents, other value will return all.");
  const expiresBefore = fs.string("expiresBefore", "", 'Filter by expiration time (format: "2006-01-02 15:04:05 -0700 -07")');
  const matchSelectorsOn = fs.string("matchSelectorsOn", "superset", "The match mode used when filtering by selectors. Options: exact, any, superset and subset");
  return (): ListAgentsRequest_Filter => {
    const filter: ListAgentsRequest_Filter = {
      byAttestationType: attestationType.value,
      bySelectorMatch: undefined,
      byBanned: banned.value,
      byCanReattest: canReattest.value,
      byExpiresBefore: "",
    };
    if (selectors.value.length > 0) {
      const match = selectorMatch(matchSelectorsOn.value, "unsupported match behavior");
      const parsed = selectors.value.map((s) => {
        try {
          return parseSelector(s);
        } catch (e) {
          throw wrap(`error parsing selector ${goQuote(s)}`, e);
        }
      });
      filter.bySelectorMatch = { selectors: parsed, match };
    }
    if (expiresBefore.value !== "") {
      if (!expiresBeforeLayout.test(expiresBefore.value) || Number.isNaN(Date.parse(expiresBefore.value.slice(0, 10)))) {
        throw new CliError(
          `date is not valid: parsing time ${goQuote(expiresBefore.value)} as "2006-01-02 15:04:05 -0700 -07": cannot parse ${goQuote(expiresBefore.value)} as "2006"`,
        );
      }
      filter.byExpiresBefore = expiresBefore.value;
    }
    return filter;
  };
}
