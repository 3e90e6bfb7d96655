/**
 * `api fetch x509 -write DIR`: svid.N.pem, svid.N.key, bundle.N.pem and
 * federated_bundle.N.M.pem (federated trust domains in sorted order), with
 * SPIRE's diskutil modes: certificates 0644, keys 0600.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { X509Certificate } from "node:crypto";
import { CliError, fileErrorText } from "@signet/host-common";
import type { X509Svid } from "./x509-svids.js";

export async function writeX509Svids(dir: string, svids: readonly X509Svid[], println: (line: string) => void): Promise<void> {
  for (const [i, svid] of svids.entries()) {
    const svidPath = path.posix.join(dir, `svid.${i}.pem`);
    const keyPath = path.posix.join(dir, `svid.${i}.key`);
    const bundlePath = path.posix.join(dir, `bundle.${i}.pem`);

    println(`Writing SVID #${i} to file ${svidPath}.`);
    await writeFileAs(svidPath, pemCertificates(svid.certificates), 0o644);
    println(`Writing key #${i} to file ${keyPath}.`);
    const pkcs8 = svid.privateKey.export({ format: "der", type: "pkcs8" });
    await writeFileAs(keyPath, pem("PRIVATE KEY", pkcs8), 0o600);
    println(`Writing bundle #${i} to file ${bundlePath}.`);
    await writeFileAs(bundlePath, pemCertificates(svid.bundle), 0o644);

    const domains = [...svid.federatedBundles.keys()].sort();
    for (const [j, trustDomain] of domains.entries()) {
      const federatedPath = path.posix.join(dir, `federated_bundle.${i}.${j}.pem`);
      println(`Writing federated bundle #${j} for trust domain ${trustDomain} to file ${federatedPath}.`);
      await writeFileAs(federatedPath, pemCertificates(svid.federatedBundles.get(trustDomain)!), 0o644);
    }
  }
}

function pemCertificates(certs: readonly X509Certificate[]): string {
  return certs.map((c) => pem("CERTIFICATE", c.raw)).join("");
}

/** encoding/pem: base64 in 64-column lines. */
function pem(type: string, der: Buffer): string {
  const body = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${type}-----\n${body}-----END ${type}-----\n`;
}

/**
 * diskutil.WritePrivateFile / WritePubliclyReadableFile: create or truncate
 * with the mode (under the umask; an existing file keeps its mode), write.
 */
async function writeFileAs(file: string, data: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(file, "w", mode);
  } catch (e) {
    throw new CliError(fileErrorText("open", file, e));
  }
  try {
    await handle.writeFile(data);
  } catch (e) {
    throw new CliError(fileErrorText("write", file, e));
  } finally {
    await handle.close();
  }
}
