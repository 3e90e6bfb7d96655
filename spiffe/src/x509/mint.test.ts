import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SpiffeId, TrustDomain } from "../id/index.js";
import { X509Error } from "./errors.js";
import { issuerFromCertificate, readCertificate } from "./certificate.js";
import { parseCsr } from "./csr.js";
import { keyObjectSigner, mintCertificate, mintCertificateSync, spkiOf, type X509Signer } from "./mint.js";
import { downstreamCaTemplate, selfSignedCaTemplate, upstreamSignedCaTemplate, x509SvidTemplate } from "./template.js";

const dir = mkdtempSync(join(tmpdir(), "signet-x509-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
function openssl(args: string[]): string {
  return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function write(name: string, der: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, pem(der));
  return path;
}

const td = TrustDomain.parse("example.org");
const now = new Date("2026-11-23T11:00:00Z");

type KeyKind = "ec-p256" | "ec-p384" | "rsa-2048";
function keyPair(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  if (kind === "rsa-2048") return generateKeyPairSync("rsa", { modulusLength: 2048 });
  return generateKeyPairSync("ec", { namedCurve: kind === "ec-p256" ? "P-256" : "P-384" });
}

function selfSignedCa(kind: KeyKind) {
  const keys = keyPair(kind);
  const signer = keyObjectSigner(keys.privateKey);
  const der = mintCertificateSync(selfSignedCaTemplate({ trustDomain: td, spki: spkiOf(keys.publicKey), now }), signer);
  return { ...keys, signer, der, cert: new X509Certificate(der) };
}

/** go-spiffe's x509svid.ParseRaw / Verify leaf rules, as spiffe-standards 2.2 lists them. */
function expectGoSpiffeLeaf(text: string, cert: X509Certificate, id: string): void {
  expect(cert.ca).toBe(false);
  const uris = (cert.subjectAltName ?? "").split(", ").filter((s) => s.startsWith("URI:"));
  expect(uris).toEqual([`URI:${id}`]);
  expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Key Agreement\n/);
  expect(text).not.toMatch(/Certificate Sign|CRL Sign/);
  expect(BigInt(`0x${cert.serialNumber}`)).toBeGreaterThan(0n);
  expect(text).not.toMatch(/Serial Number:\s*\(Negative\)/);
}

describe("self-signed CA", () => {
  for (const kind of ["ec-p256", "ec-p384", "rsa-2048"] as const) {
    it(`matches SPIRE's CA profile (${kind})`, () => {
      const ca = selfSignedCa(kind);
      expect(ca.cert.verify(ca.publicKey)).toBe(true);
      expect(ca.cert.checkIssued(ca.cert)).toBe(true);
      expect(ca.cert.ca).toBe(true);
      expect(ca.cert.subjectAltName).toBe("URI:spiffe://example.org");
      const fields = readCertificate(ca.der);
      expect(ca.cert.subject).toBe(`C=US\nO=SPIFFE\nserialNumber=${fields.serial.toString(10)}`);
      expect(fields.notBefore.getTime()).toBe(now.getTime() - 10_000);
      expect(fields.notAfter.getTime()).toBe(now.getTime() + 24 * 3600_000);
      const text = openssl(["x509", "-noout", "-text", "-in", write(`ca-${kind}.pem`, ca.der)]);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
      expect(text).toMatch(/X509v3 Subject Key Identifier: \n\s+[0-9A-F:]{59}\n/);
      expect(text).not.toMatch(/Authority Key Identifier/);
      expect(text).not.toMatch(/Extended Key Usage/);
      expect(text).toMatch(kind === "rsa-2048" ? /Signature Algorithm: sha256WithRSAEncryption/ : kind === "ec-p256" ? /ecdsa-with-SHA256/ : /ecdsa-with-SHA384/);
      expect(BigInt(`0x${ca.cert.serialNumber}`) > 0n && BigInt(`0x${ca.cert.serialNumber}`) < 1n << 128n).toBe(true);
    });
  }
});

describe("X509-SVID leaf", () => {
  for (const caKind of ["ec-p256", "ec-p384", "rsa-2048"] as const) {
    for (const leafKind of ["ec-p256", "rsa-2048"] as const) {
      it(`verifies and matches SPIRE's leaf profile (CA ${caKind}, leaf ${leafKind})`, async () => {
        const ca = selfSignedCa(caKind);
        const leafKeys = keyPair(leafKind);
        const id = "spiffe://example.org/ns/prod/sa/web";
        const template = x509SvidTemplate({
          spiffeId: SpiffeId.parse(id),
          spki: spkiOf(leafKeys.publicKey),
          issuer: issuerFromCertificate(ca.der),
          dnsNames: ["web.example.org", "*.web.example.org"],
          now,
        });
        const der = await mintCertificate(template, ca.signer);
        const cert = new X509Certificate(der);
        expect(cert.verify(ca.publicKey)).toBe(true);
        expect(cert.checkIssued(ca.cert)).toBe(true);
        expect(cert.checkPrivateKey(leafKeys.privateKey)).toBe(true);
        expect(cert.subjectAltName).toBe(`DNS:web.example.org, DNS:*.web.example.org, URI:${id}`);
        expect(cert.subject).toBe("C=US\nO=SPIRE\nCN=web.example.org");
        expect(cert.issuer).toBe(ca.cert.subject);

        const leafPath = write(`leaf-${caKind}-${leafKind}.pem`, der);
        const caPath = write(`ca-${caKind}-for-${leafKind}.pem`, ca.der);
        expect(openssl(["verify", "-partial_chain", "-attime", String(now.getTime() / 1000), "-CAfile", caPath, leafPath])).toMatch(/: OK/);
        const text = openssl(["x509", "-noout", "-text", "-in", leafPath]);
        expectGoSpiffeLeaf(text, cert, id);
        expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
        expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
        expect(text).toMatch(/X509v3 Subject Alternative Name: \n/); // not critical
        const caSki = /Subject Key Identifier: \n\s+(\S+)/.exec(openssl(["x509", "-noout", "-text", "-in", caPath]))![1];
        expect(text).toContain(`X509v3 Authority Key Identifier: \n                ${caSki}`);
        const fields = readCertificate(der);
        expect(fields.notBefore.getTime()).toBe(now.getTime() - 10_000);
        expect(fields.notAfter.getTime()).toBe(now.getTime() + 3600_000);
      });
    }
  }

  it("defaults to C=US, O=SPIRE without DNS names, and caps notAfter at the issuer's", () => {
    const ca = selfSignedCa("ec-p256");
    const leaf = keyPair("ec-p256");
    const issuer = issuerFromCertificate(ca.der);
    const der = mintCertificateSync(
      x509SvidTemplate({ spiffeId: SpiffeId.parse("spiffe://example.org/w"), spki: spkiOf(leaf.publicKey), issuer, ttlSeconds: 48 * 3600, now }),
      ca.signer,
    );
    const cert = new X509Certificate(der);
    expect(cert.subject).toBe("C=US\nO=SPIRE");
    expect(cert.subjectAltName).toBe("URI:spiffe://example.org/w");
    expect(readCertificate(der).notAfter.getTime()).toBe(issuer.notAfter.getTime());
  });

  it("refuses a root-path ID and non-ASCII DNS names", () => {
    const ca = selfSignedCa("ec-p256");
    const base = { spki: spkiOf(keyPair("ec-p256").publicKey), issuer: issuerFromCertificate(ca.der), now };
    expect(() => x509SvidTemplate({ ...base, spiffeId: SpiffeId.parse("spiffe://example.org") })).toThrow(X509Error);
    expect(() => x509SvidTemplate({ ...base, spiffeId: SpiffeId.parse("spiffe://example.org/w"), dnsNames: ["bücher.example"] })).toThrow(/IA5String/);
  });

  it("accepts an asynchronous signer (a KeyManager plugin) and reports its failures", async () => {
    const ca = selfSignedCa("ec-p256");
    const remote: X509Signer = { algorithm: ca.signer.algorithm, sign: async (tbs) => ca.signer.sign(tbs) };
    const template = x509SvidTemplate({
      spiffeId: SpiffeId.parse("spiffe://example.org/w"),
      spki: spkiOf(keyPair("ec-p256").publicKey),
      issuer: issuerFromCertificate(ca.der),
      now,
    });
    expect(new X509Certificate(await mintCertificate(template, remote)).verify(ca.publicKey)).toBe(true);
    const failing: X509Signer = { algorithm: "ECDSA-SHA256", sign: async () => Promise.reject(new Error("plugin gone")) };
    await expect(mintCertificate(template, failing)).rejects.toThrow(/failed to sign certificate: plugin gone/);
    expect(() => mintCertificateSync(template, remote)).toThrow(/returns a Buffer/);
  });
});

describe("upstream-signed CA", () => {
  function caCsr(uri: string): { csr: ReturnType<typeof parseCsr>; privateKey: KeyObject } {
    const csrPath = join(dir, "ca-req.der");
    const keyPath = join(dir, "ca-req-key.pem");
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-subj", "/C=US/O=SPIFFE", "-addext", `subjectAltName=URI:${uri}`, "-outform", "DER", "-out", csrPath]);
    return { csr: parseCsr(readFileSync(csrPath)), privateKey: createPrivateKey(readFileSync(keyPath)) };
  }

  it("chains upstream root -> server CA (from its CSR) -> leaf and verifies with openssl", () => {
    const root = selfSignedCa("ec-p384");
    const { csr, privateKey } = caCsr("spiffe://example.org");
    const interDer = mintCertificateSync(
      upstreamSignedCaTemplate({ trustDomain: td, csr, issuer: issuerFromCertificate(root.der), now }),
      root.signer,
    );
    const inter = new X509Certificate(interDer);
    expect(inter.verify(root.publicKey)).toBe(true);
    expect(inter.checkIssued(root.cert)).toBe(true);
    expect(inter.ca).toBe(true);
    expect(inter.subject).toBe("C=US\nO=SPIFFE");
    expect(inter.subjectAltName).toBe("URI:spiffe://example.org");
    expect(readCertificate(interDer).notAfter.getTime()).toBe(now.getTime() + 3600_000);
    const interText = openssl(["x509", "-noout", "-text", "-in", write("inter.pem", interDer)]);
    expect(interText).toMatch(/Authority Key Identifier/);
    expect(interText).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(interText).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);

    const leafDer = mintCertificateSync(
      x509SvidTemplate({
        spiffeId: SpiffeId.parse("spiffe://example.org/w"),
        spki: spkiOf(keyPair("ec-p256").publicKey),
        issuer: issuerFromCertificate(interDer),
        now,
      }),
      keyObjectSigner(privateKey),
    );
    const leafPath = write("leaf-of-inter.pem", leafDer);
    const rootPath = write("root.pem", root.der);
    writeFileSync(join(dir, "untrusted.pem"), pem(interDer));
    expect(openssl(["verify", "-attime", String(now.getTime() / 1000), "-CAfile", rootPath, "-untrusted", join(dir, "untrusted.pem"), leafPath])).toMatch(/: OK/);
  });

  it("refuses a CSR whose URI SAN is not the trust domain ID, or has none", () => {
    const root = selfSignedCa("ec-p256");
    const issuer = issuerFromCertificate(root.der);
    const { csr } = caCsr("spiffe://other.org");
    expect(() => upstreamSignedCaTemplate({ trustDomain: td, csr, issuer })).toThrow(
      'CSR SPIFFE ID "spiffe://other.org" is not the trust domain ID for trust domain "example.org"',
    );
    expect(() => upstreamSignedCaTemplate({ trustDomain: td, csr: { ...csr, uriSan: undefined }, issuer })).toThrow("CSR must have exactly one URI SAN");
  });
});

