/**
 * Keys as the contract spells them: SPIFFE IDs as URI strings, trust domains
 * without scheme. Only what storage needs is checked here (present, ASCII,
 * bounded); full SPIFFE validation is the server's job.
 */
import type { SPIFFEID } from "@signet/proto/spire/api/types/spiffeid";
import { invalid } from "./errors.js";

export const maxSpiffeIdLength = 2048;
export const maxTrustDomainLength = 255;

const printableAscii = /^[\x21-\x7e]*$/;

/** "spiffe://<td><path>" from the API's SPIFFEID message. */
export function spiffeIdString(id: SPIFFEID | undefined, what: string): string {
  if (!id || id.trustDomain === "") throw invalid(`invalid registration entry: missing ${what}`);
  if (id.path !== "" && !id.path.startsWith("/")) throw invalid(`invalid ${what}: path must start with "/"`);
  return checkSpiffeId(`spiffe://${id.trustDomain}${id.path}`, what);
}

/** A SPIFFE ID given as a string key (nodes, node selectors). */
export function checkSpiffeId(s: string, what = "SPIFFE ID"): string {
  if (s === "") throw invalid(`${what} is required`);
  if (s.length > maxSpiffeIdLength) throw invalid(`${what} is longer than ${maxSpiffeIdLength} characters`);
  if (!printableAscii.test(s)) throw invalid(`${what} ${JSON.stringify(s)} contains characters a SPIFFE ID cannot hold`);
  return s;
}

/** The API's SPIFFEID message from a stored URI string. */
export function spiffeIdMessage(s: string): SPIFFEID {
  const rest = s.startsWith("spiffe://") ? s.slice("spiffe://".length) : s;
  const slash = rest.indexOf("/");
  return slash < 0 ? { trustDomain: rest, path: "" } : { trustDomain: rest.slice(0, slash), path: rest.slice(slash) };
}

/** A trust domain name; a "spiffe://" prefix is tolerated and dropped. */
export function trustDomainName(s: string, what = "trust domain"): string {
  const name = s.startsWith("spiffe://") ? s.slice("spiffe://".length) : s;
  if (name === "") throw invalid(`${what} is required`);
  if (name.length > maxTrustDomainLength) throw invalid(`${what} is longer than ${maxTrustDomainLength} characters`);
  if (!printableAscii.test(name) || name.includes("/")) throw invalid(`${what} ${JSON.stringify(s)} is not a trust domain name`);
  return name;
}
