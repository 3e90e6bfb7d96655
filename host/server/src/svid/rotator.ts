/**
 * The server's own X509-SVID (spiffe://<td>/spire/server), the one its TLS
 * endpoint presents (SPIRE's server svid rotator). The key is made in memory
 * with ca_key_type; the SVID is re-signed at half-life (checked every 5 s),
 * as soon as its issuing authority is tainted, and when the active CA is
 * rotated away. The endpoint reads `current()` per handshake.
 */
import { type KeyObject, X509Certificate, generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import type { Logger } from "@signet/host-common";
import { spkiOf } from "@signet/spiffe";
import type { IssuedX509Svid } from "../ca/authority.js";
import type { Clock } from "../ca/clock.js";
import type { KeyType } from "../config/server-config.js";

export const svidCheckIntervalMs = 5_000;

export interface ServerSvid {
  /** Leaf first, then the CA and upstream intermediates. */
  readonly certChain: readonly Buffer[];
  readonly privateKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What the TLS endpoint needs. */
export interface ServerSvidSource {
  /** The SVID to present now; throws before the first one was signed. */
  current(): ServerSvid;
  /** Called after every rotation. Returns an unsubscribe function. */
  subscribe(listener: (svid: ServerSvid) => void): () => void;
}

/** The CA calls the rotator makes (the Ca class has them). */
export interface ServerSvidCa {
  signServerX509Svid(publicKey: Buffer): Promise<IssuedX509Svid>;
  currentX509Ca(): { readonly authorityId: string } | undefined;
  onTaintedAuthorities(listener: (authorities: readonly Buffer[]) => void): () => void;
}

export interface ServerSvidRotatorOptions {
  readonly ca: ServerSvidCa;
  /** ca_key_type */
  readonly keyType: KeyType;
  readonly clock: Clock;
  readonly log: Logger;
}

export class ServerSvidRotator implements ServerSvidSource {
  static readonly owner = "server-svid-rotator";
  private svid: ServerSvid | undefined;
  /** Authority ID of the CA that signed the current SVID. */
  private signedBy = "";
  private tainted = false;
  private readonly listeners = new Set<(svid: ServerSvid) => void>();
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribeTainted: (() => void) | undefined;

  constructor(private readonly o: ServerSvidRotatorOptions) {}

  /** Signs the first SVID; the server cannot serve TLS without it. */
  async initialize(): Promise<void> {
    this.unsubscribeTainted ??= this.o.ca.onTaintedAuthorities((authorities) => this.checkTainted(authorities));
    await this.rotate();
  }

  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    this.unsubscribeTainted?.();
    this.unsubscribeTainted = undefined;
  }

  current(): ServerSvid {
    if (!this.svid) throw new Error("server SVID is not available yet");
    return this.svid;
  }

  subscribe(listener: (svid: ServerSvid) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the SVID is due: past half its lifetime, its issuer tainted, or its CA no longer active. */
  shouldRotate(now: Date): boolean {
    const svid = this.svid;
    if (!svid) return true;
    if (this.tainted) return true;
    const active = this.o.ca.currentX509Ca()?.authorityId;
    if (active !== undefined && active !== this.signedBy) return true;
    const half = svid.notBefore.getTime() + (svid.notAfter.getTime() - svid.notBefore.getTime()) / 2;
    return now.getTime() >= half;
  }

  /** Makes a new key and has the CA sign it. */
  async rotate(): Promise<void> {
    const privateKey = await newPrivateKey(this.o.keyType);
    const spki = spkiOf(privateKey);
    const signedBy = this.o.ca.currentX509Ca()?.authorityId ?? "";
    const issued = await this.o.ca.signServerX509Svid(spki);
    const leaf = new X509Certificate(issued.certChain[0]!);
    const svid: ServerSvid = { certChain: issued.certChain, privateKey, notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo) };
    this.svid = svid;
    this.signedBy = signedBy;
    this.tainted = false;
    this.o.log.debug("Server SVID rotated", { serial: issued.serial, expires_at: issued.expiresAt, local_authority_id: signedBy });
    for (const l of this.listeners) l(svid);
  }

  private checkTainted(authorities: readonly Buffer[]): void {
    const svid = this.svid;
    if (!svid) return;
    const chain = svid.certChain.map((c) => new X509Certificate(c));
    for (const der of authorities) {
      let authority: X509Certificate;
      try {
        authority = new X509Certificate(der);
      } catch {
        continue;
      }
      if (chain.some((c) => c.raw.equals(authority.raw) || (c.checkIssued(authority) && c.verify(authority.publicKey)))) {
        this.tainted = true;
        this.o.log.info("Server SVID signed by a tainted authority; it will be rotated", { owner: ServerSvidRotator.owner });
        return;
      }
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.o.clock.sleep(svidCheckIntervalMs, signal);
      if (signal.aborted) break;
      if (!this.shouldRotate(this.o.clock.now())) continue;
      try {
        await this.rotate();
      } catch (e) {
        this.o.log.error("Could not rotate server SVID", { error: e instanceof Error ? e.message : String(e), owner: ServerSvidRotator.owner });
      }
    }
  }
}

const generate = promisify(generateKeyPair);

async function newPrivateKey(type: KeyType): Promise<KeyObject> {
  switch (type) {
    case "ec-p256":
      return (await generate("ec", { namedCurve: "P-256" })).privateKey;
    case "ec-p384":
      return (await generate("ec", { namedCurve: "P-384" })).privateKey;
    case "rsa-2048":
      return (await generate("rsa", { modulusLength: 2048 })).privateKey;
    case "rsa-4096":
      return (await generate("rsa", { modulusLength: 4096 })).privateKey;
  }
}
