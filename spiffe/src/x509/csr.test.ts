import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { integer, oid, sequence, tlv } from "./der.js";
import { CsrError } from "./errors.js";
import { parseCsr, type CertificateRequest } from "./csr.js";
import { Oid } from "./oids.js";

const dir = mkdtempSync(join(tmpdir(), "signet-csr-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A CSR made by `openssl req`, DER. */
function opensslCsr(newkey: string[], sans?: string, subj = "/O=SPIRE/CN=test"): Buffer {
  const out = join(dir, `csr-${seq++}.der`);
  const args = ["req", "-new", ...newkey, "-nodes", "-keyout", join(dir, `key-${seq}.pem`), "-subj", subj, "-outform", "DER", "-out", out];
  if (sans) args.push("-addext", `subjectAltName=${sans}`);
  execFileSync("openssl", args, { stdio: "ignore" });
  return readFileSync(out);
}
const ec = (curve: string) => ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${curve}`];
const rsa = (bits: number) => ["-newkey", `rsa:${bits}`];

function csrError(fn: () => unknown): CsrError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CsrError);
    return err as CsrError;
  }
  throw new Error("expected a CsrError");
}

describe("parseCsr with openssl-made requests", () => {
  let p256: Buffer;
  beforeAll(() => {
    p256 = opensslCsr(ec("P-256"), "URI:spiffe://example.org/w,DNS:a.example.org,DNS:b.example.org");
  });

  it("reads EC P-256 with URI and DNS SANs", () => {
    const csr = parseCsr(p256);
    expect(csr.publicKeyAlgorithm).toEqual({ type: "ec", curve: "P-256" });
    expect(csr.uriSan).toBe("spiffe://example.org/w");
    expect(csr.dnsSans).toEqual(["a.example.org", "b.example.org"]);
    expect(csr.subject).toEqual([
      { type: Oid.organization, value: "SPIRE" },
      { type: Oid.commonName, value: "test" },
    ]);
    expect(csr.spki.equals(csr.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
  });

  it("accepts PEM text and PEM bytes", () => {
    const pemText = `-----BEGIN CERTIFICATE REQUEST-----\n${p256.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(parseCsr(pemText).uriSan).toBe("spiffe://example.org/w");
    expect(parseCsr(Buffer.from(pemText)).dnsSans).toHaveLength(2);
  });

  it("reads EC P-384 without SANs (an agent's attestation CSR)", () => {
    const csr: CertificateRequest = parseCsr(opensslCsr(ec("P-384")));
    expect(csr.publicKeyAlgorithm).toEqual({ type: "ec", curve: "P-384" });
    expect(csr.uriSan).toBeUndefined();
    expect(csr.dnsSans).toEqual([]);
  });

  it("reads RSA-2048 (SHA-256) and verifies SHA-384/512 signatures", () => {
    for (const digest of ["-sha256", "-sha384", "-sha512"]) {
      const csr = parseCsr(opensslCsr([...rsa(2048), digest], "URI:spiffe://example.org/rsa"));
      expect(csr.publicKeyAlgorithm).toEqual({ type: "rsa", modulusBits: 2048 });
      expect(csr.uriSan).toBe("spiffe://example.org/rsa");
    }
  });

  it("rejects more than one URI SAN", () => {
    const err = csrError(() => parseCsr(opensslCsr(ec("P-256"), "URI:spiffe://example.org/a,URI:spiffe://example.org/b")));
    expect(err.kind).toBe("invalid");
    expect(err.message).toBe("only one URI SAN is expected");
  });

  it("rejects unsupported key types with a precise message", () => {
    expect(csrError(() => parseCsr(opensslCsr(["-newkey", "ed25519"])))).toMatchObject({
      kind: "unsupported",
      message: "unsupported CSR: unsupported public key algorithm 1.3.101.112 (Ed25519): expected EC P-256, EC P-384, RSA 2048 or RSA 4096",
    });
    expect(csrError(() => parseCsr(opensslCsr(ec("P-521"))))).toMatchObject({
      kind: "unsupported",
      message: "unsupported CSR: unsupported EC curve 1.3.132.0.35: expected P-256 or P-384",
    });
    expect(csrError(() => parseCsr(opensslCsr(rsa(1024))))).toMatchObject({
      kind: "unsupported",
      message: "unsupported CSR: unsupported RSA key size 1024 bits: expected 2048 or 4096",
    });
    expect(csrError(() => parseCsr(opensslCsr([...rsa(2048), "-sigopt", "rsa_padding_mode:pss"])))).toMatchObject({ kind: "unsupported" });
  });

  it("reports a signature that does not verify after a flipped byte", () => {
    const tampered = Buffer.from(p256);
    tampered[tampered.length - 5]! ^= 0x01; // inside the signature's last INTEGER
    const err = csrError(() => parseCsr(tampered));
    expect(err.kind).toBe("signature");
    expect(err.message).toMatch(/^failed to verify CSR signature: /);

    // A flipped byte in the signed part (the CN) parses but no longer verifies.
    const i = p256.indexOf(Buffer.from("test"));
    const tamperedInfo = Buffer.from(p256);
    tamperedInfo[i] = "T".charCodeAt(0);
    expect(csrError(() => parseCsr(tamperedInfo))).toMatchObject({
      kind: "signature",
      message: "failed to verify CSR signature: x509: ECDSA verification failure",
    });
  });

  it("gives only CsrError for truncated and wrong-length input", () => {
    for (let n = 0; n < p256.length; n += 7) {
      expect(csrError(() => parseCsr(p256.subarray(0, n))).kind).toBe("malformed");
    }
    const longer = Buffer.from(p256);
    longer[2]! += 1; // outer length claims one byte more than present
    expect(csrError(() => parseCsr(longer)).message).toMatch(/^malformed CSR: /);
    const trailing = Buffer.concat([p256, Buffer.from([0])]);
    expect(csrError(() => parseCsr(trailing)).message).toMatch(/trailing/);
  });

  it("survives random mutations with CsrError or a valid parse", () => {
    for (let round = 0; round < 3000; round++) {
      const mutated = Buffer.from(p256);
      const flips = 1 + (round % 4);
      for (let k = 0; k < flips; k++) mutated[randomBytes(2).readUInt16BE() % mutated.length] = randomBytes(1)[0]!;
      try {
        parseCsr(mutated);
      } catch (err) {
        expect(err).toBeInstanceOf(CsrError);
      }
    }
  });
});

