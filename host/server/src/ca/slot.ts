/**
 * The two slots each authority kind rotates through (SPIRE's ca/manager
 * slots): "current" signs, "next" is either PREPARED (published in the bundle,
 * waiting to take over) or OLD (the authority it replaced). Timing rules are
 * pure functions of a slot's issue time and expiry.
 */
import type { KeyObject } from "node:crypto";
import type { Issuer, SignatureAlgorithm } from "@signet/spiffe";
import type { JwtSigningAlgorithm } from "@signet/spiffe";

export type SlotId = "A" | "B";
/** SPIRE's journal.Status names. */
export type AuthorityStatus = "UNKNOWN" | "PREPARED" | "ACTIVE" | "OLD";

/** An X.509 CA the server can sign with. */
export interface X509CaAuthority {
  /** KeyManager key id holding the CA's private key. */
  readonly kmKeyId: string;
  readonly certificate: Buffer;
  /** The issuer view of the certificate, for child templates. */
  readonly issuer: Issuer;
  readonly notAfter: Date;
  /** [CA, upstream intermediates…] when signed by an UpstreamAuthority; empty when self-signed. */
  readonly upstreamChain: readonly Buffer[];
  readonly algorithm: SignatureAlgorithm;
  readonly publicKey: KeyObject;
  /** Hex SKI of the CA certificate. */
  readonly authorityId: string;
  /** Hex SKI of the upstream certificate that signed it ("" when self-signed). */
  readonly upstreamAuthorityId: string;
}

/** A JWT signing key. */
export interface JwtKeyAuthority {
  readonly kmKeyId: string;
  readonly kid: string;
  readonly notAfter: Date;
  readonly algorithm: JwtSigningAlgorithm;
  /** SubjectPublicKeyInfo DER, as published in the bundle. */
  readonly pkix: Buffer;
  readonly publicKey: KeyObject;
}

/** SPIRE: prepare the next authority this long before expiry, at most 30 days. */
const preparationCapMs = 30 * 24 * 3600 * 1000;
const preparationDivisor = 2;
/** SPIRE: activate the next authority this long before expiry, at most 7 days. */
const activationCapMs = 7 * 24 * 3600 * 1000;
const activationDivisor = 6;

/** When the next authority should be prepared: NotAfter − min(lifetime/2, 30 d). */
export function preparationThreshold(issuedAt: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - issuedAt.getTime();
  return new Date(notAfter.getTime() - Math.min(lifetime / preparationDivisor, preparationCapMs));
}

/** When the next authority should take over: NotAfter − min(lifetime/6, 7 d). */
export function activationThreshold(issuedAt: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - issuedAt.getTime();
  return new Date(notAfter.getTime() - Math.min(lifetime / activationDivisor, activationCapMs));
}

/** The longest SVID TTL a CA TTL guarantees is not cut short by rotation (SPIRE's MaxSVIDTTLForCATTL). */
export function maxSvidTtlSecondsForCaTtl(caTtlSeconds: number): number {
  return Math.min(caTtlSeconds / activationDivisor, activationCapMs / 1000);
}

export function x509CaKmKeyId(slot: SlotId): string {
  return `x509-CA-${slot}`;
}

export function jwtKeyKmKeyId(slot: SlotId): string {
  return `JWT-Signer-${slot}`;
}

export function otherSlotId(id: SlotId): SlotId {
  return id === "A" ? "B" : "A";
}

/** What the LocalAuthority API reads from a slot. */
export interface SlotView {
  readonly id: SlotId;
  readonly status: AuthorityStatus;
  /** "" while the slot never held an authority. */
  readonly authorityId: string;
  readonly upstreamAuthorityId: string;
  /** Undefined while the slot never held an authority. */
  readonly notAfter: Date | undefined;
  readonly isEmpty: boolean;
}

/** One slot. Mutated only by the CA manager, under its per-kind lock. */
export class Slot<A extends { readonly notAfter: Date }> implements SlotView {
  issuedAt: Date | undefined;
  authority: A | undefined;
  status: AuthorityStatus = "UNKNOWN";
  authorityId = "";
  upstreamAuthorityId = "";
  notAfter: Date | undefined;

  constructor(
    readonly kind: "x509-ca" | "jwt-key",
    readonly id: SlotId,
  ) {}

  get kmKeyId(): string {
    return this.kind === "jwt-key" ? jwtKeyKmKeyId(this.id) : x509CaKmKeyId(this.id);
  }

  /** JWT slots want a key as soon as they are empty; X.509 slots only once they hold a CA (as SPIRE). */
  private get emptyWantsNext(): boolean {
    return this.kind === "jwt-key";
  }

  /** No usable authority: never filled, or retired (OLD). */
  get isEmpty(): boolean {
    return this.authority === undefined || this.status === "OLD";
  }

  /** Retires the slot: the authority is forgotten, the ids stay for the API (SPIRE's Reset). */
  reset(): void {
    this.authority = undefined;
    this.status = "OLD";
  }

  fill(authority: A, issuedAt: Date, authorityId: string, upstreamAuthorityId: string): void {
    this.authority = authority;
    this.issuedAt = issuedAt;
    this.status = "PREPARED";
    this.authorityId = authorityId;
    this.upstreamAuthorityId = upstreamAuthorityId;
    this.notAfter = authority.notAfter;
  }

  shouldPrepareNext(now: Date): boolean {
    if (!this.authority || !this.issuedAt) return this.emptyWantsNext;
    return now.getTime() > preparationThreshold(this.issuedAt, this.authority.notAfter).getTime();
  }

  shouldActivateNext(now: Date): boolean {
    if (!this.authority || !this.issuedAt) return this.emptyWantsNext;
    return now.getTime() > activationThreshold(this.issuedAt, this.authority.notAfter).getTime();
  }
}
