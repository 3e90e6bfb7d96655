/**
 * The key policy of new keys. With `key_policy_file` it is that file's text.
 * Without it, as in SPIRE, a policy giving the server's assumed IAM role full
 * use of the key and the account root read access (so the console can show
 * it), built from STS GetCallerIdentity; a caller that is not an assumed role
 * gets no policy (KMS then applies its default) and a warning.
 */
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import type { Logger } from "@signet/plugin-sdk";
import { callSignal, describeAwsError } from "./aws-clients.js";

/** The default policy for `accountId` and `roleName`, statement for statement as SPIRE writes it. */
export function defaultKeyPolicy(accountId: string, roleName: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Allow full access to the SPIRE Server role",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${accountId}:role/${roleName}` },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "Allow KMS console to display the key and policy",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: ["kms:Describe*", "kms:List*", "kms:Get*"],
          Resource: "*",
        },
      ],
    },
    null,
    "\t",
  );
}

/**
 * The role name of an STS assumed-role ARN
 * (`arn:aws:sts::123456789012:assumed-role/<role>/<session>`), or why there is none.
 */
export function roleNameFromArn(arn: string): { roleName: string } | { problem: string } {
  const last = arn.split(":").at(-1) ?? "";
  const resource = last.split("/");
  if (resource.length < 2) return { problem: `incomplete resource, expected 'resource-type/resource-id' but got ${JSON.stringify(last)}` };
  if (resource[0] !== "assumed-role") return { problem: `arn does not contain an assumed role: ${JSON.stringify(arn)}` };
  return { roleName: resource[1]! };
}

/** The default policy for whoever the credentials are; undefined when they are not an assumed role. Throws with SPIRE's wording. */
export async function callerKeyPolicy(sts: STSClient, log: Logger): Promise<string | undefined> {
  let account: string | undefined;
  let arn: string | undefined;
  try {
    ({ Account: account, Arn: arn } = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: callSignal() }));
  } catch (e) {
    throw new Error(`cannot get caller identity: ${describeAwsError(e)}`);
  }
  if (!account || !arn) throw new Error("cannot get caller identity: the answer has no account or ARN");
  const role = roleNameFromArn(arn);
  if ("problem" in role) {
    log.warn(
      "In a future version of SPIRE, it will be mandatory for the SPIRE servers to assume an AWS IAM Role when using the default AWS KMS key policy. Please assign an IAM role to this SPIRE Server instance.",
      { reason: role.problem },
    );
    return undefined;
  }
  return defaultKeyPolicy(account, role.roleName);
}