describe("parseCsr with hand-made hostile input", () => {
  it("rejects deeply nested garbage quickly", () => {
    let nested: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 5000; i++) nested = tlv(0x30, nested);
    const start = process.hrtime.bigint();
    expect(csrError(() => parseCsr(nested)).kind).toBe("malformed");
    expect(csrError(() => parseCsr(Buffer.from("3080".repeat(20000), "hex"))).kind).toBe("malformed");
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(500);
  });

  it("handles a huge unterminated PEM block in linear time", () => {
    const start = process.hrtime.bigint();
    const text = `-----BEGIN CERTIFICATE REQUEST-----\n${"A".repeat(120_000)}`;
    expect(csrError(() => parseCsr(text)).kind).toBe("malformed");
    expect(csrError(() => parseCsr("-----BEGIN CERTIFICATE REQUEST-----".repeat(3000))).kind).toBe("malformed");
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(500);
  });

  it("rejects oversize, empty and non-CSR input", () => {
    expect(csrError(() => parseCsr(Buffer.alloc(0))).kind).toBe("malformed");
    expect(csrError(() => parseCsr(Buffer.concat([Buffer.from([0x30, 0x83, 0x01, 0x00, 0x00]), Buffer.alloc(0x10000)]))).message).toMatch(/larger than/);
    expect(csrError(() => parseCsr("not a csr")).message).toBe("malformed CSR: neither DER nor a PEM CERTIFICATE REQUEST block");
    expect(csrError(() => parseCsr(null as unknown as string)).kind).toBe("malformed");
    expect(csrError(() => parseCsr(sequence(integer(0)))).kind).toBe("malformed");
  });

  it("rejects a wrong version and a compressed EC point", () => {
    const spki = sequence(sequence(oid(Oid.ecPublicKey), oid(Oid.p256)), tlv(0x03, Buffer.concat([Buffer.from([0, 0x02]), randomBytes(32)])));
    const info = sequence(integer(0), sequence(), spki, tlv(0xa0, Buffer.alloc(0)));
    const csr = sequence(info, sequence(oid(Oid.ecdsaWithSha256)), tlv(0x03, Buffer.from([0, 0x30, 0])));
    expect(csrError(() => parseCsr(csr)).message).toBe("malformed CSR: EC public key: expected an uncompressed P-256 point");
    const v2 = sequence(sequence(integer(1), sequence(), spki), sequence(oid(Oid.ecdsaWithSha256)), tlv(0x03, Buffer.from([0])));
    expect(csrError(() => parseCsr(v2)).message).toBe("malformed CSR: version: expected 0 (v1)");
  });
});
