/**
 * The CA manager (SPIRE's ca/manager): two slots per authority kind, what it
 * takes to fill a slot (a KeyManager key, a self-signed or upstream-signed
 * CA, a JWT key published in the bundle), activation and rotation, the
 * journal that lets a restart resume, and bundle housekeeping. Timing
 * decisions are the rotator's (rotator.ts); this class only does what it is
 * asked, one operation per authority kind at a time.
 */
import { X509Certificate } from "node:crypto";
import type { Logger } from "@signet/host-common";
import { Code, RpcError } from "@signet/proto";
import type { Bundle, JWTKey } from "@signet/proto/spire/api/types/bundle";
import {
  type DistinguishedName,
  type TrustDomain,
  assembleCertificate,
  createCsrWithSigner,
  encodeTbs,
  issuerFromCertificate,
  jwtAlgorithmFor,
  newSerialNumber,
  readCertificate,
  selfSignedCaTemplate,
  signatureAlgorithmFor,
} from "@signet/spiffe";
import type { KeyType as ConfigKeyType } from "../config/server-config.js";
import type { ManagedCa } from "./ca.js";
import type { BundleStore } from "./bundle.js";
import { x509AuthorityId } from "./bundle.js";
import type { Clock } from "./clock.js";
import { Journal, type JournalStore, type JwtKeyEntry, type X509CaEntry } from "./journal.js";
import { authorityIdOfKey, keyManagerKeyType, newJwtKeyId } from "./keys.js";
import { Mutex } from "./mutex.js";
import type { CaKeyManager, CaSigner, ManagedKey } from "./signer.js";
import { type JwtKeyAuthority, Slot, type SlotId, type SlotView, type X509CaAuthority, otherSlotId } from "./slot.js";
import type { UpstreamAuthority } from "./upstream.js";

export interface CaManagerOptions {
  readonly trustDomain: TrustDomain;
  readonly keyManager: CaKeyManager;
  readonly signer: CaSigner;
  readonly journalStore: JournalStore;
  readonly bundleStore: BundleStore;
  /** Receives the active authorities (the Ca). */
  readonly ca: ManagedCa;
  readonly upstream?: UpstreamAuthority;
  /** ca_key_type */
  readonly caKeyType: ConfigKeyType;
  /** jwt_key_type (defaults to ca_key_type in the config decoder) */
  readonly jwtKeyType: ConfigKeyType;
  /** ca_ttl */
  readonly caTtlSeconds: number;
  /** ca_subject */
  readonly caSubject: DistinguishedName;
  readonly disableJwtSvids: boolean;
  readonly clock: Clock;
  readonly log: Logger;
}

/** SPIRE's safetyThresholdBundle: authorities are pruned a day after they expire. */
const bundlePruneAfterMs = 24 * 3600 * 1000;
/** SPIRE's safetyThresholdCAJournals: two weeks. */
const journalPruneAfterMs = 14 * 24 * 3600 * 1000;

type X509Slot = Slot<X509CaAuthority>;
type JwtSlot = Slot<JwtKeyAuthority>;

export class CaManager {
  private readonly x509Lock = new Mutex();
  private readonly jwtLock = new Mutex();
  private jwtUnimplementedWarned = false;

  private constructor(
    private readonly o: CaManagerOptions,
    private readonly journal: Journal,
    private currentX509: X509Slot,
    private nextX509: X509Slot,
    private currentJwt: JwtSlot,
    private nextJwt: JwtSlot,
  ) {}

