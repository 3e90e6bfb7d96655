/**
 * The agent's Workload API handlers (host/agent/src/workloadapi/service.ts)
 * served over a real grpc-js server on a temporary Unix socket, answering
 * from a real AgentCache the test fills. Workload attestation and JWT-SVID
 * minting are the two seams the test controls: `attest` says which
 * selectors the caller has (or what attestation fails with) and
 * `fetchJwtSvid` mints or fails. X509SvidRecord builds what the manager
 * would put in the cache for an entry.
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { Metadata } from "@grpc/grpc-js";
import type { Selector } from "@signet/host-common";
import { type AsyncClient, createClient } from "@signet/proto";
import type { JWTKey } from "@signet/proto/spire/api/types/bundle";
import type { Entry } from "@signet/proto/spire/api/types/entry";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import { base64url } from "@signet/spiffe";
import { localCaller } from "../../host/server/src/api/rpccontext/caller.js";
import { AgentCache } from "../../host/agent/src/manager/cache.js";
import { spiffeIdOf } from "../../host/agent/src/manager/manager.js";
import type { X509SvidRecord } from "../../host/agent/src/manager/x509-svid.js";
import { workloadApiService } from "../../host/agent/src/workloadapi/service.js";
import type { TestAuthority } from "./agent-pki.js";
import { type HostedService, startApiServer } from "./api-server.js";

export interface AgentWorkloadApiOptions {
  readonly trustDomain?: string;
  readonly allowUnauthenticatedVerifiers?: boolean;
  readonly allowedForeignJwtClaims?: readonly string[];
}

export interface AgentWorkloadApi {
  readonly cache: AgentCache;
  readonly client: AsyncClient<typeof SpiffeWorkloadAPIService>;
  /** What attestCaller answers: the caller's selectors, or the error it throws. */
  attest: { readonly selectors: readonly Selector[] } | { readonly error: Error };
  /** How many calls reached workload attestation. */
  readonly attestCalls: number;
  /** The JWT-SVID for an entry and audience (default: fails, as a manager with no server would). */
  fetchJwtSvid: (entry: Entry, audience: readonly string[]) => Promise<string>;
  close(): Promise<void>;
}

export async function startAgentWorkloadApi(options: AgentWorkloadApiOptions = {}): Promise<AgentWorkloadApi> {
  const cache = new AgentCache();
  const state = {
    attest: { selectors: [] } as AgentWorkloadApi["attest"],
    attestCalls: 0,
    fetchJwtSvid: (async () => {
      throw new Error("no JWT-SVID minter configured");
    }) as AgentWorkloadApi["fetchJwtSvid"],
  };
  const registration = workloadApiService({
    cache,
    attestCaller: async () => {
      state.attestCalls++;
      const a = state.attest;
      if ("error" in a) throw a.error;
      return [...a.selectors];
    },
    fetchJwtSvid: (entry, audience) => state.fetchJwtSvid(entry, audience),
    trustDomain: options.trustDomain ?? "example.org",
    allowUnauthenticatedVerifiers: options.allowUnauthenticatedVerifiers ?? false,
    allowedForeignJwtClaims: options.allowedForeignJwtClaims ?? [],
  });
  const hosted: HostedService = { definition: SpiffeWorkloadAPIService, impl: registration.asyncImplementation ?? {} };
  const server = await startApiServer([hosted], localCaller());
  return {
    cache,
    client: createClient(SpiffeWorkloadAPIService, server.channel),
    get attest() {
      return state.attest;
    },
    set attest(a) {
      state.attest = a;
    },
    get attestCalls() {
      return state.attestCalls;
    },
    get fetchJwtSvid() {
      return state.fetchJwtSvid;
    },
    set fetchJwtSvid(fn) {
      state.fetchJwtSvid = fn;
    },
    close: () => server.close(),
  };
}

/** Metadata with the Workload API security header, as every SPIFFE client sends it. */
export function workloadHeader(): Metadata {
  const md = new Metadata();
  md.set("workload.spiffe.io", "true");
  return md;
}

/** A fresh key and X509-SVID from `ca` for `entry`, as the manager caches it. */
export function x509SvidRecord(ca: TestAuthority, entry: Entry, options: { now?: Date; ttlSeconds?: number; intermediates?: readonly Buffer[] } = {}): X509SvidRecord {
  const now = options.now ?? new Date();
  const ttlSeconds = options.ttlSeconds ?? 3600;
  const spiffeId = spiffeIdOf(entry);
  const { chain, privateKey } = ca.svid(spiffeId, now, ttlSeconds);
  const notBefore = now.getTime();
  const notAfter = notBefore + ttlSeconds * 1000;
  return {
    entryId: entry.id,
    spiffeId,
    revision: entry.revisionNumber,
    chain: [...chain, ...(options.intermediates ?? [])],
    keyDer: privateKey.export({ type: "pkcs8", format: "der" }),
    validity: { notBefore, notAfter },
    rotateAt: notBefore + (notAfter - notBefore) / 2,
  };
}

/**
 * An ES256 JWT signer that writes whatever claims it is given (a string
 * `aud`, claims SPIRE never issues), for validation tests; `authority` is
 * its key as a bundle's JWT authority.
 */
export class JwtSigner {
  private readonly key: KeyObject;
  readonly authority: JWTKey;

  constructor(readonly keyId: string) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.key = pair.privateKey;
    this.authority = { publicKey: pair.publicKey.export({ type: "spki", format: "der" }), keyId, expiresAt: 0n, tainted: false };
  }

  sign(claims: Readonly<Record<string, unknown>>, header: { kid?: string } = {}): string {
    const input = `${base64url(JSON.stringify({ alg: "ES256", kid: header.kid ?? this.keyId, typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(input), { key: this.key, dsaEncoding: "ieee-p1363" });
    return `${input}.${base64url(signature)}`;
  }
}

/**
 * Reads a server stream one message at a time. `quietFor` tells whether
 * nothing arrives for a while without losing what arrives afterwards.
 */
export class StreamReader<T> {
  private readonly iterator: AsyncIterator<T>;
  private waiting: Promise<IteratorResult<T>> | undefined;

  constructor(stream: AsyncIterable<T>) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next message; rejects with the stream's status when it ends with an error. */
  async next(): Promise<T> {
    const result = await this.take();
    if (result.done) throw new Error("stream ended with OK before a message");
    return result.value;
  }

  /** Whether the stream stays silent (no message, no end) for `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    const waiting = (this.waiting ??= this.iterator.next());
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const outcome = await Promise.race([waiting.then(() => false, () => false), quiet]);
    clearTimeout(timer);
    return outcome;
  }

  private take(): Promise<IteratorResult<T>> {
    const p = this.waiting ?? this.iterator.next();
    this.waiting = undefined;
    return p;
  }
}
