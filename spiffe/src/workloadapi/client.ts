/**
 * A client of the SPIFFE Workload API (go-spiffe's workloadapi.Client): one plaintext gRPC
 * channel to the agent's socket, the `workload.spiffe.io: true` header on every call, replies
 * parsed into typed values, and watchers that reconnect with backoff until told to stop.
 */
import { Channel, credentials, Metadata } from "@grpc/grpc-js";
import { type AsyncClient, Code, createClient, fromGrpcError, RpcError } from "@signet/proto";
import { SpiffeWorkloadAPIService } from "@signet/proto/workload/workload";
import type { SpiffeId } from "../id/index.js";
import type { JwtBundleSet } from "../jwtbundle/index.js";
import type { X509BundleSet } from "../x509bundle/index.js";
import type { X509Svid } from "../x509svid/index.js";
import { workloadApiTarget } from "./address.js";
import { type BackoffOptions, LinearBackoff, sleep } from "./backoff.js";
import { parseJwtSvidFromWorkloadApi, type JwtSvid } from "./jwt-svid.js";
import {
  jwtBundlesFrom,
  jwtSvidsFrom,
  type X509Context,
  x509BundlesFrom,
  x509ContextFrom,
  x509SvidsFrom,
} from "./responses.js";

/** The security header every Workload API request carries (spec: Workload Endpoint §5.2). */
export const securityHeaderKey = "workload.spiffe.io";

export interface WorkloadApiClientOptions {
  /** `unix:///path` or `tcp://IP:port`; defaults to SPIFFE_ENDPOINT_SOCKET. */
  readonly address?: string;
  /** Delays between watch retries; go-spiffe's 1 s steps up to 30 s by default. */
  readonly backoff?: BackoffOptions;
}

export interface JwtSvidParams {
  readonly audience: string;
  readonly extraAudiences?: readonly string[];
  /** Ask for this identity only; default: every identity the workload is entitled to. */
  readonly spiffeId?: SpiffeId;
}

/** Options of the one-shot calls. */
export interface FetchOptions {
  readonly signal?: AbortSignal;
  /** Absolute deadline, or a timeout in ms when below 1e12. */
  readonly deadline?: Date | number;
}

/**
 * Receives what a watch delivers. onError hears every failure: a message that does not parse
 * (the stream goes on, earlier state stays valid) and every stream that ends (retried unless
 * the code is Canceled or InvalidArgument).
 */
export interface Watcher<T> {
  onUpdate(value: T): void;
  onError?(error: Error): void;
}

type WatchTarget<T> = Watcher<T> | ((value: T) => void);

export class WorkloadApiClient {
  private readonly api: AsyncClient<typeof SpiffeWorkloadAPIService>;

  private constructor(
    private readonly channel: Channel,
    private readonly backoff: BackoffOptions,
  ) {
    this.api = createClient(SpiffeWorkloadAPIService, channel);
  }

  /**
   * A client for `options.address` or SPIFFE_ENDPOINT_SOCKET. The channel connects lazily, so
   * this only fails on a bad address (WorkloadApiAddressError).
   */
  static connect(options: WorkloadApiClientOptions = {}): WorkloadApiClient {
    const target = workloadApiTarget(options.address);
    return new WorkloadApiClient(new Channel(target, credentials.createInsecure(), {}), options.backoff ?? {});
  }

  /** The default X509-SVID (the first one the agent sends). */
  async fetchX509Svid(options: FetchOptions = {}): Promise<X509Svid> {
    return x509SvidsFrom(await this.first((o) => this.api.fetchX509Svid({}, o), options), true)[0] as X509Svid;
  }

  async fetchX509Svids(options: FetchOptions = {}): Promise<X509Svid[]> {
    return x509SvidsFrom(await this.first((o) => this.api.fetchX509Svid({}, o), options), false);
  }

  async fetchX509Context(options: FetchOptions = {}): Promise<X509Context> {
    return x509ContextFrom(await this.first((o) => this.api.fetchX509Svid({}, o), options));
  }

  /** Streams X.509 contexts until `signal` aborts (resolves) or the server says stop (rejects). */
  watchX509Context(watcher: WatchTarget<X509Context>, signal: AbortSignal): Promise<void> {
    return this.watch((o) => this.api.fetchX509Svid({}, o), x509ContextFrom, watcher, signal);
  }

  async fetchX509Bundles(options: FetchOptions = {}): Promise<X509BundleSet> {
    return x509BundlesFrom(await this.first((o) => this.api.fetchX509Bundles({}, o), options));
  }

