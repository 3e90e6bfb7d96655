/**
 * What aws_iid says about an attested instance (selector type "aws_iid"), SPIRE's values:
 *
 *   account_id:<id>  image:id:<ami>  instance:id:<id>  region:<r>  az:<zone>   from the document
 *   tag:<key>:<value>  sg:id:<id>  sg:name:<name>                              from DescribeInstances
 *   iamrole:<role ARN>                                                         from GetInstanceProfile
 *
 * deduplicated and sorted (byte order, as Go's sort.Strings).
 */
import type { GroupIdentifier, Tag } from "@aws-sdk/client-ec2";
import type { InstanceProfile } from "@aws-sdk/client-iam";
import type { InstanceIdentityDocument } from "./document.js";

export function documentSelectors(doc: InstanceIdentityDocument): string[] {
  return [`account_id:${doc.accountId}`, `image:id:${doc.imageId}`, `instance:id:${doc.instanceId}`, `region:${doc.region}`, `az:${doc.availabilityZone}`];
}

export function tagSelectors(tags: readonly Tag[] | undefined): string[] {
  return (tags ?? []).map((t) => `tag:${t.Key ?? ""}:${t.Value ?? ""}`);
}

export function securityGroupSelectors(groups: readonly GroupIdentifier[] | undefined): string[] {
  return (groups ?? []).flatMap((g) => [`sg:id:${g.GroupId ?? ""}`, `sg:name:${g.GroupName ?? ""}`]);
}

export function instanceProfileSelectors(profile: InstanceProfile | undefined): string[] {
  return (profile?.Roles ?? []).filter((r) => r.Arn !== undefined).map((r) => `iamrole:${r.Arn!}`);
}

export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The instance profile's name from its ARN (arn:aws:iam::<account>:instance-profile/<path>/<name>);
 * an Error with SPIRE's reason if the ARN is not one.
 */
export function instanceProfileNameFromArn(arn: string): string {
  if (!arn.startsWith("arn:")) throw new Error("failed to parse arn: invalid prefix");
  const sections = arn.split(":");
  if (sections.length < 6) throw new Error("failed to parse arn: not enough sections");
  const resource = sections.slice(5).join(":");
  const m = /instance-profile[/:](.+)/.exec(resource);
  if (!m) throw new Error("arn is not for an instance profile");
  const parts = m[1]!.split("/");
  return parts[parts.length - 1]!;
}
