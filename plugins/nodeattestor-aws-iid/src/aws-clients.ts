/**
 * The EC2 and IAM clients the server half describes instances with, one pair per account and
 * region (SPIRE's clientsCache), optionally through a role assumed in the instance's account.
 *
 * Static credentials come from the configuration; without them the SDK's default chain applies,
 * as in SPIRE. The endpoints are the SDK's business: it honours AWS_ENDPOINT_URL_EC2,
 * AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL (and `endpoint_url` in the
 * shared config file), which is how a VPC endpoint or a test double is reached, with no key of
 * ours. Retries are the SDK's (standard mode); every call also ends at SPIRE's 20 s or at the
 * RPC's own deadline, whichever comes first.
 */
import type { DescribeInstancesCommandOutput } from "@aws-sdk/client-ec2";
import type { InstanceProfile } from "@aws-sdk/client-iam";
import type { STSClient } from "@aws-sdk/client-sts";
import type { ServerConfig } from "./config.js";

/**
 * The SDK, loaded on the first AWS call: it is most of this program and doubles its start-up
 * time and memory, which the agent half and an idle server half never need.
 */
interface Sdk {
  readonly ec2: typeof import("@aws-sdk/client-ec2");
  readonly iam: typeof import("@aws-sdk/client-iam");
  readonly sts: typeof import("@aws-sdk/client-sts");
}
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= Promise.all([import("@aws-sdk/client-ec2"), import("@aws-sdk/client-iam"), import("@aws-sdk/client-sts")]).then(([ec2, iam, sts]) => ({ ec2, iam, sts })));

/** SPIRE's awsTimeout. */
export const awsTimeoutMs = 20_000;

export interface AwsClient {
  /** DescribeInstances for one instance ID, filtered to the pending and running states. */
  describeInstances(instanceId: string, signal: AbortSignal): Promise<DescribeInstancesCommandOutput>;
  getInstanceProfile(name: string, signal: AbortSignal): Promise<InstanceProfile | undefined>;
}

type Credentials = { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string; readonly expiration?: Date };
type CredentialsProvider = () => Promise<Credentials>;

export class AwsClients {
  private readonly clients = new Map<string, AwsClient & { destroy(): void }>();

  constructor(private readonly config: Pick<ServerConfig, "credentials" | "assumeRole" | "partition">) {}

  /** The client for an account's region (accountId@region), made once. */
  get(region: string, accountId: string): AwsClient {
    const key = `${accountId}@${region}`;
    let client = this.clients.get(key);
    if (!client) {
      client = this.create(region, accountId);
      this.clients.set(key, client);
    }
    return client;
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private create(region: string, accountId: string): AwsClient & { destroy(): void } {
    let made: Promise<AwsClient & { destroy(): void }> | undefined;
    let destroyed = false;
    const client = () =>
      (made ??= loadSdk().then((s) => {
        const c = this.make(s, region, accountId);
        if (destroyed) c.destroy();
        return c;
      }));
    return {
      describeInstances: async (instanceId, signal) => (await client()).describeInstances(instanceId, signal),
      getInstanceProfile: async (name, signal) => (await client()).getInstanceProfile(name, signal),
      destroy: () => {
        destroyed = true;
        void made?.then((c) => c.destroy());
      },
    };
  }

  private make({ ec2: { DescribeInstancesCommand, EC2Client }, iam: { GetInstanceProfileCommand, IAMClient }, sts: { AssumeRoleCommand, STSClient } }: Sdk, region: string, accountId: string): AwsClient & { destroy(): void } {
    const common = {
      region,
      retryMode: "standard",
      requestHandler: { connectionTimeout: 5_000, requestTimeout: awsTimeoutMs },
    };
    const base = this.config.credentials ? { credentials: this.config.credentials } : {};
    let sts: STSClient | undefined;
    let credentials: typeof base | { credentials: CredentialsProvider } = base;
    if (this.config.assumeRole !== "") {
      sts = new STSClient({ ...common, ...base });
      credentials = { credentials: assumeRole(sts, AssumeRoleCommand, `arn:${this.config.partition}:iam::${accountId}:role/${this.config.assumeRole}`) };
    }
    const ec2 = new EC2Client({ ...common, ...credentials });
    const iam = new IAMClient({ ...common, ...credentials });
    return {
      describeInstances: (instanceId, signal) =>
        ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId], Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }), {
          abortSignal: callSignal(signal),
        }),
      getInstanceProfile: async (name, signal) =>
        (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }), { abortSignal: callSignal(signal) })).InstanceProfile,
      destroy: () => {
        ec2.destroy();
        iam.destroy();
        sts?.destroy();
      },
    };
  }
}

/** Temporary credentials of `roleArn`, renewed five minutes before they expire. */
function assumeRole(sts: STSClient, AssumeRoleCommand: Sdk["sts"]["AssumeRoleCommand"], roleArn: string): CredentialsProvider {
  let current: Promise<Credentials> | undefined;
  let expires = 0;
  return () => {
    if (!current || Date.now() > expires - 5 * 60_000) {
      const pending = sts
        .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `signet-aws-iid-${Date.now()}` }), { abortSignal: AbortSignal.timeout(awsTimeoutMs) })
        .then((r) => {
          const c = r.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${roleArn} returned no credentials`);
          expires = c.Expiration?.getTime() ?? Date.now() + 15 * 60_000;
          return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
        });
      pending.catch(() => {
        if (current === pending) current = undefined;
      });
      current = pending;
      expires = Number.POSITIVE_INFINITY;
    }
    return current;
  };
}

/** Ends a call at SPIRE's 20 s, or with the RPC. */
export function callSignal(parent: AbortSignal): AbortSignal {
  return AbortSignal.any([parent, AbortSignal.timeout(awsTimeoutMs)]);
}

/** A failed AWS call, worded as Go's SDK words it ("operation error EC2: DescribeInstances, …"). */
export function describeAwsError(service: string, operation: string, e: unknown): string {
  let detail: string;
  if (!(e instanceof Error)) detail = String(e);
  else if (e.name === "AbortError" || e.name === "TimeoutError") detail = "context deadline exceeded";
  else {
    const meta = (e as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
    const api = e.name && e.name !== "Error" ? `api error ${e.name}: ${e.message}` : e.message;
    detail = meta?.httpStatusCode ? `https response error StatusCode: ${meta.httpStatusCode}, RequestID: ${meta.requestId ?? ""}, ${api}` : api;
  }
  return `operation error ${service}: ${operation}, ${detail}`;
}
