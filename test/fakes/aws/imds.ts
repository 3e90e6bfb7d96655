/**
 * Stands for the EC2 Instance Metadata Service (IMDS) of one instance, IMDSv2 only (an instance
 * launched with HttpTokens=required): PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds (1–21600) returns a session token; every GET must carry it
 * in X-aws-ec2-metadata-token, or gets 401. Serves the dynamic instance-identity documents
 * (document, signature, rsa2048, pkcs7) and 404 for everything else, as IMDS does.
 */
import { randomBytes } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ImdsIdentity {
  readonly document: string;
  readonly signature: string;
  readonly rsa2048: string;
}

export interface ImdsCall {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly status: number;
}

export class FakeImds {
  readonly calls: ImdsCall[] = [];
  private readonly tokens = new Set<string>();
  /** Answer the next `n` requests with this status (e.g. 500 to test retries). */
  failNext: { status: number; count: number } | undefined;

  private constructor(
    private readonly server: Server,
    public identity: ImdsIdentity,
  ) {}

  static async start(identity: ImdsIdentity): Promise<FakeImds> {
    let fake: FakeImds | undefined;
    const server = createServer((req, res) => fake!.handle(req, res));
    fake = new FakeImds(server, identity);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const token = header(req, "x-aws-ec2-metadata-token");
    const reply = (status: number, body = "") => {
      this.calls.push({ method: req.method ?? "", path: req.url ?? "", token, status });
      res.writeHead(status, { "content-type": "text/plain" }).end(body);
    };
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      return reply(this.failNext.status);
    }
    const path = req.url ?? "";
    if (path === "/latest/api/token") {
      if (req.method !== "PUT") return reply(405);
      const ttl = Number(header(req, "x-aws-ec2-metadata-token-ttl-seconds"));
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return reply(400);
      const t = randomBytes(32).toString("base64");
      this.tokens.add(t);
      return reply(200, t);
    }
    if (req.method !== "GET") return reply(405);
    if (!token || !this.tokens.has(token)) return reply(401);
    const documents: Record<string, string> = {
      "/latest/dynamic/instance-identity/document": this.identity.document,
      "/latest/dynamic/instance-identity/signature": this.identity.signature,
      "/latest/dynamic/instance-identity/rsa2048": this.identity.rsa2048,
    };
    const body = documents[path];
    return body === undefined ? reply(404) : reply(200, body);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
