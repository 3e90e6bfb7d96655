/** A SPIFFE ID or trust domain that does not follow the SPIFFE ID grammar. */
export class SpiffeIdError extends Error {
  override readonly name = "SpiffeIdError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid SPIFFE ID ${JSON.stringify(input)}: ${reason}`);
  }
}

export class TrustDomainError extends Error {
  override readonly name = "TrustDomainError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid trust domain ${JSON.stringify(input)}: ${reason}`);
  }
}

/** go-spiffe's wording for each rule, so our messages read like the ones operators know. */
export const reasons = {
  empty: "cannot be empty",
  badScheme: "scheme is missing or invalid",
  badTrustDomainChar:
    "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores",
  missingTrustDomain: "trust domain is missing",
  noLeadingSlash: "path must have a leading slash",
  badPathChar: "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
  emptySegment: "path cannot contain empty segments",
  dotSegment: "path cannot contain dot segments",
  trailingSlash: "path cannot have a trailing slash",
} as const;
