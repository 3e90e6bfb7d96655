import { describe, expect, it } from "vitest";
import { goJsonString } from "@signet/plugin-sdk";
import { PayloadDecodeError, decodeAttestationData, encodeAttestationData } from "./payload.js";

describe("k8s_psat payload", () => {
  it("is written as SPIRE's agent writes it", () => {
    expect(encodeAttestationData({ cluster: "prod", token: "aa.bb.cc" }).toString()).toBe('{"cluster":"prod","token":"aa.bb.cc"}');
    // A token file's newline stays, escaped; Go's HTML-safe escapes apply.
    expect(encodeAttestationData({ cluster: "a<b>&", token: "t\n" }).toString()).toBe('{"cluster":"a\\u003cb\\u003e\\u0026","token":"t\\n"}');
    expect(goJsonString("\u2028\u0001\"\\")).toBe('"\\u2028\\u0001\\"\\\\"');
  });

  it("is read as encoding/json reads it", () => {
    expect(decodeAttestationData(Buffer.from('{"cluster":"prod","token":"t"}'))).toEqual({ cluster: "prod", token: "t" });
    expect(decodeAttestationData(Buffer.from('{"CLUSTER":"a","Cluster":"b","token":null,"other":1}'))).toEqual({ cluster: "b", token: "" });
    expect(decodeAttestationData(Buffer.from("null"))).toEqual({ cluster: "", token: "" });
    const round = { cluster: "c\u2029", token: "x<y" };
    expect(decodeAttestationData(encodeAttestationData(round))).toEqual(round);
  });

  it("refuses documents encoding/json refuses, in its wording", () => {
    expect(() => decodeAttestationData(Buffer.from('"text"'))).toThrow("json: cannot unmarshal string into Go value of type k8s.PSATAttestationData");
    expect(() => decodeAttestationData(Buffer.from("true"))).toThrow("json: cannot unmarshal bool into Go value of type k8s.PSATAttestationData");
    expect(() => decodeAttestationData(Buffer.from('{"token":{}}'))).toThrow("json: cannot unmarshal object into Go struct field PSATAttestationData.token of type string");
    expect(() => decodeAttestationData(Buffer.from('{"cluster":["a"]}'))).toThrow("json: cannot unmarshal array into Go struct field PSATAttestationData.cluster of type string");
    expect(() => decodeAttestationData(Buffer.from("{"))).toThrow(PayloadDecodeError);
  });
});
