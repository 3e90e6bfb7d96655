/**
 * Stands for AWS IAM's GetInstanceProfile, over the AWS Query protocol (POST /,
 * Action=GetInstanceProfile&Version=2010-05-08&InstanceProfileName=…, SigV4 scoped to "iam"),
 * answering GetInstanceProfileResponse/GetInstanceProfileResult/InstanceProfile with its Roles
 * (member: Path, RoleName, RoleId, Arn, CreateDate) as the real API does; an unknown profile is
 * NoSuchEntity (404) in IAM's ErrorResponse document.
 */
import { QueryServer, el, esc, text } from "./query-server.js";

export interface FakeInstanceProfile {
  readonly name: string;
  readonly arn: string;
  readonly roleArns: readonly string[];
}

const created = "2024-01-01T00:00:00Z";

export class FakeIam {
  private readonly profiles = new Map<string, FakeInstanceProfile>();

  private constructor(readonly server: QueryServer) {}

  static async start(profiles: readonly FakeInstanceProfile[] = []): Promise<FakeIam> {
    let fake: FakeIam | undefined;
    const server = await QueryServer.start("iam", (call, requestId) => fake!.answer(call.action, call.params, requestId), errorXml);
    fake = new FakeIam(server);
    for (const p of profiles) fake.profiles.set(p.name, p);
    return fake;
  }

  get url(): string {
    return this.server.url;
  }
  get calls() {
    return this.server.calls;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(action: string, params: ReadonlyMap<string, string>, requestId: string) {
    if (action !== "GetInstanceProfile") return { status: 400, xml: errorXml("InvalidAction", `Could not find operation ${action} for version 2010-05-08`, requestId) };
    const name = params.get("InstanceProfileName") ?? "";
    const p = this.profiles.get(name);
    if (!p) return { status: 404, xml: errorXml("NoSuchEntity", `Instance Profile ${name} cannot be found.`, requestId) };
    const roles = p.roleArns.map((arn) =>
      el("member", text("Path", "/"), text("RoleName", arn.slice(arn.lastIndexOf("/") + 1)), text("RoleId", "AROAEXAMPLE"), text("Arn", arn), text("CreateDate", created)),
    );
    const profile = el("InstanceProfile", text("InstanceProfileId", "AIPAEXAMPLE"), el("Roles", ...roles), text("InstanceProfileName", p.name), text("Path", "/"), text("Arn", p.arn), text("CreateDate", created));
    return {
      status: 200,
      xml: `<GetInstanceProfileResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">${el("GetInstanceProfileResult", profile)}${el("ResponseMetadata", text("RequestId", requestId))}</GetInstanceProfileResponse>`,
    };
  }
}

function errorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${esc(requestId)}</RequestId></ErrorResponse>`;
}
