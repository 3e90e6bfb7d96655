/**
 * A small AWS for aws_iid tests, made of the fakes beside this file: one EC2 instance's IMDS
 * (imds.ts) serving a document signed by a test "AWS" (iid-signer.ts), EC2 DescribeInstances
 * (ec2.ts), IAM GetInstanceProfile (iam.ts) and STS AssumeRole (sts.ts), with the environment
 * that points the AWS SDK at them (AWS_ENDPOINT_URL_EC2/IAM/STS) and the plugin configuration
 * that makes the test "AWS" certificates the trusted ones.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEc2, type FakeInstance } from "./ec2.js";
import { FakeIam, type FakeInstanceProfile } from "./iam.js";
import { type InstanceIdentity, IidSigner, identityDocument } from "./iid-signer.js";
import { FakeImds, type ImdsIdentity } from "./imds.js";
import { FakeSts } from "./sts.js";

export const accountId = "123456789012";
export const region = "us-west-2";
export const instanceId = "i-0123456789abcdef0";
export const imageId = "ami-0abcdef1234567890";
export const profileArn = `arn:aws:iam::${accountId}:instance-profile/app/node-profile`;
export const roleArn = `arn:aws:iam::${accountId}:role/node-role`;

export const identity: InstanceIdentity = { accountId, region, availabilityZone: `${region}b`, instanceId, imageId };

export const instance: FakeInstance = {
  accountId,
  region,
  instanceId,
  imageId,
  tags: { Name: "node-1", team: "blue" },
  securityGroups: [{ id: "sg-0aaa", name: "nodes" }],
  iamInstanceProfileArn: profileArn,
};

export const profile: FakeInstanceProfile = { name: "node-profile", arn: profileArn, roleArns: [roleArn] };

export interface Ec2World {
  readonly signer: IidSigner;
  readonly imds: FakeImds;
  readonly ec2: FakeEc2;
  readonly iam: FakeIam;
  readonly sts: FakeSts;
  /** Environment for the server half: the SDK's endpoints and static credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** Server plugin_data keys trusting the test "AWS" in `region` (signet_rsa*_certificates). */
  readonly trust: Readonly<Record<string, Record<string, string>>>;
  /** The IMDS answers for another identity, signed by this world's "AWS". */
  identityOf(i: InstanceIdentity): ImdsIdentity;
  close(): Promise<void>;
}

export async function startEc2World(options: { instances?: readonly FakeInstance[]; regions?: readonly string[] } = {}): Promise<Ec2World> {
  const signer = new IidSigner();
  const dir = mkdtempSync(join(tmpdir(), "aws-iid-world-"));
  const identityOf = (i: InstanceIdentity): ImdsIdentity => {
    const document = identityDocument(i);
    return { document, signature: signer.signatureRsa1024(document), rsa2048: signer.signatureRsa2048(document) };
  };
  const [imds, ec2, iam, sts] = await Promise.all([
    FakeImds.start(identityOf(identity)),
    FakeEc2.start(options.instances ?? [instance]),
    FakeIam.start([profile]),
    FakeSts.start([`arn:aws:iam::${accountId}:role/spire-server-delegate`]),
  ]);
  return {
    signer,
    imds,
    ec2,
    iam,
    sts,
    env: {
      AWS_ENDPOINT_URL_EC2: ec2.url,
      AWS_ENDPOINT_URL_IAM: iam.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ACCESS_KEY_ID: "AKIDTESTSERVER",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    trust: signer.writeCertificates(dir, options.regions ?? [region]),
    identityOf,
    async close() {
      await Promise.all([imds.close(), ec2.close(), iam.close(), sts.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { IidSigner, explicit, identityDocument, indefinite, integer, oid, set, seq } from "./iid-signer.js";
