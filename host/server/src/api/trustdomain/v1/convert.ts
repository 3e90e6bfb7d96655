import type { FederationRelationship, FederationRelationshipMask } from "@signet/proto/spire/api/types/federationrelationship";
import { SpiffeId, SpiffeIdError, TrustDomain, TrustDomainError } from "@signet/spiffe";
import { AuthorityError, applyBundleMask, bundleFromApi } from "../../bundle/v1/convert.js";

/** Why a relationship in a request was refused; the message is SPIRE's cause text. */
export class RelationshipInputError extends Error {
  override readonly name = "RelationshipInputError";
}

/**
 * SPIRE's ProtoToFederationRelationship (always with every field, as SPIRE
 * calls it for both create and update): trust domain, an https bundle
 * endpoint URL with a host and no user info, a profile (https_spiffe needs a
 * valid endpoint SPIFFE ID), and an optional bundle of the same trust domain.
 */
export function relationshipFromApi(input: FederationRelationship | undefined): FederationRelationship {
  if (!input) throw new RelationshipInputError("missing federation relationship");
  let td: TrustDomain;
  try {
    td = TrustDomain.parse(input.trustDomain);
  } catch (err) {
    throw new RelationshipInputError(`failed to parse trust domain: ${reason(err)}`);
  }
  checkBundleEndpointUrl(input.bundleEndpointUrl);
  const profile = input.bundleEndpointProfile;
  let bundleEndpointProfile: FederationRelationship["bundleEndpointProfile"];
  if (profile?.$case === "httpsSpiffe") {
    let id: SpiffeId;
    try {
      id = SpiffeId.parse(profile.value.endpointSpiffeId);
    } catch (err) {
      throw new RelationshipInputError(`failed to parse endpoint SPIFFE ID: ${reason(err)}`);
    }
    bundleEndpointProfile = { $case: "httpsSpiffe", value: { endpointSpiffeId: id.toString() } };
  } else if (profile?.$case === "httpsWeb") {
    bundleEndpointProfile = { $case: "httpsWeb", value: {} };
  } else {
    throw new RelationshipInputError("unsupported bundle endpoint profile type: <nil>");
  }
  let trustDomainBundle: FederationRelationship["trustDomainBundle"];
  if (input.trustDomainBundle) {
    let bundleTd: TrustDomain;
    try {
      bundleTd = TrustDomain.parse(input.trustDomainBundle.trustDomain);
    } catch (err) {
      throw new RelationshipInputError(`failed to parse bundle: invalid trust domain: ${reason(err)}`);
    }
    try {
      trustDomainBundle = bundleFromApi(input.trustDomainBundle, bundleTd);
    } catch (err) {
      if (err instanceof AuthorityError) throw new RelationshipInputError(`failed to parse bundle: ${err.message}`);
      throw err;
    }
    if (!bundleTd.equals(td)) {
      throw new RelationshipInputError(
        `trust domain bundle (${JSON.stringify(input.trustDomainBundle.trustDomain)}) must match the trust domain of the federation relationship (${JSON.stringify(td.name)})`,
      );
    }
  }
  return { trustDomain: td.name, bundleEndpointUrl: input.bundleEndpointUrl, bundleEndpointProfile, trustDomainBundle };
}

/** Go's url.Parse checks as SPIRE applies them (scheme, host, user info). */
function checkBundleEndpointUrl(url: string): void {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (/[\x00-\x1f\x7f ]/.test(url)) {
    throw new RelationshipInputError(`failed to parse bundle endpoint URL: parse ${JSON.stringify(url)}: net/url: invalid control character in URL`);
  }
  if (!scheme || scheme[1]?.toLowerCase() !== "https") {
    throw new RelationshipInputError("bundle endpoint URL must use the https scheme");
  }
  const rest = url.slice(scheme[0].length);
  if (!rest.startsWith("//")) throw new RelationshipInputError("bundle endpoint URL must specify the host");
  const authority = rest.slice(2).split(/[/?#]/, 1)[0] ?? "";
  const at = authority.lastIndexOf("@");
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  if (host === "") throw new RelationshipInputError("bundle endpoint URL must specify the host");
  if (at >= 0) throw new RelationshipInputError("bundle endpoint URL must not contain user info");
}

/** Output mask: trust_domain always, the flagged fields otherwise. */
export function applyRelationshipMask(
  fr: FederationRelationship,
  mask: FederationRelationshipMask | undefined,
): FederationRelationship {
  if (!mask) return fr;
  return {
    trustDomain: fr.trustDomain,
    bundleEndpointUrl: mask.bundleEndpointUrl ? fr.bundleEndpointUrl : "",
    bundleEndpointProfile: mask.bundleEndpointProfile ? fr.bundleEndpointProfile : undefined,
    trustDomainBundle: mask.trustDomainBundle && fr.trustDomainBundle ? applyBundleMask(fr.trustDomainBundle, undefined) : undefined,
  };
}

export function reason(err: unknown): string {
  if (err instanceof TrustDomainError || err instanceof SpiffeIdError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}
