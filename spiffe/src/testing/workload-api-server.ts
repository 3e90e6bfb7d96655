/**
 * A small Workload API server for tests: real gRPC over a temporary Unix socket, SPIRE's header
 * check, and state the test sets (X.509 response, JWT bundles, JWT-SVIDs, validation) that is
 * streamed to every open watch whenever it changes. Failures can be queued per method so a
 * stream ends with a chosen status. Not part of the build.
 */
import { EventEmitter, once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { type CallContext, Code, implement, RpcError } from "@signet/proto";
import {
  type JWTBundlesResponse,
  type JWTSVIDRequest,
  type JWTSVIDResponse,
  SpiffeWorkloadAPIService,
  type X509BundlesResponse,
  type X509SVIDResponse,
} from "@signet/proto/workload/workload";
import type { TestCa } from "./pki.js";

type Streamed = "x509" | "x509Bundles" | "jwtBundles";

export class FakeWorkloadApi {
  /** Every call in arrival order: method path, values of `workload.spiffe.io`, time. */
  readonly calls: { method: string; header: string[]; at: number }[] = [];
  /** Statuses the next streams of a kind end with before sending anything (shifted per call). */
  readonly failures: Record<Streamed, RpcError[]> = { x509: [], x509Bundles: [], jwtBundles: [] };
  x509: X509SVIDResponse | undefined;
  x509Bundles: X509BundlesResponse | undefined;
  jwtBundles: JWTBundlesResponse | undefined;
  jwtSvids: (req: JWTSVIDRequest) => JWTSVIDResponse = () => {
    throw new RpcError(Code.PERMISSION_DENIED, "no identity issued");
  };
  validate: (token: string, audience: string) => void = () => {};
  private readonly changes = new EventEmitter();
  private readonly dir = mkdtempSync(join(tmpdir(), "signet-wlapi-"));
  readonly socketPath = join(this.dir, "api.sock");
  private readonly server = new Server();

  get address(): string {
    return `unix://${this.socketPath}`;
  }

  async start(): Promise<this> {
    const stream = <T>(kind: Streamed, current: () => T | undefined) =>
      async function* (this: FakeWorkloadApi, _req: unknown, ctx: CallContext): AsyncGenerator<T> {
        this.record(ctx);
        const failure = this.failures[kind].shift();
        if (failure) throw failure;
        for (;;) {
          const value = current();
          if (value !== undefined) yield value;
          const changed = once(this.changes, kind, { signal: ctx.signal }).catch(() => undefined);
          if ((await changed) === undefined) return;
        }
      };
    const impl = implement(SpiffeWorkloadAPIService, {
      fetchX509Svid: stream("x509", () => this.x509).bind(this),
      fetchX509Bundles: stream("x509Bundles", () => this.x509Bundles).bind(this),
      fetchJwtBundles: stream("jwtBundles", () => this.jwtBundles).bind(this),
      fetchJwtsvid: async (req, ctx) => {
        this.record(ctx);
        return this.jwtSvids(req);
      },
      validateJwtsvid: async (req, ctx) => {
        this.record(ctx);
        this.validate(req.svid, req.audience);
        return { spiffeId: "", claims: {} };
      },
    });
    this.server.addService(impl.definition, impl.implementation);
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`unix:${this.socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    return this;
  }

  /** Replaces the state of `kind` and pushes it to every open stream of that kind. */
  push(kind: "x509", value: X509SVIDResponse): void;
  push(kind: "x509Bundles", value: X509BundlesResponse): void;
  push(kind: "jwtBundles", value: JWTBundlesResponse): void;
  push(kind: Streamed, value: X509SVIDResponse | X509BundlesResponse | JWTBundlesResponse): void {
    (this as unknown as Record<Streamed, unknown>)[kind] = value;
    this.changes.emit(kind);
  }

  /** The calls made to one method, e.g. "FetchX509SVID". */
  callsTo(method: string): { header: string[]; at: number }[] {
    return this.calls.filter((c) => c.method.endsWith(`/${method}`));
  }

  /** A valid FetchX509SVID response: one SVID per ID from `ca`, the CA as bundle, plus federated bundles. */
  static x509Response(ca: TestCa, ids: readonly string[], federated: Record<string, Buffer> = {}, hints: readonly string[] = []): X509SVIDResponse {
    return {
      svids: ids.map((id, i) => {
        const minted = ca.x509Svid(id);
        return { spiffeId: id, x509Svid: minted.certDer, x509SvidKey: minted.keyDer, bundle: ca.bundleDer, hint: hints[i] ?? "" };
      }),
      crl: [],
      federatedBundles: federated,
    };
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** SPIRE's interceptor: exactly one `workload.spiffe.io: true`, else InvalidArgument. */
  private record(ctx: CallContext): void {
    const header = ctx.metadata.get("workload.spiffe.io").map(String);
    this.calls.push({ method: ctx.method, header, at: Date.now() });
    if (header.length !== 1 || header[0] !== "true") throw new RpcError(Code.INVALID_ARGUMENT, "security header missing from request");
  }
}