  /**
   * Builds the manager from what survived a restart: this server's CA
   * journal (found by the KeyManager's keys), keeping only authorities that
   * are unexpired, still held by the KeyManager with the same public key,
   * and still in the bundle. An active authority not yet due for rotation is
   * activated at once.
   */
  static async load(o: CaManagerOptions): Promise<CaManager> {
    const keys = await o.keyManager.getPublicKeys();
    let journal: Journal;
    try {
      journal = await Journal.load(o.journalStore, keys.map((k) => authorityIdOfKey(k.publicKey)));
    } catch (e) {
      throw new Error(`failed to load journal from datastore: ${(e as Error).message}`);
    }
    const entries = journal.snapshot();
    o.log.info("Journal loaded", { x509_cas: entries.x509Cas.length, jwt_keys: entries.jwtKeys.length });

    const bundle = await o.bundleStore.fetch();
    let x509Entries = entries.x509Cas;
    let jwtEntries = entries.jwtKeys;
    if (bundle) {
      jwtEntries = jwtEntries.filter((e) => bundle.jwtAuthorities.some((k) => k.keyId === e.kid));
      // With an UpstreamAuthority the CA is an intermediate, never in the bundle.
      if (!o.upstream) x509Entries = x509Entries.filter((e) => bundle.x509Authorities.some((a) => a.asn1.equals(e.certificate)));
    }
    const keyById = new Map(keys.map((k) => [k.id, k]));
    const now = o.clock.now();

    const [currentX509, nextX509] = pickSlots(
      "x509-ca",
      x509Entries.map((e) => loadX509Slot(e, keyById, now, o.log)),
    );
    const [currentJwt, nextJwt] = pickSlots(
      "jwt-key",
      jwtEntries.map((e) => loadJwtSlot(e, keyById, now, o.log)),
    );
    const m = new CaManager(o, journal, currentX509, nextX509, currentJwt, nextJwt);
    if (!currentX509.isEmpty && !currentX509.shouldActivateNext(now)) await m.activateX509Locked();
    if (!o.disableJwtSvids && !currentJwt.isEmpty && !currentJwt.shouldActivateNext(now)) await m.activateJwtLocked();
    return m;
  }

  get trustDomain(): TrustDomain {
    return this.o.trustDomain;
  }

  isUpstreamAuthority(): boolean {
    return this.o.upstream !== undefined;
  }

  isJwtSvidsDisabled(): boolean {
    return this.o.disableJwtSvids;
  }

  currentX509CaSlot(): SlotView & { shouldPrepareNext(now: Date): boolean; shouldActivateNext(now: Date): boolean } {
    return this.currentX509;
  }

  nextX509CaSlot(): SlotView {
    return this.nextX509;
  }

  currentJwtKeySlot(): SlotView & { shouldPrepareNext(now: Date): boolean; shouldActivateNext(now: Date): boolean } {
    return this.currentJwt;
  }

  nextJwtKeySlot(): SlotView {
    return this.nextJwt;
  }

  // ---- X.509 CA ---------------------------------------------------------------------

  /** Fills the current slot if it is empty, else the next one, with a new CA (published in the bundle). */
  prepareX509Ca(): Promise<void> {
    return this.x509Lock.run(async () => {
      const slot = this.currentX509.isEmpty ? this.currentX509 : this.nextX509;
      slot.reset();
      const now = this.o.clock.now();
      const key = await this.o.keyManager.generateKey(slot.kmKeyId, keyManagerKeyType(this.o.caKeyType));
      const authority = this.o.upstream ? await this.upstreamSignedCa(key, this.o.upstream) : await this.selfSignedCa(key, now);
      slot.fill(authority, now, authority.authorityId, authority.upstreamAuthorityId);
      await this.journalStep("Unable to append X509 CA to journal", () =>
        this.journal.appendX509Ca({
          slotId: slot.id,
          issuedAt: seconds(now),
          notAfter: seconds(authority.notAfter),
          certificate: authority.certificate,
          upstreamChain: [...authority.upstreamChain],
          authorityId: authority.authorityId,
          upstreamAuthorityId: authority.upstreamAuthorityId,
        }),
      );
      this.o.log.info("X509 CA prepared", {
        slot: slot.id,
        issued_at: now.toISOString(),
        expiration: authority.notAfter.toISOString(),
        self_signed: !this.o.upstream,
        local_authority_id: authority.authorityId,
        upstream_authority_id: authority.upstreamAuthorityId,
      });
    });
  }

