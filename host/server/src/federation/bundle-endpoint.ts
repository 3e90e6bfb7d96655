/**
 * The SPIFFE bundle endpoint (SPIRE's pkg/server/endpoints/bundle): HTTPS,
 * TLS >= 1.2, no client authentication; GET / answers the trust domain's
 * current bundle as a SPIFFE bundle document with the configured refresh
 * hint. Any other method is 405, any other path 404 (Go's http.Error
 * bodies). The certificate is chosen before each handshake: the server's
 * current X509-SVID (https_spiffe, so rotation is picked up) or the serving
 * files' current pair (https_web).
 */
import { X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "@signet/host-common";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { marshalBundle } from "@signet/spiffe";
import type { ServerSvidSource } from "../endpoints/svid-source.js";
import type { ServingIdentity } from "./serving-cert.js";

export interface BundleEndpointOptions {
  readonly address: string;
  readonly port: number;
  readonly refreshHintSeconds: number;
  /** The trust domain's bundle; throws when it cannot be read. */
  readonly bundle: () => Promise<Bundle>;
  /** What the endpoint presents. */
  readonly identity: { readonly kind: "https_spiffe"; readonly svid: ServerSvidSource } | { readonly kind: "https_web"; readonly current: () => ServingIdentity };
  readonly log: Logger;
}

export class BundleEndpoint {
  private readonly server: https.Server;
  private boundPort = 0;
  /** The PEM pair of the last server SVID state seen, converted once per rotation. */
  private svidPem?: { readonly state: unknown; readonly pair: { cert: string; key: string } };

  constructor(private readonly options: BundleEndpointOptions) {
    this.server = https.createServer({ minVersion: "TLSv1.2" }, (req, res) => void this.serve(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.on("tlsClientError", () => {
      // A failed handshake only concerns that client.
    });
    this.selectCertificatePerConnection();
  }

  /** The bound port (configured port 0 picks one). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.address, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.options.log.info("Serving bundle endpoint", {
      addr: `${this.options.address}:${this.boundPort}`,
      refresh_hint: `${this.options.refreshHintSeconds}s`,
      profile: this.options.identity.kind,
    });
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET") return httpError(res, 405, "405 method not allowed");
    if (requestPath(req.url ?? "/") !== "/") return httpError(res, 404, "404 page not found");
    let bundle: Bundle;
    try {
      bundle = await this.options.bundle();
    } catch (err) {
      this.options.log.error("Unable to retrieve local bundle", { error: (err as Error).message });
      return httpError(res, 500, "500 unable to retrieve local bundle");
    }
    let body: string;
    try {
      // SPIRE serves X.509 and JWT authorities; it does not load WIT keys into what it serves.
      body = marshalBundle(bundle, { refreshHintSeconds: BigInt(this.options.refreshHintSeconds), noWitSvidKeys: true });
    } catch (err) {
      this.options.log.error("Unable to marshal local bundle", { error: (err as Error).message });
      return httpError(res, 500, "500 unable to marshal local bundle");
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(body);
  }

  /** Sets the server's secure context from the current identity before each handshake starts. */
  private selectCertificatePerConnection(): void {
    let served: string | undefined;
    this.server.prependListener("connection", (socket: Socket) => {
      let pair: { cert: string; key: string };
      try {
        pair = this.currentPair();
      } catch (err) {
        this.options.log.error("Bundle endpoint certificate unavailable; dropping connection", { error: (err as Error).message });
        socket.destroy();
        return;
      }
      const key = pair.cert + pair.key;
      if (key === served) return;
      try {
        this.server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: "TLSv1.2" });
        served = key;
      } catch (err) {
        this.options.log.error("Unusable bundle endpoint certificate; dropping connection", { error: (err as Error).message });
        socket.destroy();
      }
    });
  }

  private currentPair(): { cert: string; key: string } {
    const identity = this.options.identity;
    if (identity.kind === "https_web") {
      const current = identity.current();
      return { cert: current.certPem, key: current.keyPem };
    }
    const state = identity.svid.current();
    if (this.svidPem?.state !== state) {
      if (state.certChain.length === 0) throw new Error("server SVID has no certificate");
      this.svidPem = {
        state,
        pair: {
          cert: state.certChain.map((der) => new X509Certificate(der).toString()).join(""),
          key: state.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        },
      };
    }
    return this.svidPem.pair;
  }
}

/**
 * The request's path as Go's net/http sees it: an origin-form target is
 * taken as sent (WHATWG URL parsing would read "//x" as a host and resolve
 * "/a/.." to "/", which Go answers 404); an absolute-form one is parsed.
 */
function requestPath(target: string): string {
  if (target.startsWith("/")) return target.split("?", 1)[0]!;
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

/** Go's http.Error: plain text, the message and a newline. */
function httpError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(`${message}\n`);
}
