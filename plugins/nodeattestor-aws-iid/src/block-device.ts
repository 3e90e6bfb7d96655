/**
 * SPIRE's anti-tamper check: an instance whose root EBS volume was attached more than 60 s apart
 * from network interface 0 may have had its root volume swapped (a volume taken from another
 * instance keeps that instance's identity document reachable). Instance-store roots are exempt.
 * Returns the reason it fails, or undefined.
 */
import type { Instance } from "@aws-sdk/client-ec2";

const maxSecondsBetweenDeviceAttachments = 60;

export function blockDeviceProblem(instance: Instance): string | undefined {
  const iface = (instance.NetworkInterfaces ?? []).find((n) => n.Attachment?.DeviceIndex === 0);
  if (!iface) return "the EC2 instance network interface with device index 0 is inaccessible";
  if (instance.RootDeviceType === "instance-store") return undefined;
  const rootName = instance.RootDeviceName ?? "";
  const root = (instance.BlockDeviceMappings ?? []).find((b) => b.DeviceName !== undefined && b.DeviceName === rootName);
  if (!root) return `failed to locate the root device block mapping with name ${JSON.stringify(rootName)}`;
  const ifaceTime = iface.Attachment?.AttachTime;
  const rootTime = root.Ebs?.AttachTime;
  // SPIRE dereferences these unchecked (a missing one would crash it); here it is a refusal.
  if (!ifaceTime || !rootTime) return "failed checking the disparity device attach times, an attach time is missing";
  const disparity = Math.abs(unixSeconds(ifaceTime) - unixSeconds(rootTime));
  if (disparity > maxSecondsBetweenDeviceAttachments) {
    return `failed checking the disparity device attach times, root BlockDeviceMapping and NetworkInterface[0] attach times differ by ${disparity} seconds`;
  }
  return undefined;
}

const unixSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
