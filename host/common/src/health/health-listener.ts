/**
 * The optional HTTP health listener (`health_checks { listener_enabled,
 * bind_address, bind_port, live_path, ready_path }`), shared by server and
 * agent: GET on the live or ready path answers 200 when the check passes and
 * 500 when it does not, with a small JSON body of the check's details.
 */
import { createServer, type Server } from "node:http";

export interface HealthState {
  readonly ok: boolean;
  /** Shown as the JSON body. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface HealthChecks {
  live(): HealthState | Promise<HealthState>;
  ready(): HealthState | Promise<HealthState>;
}

export interface HealthListenerConfig {
  readonly bindAddress: string;
  readonly bindPort: number;
  readonly livePath: string;
  readonly readyPath: string;
}

export class HealthListener {
  private server: Server | undefined;

  constructor(
    private readonly config: HealthListenerConfig,
    private readonly checks: HealthChecks,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const check = path === this.config.livePath ? this.checks.live : path === this.config.readyPath ? this.checks.ready : undefined;
      if (!check || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
        return;
      }
      Promise.resolve()
        .then(() => check.call(this.checks))
        .then(
          (state) => send(res, state.ok ? 200 : 500, state.details ?? {}),
          (err) => send(res, 500, { error: err instanceof Error ? err.message : String(err) }),
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.config.bindPort, this.config.bindAddress, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** The bound port (useful with bindPort 0). */
  get port(): number {
    const address = this.server?.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function send(res: import("node:http").ServerResponse, status: number, body: Readonly<Record<string, unknown>>): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
}
