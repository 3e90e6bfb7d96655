/**
 * Stands for Amazon EC2's DescribeInstances, over the EC2 Query protocol (POST /,
 * Action=DescribeInstances&Version=2016-11-15, InstanceId.N, Filter.N.Name/Value.M, SigV4) with
 * the XML the real API returns: reservationSet/item/instancesSet/item with instanceState,
 * imageId, tagSet, groupSet, iamInstanceProfile, rootDeviceType/Name, blockDeviceMapping (ebs
 * attachTime) and networkInterfaceSet (attachment deviceIndex/attachTime). Instances live in an
 * account and a region; the region is the one of the request's SigV4 scope. Unknown instance IDs
 * are InvalidInstanceID.NotFound; filters other than instance-state-name are refused.
 */
import { QueryServer, el, esc, listParam, text } from "./query-server.js";

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

export interface FakeInstance {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  readonly imageId: string;
  readonly state?: InstanceState;
  readonly tags?: Readonly<Record<string, string>>;
  readonly securityGroups?: readonly { readonly id: string; readonly name: string }[];
  readonly iamInstanceProfileArn?: string;
  readonly rootDeviceType?: "ebs" | "instance-store";
  readonly rootDeviceName?: string;
  /** When the root EBS volume was attached; default the network interface's time. */
  readonly rootAttachTime?: Date;
  readonly networkAttachTime?: Date;
}

const stateCodes: Readonly<Record<InstanceState, number>> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48, stopping: 64, stopped: 80 };
const launched = new Date("2024-05-01T10:00:00Z");

export class FakeEc2 {
  private readonly instances = new Map<string, FakeInstance>();

  private constructor(readonly server: QueryServer) {}

  static async start(instances: readonly FakeInstance[] = []): Promise<FakeEc2> {
    let fake: FakeEc2 | undefined;
    const server = await QueryServer.start("ec2", (call, requestId) => fake!.answer(call.action, call.params, call.region, requestId), errorXml);
    fake = new FakeEc2(server);
    for (const i of instances) fake.put(i);
    return fake;
  }

  get url(): string {
    return this.server.url;
  }
  get calls() {
    return this.server.calls;
  }

  put(instance: FakeInstance): void {
    this.instances.set(instance.instanceId, instance);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(action: string, params: ReadonlyMap<string, string>, region: string, requestId: string) {
    if (action !== "DescribeInstances") return { status: 400, xml: errorXml("InvalidAction", `The action ${action} is not valid for this web service.`, requestId) };
    const ids = listParam(params, "InstanceId");
    let states: string[] | undefined;
    for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
      const name = params.get(`Filter.${i}.Name`)!;
      if (name !== "instance-state-name") return { status: 400, xml: errorXml("InvalidParameterValue", `The filter '${name}' is invalid`, requestId) };
      states = listParam(params, `Filter.${i}.Value`);
    }
    const found: FakeInstance[] = [];
    for (const id of ids) {
      const instance = this.instances.get(id);
      if (!instance || instance.region !== region) return { status: 400, xml: errorXml("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`, requestId) };
      if (!states || states.includes(instance.state ?? "running")) found.push(instance);
    }
    const reservations = found.map((i) =>
      el("item", text("reservationId", `r-${i.instanceId.slice(2)}`), text("ownerId", i.accountId), el("groupSet"), el("instancesSet", instanceXml(i))),
    );
    return {
      status: 200,
      xml: `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${text("requestId", requestId)}${el("reservationSet", ...reservations)}</DescribeInstancesResponse>`,
    };
  }
}

function instanceXml(i: FakeInstance): string {
  const state = i.state ?? "running";
  const netTime = i.networkAttachTime ?? launched;
  const rootName = i.rootDeviceName ?? "/dev/xvda";
  const rootType = i.rootDeviceType ?? "ebs";
  return el(
    "item",
    text("instanceId", i.instanceId),
    text("imageId", i.imageId),
    el("instanceState", text("code", stateCodes[state]), text("name", state)),
    text("instanceType", "t3.micro"),
    text("launchTime", launched.toISOString()),
    el("placement", text("availabilityZone", `${i.region}a`), text("tenancy", "default")),
    i.iamInstanceProfileArn ? el("iamInstanceProfile", text("arn", i.iamInstanceProfileArn), text("id", "AIPAEXAMPLE")) : undefined,
    el("groupSet", ...(i.securityGroups ?? []).map((g) => el("item", text("groupId", g.id), text("groupName", g.name)))),
    text("rootDeviceType", rootType),
    text("rootDeviceName", rootName),
    el(
      "blockDeviceMapping",
      rootType === "ebs"
        ? el(
            "item",
            text("deviceName", rootName),
            el("ebs", text("volumeId", `vol-${i.instanceId.slice(2)}`), text("status", "attached"), text("attachTime", (i.rootAttachTime ?? netTime).toISOString()), text("deleteOnTermination", true)),
          )
        : undefined,
    ),
    el(
      "networkInterfaceSet",
      el(
        "item",
        text("networkInterfaceId", `eni-${i.instanceId.slice(2)}`),
        el("attachment", text("attachmentId", `eni-attach-${i.instanceId.slice(2)}`), text("deviceIndex", 0), text("status", "attached"), text("attachTime", netTime.toISOString())),
      ),
    ),
    i.tags ? el("tagSet", ...Object.entries(i.tags).map(([k, v]) => el("item", text("key", k), text("value", v)))) : undefined,
  );
}

/** EC2's error document. */
function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${esc(requestId)}</RequestID></Response>`;
}
