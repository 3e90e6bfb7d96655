import { describe, expect, it } from "vitest";
import { JsonDecodeError, decodeAttestationData, decodeChallenge, decodeResponse, encodeAttestationData, encodeChallenge, encodeResponse } from "./codec.js";

const n = (byte: number, len = 32) => Buffer.alloc(len, byte);

describe("x509pop wire codec", () => {
  it("encodes exactly as Go's encoding/json does (field order, nil as null, standard base64)", () => {
    expect(encodeAttestationData({ certificates: [Buffer.from([1, 2, 3]), Buffer.from([0xff])] }).toString()).toBe('{"certificates":["AQID","/w=="]}');
    expect(encodeAttestationData({ certificates: [] }).toString()).toBe('{"certificates":null}');
    expect(encodeChallenge({ ecdsaSignature: { nonce: n(0) } }).toString()).toBe(
      `{"rsa_signature":null,"ecdsa_signature":{"nonce":"${n(0).toString("base64")}"}}`,
    );
    expect(encodeChallenge({ rsaSignature: { nonce: n(1) } }).toString()).toBe(`{"rsa_signature":{"nonce":"${n(1).toString("base64")}"},"ecdsa_signature":null}`);
    expect(encodeResponse({ ecdsaSignature: { nonce: n(2), r: Buffer.from([1]), s: Buffer.from([2]) } }).toString()).toBe(
      `{"rsa_signature":null,"ecdsa_signature":{"nonce":"${n(2).toString("base64")}","r":"AQ==","s":"Ag=="}}`,
    );
    expect(encodeResponse({ rsaSignature: { nonce: n(3), signature: Buffer.from("sig") } }).toString()).toBe(
      `{"rsa_signature":{"nonce":"${n(3).toString("base64")}","signature":"c2ln"},"ecdsa_signature":null}`,
    );
  });

  it("decodes what it encodes", () => {
    const data = { certificates: [Buffer.from("a"), Buffer.from("bc")] };
    expect(decodeAttestationData(encodeAttestationData(data))).toEqual(data);
    expect(decodeChallenge(encodeChallenge({ rsaSignature: { nonce: n(5) } }))).toEqual({ rsaSignature: { nonce: n(5) }, ecdsaSignature: undefined });
    const response = { ecdsaSignature: { nonce: n(6), r: n(7, 31), s: n(8) } };
    expect(decodeResponse(encodeResponse(response))).toEqual({ rsaSignature: undefined, ...response });
  });

  it("follows encoding/json's rules: any key case, unknown keys ignored, last duplicate wins, null leaves unset, \\r\\n in base64 ignored", () => {
    expect(decodeAttestationData(Buffer.from('{"CERTIFICATES":["AQ=="],"other":true}')).certificates).toEqual([Buffer.from([1])]);
    expect(decodeAttestationData(Buffer.from('{"certificates":["AQ=="],"Certificates":["Ag=="]}')).certificates).toEqual([Buffer.from([2])]);
    expect(decodeAttestationData(Buffer.from("null")).certificates).toEqual([]);
    expect(decodeAttestationData(Buffer.from('{"certificates":[null]}')).certificates).toEqual([Buffer.alloc(0)]);
    expect(decodeAttestationData(Buffer.from('{"certificates":["AQ\\r\\nID"]}')).certificates).toEqual([Buffer.from([1, 2, 3])]);
    expect(decodeResponse(Buffer.from('{"ECDSA_Signature":{"NONCE":"AA==","r":null}}')).ecdsaSignature).toEqual({ nonce: Buffer.from([0]), r: Buffer.alloc(0), s: Buffer.alloc(0) });
  });

  it("refuses with Go's messages", () => {
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(JsonDecodeError);
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(error(() => decodeAttestationData(Buffer.from('"x"')))).toBe("json: cannot unmarshal string into Go value of type x509pop.AttestationData");
    expect(error(() => decodeAttestationData(Buffer.from('{"certificates":[1]}')))).toBe("json: cannot unmarshal number into Go struct field AttestationData.certificates of type []uint8");
    expect(error(() => decodeAttestationData(Buffer.from('{"certificates":{}}')))).toBe("json: cannot unmarshal object into Go struct field AttestationData.certificates of type [][]uint8");
    expect(error(() => decodeAttestationData(Buffer.from('{"certificates":["AQ="]}')))).toMatch(/^illegal base64 data at input byte \d+$/);
    expect(error(() => decodeAttestationData(Buffer.from('{"certificates":["AQ-_"]}')))).toBe("illegal base64 data at input byte 2");
    expect(error(() => decodeResponse(Buffer.from('{"ecdsa_signature":[]}')))).toBe("json: cannot unmarshal array into Go struct field Response.ecdsa_signature of type x509pop.ECDSASignatureResponse");
    expect(error(() => decodeChallenge(Buffer.from('{"rsa_signature":{"nonce":true}}')))).toBe("json: cannot unmarshal bool into Go struct field Challenge.rsa_signature.nonce of type []uint8");
  });
});
