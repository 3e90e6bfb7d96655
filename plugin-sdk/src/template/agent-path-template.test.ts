import { describe, expect, it } from "vitest";
import { AgentPathTemplate, TemplateError, type TemplateStruct } from "./agent-path-template.js";

const data: TemplateStruct = {
  kind: "struct",
  type: "x509pop.agentPathTemplateData",
  fields: {
    PluginName: "x509pop",
    Fingerprint: "0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33",
    SerialNumberHex: "0a1b",
    SerialNumber: 2587n,
    TrustDomain: "example.org",
    SVIDPathTrimmed: "host-1",
    Subject: { kind: "struct", type: "pkix.Name", fields: { CommonName: "Node.Example.org" } },
    DNSNames: ["a.example.org", "b.example.org"],
    URISanSelectors: { kind: "map", entries: new Map([["datacenter", "us-east-1"]]) },
  },
};
const run = (text: string) => AgentPathTemplate.parse(text).execute(data);

describe("agent path templates (Go text/template, missingkey=error, SPIRE's sprig functions)", () => {
  it("renders SPIRE's defaults and documented fields", () => {
    expect(run("/{{ .PluginName }}/{{ .Fingerprint }}")).toBe("/x509pop/0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33");
    expect(run("/{{ .PluginName }}/{{ .SVIDPathTrimmed }}")).toBe("/x509pop/host-1");
    expect(run("/cn/{{ .Subject.CommonName }}")).toBe("/cn/Node.Example.org");
    expect(run("/{{.TrustDomain}}/{{ .SerialNumberHex }}/{{ .SerialNumber }}")).toBe("/example.org/0a1b/2587");
    expect(run("/dc/{{ .URISanSelectors.datacenter }}")).toBe("/dc/us-east-1");
    expect(run('/dc/{{ index .URISanSelectors "datacenter" }}')).toBe("/dc/us-east-1");
    expect(run("/{{ .DNSNames }}")).toBe("/[a.example.org b.example.org]");
  });

  it("pipelines, parentheses, functions and trim markers", () => {
    expect(run("/{{ .Subject.CommonName | lower }}")).toBe("/node.example.org");
    expect(run('/{{ .Subject.CommonName | lower | trimSuffix ".example.org" | upper }}')).toBe("/NODE");
    expect(run('/{{ replace "." "-" (lower .Subject.CommonName) }}')).toBe("/node-example-org");
    expect(run("/{{ .Fingerprint | trunc 8 }}/{{ trunc -4 .Fingerprint }}")).toBe("/0beec7b5/8a33");
    expect(run('/{{ printf "%s-%s" .PluginName .SVIDPathTrimmed }}')).toBe("/x509pop-host-1");
    expect(run("/{{ sha256sum .Subject.CommonName | trunc 6 }}")).toMatch(/^\/[0-9a-f]{6}$/);
    expect(run('/{{ default "none" .SVIDPathTrimmed }}')).toBe("/host-1");
    expect(run("/a  {{- .PluginName -}}  /b")).toBe("/ax509pop/b");
    expect(run("/{{/* a comment */}}x")).toBe("/x");
    expect(run("/{{ `raw` }}")).toBe("/raw");
  });

  it("fails at execution on a missing map key or an unknown field, as missingkey=error does", () => {
    expect(() => run("/{{ .URISanSelectors.rack }}")).toThrow('map has no entry for key "rack"');
    expect(() => run("/{{ .Nope }}")).toThrow("can't evaluate field Nope in type x509pop.agentPathTemplateData");
    expect(() => run("/{{ .Subject.Nope }}")).toThrow("can't evaluate field Nope in type pkix.Name");
  });

  it("refuses bad or unsupported templates when parsed", () => {
    for (const [text, message] of [
      ["/{{ .Fingerprint ", "unclosed action"],
      ["/{{ nosuch .Fingerprint }}", 'function "nosuch" not defined'],
      ["/{{ if .PluginName }}x{{ end }}", "{{if}} is not supported"],
      ["/{{ $x := 1 }}", "variables are not supported"],
      ["/{{ }}", "missing value for command"],
      ["/{{ .A .B }}", "can't give argument to non-function .A"],
      ["/{{ (lower .A }}", "unclosed left paren"],
    ] as const) {
      expect(() => AgentPathTemplate.parse(text), text).toThrow(TemplateError);
      expect(() => AgentPathTemplate.parse(text), text).toThrow(message);
    }
  });
});