  /** Marks the current slot active and hands its CA to the signer. */
  activateX509Ca(): Promise<void> {
    return this.x509Lock.run(() => this.activateX509Locked());
  }

  /** Swaps current and next: the prepared CA becomes active, the previous one OLD. */
  rotateX509Ca(): Promise<void> {
    return this.x509Lock.run(async () => {
      if (this.nextX509.authority === undefined || this.nextX509.status !== "PREPARED") {
        this.o.log.warn("X509 CA rotation skipped: no prepared authority", { slot: this.nextX509.id });
        return;
      }
      [this.currentX509, this.nextX509] = [this.nextX509, this.currentX509];
      this.nextX509.reset();
      await this.journalStep("Failed to update status on X509CA journal entry", () =>
        this.journal.updateX509CaStatus(this.nextX509.authorityId, "OLD"),
      );
      await this.activateX509Locked();
    });
  }

  // ---- JWT key ------------------------------------------------------------------------

  prepareJwtKey(): Promise<void> {
    if (this.o.disableJwtSvids) return Promise.resolve();
    return this.jwtLock.run(async () => {
      const slot = this.currentJwt.isEmpty ? this.currentJwt : this.nextJwt;
      slot.reset();
      const now = this.o.clock.now();
      const notAfter = new Date(now.getTime() + this.o.caTtlSeconds * 1000);
      const key = await this.o.keyManager.generateKey(slot.kmKeyId, keyManagerKeyType(this.o.jwtKeyType));
      const authority: JwtKeyAuthority = {
        kmKeyId: slot.kmKeyId,
        kid: newJwtKeyId(),
        notAfter,
        algorithm: jwtAlgorithmFor(key.publicKey),
        pkix: key.pkix,
        publicKey: key.publicKey,
      };
      await this.publishJwtKey({ publicKey: authority.pkix, keyId: authority.kid, expiresAt: BigInt(seconds(notAfter)), tainted: false });
      slot.fill(authority, now, authority.kid, "");
      await this.journalStep("Unable to append JWT key to journal", () =>
        this.journal.appendJwtKey({
          slotId: slot.id,
          issuedAt: seconds(now),
          notAfter: seconds(notAfter),
          kid: authority.kid,
          publicKey: authority.pkix,
          authorityId: authority.kid,
        }),
      );
      this.o.log.info("JWT key prepared", { slot: slot.id, issued_at: now.toISOString(), expiration: notAfter.toISOString(), local_authority_id: authority.kid });
    });
  }

  activateJwtKey(): Promise<void> {
    if (this.o.disableJwtSvids) return Promise.resolve();
    return this.jwtLock.run(() => this.activateJwtLocked());
  }

  rotateJwtKey(): Promise<void> {
    if (this.o.disableJwtSvids) return Promise.resolve();
    return this.jwtLock.run(async () => {
      if (this.nextJwt.authority === undefined || this.nextJwt.status !== "PREPARED") {
        this.o.log.warn("JWT key rotation skipped: no prepared authority", { slot: this.nextJwt.id });
        return;
      }
      [this.currentJwt, this.nextJwt] = [this.nextJwt, this.currentJwt];
      this.nextJwt.reset();
      await this.journalStep("Failed to update status on JWTKey journal entry", () =>
        this.journal.updateJwtKeyStatus(this.nextJwt.authorityId, "OLD"),
      );
      await this.activateJwtLocked();
    });
  }

  // ---- tainting and housekeeping ----------------------------------------------------------

  /** Tells the CA's subscribers (the server SVID rotator) that a tainted root now is in the bundle. */
  async notifyTaintedX509Authority(authorityId: string): Promise<void> {
    const bundle = await this.o.bundleStore.fetch();
    if (!bundle) throw new Error("trust domain bundle is missing");
    const root = bundle.x509Authorities.find((a) => a.tainted && x509AuthorityId(a.asn1) === authorityId);
    if (!root) throw new Error(`no tainted root CA found with authority ID: ${JSON.stringify(authorityId)}`);
    this.o.ca.notifyTaintedX509Authorities([root.asn1]);
  }

