import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpiffeId, TrustDomain, createCsr, issuerFromCertificate, keyObjectSigner, mintCertificateSync, spkiOf, x509SvidTemplate } from "@signet/spiffe";
import { PluginError } from "@signet/plugin-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { newKey, pem, writeCaFiles } from "../../../test/fakes/ca-files.js";
import { parseConfig } from "./config.js";
import { DiskUpstreamAuthority } from "./disk.js";
import { loadUpstreamCa } from "./upstream-ca.js";

const scratch = mkdtempSync(join(tmpdir(), "ua-disk-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(scratch, `${++n}`);
  mkdirSync(d);
  return d;
};

const td = TrustDomain.parse("example.org");
const serverKey = newKey();
const csr = (uri = "spiffe://example.org") => createCsr({ privateKey: serverKey, subject: { organization: ["SPIFFE"] }, uriSans: [uri] });
const cfg = (c: { certFilePath: string; keyFilePath: string; bundleFilePath?: string }) => ({
  certFilePath: c.certFilePath,
  keyFilePath: c.keyFilePath,
  bundleFilePath: c.bundleFilePath,
});

async function refusal(p: Promise<unknown>): Promise<PluginError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PluginError);
  return e as PluginError;
}

describe("loading the upstream CA", () => {
  it("a self-signed root: no chain after the new CA, the root is the only upstream root", async () => {
    const files = writeCaFiles(fresh());
    const ua = await DiskUpstreamAuthority.load(cfg(files), td);
    const minted = await ua.mintX509Ca(csr(), 0);
    expect(minted.x509CaChain).toHaveLength(1);
    expect(minted.upstreamX509Roots).toEqual(files.roots);
    const ca = new X509Certificate(minted.x509CaChain[0]!);
    expect(ca.ca).toBe(true);
    expect(ca.verify(new X509Certificate(files.roots[0]!).publicKey)).toBe(true);
    expect(ca.subjectAltName).toBe("URI:spiffe://example.org");
  });

  it("an intermediate with a bundle: the chain is the new CA then the certificate file, roots are the bundle", async () => {
    const files = writeCaFiles(fresh(), { intermediate: true });
    const minted = await (await DiskUpstreamAuthority.load(cfg(files), td)).mintX509Ca(csr(), 600);
    expect(minted.x509CaChain.slice(1)).toEqual(files.certs);
    expect(minted.upstreamX509Roots).toEqual(files.roots);
    const [leaf, intermediate] = minted.x509CaChain.map((d) => new X509Certificate(d));
    expect(leaf!.verify(intermediate!.publicKey)).toBe(true);
  });

  it("reads SEC 1 EC keys and PKCS #1 RSA keys as well as PKCS #8", async () => {
    const sec1 = writeCaFiles(fresh(), { keyFormat: "sec1" });
    await expect(loadUpstreamCa(cfg(sec1))).resolves.toBeDefined();
    const rsaDir = fresh();
    const rsa = writeCaFiles(rsaDir, { keyKind: "rsa" });
    writeFileSync(rsa.keyFilePath, pem("RSA PRIVATE KEY", rsa.key.export({ format: "der", type: "pkcs1" }) as Buffer));
    const minted = await (await DiskUpstreamAuthority.load(cfg(rsa), td)).mintX509Ca(csr(), 0);
    expect(new X509Certificate(minted.x509CaChain[0]!).verify(new X509Certificate(rsa.roots[0]!).publicKey)).toBe(true);
  });

  it("refuses, in SPIRE's words: a key of another certificate, two certificates without a bundle, a bundle that does not lead to the certificate", async () => {
    const a = writeCaFiles(fresh());
    const b = writeCaFiles(fresh());
    expect((await refusal(loadUpstreamCa(cfg({ ...a, keyFilePath: b.keyFilePath })))).message).toBe(
      "unable to load upstream CA: certificate and private key do not match",
    );
    const inter = writeCaFiles(fresh(), { intermediate: true });
    const both = join(fresh(), "both.pem");
    writeFileSync(both, [...inter.certs, ...inter.roots].map((c) => pem("CERTIFICATE", c)).join(""));
    expect((await refusal(loadUpstreamCa({ certFilePath: both, keyFilePath: inter.keyFilePath, bundleFilePath: undefined }))).message).toBe(
      "with no bundle_file_path configured only self-signed CAs are supported",
    );
    const wrong = await refusal(loadUpstreamCa({ ...cfg(inter), bundleFilePath: a.certFilePath }));
    expect(wrong.message).toBe("unable to load upstream CA: certificate cannot be validated with the provided bundle or is not self-signed");
    expect(wrong.kind).toBe("invalid-argument");
  });

  it("refuses a certificate that is not a CA, and an expired CA", async () => {
    const dir = fresh();
    const root = writeCaFiles(dir);
    const leafKey = newKey();
    const leaf = mintCertificateSync(
      x509SvidTemplate({ spiffeId: SpiffeId.parse("spiffe://upstream.test/not-a-ca"), issuer: issuerFromCertificate(root.certs[0]!), spki: spkiOf(leafKey) }),
      keyObjectSigner(root.key),
    );
    writeFileSync(join(dir, "leaf.pem"), pem("CERTIFICATE", leaf));
    writeFileSync(join(dir, "leaf.key"), pem("PRIVATE KEY", leafKey.export({ format: "der", type: "pkcs8" }) as Buffer));
    const notCa = await refusal(loadUpstreamCa({ certFilePath: join(dir, "leaf.pem"), keyFilePath: join(dir, "leaf.key"), bundleFilePath: root.certFilePath }));
    expect(notCa.message).toMatch(/certificate is not a CA certificate/);

    const files = writeCaFiles(fresh(), { ttlSeconds: 60 });
    const later = new Date(Date.now() + 3_600_000);
    expect((await refusal(loadUpstreamCa(cfg(files), later))).message).toMatch(/cannot be validated/);
  });

  it("refuses unreadable and malformed files, naming which", async () => {
    const files = writeCaFiles(fresh());
    const garbage = join(fresh(), "garbage");
    writeFileSync(garbage, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    expect((await refusal(loadUpstreamCa({ ...cfg(files), certFilePath: garbage }))).message).toMatch(/^unable to load upstream CA cert: PEM block 1 .* is not valid base64/);
    expect((await refusal(loadUpstreamCa({ ...cfg(files), keyFilePath: files.certFilePath }))).message).toMatch(/^unable to load upstream CA key: expected block type .*got "CERTIFICATE"/);
    expect((await refusal(loadUpstreamCa({ ...cfg(files), bundleFilePath: join(scratch, "nope") }))).message).toMatch(/^unable to load upstream CA bundle: .*no such file/);
  });
});

describe("signing the server CA's CSR", () => {
  it("honours the preferred TTL, defaults to an hour, and caps at the upstream CA's expiry", async () => {
    const ua = await DiskUpstreamAuthority.load(cfg(writeCaFiles(fresh())), td);
    const life = async (ttl: number) => {
      const at = Date.now();
      const cert = new X509Certificate((await ua.mintX509Ca(csr(), ttl)).x509CaChain[0]!);
      return (Date.parse(cert.validTo) - at) / 1000;
    };
    expect(Math.abs((await life(600)) - 600)).toBeLessThan(5);
    expect(Math.abs((await life(0)) - 3600)).toBeLessThan(5);
    const short = writeCaFiles(fresh(), { ttlSeconds: 120 });
    const capped = await DiskUpstreamAuthority.load(cfg(short), td);
    const cert = new X509Certificate((await capped.mintX509Ca(csr(), 3600)).x509CaChain[0]!);
    expect(cert.validTo).toBe(new X509Certificate(short.certs[0]!).validTo);
  });

  it("answers Internal \"unable to sign CSR: …\" for CSRs SPIRE refuses", async () => {
    const ua = await DiskUpstreamAuthority.load(cfg(writeCaFiles(fresh())), td);
    for (const [bad, message] of [
      [csr("spiffe://other.org"), /^unable to sign CSR: .*not the trust domain ID/],
      [csr("spiffe://example.org/workload"), /^unable to sign CSR: /],
      [Buffer.from("garbage"), /^unable to sign CSR: /],
    ] as const) {
      const e = await refusal(ua.mintX509Ca(bad, 0));
      expect(e.kind).toBe("internal");
      expect(e.message).toMatch(message);
    }
    expect((await refusal(ua.mintX509Ca(Buffer.alloc(0), 0))).kind).toBe("invalid-argument");
  });

  it("reloads the files on every mint, and keeps signing with the last good CA while they are broken", async () => {
    const dir = fresh();
    const first = writeCaFiles(dir);
    const failures: string[] = [];
    const ua = await DiskUpstreamAuthority.load(cfg(first), td, (e) => failures.push(e.message));
    const saved = join(fresh(), "first.pem");
    copyFileSync(first.certFilePath, saved);
    // Rotation: new files in place; the next mint is signed by the new CA.
    const second = writeCaFiles(dir);
    const rotated = await ua.mintX509Ca(csr(), 0);
    expect(rotated.upstreamX509Roots).toEqual(second.roots);
    // A half-done rotation (old certificate, new key): the last CA that loaded keeps signing.
    copyFileSync(saved, second.certFilePath);
    const during = await ua.mintX509Ca(csr(), 0);
    expect(during.upstreamX509Roots).toEqual(second.roots);
    expect(new X509Certificate(during.x509CaChain[0]!).verify(new X509Certificate(second.roots[0]!).publicKey)).toBe(true);
    expect(failures).toEqual(["unable to load upstream CA: certificate and private key do not match"]);
  });
});

describe("parseConfig", () => {
  it("needs both paths, takes an optional bundle, and refuses unknown keys", async () => {
    await expect(parseConfig('cert_file_path = "/c"\nkey_file_path = "/k"')).resolves.toEqual({ certFilePath: "/c", keyFilePath: "/k", bundleFilePath: undefined });
    await expect(parseConfig(JSON.stringify({ cert_file_path: "/c", key_file_path: "/k", bundle_file_path: "/b" }))).resolves.toMatchObject({ bundleFilePath: "/b" });
    await expect(parseConfig('cert_file_path = "/c"')).rejects.toThrow("upstreamauthority disk: 'cert_file_path' and 'key_file_path' must be set and not empty");
    await expect(parseConfig(JSON.stringify({ cert_file_path: "/c", key_file_path: "" }))).rejects.toThrow(/must be set and not empty/);
    await expect(parseConfig(JSON.stringify({ cert_file_path: "/c", key_file_path: "/k", ttl: "1h" }))).rejects.toThrow(/ttl/);
  });
});
