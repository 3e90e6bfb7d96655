/**
 * The server's view of an UpstreamAuthority plugin
 * (spire.plugin.server.upstreamauthority.v1): mint the server's intermediate
 * X.509 CA from its CSR, and publish JWT keys upstream. Answers are checked
 * as SPIRE's facade checks them (pkg/server/plugin/upstreamauthority/v1.go),
 * with the same Internal wording, prefixed `upstreamauthority(<name>): `.
 */
import { X509Certificate } from "node:crypto";
import { type AsyncClient, Code, RpcError } from "@signet/proto";
import type { MintX509CAResponse, UpstreamAuthorityService } from "@signet/proto/spire/plugin/server/upstreamauthority/v1/upstreamauthority";
import type { JWTKey } from "@signet/proto/spire/plugin/types/jwtkey";
import type { X509Certificate as PluginX509Certificate } from "@signet/proto/spire/plugin/types/x509certificate";

/** What the upstream signed: the new CA first, then intermediates up to (not including) a root; and the roots. */
export interface MintedX509Ca {
  readonly x509CaChain: Buffer[];
  readonly upstreamX509Roots: Buffer[];
}

/** A JWT signing key as the upstream lists it. */
export interface UpstreamJwtKey {
  /** SubjectPublicKeyInfo DER. */
  readonly publicKey: Buffer;
  readonly keyId: string;
  /** Seconds since the Unix epoch; 0 = never. */
  readonly expiresAt: bigint;
  readonly tainted: boolean;
}

export interface MintX509CaOptions {
  /**
   * Keep the stream open after the first answer and call this with each
   * later set of upstream roots (the plugin's root rotation). Without it the
   * stream is closed as soon as the CA is minted.
   */
  readonly onRootsUpdate?: (roots: Buffer[]) => void;
  /** Called once when a kept-open stream ends for any reason other than `signal` (an error, or the plugin's end of stream). */
  readonly onStreamEnd?: (error: Error | undefined) => void;
  /** Ends the call, and with it a kept-open subscription (SPIRE closes it at the next rotation). */
  readonly signal?: AbortSignal;
  /** Deadline for the first answer only; default 30 s. */
  readonly timeoutMs?: number;
}

export class UpstreamAuthorityFacade {
  constructor(
    private readonly client: AsyncClient<typeof UpstreamAuthorityService>,
    readonly name: string,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void = () => {},
  ) {}