  /** Removes authorities that expired more than a day ago. */
  async pruneBundle(): Promise<void> {
    const changed = await this.o.bundleStore.prune(new Date(this.o.clock.now().getTime() - bundlePruneAfterMs));
    if (changed) this.o.log.debug("Expired certificates were successfully pruned from bundle");
  }

  /** Removes CA journals that expired more than two weeks ago. */
  async pruneCaJournals(): Promise<void> {
    await this.o.journalStore.prune(new Date(this.o.clock.now().getTime() - journalPruneAfterMs));
  }

  // ---- internals ------------------------------------------------------------------------

  private async activateX509Locked(): Promise<void> {
    const slot = this.currentX509;
    const authority = slot.authority;
    if (!authority) return;
    slot.status = "ACTIVE";
    await this.journalStep("Failed to update to activated status on X509CA journal entry", () =>
      this.journal.updateX509CaStatus(slot.authorityId, "ACTIVE"),
    );
    this.o.ca.setX509Ca(authority);
    this.o.log.info("X509 CA activated", {
      slot: slot.id,
      expiration: authority.notAfter.toISOString(),
      local_authority_id: slot.authorityId,
      upstream_authority_id: slot.upstreamAuthorityId,
    });
  }

  private async activateJwtLocked(): Promise<void> {
    const slot = this.currentJwt;
    const authority = slot.authority;
    if (!authority) return;
    slot.status = "ACTIVE";
    await this.journalStep("Failed to update to activated status on JWTKey journal entry", () =>
      this.journal.updateJwtKeyStatus(slot.authorityId, "ACTIVE"),
    );
    this.o.ca.setJwtKey(authority);
    this.o.log.info("JWT key activated", { slot: slot.id, expiration: authority.notAfter.toISOString(), local_authority_id: slot.authorityId });
  }

  /** Journal writes are best effort, as SPIRE's: the authorities in memory stay usable. */
  private async journalStep(message: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.o.log.error(message, { error: (e as Error).message });
    }
  }

  private async selfSignedCa(key: ManagedKey, now: Date): Promise<X509CaAuthority> {
    const algorithm = signatureAlgorithmFor(key.publicKey);
    const template = selfSignedCaTemplate({ trustDomain: this.o.trustDomain, spki: key.pkix, ttlSeconds: this.o.caTtlSeconds, subject: this.o.caSubject, now });
    const tbs = encodeTbs(template, algorithm);
    const [signature] = await this.o.signer.signMessages(key.id, [tbs], hashOf(algorithm));
    const certificate = assembleCertificate(tbs, algorithm, signature!);
    if (!new X509Certificate(certificate).verify(key.publicKey)) {
      throw new Error("invalid X509 CA: the KeyManager's signature does not verify under the key it generated");
    }
    await this.o.bundleStore.append({ x509: [certificate] });
    return x509Authority(key, certificate, []);
  }

  private async upstreamSignedCa(key: ManagedKey, upstream: UpstreamAuthority): Promise<X509CaAuthority> {
    const algorithm = signatureAlgorithmFor(key.publicKey);
    const csr = await createCsrWithSigner(
      // As SPIRE's CSR template: ca_subject plus a serialNumber attribute (the template's random serial).
      { spki: key.pkix, subject: { ...this.o.caSubject, serialNumber: this.o.caSubject.serialNumber ?? newSerialNumber().toString(10) }, uriSans: [this.o.trustDomain.idString] },
      { algorithm, sign: async (info) => (await this.o.signer.signMessages(key.id, [info], hashOf(algorithm)))[0]! },
    );
    const { x509CaChain, upstreamX509Roots } = await upstream.mintX509Ca(csr, this.o.caTtlSeconds);
    const upstreamAuthorityId = validateUpstreamChain(key, x509CaChain, upstreamX509Roots, this.o.clock.now());
    await this.o.bundleStore.append({ x509: upstreamX509Roots });
    return x509Authority(key, x509CaChain[0]!, x509CaChain, upstreamAuthorityId);
  }

  /**
   * A downstream server's JWT key (Bundle API PublishJWTAuthority, SPIRE's
   * ca.PublishJWTKey): published upstream when the UpstreamAuthority takes
   * JWT keys, otherwise into the local bundle. Answers the JWT authorities now
   * in the bundle.
   */
  async publishJwtAuthority(key: JWTKey): Promise<JWTKey[]> {
    return (await this.publishJwtKey(key)).jwtAuthorities;
  }

  private async publishJwtKey(key: JWTKey): Promise<Bundle> {
    const upstream = this.o.upstream;
    if (upstream?.publishJwtKey) {
      try {
        // Upstream answers the JWT keys it now publishes; they join the local bundle (SPIRE's AppendJWTKeys).
        const published = await upstream.publishJwtKey(key);
        return await this.o.bundleStore.append({ jwt: published });
      } catch (e) {
        if (!(e instanceof RpcError && e.code === Code.UNIMPLEMENTED)) throw e;
        if (!this.jwtUnimplementedWarned) {
          this.jwtUnimplementedWarned = true;
          this.o.log.warn(
            "UpstreamAuthority plugin does not support JWT-SVIDs. Workloads managed by this server may have trouble communicating with workloads outside this cluster when using JWT-SVIDs.",
            { plugin_name: upstream.name },
          );
        }
      }
    }
    return this.o.bundleStore.append({ jwt: [key] });
  }
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function hashOf(algorithm: X509CaAuthority["algorithm"]): "sha256" | "sha384" {
  return algorithm === "ECDSA-SHA384" ? "sha384" : "sha256";
}

