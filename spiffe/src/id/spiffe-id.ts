import { SpiffeIdError, TrustDomainError, reasons } from "./errors.js";
import { pathProblem, scheme, trustDomainNameProblem } from "./grammar.js";

/** Limits the SPIFFE spec sets on what we issue (input is accepted beyond them, as go-spiffe does). */
export const maxIssuedIdLength = 2048;
export const maxTrustDomainLength = 255;

/**
 * A trust domain name such as "example.org". A value that exists is valid;
 * equality is string equality (SPIFFE IDs are canonical, never normalised).
 */
export class TrustDomain {
  private constructor(readonly name: string) {}

  /**
   * Accepts a bare name ("example.org") or a SPIFFE ID ("spiffe://example.org/…",
   * whose path is discarded), as go-spiffe's TrustDomainFromString does.
   */
  static parse(input: string): TrustDomain {
    if (input.includes(":/")) {
      try {
        return SpiffeId.parse(input).trustDomain;
      } catch (e) {
        throw new TrustDomainError(input, (e as SpiffeIdError).reason);
      }
    }
    const problem = trustDomainNameProblem(input);
    if (problem) throw new TrustDomainError(input, problem);
    return new TrustDomain(input);
  }

  /** @internal for SpiffeId, which has already checked the name */
  static unchecked(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** The trust domain's own ID, "spiffe://example.org" (Workload API map keys, SDS names). */
  get idString(): string {
    return `${scheme}${this.name}`;
  }

  /**
   * Problems that make a trust domain unfit to configure or issue under,
   * though it parses: over 255 bytes, or an empty DNS label, which Go's X.509
   * parser rejects in a URI SAN, so Go peers could never accept its SVIDs.
   */
  issuanceProblem(): string | undefined {
    if (this.name.length > maxTrustDomainLength) return `is longer than ${maxTrustDomainLength} bytes`;
    if (this.name.split(".").some((label) => label.length === 0)) return "has an empty DNS label";
    return undefined;
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }
}

/** A SPIFFE ID: "spiffe://" + trust domain + optional path. */
export class SpiffeId {
  private constructor(
    readonly trustDomain: TrustDomain,
    readonly path: string,
  ) {}

  static parse(input: string): SpiffeId {
    if (input.length === 0) throw new SpiffeIdError(input, reasons.empty);
    if (!input.startsWith(scheme)) throw new SpiffeIdError(input, reasons.badScheme);
    const rest = input.slice(scheme.length);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? "" : rest.slice(slash);
    const tdProblem = trustDomainNameProblem(name);
    if (tdProblem) throw new SpiffeIdError(input, tdProblem);
    const pProblem = pathProblem(path);
    if (pProblem) throw new SpiffeIdError(input, pProblem);
    return new SpiffeId(TrustDomain.unchecked(name), path);
  }

  /** Builds an ID in `trustDomain` from a path such as "/ns/prod/sa/web" (or "" for the domain's own ID). */
  static fromPath(trustDomain: TrustDomain, path: string): SpiffeId {
    const problem = pathProblem(path);
    if (problem) throw new SpiffeIdError(`${trustDomain.idString}${path}`, problem);
    return new SpiffeId(trustDomain, path);
  }

  /** Like parse, but undefined instead of an error. */
  static tryParse(input: string): SpiffeId | undefined {
    try {
      return SpiffeId.parse(input);
    } catch {
      return undefined;
    }
  }

  /** True for the trust domain's own ID (no path), as signing authorities use. */
  get isTrustDomainId(): boolean {
    return this.path === "";
  }

  memberOf(trustDomain: TrustDomain): boolean {
    return this.trustDomain.name === trustDomain.name;
  }

  equals(other: SpiffeId): boolean {
    return this.path === other.path && this.trustDomain.name === other.trustDomain.name;
  }

  /** Why we would refuse to issue an SVID for this ID (it still parses): over 2048 bytes. */
  issuanceProblem(): string | undefined {
    const length = Buffer.byteLength(this.toString());
    return length > maxIssuedIdLength ? `is ${length} bytes long; SPIFFE IDs must not exceed ${maxIssuedIdLength}` : undefined;
  }

  toString(): string {
    return `${scheme}${this.trustDomain.name}${this.path}`;
  }
}