  /**
   * Sends the server CA's CSR (DER) and a preferred TTL in seconds (0 = the
   * plugin decides) and answers the first response: a parsable chain and at
   * least one parsable root, or an Internal error in SPIRE's words.
   */
  async mintX509Ca(csrDer: Buffer, preferredTtlSeconds: number, options: MintX509CaOptions = {}): Promise<MintedX509Ca> {
    if (!Number.isInteger(preferredTtlSeconds) || preferredTtlSeconds < 0 || preferredTtlSeconds > 0x7fffffff) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${this.prefix}preferred TTL ${preferredTtlSeconds} is not a number of seconds that fits an int32`);
    }
    const abort = new AbortController();
    const stopFromCaller = () => abort.abort();
    options.signal?.addEventListener("abort", stopFromCaller, { once: true });
    const stream = this.client.mintX509CaAndSubscribe({ csr: csrDer, preferredTtl: preferredTtlSeconds }, { signal: abort.signal })[Symbol.asyncIterator]();
    const end = () => {
      options.signal?.removeEventListener("abort", stopFromCaller);
      abort.abort();
      void stream.return?.();
    };

    let minted: MintedX509Ca;
    try {
      const first = await this.withTimeout(stream.next(), options.timeoutMs ?? 30_000, end);
      if (first.done) throw this.internal("plugin closed stream unexpectedly");
      minted = this.parseFirst(first.value);
    } catch (e) {
      end();
      throw this.wrap(e);
    }
    if (!options.onRootsUpdate) {
      end();
      return minted;
    }
    void this.watchRoots(stream, options, end);
    return minted;
  }

  /**
   * Publishes a JWT key upstream and answers the upstream's JWT keys, or
   * undefined when the plugin does not publish (Unimplemented, as SPIRE's
   * disk plugin answers). The stream is closed after the first answer.
   */
  async publishJwtKey(jwtKey: UpstreamJwtKey, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<UpstreamJwtKey[] | undefined> {
    const abort = new AbortController();
    const stopFromCaller = () => abort.abort();
    options.signal?.addEventListener("abort", stopFromCaller, { once: true });
    // SPIRE bounds publishing by 5 s in its CA manager.
    const stream = this.client.publishJwtKeyAndSubscribe({ jwtKey: { ...jwtKey } }, { signal: abort.signal, deadline: options.timeoutMs ?? 5_000 })[Symbol.asyncIterator]();
    try {
      const first = await stream.next();
      if (first.done) throw this.internal("plugin closed stream unexpectedly");
      return first.value.upstreamJwtKeys.map((k) => this.jwtKeyOf(k));
    } catch (e) {
      if (e instanceof RpcError && e.code === Code.UNIMPLEMENTED) return undefined;
      throw this.wrap(e);
    } finally {
      options.signal?.removeEventListener("abort", stopFromCaller);
      abort.abort();
      void stream.return?.();
    }
  }

  private async watchRoots(stream: AsyncIterator<MintX509CAResponse>, options: MintX509CaOptions, end: () => void): Promise<void> {
    let error: Error | undefined;
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) break;
        // As SPIRE: a bad update is reported and skipped, the subscription goes on.
        try {
          if (next.value.x509CaChain.length > 0) throw this.internal("plugin response has an X.509 CA chain after the first response");
          options.onRootsUpdate?.(this.parseRoots(next.value.upstreamX509Roots));
        } catch (e) {
          this.warn("Failed to parse an X.509 root update from the upstream authority plugin", { plugin_name: this.name, error: (e as Error).message });
        }
      }
    } catch (e) {
      error = this.wrap(e);
    } finally {
      end();
    }
    if (!options.signal?.aborted) options.onStreamEnd?.(error);
  }

  private parseFirst(res: MintX509CAResponse): MintedX509Ca {
    const chain = this.parseCertificates(res.x509CaChain, "plugin response has malformed X.509 CA chain");
    if (chain.length === 0) throw this.internal("plugin response missing X.509 CA chain");
    return { x509CaChain: chain, upstreamX509Roots: this.parseRoots(res.upstreamX509Roots) };
  }

  private parseRoots(roots: readonly PluginX509Certificate[]): Buffer[] {
    const parsed = this.parseCertificates(roots, "plugin response has malformed upstream X.509 roots");
    if (parsed.length === 0) throw this.internal("plugin response missing upstream X.509 roots");
    return parsed;
  }

  private parseCertificates(certs: readonly PluginX509Certificate[], what: string): Buffer[] {
    return certs.map((c, i) => {
      if (c.asn1.length === 0) throw this.internal(`${what}: certificate ${i} is empty`);
      try {
        new X509Certificate(c.asn1);
      } catch (e) {
        throw this.internal(`${what}: certificate ${i}: ${(e as Error).message}`);
      }
      return c.asn1;
    });
  }

  private jwtKeyOf(k: JWTKey): UpstreamJwtKey {
    if (k.keyId === "") throw this.internal("invalid plugin response: missing key ID for JWT key");
    if (k.publicKey.length === 0) throw this.internal(`invalid plugin response: missing public key for JWT key ${JSON.stringify(k.keyId)}`);
    return { publicKey: k.publicKey, keyId: k.keyId, expiresAt: k.expiresAt, tainted: k.tainted };
  }

  private async withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new RpcError(Code.DEADLINE_EXCEEDED, `${this.prefix}no answer to MintX509CAAndSubscribe within ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get prefix(): string {
    return `upstreamauthority(${this.name}): `;
  }

  private internal(message: string): RpcError {
    return new RpcError(Code.INTERNAL, `${this.prefix}${message}`);
  }

  /** Errors keep their code; the prefix is added once (the catalog's client may have added it already). */
  private wrap(e: unknown): Error {
    if (e instanceof RpcError) return e.message.startsWith(this.prefix) ? e : new RpcError(e.code, `${this.prefix}${e.message}`, e.metadata);
    return e instanceof Error ? e : new Error(String(e));
  }
}
