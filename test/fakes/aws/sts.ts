/**
 * Stands for AWS STS's AssumeRole, over the AWS Query protocol (POST /,
 * Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…, SigV4 scoped to "sts"),
 * answering AssumeRoleResponse/AssumeRoleResult with temporary Credentials (AccessKeyId,
 * SecretAccessKey, SessionToken, Expiration) and AssumedRoleUser. Each assumed role gets an
 * access key of its own (`accessKeyFor`), so tests can tell which calls used it. Roles not in
 * the allowed list are AccessDenied (403).
 */
import { createHash } from "node:crypto";
import { QueryServer, el, esc, text } from "./query-server.js";

export class FakeSts {
  private constructor(
    readonly server: QueryServer,
    private readonly allowed: ReadonlySet<string>,
  ) {}

  static async start(allowedRoleArns: readonly string[]): Promise<FakeSts> {
    let fake: FakeSts | undefined;
    const server = await QueryServer.start("sts", (call, requestId) => fake!.answer(call.action, call.params, requestId), errorXml);
    fake = new FakeSts(server, new Set(allowedRoleArns));
    return fake;
  }

  get url(): string {
    return this.server.url;
  }
  get calls() {
    return this.server.calls;
  }

  /** The temporary access key id handed out for `roleArn`. */
  static accessKeyFor(roleArn: string): string {
    return `ASIA${createHash("sha256").update(roleArn).digest("hex").slice(0, 16).toUpperCase()}`;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(action: string, params: ReadonlyMap<string, string>, requestId: string) {
    if (action !== "AssumeRole") return { status: 400, xml: errorXml("InvalidAction", `Could not find operation ${action} for version 2011-06-15`, requestId) };
    const roleArn = params.get("RoleArn") ?? "";
    const session = params.get("RoleSessionName") ?? "";
    if (!this.allowed.has(roleArn)) return { status: 403, xml: errorXml("AccessDenied", `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, requestId) };
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const result = el(
      "AssumeRoleResult",
      el("AssumedRoleUser", text("AssumedRoleId", `AROAEXAMPLE:${session}`), text("Arn", `${roleArn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")}/${session}`)),
      el("Credentials", text("AccessKeyId", FakeSts.accessKeyFor(roleArn)), text("SecretAccessKey", "fake-secret"), text("SessionToken", "fake-session-token"), text("Expiration", expiration)),
    );
    return { status: 200, xml: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${result}${el("ResponseMetadata", text("RequestId", requestId))}</AssumeRoleResponse>` };
  }
}

function errorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${esc(requestId)}</RequestId></ErrorResponse>`;
}
