/**
 * Byte parity with SPIRE: for the same keys, serials and clock, our TBSCertificates must equal
 * the ones Go's x509.CreateCertificate builds from SPIRE's credtemplate templates and from
 * x509svid.UpstreamCA.SignCSR's template, downstream CA included (testdata/go-create-certificate). ECDSA signatures are randomized, so the TBS is what we compare.
 * Left out where no Go toolchain is installed, except in CI (CI=true), where that fails.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpiffeId, TrustDomain } from "../id/index.js";
import { issuerFromCertificate } from "./certificate.js";
import { parseCsr, type CertificateRequest } from "./csr.js";
import { encodeTbs, keyObjectSigner, mintCertificateSync, spkiOf } from "./mint.js";
import { downstreamCaTemplate, newSerialNumber, selfSignedCaTemplate, upstreamSignedCaTemplate, x509SvidTemplate } from "./template.js";

const hasGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
const source = fileURLToPath(new URL("./testdata/go-create-certificate", import.meta.url));

describe("Go toolchain for the X.509 parity test", () => {
  it("is on PATH when CI=true", () => {
    if (!hasGo && process.env.CI === "true") throw new Error("go is not on PATH: CI must run the X.509 parity test against Go's CreateCertificate");
  });
});

describe.skipIf(!hasGo)("parity with Go's CreateCertificate on SPIRE's templates", () => {
  const dir = mkdtempSync(join(tmpdir(), "signet-go-parity-"));
  const bin = join(dir, "go-create-certificate");
  let caCsr: CertificateRequest;
  beforeAll(() => {
    execFileSync("go", ["build", "-o", bin, "."], { cwd: source, env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" }, stdio: "pipe" });
    const csrPath = join(dir, "ca.csr");
    execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "ca.key"),
      "-subj", "/C=US/O=SPIFFE/serialNumber=1234", "-addext", "subjectAltName=URI:spiffe://example.org", "-outform", "DER", "-out", csrPath], { stdio: "ignore" });
    caCsr = parseCsr(readFileSync(csrPath));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  type Kind = "P-256" | "P-384" | "rsa";
  const gen = (k: Kind) => (k === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: k }));
  const dnsVariants = [[], ["web.example.org"], ["*.web.example.org", "b.example.org"], ["a&b.example"]];

  for (const caKind of ["P-256", "P-384", "rsa"] as const) {
    for (const leafKind of ["P-256", "P-384", "rsa"] as const) {
      it(`CA ${caKind}, leaf ${leafKind}`, () => {
        const ca = gen(caKind);
        const signer = keyObjectSigner(ca.privateKey);
        const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 456); // Go drops the fraction too
        const id = "spiffe://example.org/ns/prod/sa/web";
        for (const dnsNames of dnsVariants) {
          const leaf = gen(leafKind);
          const caSerial = newSerialNumber();
          const leafSerial = newSerialNumber();
          const caTemplate = selfSignedCaTemplate({ trustDomain: TrustDomain.parse("example.org"), spki: spkiOf(ca.publicKey), now, serial: caSerial });
          const caDer = mintCertificateSync(caTemplate, signer);
          const leafTemplate = x509SvidTemplate({
            spiffeId: SpiffeId.parse(id),
            spki: spkiOf(leaf.publicKey),
            issuer: issuerFromCertificate(caDer),
            dnsNames,
            now,
            serial: leafSerial,
          });
          const input = {
            CaKey: ca.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"),
            LeafSpki: spkiOf(leaf.publicKey).toString("base64"),
            CaSerial: caSerial.toString(),
            LeafSerial: leafSerial.toString(),
            Now: Math.floor(now.getTime() / 1000),
            DNS: dnsNames,
            ID: id,
            CaCsr: caCsr.raw.toString("base64"),
            CaCsrSerial: leafSerial.toString(),
          };
          const go = JSON.parse(execFileSync(bin, { input: JSON.stringify(input), encoding: "utf8" })) as Record<"caTbs" | "leafTbs" | "upstreamTbs" | "downstreamTbs", string>;
          expect(encodeTbs(caTemplate, signer.algorithm).toString("hex")).toBe(Buffer.from(go.caTbs, "base64").toString("hex"));
          expect(encodeTbs(leafTemplate, signer.algorithm).toString("hex")).toBe(Buffer.from(go.leafTbs, "base64").toString("hex"));
          const upstreamTemplate = upstreamSignedCaTemplate({
            trustDomain: TrustDomain.parse("example.org"),
            csr: caCsr,
            issuer: issuerFromCertificate(caDer),
            now,
            serial: leafSerial,
          });
          expect(encodeTbs(upstreamTemplate, signer.algorithm).toString("hex")).toBe(Buffer.from(go.upstreamTbs, "base64").toString("hex"));
          const downstreamTemplate = downstreamCaTemplate({
            trustDomain: TrustDomain.parse("example.org"),
            spki: spkiOf(leaf.publicKey),
            issuer: issuerFromCertificate(caDer),
            parentChainLength: 1,
            ttlSeconds: 48 * 3600,
            now,
            serial: leafSerial,
          });
          expect(encodeTbs(downstreamTemplate, signer.algorithm).toString("hex")).toBe(Buffer.from(go.downstreamTbs, "base64").toString("hex"));
        }
      });
    }
  }
});