function x509Authority(key: Pick<ManagedKey, "id" | "publicKey">, certificate: Buffer, upstreamChain: readonly Buffer[], upstreamAuthorityId = ""): X509CaAuthority {
  const issuer = issuerFromCertificate(certificate);
  return {
    kmKeyId: key.id,
    certificate,
    issuer,
    notAfter: issuer.notAfter,
    upstreamChain,
    algorithm: signatureAlgorithmFor(key.publicKey),
    publicKey: key.publicKey,
    authorityId: issuer.subjectKeyId?.toString("hex") ?? "",
    upstreamAuthorityId,
  };
}

/**
 * Checks what an UpstreamAuthority answered: the CA certifies our key, is a
 * CA, each certificate is signed by the next, and the last by one of the
 * roots; all currently valid. Resolves to the hex SKI of the certificate that
 * signed our CA (its AKI), SPIRE's upstream authority ID.
 */
export function validateUpstreamChain(key: Pick<ManagedKey, "pkix">, chain: readonly Buffer[], roots: readonly Buffer[], now: Date): string {
  if (chain.length === 0) throw new Error("upstream authority returned an empty X509 CA chain");
  if (roots.length === 0) throw new Error("upstream authority returned no X509 roots");
  const certs = chain.map((der, i) => parse(der, `X509 CA chain certificate ${i}`));
  const rootCerts = roots.map((der, i) => parse(der, `upstream root ${i}`));
  const ca = certs[0]!;
  if (!ca.publicKey.export({ type: "spki", format: "der" }).equals(key.pkix)) {
    throw new Error("X509 CA minted by upstream authority does not match the key the server generated");
  }
  if (!ca.ca) throw new Error("X509 CA minted by upstream authority is not a CA");
  for (const c of [...certs, ...rootCerts]) {
    if (now.getTime() < Date.parse(c.validFrom) - 60_000 || now.getTime() > Date.parse(c.validTo)) {
      throw new Error(`upstream certificate ${c.subject.replaceAll("\n", ",")} is not valid at ${now.toISOString()}`);
    }
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!) || !certs[i]!.verify(certs[i + 1]!.publicKey)) {
      throw new Error(`X509 CA chain certificate ${i} is not signed by certificate ${i + 1}`);
    }
  }
  const last = certs[certs.length - 1]!;
  const anchor = rootCerts.find((r) => last.checkIssued(r) && last.verify(r.publicKey));
  if (!anchor) throw new Error("X509 CA minted by upstream authority does not chain to the upstream roots");
  const signer = certs.length > 1 ? chain[1]! : roots[rootCerts.indexOf(anchor)]!;
  return readCertificate(signer).subjectKeyId?.toString("hex") ?? "";
}

