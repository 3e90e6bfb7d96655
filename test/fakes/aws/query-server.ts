/**
 * The AWS Query protocol as EC2 ("ec2" flavour), IAM and STS speak it: POST / with a
 * form-encoded body (Action, Version, parameters flattened as Name.N.Field), SigV4-signed; XML
 * answers, and errors as the service's XML error document with an HTTP 4xx. Shared by the EC2,
 * IAM and STS fakes: each gives a handler for its actions. Requests must carry a SigV4
 * Authorization header whose credential scope names the fake's service; the region and access
 * key of every call are recorded so tests see which credentials and region were used.
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface QueryCall {
  readonly action: string;
  readonly params: ReadonlyMap<string, string>;
  /** From the credential scope of the Authorization header. */
  readonly region: string;
  readonly accessKeyId: string;
}

export interface QueryAnswer {
  readonly status: number;
  readonly xml: string;
}

export type QueryHandler = (call: QueryCall, requestId: string) => QueryAnswer;

export class QueryServer {
  readonly calls: QueryCall[] = [];
  /** Answer the next `count` calls with this error (e.g. throttling, to test retries). */
  failNext: { status: number; code: string; message: string; count: number } | undefined;
  /** Leave the next `hangNext` calls unanswered (until the client gives up or the server closes). */
  hangNext = 0;
  /** Calls left unanswered whose client has not given up yet. */
  hanging = 0;

  private constructor(
    private readonly server: Server,
    readonly service: string,
  ) {}

  static async start(service: string, handler: QueryHandler, errorXml: (code: string, message: string, requestId: string) => string): Promise<QueryServer> {
    let fake: QueryServer | undefined;
    const server = createServer((req, res) => void fake!.handle(req, res, handler, errorXml));
    fake = new QueryServer(server, service);
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

  private async handle(req: IncomingMessage, res: ServerResponse, handler: QueryHandler, errorXml: (code: string, message: string, requestId: string) => string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const requestId = randomUUID();
    const send = (a: QueryAnswer): void => {
      res.writeHead(a.status, { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": requestId }).end(a.xml);
    };
    const fail = (status: number, code: string, message: string): void => send({ status, xml: errorXml(code, message, requestId) });
    if (req.method !== "POST" || !String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) {
      return fail(400, "InvalidAction", "The action or operation requested is invalid. Verify that the action is typed correctly.");
    }
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(String(req.headers.authorization ?? ""));
    if (!auth) return fail(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
    if (auth[3] !== this.service) return fail(403, "SignatureDoesNotMatch", `Credential should be scoped to correct service: '${this.service}'.`);
    const params = new Map(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const call: QueryCall = { action: params.get("Action") ?? "", params, region: auth[2]!, accessKeyId: auth[1]! };
    this.calls.push(call);
    if (this.hangNext > 0) {
      this.hangNext--;
      this.hanging++;
      res.once("close", () => this.hanging--);
      return;
    }
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      return fail(this.failNext.status, this.failNext.code, this.failNext.message);
    }
    send(handler(call, requestId));
  }
}

/** XML text with the five entities escaped. */
export function esc(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", "'": "apos", '"': "quot" }[c]!};`);
}

/** `<tag>…</tag>` for each present child; strings are escaped. */
export function el(tag: string, ...children: (string | undefined)[]): string {
  return `<${tag}>${children.filter((c) => c !== undefined).join("")}</${tag}>`;
}
export const text = (tag: string, value: string | number | boolean | undefined) => (value === undefined ? undefined : `<${tag}>${esc(String(value))}</${tag}>`);

/** Values of a flattened list parameter: Prefix.1, Prefix.2, … */
export function listParam(params: ReadonlyMap<string, string>, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`)!);
  return out;
}