  watchX509Bundles(watcher: WatchTarget<X509BundleSet>, signal: AbortSignal): Promise<void> {
    return this.watch((o) => this.api.fetchX509Bundles({}, o), x509BundlesFrom, watcher, signal);
  }

  /** The first JWT-SVID for `params` (go-spiffe's FetchJWTSVID). */
  async fetchJwtSvid(params: JwtSvidParams, options: FetchOptions = {}): Promise<JwtSvid> {
    return (await this.jwtSvids(params, true, options))[0] as JwtSvid;
  }

  async fetchJwtSvids(params: JwtSvidParams, options: FetchOptions = {}): Promise<JwtSvid[]> {
    return this.jwtSvids(params, false, options);
  }

  async fetchJwtBundles(options: FetchOptions = {}): Promise<JwtBundleSet> {
    return jwtBundlesFrom(await this.first((o) => this.api.fetchJwtBundles({}, o), options));
  }

  watchJwtBundles(watcher: WatchTarget<JwtBundleSet>, signal: AbortSignal): Promise<void> {
    return this.watch((o) => this.api.fetchJwtBundles({}, o), jwtBundlesFrom, watcher, signal);
  }

  /**
   * Asks the agent to validate `token` for `audience`; on success the token is parsed locally
   * (go-spiffe ignores the reply's body). A refusal rejects with the agent's RpcError.
   */
  async validateJwtSvid(token: string, audience: string, options: FetchOptions = {}): Promise<JwtSvid> {
    await this.api.validateJwtsvid({ audience, svid: token }, this.callOptions(options));
    return parseJwtSvidFromWorkloadApi(token, [audience]);
  }

  close(): void {
    this.channel.close();
  }

  private async jwtSvids(params: JwtSvidParams, firstOnly: boolean, options: FetchOptions): Promise<JwtSvid[]> {
    const audience = [params.audience, ...(params.extraAudiences ?? [])];
    const resp = await this.api.fetchJwtsvid({ audience, spiffeId: params.spiffeId?.toString() ?? "" }, this.callOptions(options));
    return jwtSvidsFrom(resp, audience, firstOnly);
  }

  private callOptions(options: FetchOptions): { metadata: Metadata; signal?: AbortSignal; deadline?: Date | number } {
    const metadata = new Metadata();
    metadata.set(securityHeaderKey, "true");
    return { metadata, ...(options.signal ? { signal: options.signal } : {}), ...(options.deadline !== undefined ? { deadline: options.deadline } : {}) };
  }

  /** The first message of a stream, then the stream is cancelled. */
  private async first<M>(open: (o: ReturnType<WorkloadApiClient["callOptions"]>) => AsyncIterable<M>, options: FetchOptions): Promise<M> {
    for await (const message of open(this.callOptions(options))) return message;
    throw new RpcError(Code.UNKNOWN, "EOF");
  }

  /**
   * go-spiffe's watch loop: every received message resets the backoff; a message that does not
   * parse goes to onError and the stream continues; a stream that ends goes to onError and is
   * reopened after the backoff, unless its code is Canceled or InvalidArgument (rejects).
   */
  private async watch<M, T>(
    open: (o: ReturnType<WorkloadApiClient["callOptions"]>) => AsyncIterable<M>,
    parse: (message: M) => T,
    target: WatchTarget<T>,
    signal: AbortSignal,
  ): Promise<void> {
    const watcher: Watcher<T> = typeof target === "function" ? { onUpdate: target } : target;
    const report = (err: Error) => {
      try {
        watcher.onError?.(err);
      } catch {
        // A watcher's own failure must not end the watch.
      }
    };
    const backoff = new LinearBackoff(this.backoff);
    while (!signal.aborted) {
      let ended: RpcError;
      try {
        for await (const message of open(this.callOptions({ signal }))) {
          backoff.reset();
          let value: T;
          try {
            value = parse(message);
          } catch (err) {
            report(err as Error);
            continue;
          }
          try {
            watcher.onUpdate(value);
          } catch (err) {
            report(err as Error);
          }
        }
        ended = new RpcError(Code.UNKNOWN, "EOF");
      } catch (err) {
        ended = fromGrpcError(err);
      }
      if (signal.aborted) return;
      report(ended);
      if (ended.code === Code.CANCELLED || ended.code === Code.INVALID_ARGUMENT) throw ended;
      await sleep(backoff.next(), signal);
    }
  }
}
