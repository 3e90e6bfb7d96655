/**
 * Signature verification before the document is read: AWS's two formats from a test "AWS"
 * (test/fakes/aws/iid-signer.ts, PKCS #7 in BER as AWS writes it), every forgery with SPIRE's
 * code and message, and AWS's embedded certificates.
 */
import { describe, expect, it } from "vitest";
import { IidSigner, explicit, identityDocument, indefinite, integer, oid, set, seq } from "../../../test/fakes/aws/ec2-world.js";
import { PluginError } from "@signet/plugin-sdk";
import { AwsCertificates, pemToDer } from "./aws-ca.js";
import { rsa1024DefaultCertificate } from "./aws-certificates.js";
import { parseBer } from "./ber.js";
import { verifyIdentityDocument } from "./identity.js";
import type { AttestationData } from "./payload.js";
import { Pkcs7Error, parseSignedData, verifySignedData } from "./pkcs7.js";

const aws = new IidSigner();
const impostor = new IidSigner("Impostor");
const trusted = AwsCertificates.of({ rsa2048: { "us-west-2": aws.rsa2048.pem }, rsa1024: { "us-west-2": aws.rsa1024.pem } });
const identity = { accountId: "123456789012", region: "us-west-2", availabilityZone: "us-west-2a", instanceId: "i-0123456789abcdef0", imageId: "ami-1" };
const document = identityDocument(identity);
const genuine: AttestationData = { document, signature: aws.signatureRsa1024(document), rsa2048: aws.signatureRsa2048(document) };

function refusal(data: Partial<AttestationData>, certs = trusted): { kind: string; message: string } {
  try {
    verifyIdentityDocument({ ...genuine, ...data }, certs);
  } catch (e) {
    if (e instanceof PluginError) return { kind: e.kind, message: e.message };
    throw e;
  }
  throw new Error("accepted");
}
const invalid = (message: string | RegExp) => ({ kind: "invalid-argument", message: typeof message === "string" ? message : expect.stringMatching(message) });

describe("instance identity verification", () => {
  it("accepts AWS's PKCS #7 (BER, indefinite lengths) and the RSA-1024 signature, then reads the document", () => {
    expect(verifyIdentityDocument(genuine, trusted)).toEqual(identity);
    expect(verifyIdentityDocument({ ...genuine, rsa2048: "" }, trusted)).toEqual(identity);
    const direct = aws.signatureRsa2048(document, { noAttributes: true });
    expect(verifyIdentityDocument({ ...genuine, rsa2048: direct, signature: "" }, trusted)).toEqual(identity);
  });

  it("refuses every forgery with SPIRE's InvalidArgument and message", () => {
    const der = Buffer.from(genuine.rsa2048, "base64");
    const flipped = Buffer.from(der);
    flipped[der.length - 40] = flipped[der.length - 40]! ^ 0x10;
    expect(refusal({ rsa2048: flipped.toString("base64") })).toEqual(invalid("failed verification of instance identity cryptographic signature: crypto/rsa: verification error"));
    expect(refusal({ rsa2048: impostor.signatureRsa2048(document) })).toEqual(invalid("failed verification of instance identity cryptographic signature: pkcs7: No certificate for signer"));
    expect(refusal({ rsa2048: genuine.rsa2048.replace(/\n/g, "").slice(0, 400) })).toEqual(invalid(/^failed to parse the instance identity cryptographic signature: asn1: structure error: /));
    expect(refusal({ rsa2048: "not base64!" })).toEqual(invalid("failed to decode the instance identity cryptographic signature"));
    const other = identityDocument({ ...identity, instanceId: "i-0ffffffffffffffff" });
    expect(refusal({ document: other })).toEqual(invalid("instance identity document does not match the verified PKCS7 content"));
    expect(refusal({ document: other, rsa2048: aws.signatureRsa2048(other, { messageDigest: Buffer.alloc(32, 7) }) })).toEqual(
      invalid(/^failed verification of instance identity cryptographic signature: pkcs7: Message digest mismatch\n\tExpected: 0707/),
    );
    expect(refusal({ rsa2048: "", signature: impostor.signatureRsa1024(document) })).toEqual(invalid("failed to verify the cryptographic signature: crypto/rsa: verification error"));
    expect(refusal({ rsa2048: "", document: other })).toEqual(invalid("failed to verify the cryptographic signature: crypto/rsa: verification error"));
    expect(refusal({ rsa2048: "", signature: "abc$" })).toEqual(invalid("failed to decode the IID signature: illegal base64 data at input byte 3"));
    expect(refusal({ rsa2048: "", signature: "" })).toEqual(invalid("instance identity cryptographic signature is required"));
  });

  it("reads the document only after verifying it, with Go's messages for a signed document that is not one", () => {
    const notJson = "instanceId: i-1";
    expect(refusal({ document: notJson, rsa2048: aws.signatureRsa2048(notJson) })).toEqual(invalid("failed to unmarshal the IID: invalid character 'i' looking for beginning of value"));
    const wrongType = '{"region": 5}';
    expect(refusal({ document: wrongType, rsa2048: aws.signatureRsa2048(wrongType) })).toEqual(
      invalid("failed to unmarshal the IID: json: cannot unmarshal number into Go struct field InstanceIdentityDocument.region of type string"),
    );
  });

  it("AWS's embedded certificates: every region parses; RSA-1024 falls back to the default, RSA-2048 does not", () => {
    const embedded = AwsCertificates.embedded();
    expect(embedded.size).toBeGreaterThanOrEqual(70);
    expect("error" in embedded.forRegion("rsa2048", "us-east-1")).toBe(false);
    expect(embedded.forRegion("rsa2048", "xx-nowhere-1")).toEqual({ error: 'unsupported region "xx-nowhere-1"' });
    expect((embedded.forRegion("rsa1024", "xx-nowhere-1") as { der: Buffer }).der).toEqual(pemToDer(rsa1024DefaultCertificate));
    // Our test "AWS" is not AWS.
    expect(refusal({}, embedded)).toEqual(invalid("failed verification of instance identity cryptographic signature: pkcs7: No certificate for signer"));
  });
});

describe("PKCS #7 and BER parsing of hostile input", () => {
  it("refuses other content types, empty input, no signers, and malformed BER without crashing", () => {
    expect(() => parseSignedData(Buffer.alloc(0))).toThrow("pkcs7: input data is empty");
    expect(() => parseSignedData(seq(oid("1.2.840.113549.1.7.1"), explicit(0, Buffer.from([4, 0]))))).toThrow("pkcs7: cannot parse data: unimplemented content type");
    const noSigners = parseSignedData(seq(oid("1.2.840.113549.1.7.2"), explicit(0, seq(integer(1n), set(), seq(oid("1.2.840.113549.1.7.1")), set()))));
    expect(() => verifySignedData(noSigners, [])).toThrow("pkcs7: Message has no signers");
    for (const bad of [Buffer.from([0x30, 0x80, 0x30, 0x80]), Buffer.from([0x30, 0x85, 1, 2, 3, 4, 5]), Buffer.from([0x04, 0x80, 0, 0]), Buffer.from([0x30, 0x05, 0x02, 0x01])]) {
      expect(() => parseSignedData(bad)).toThrow(Pkcs7Error);
    }
    let deep: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 40; i++) deep = indefinite(0x30, deep);
    expect(() => parseBer(deep)).toThrow("ASN.1 nesting too deep");
  });
});