describe("downstream CA", () => {
  it("inherits the parent's subject with OU=DOWNSTREAM-n and verifies", () => {
    const root = selfSignedCa("ec-p256");
    const keys = keyPair("ec-p256");
    const issuer = issuerFromCertificate(root.der);
    const der = mintCertificateSync(downstreamCaTemplate({ trustDomain: td, spki: spkiOf(keys.publicKey), issuer, parentChainLength: 1, now }), root.signer);
    const cert = new X509Certificate(der);
    expect(cert.verify(root.publicKey)).toBe(true);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe(root.cert.subject.replace("O=SPIFFE", "O=SPIFFE\nOU=DOWNSTREAM-1"));
    expect(() => downstreamCaTemplate({ trustDomain: td, spki: spkiOf(keys.publicKey), issuer: { ...issuer, subjectName: undefined }, parentChainLength: 1 })).toThrow(X509Error);
  });
});

describe("CSR to SVID", () => {
  it("copies an openssl CSR's SPKI into a leaf that verifies against the CA", () => {
    const ca = selfSignedCa("ec-p256");
    const csrPath = join(dir, "req.der");
    const keyPath = join(dir, "req-key.pem");
    openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-subj", "/O=ignored", "-outform", "DER", "-out", csrPath]);
    const csr = parseCsr(readFileSync(csrPath));
    const der = mintCertificateSync(
      x509SvidTemplate({ spiffeId: SpiffeId.parse("spiffe://example.org/spire/agent/join_token/abc"), spki: csr.spki, issuer: issuerFromCertificate(ca.der), now }),
      ca.signer,
    );
    const cert = new X509Certificate(der);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(keyPath)))).toBe(true);
    expect(cert.subject).toBe("C=US\nO=SPIRE");
    const caPath = write("csr-ca.pem", ca.der);
    expect(openssl(["verify", "-partial_chain", "-attime", String(now.getTime() / 1000), "-CAfile", caPath, write("csr-leaf.pem", der)])).toMatch(/: OK/);
  });
});
