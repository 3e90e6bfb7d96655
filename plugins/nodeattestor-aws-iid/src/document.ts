/**
 * The instance identity document (IMDS dynamic/instance-identity/document), the fields aws_iid
 * reads. Only ever parsed after its signature has been verified.
 */
import { GoJsonError, decodeStringFields } from "./go-struct.js";

export interface InstanceIdentityDocument {
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly instanceId: string;
  readonly imageId: string;
}

export class DocumentError extends Error {
  override readonly name = "DocumentError";
}

const fields = ["accountId", "region", "availabilityZone", "instanceId", "imageId", "privateIp", "version", "instanceType", "kernelId", "ramdiskId", "architecture"] as const;

export function parseIdentityDocument(text: string): InstanceIdentityDocument {
  try {
    const f = decodeStringFields(text, "imds.InstanceIdentityDocument", fields);
    return { accountId: f.accountId, region: f.region, availabilityZone: f.availabilityZone, instanceId: f.instanceId, imageId: f.imageId };
  } catch (e) {
    if (e instanceof GoJsonError) throw new DocumentError(e.message);
    throw e;
  }
}