function parse(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new Error(`unable to parse ${what}: ${(e as Error).message}`);
  }
}

// ---- journal → slots (SPIRE's SlotLoader) -------------------------------------------------------

type Loaded<A extends { notAfter: Date }> = Slot<A> | undefined;

function loadX509Slot(e: X509CaEntry, keys: ReadonlyMap<string, ManagedKey>, now: Date, log: Logger): Loaded<X509CaAuthority> {
  const slot = new Slot<X509CaAuthority>("x509-ca", e.slotId);
  const unusable = (reason: string): undefined => {
    log.warn("X509CA slot unusable", { error: reason, slot: e.slotId, local_authority_id: e.authorityId });
    return undefined;
  };
  if (e.notAfter < seconds(now)) return unusable("slot expired");
  const key = keys.get(slot.kmKeyId);
  if (!key) return unusable("no key manager key");
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(e.certificate);
  } catch (err) {
    return unusable(`unable to parse CA certificate: ${(err as Error).message}`);
  }
  if (!cert.publicKey.export({ type: "spki", format: "der" }).equals(key.pkix)) return unusable("public key does not match key manager key");
  const authority = x509Authority(key, e.certificate, e.upstreamChain, e.upstreamAuthorityId);
  slot.fill(authority, new Date(e.issuedAt * 1000), e.authorityId, e.upstreamAuthorityId);
  slot.status = e.status;
  return slot;
}

function loadJwtSlot(e: JwtKeyEntry, keys: ReadonlyMap<string, ManagedKey>, now: Date, log: Logger): Loaded<JwtKeyAuthority> {
  const slot = new Slot<JwtKeyAuthority>("jwt-key", e.slotId);
  const unusable = (reason: string): undefined => {
    log.warn("JWT key slot unusable", { error: reason, slot: e.slotId, local_authority_id: e.authorityId });
    return undefined;
  };
  if (e.notAfter < seconds(now)) return unusable("slot expired");
  const key = keys.get(slot.kmKeyId);
  if (!key) return unusable("no key manager key");
  if (!key.pkix.equals(e.publicKey)) return unusable("public key does not match key manager key");
  const authority: JwtKeyAuthority = {
    kmKeyId: slot.kmKeyId,
    kid: e.kid,
    notAfter: new Date(e.notAfter * 1000),
    algorithm: jwtAlgorithmFor(key.publicKey),
    pkix: key.pkix,
    publicKey: key.publicKey,
  };
  slot.fill(authority, new Date(e.issuedAt * 1000), e.authorityId, "");
  slot.status = e.status;
  return slot;
}

/**
 * Current = the newest ACTIVE entry, next = the newest other entry in the
 * other slot; if only a non-active one survived it becomes current (to be
 * activated); empty slots A and B otherwise.
 */
function pickSlots<A extends { notAfter: Date }>(kind: "x509-ca" | "jwt-key", loaded: readonly Loaded<A>[]): [Slot<A>, Slot<A>] {
  let current: Slot<A> | undefined;
  let next: Slot<A> | undefined;
  for (const slot of [...loaded].reverse()) {
    if (!slot) continue;
    if (slot.status === "ACTIVE") {
      if (!current && (!next || next.id !== slot.id)) current = slot;
    } else if (!next && (!current || current.id !== slot.id)) {
      next = slot;
    }
    if (current && next) break;
  }
  if (current) return [current, next ?? new Slot<A>(kind, otherSlotId(current.id))];
  if (next) return [next, new Slot<A>(kind, otherSlotId(next.id))];
  return [new Slot<A>(kind, "A" as SlotId), new Slot<A>(kind, "B")];
}
