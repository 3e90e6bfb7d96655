import { describe, expect, it } from "vitest";
import { keyLine, keyLines, scanKeys } from "./locate.js";

describe("scanKeys", () => {
  it("records each key with the chain of keys and labels above it", () => {
    const text = [
      "server {", //                                   1
      '  trust_domain = "example.org" # x = {', //      2
      "  ca_subject = {", //                           3
      '    country = ["US"],', //                       4
      "  }", //                                        5
      "}", //                                          6
      "plugins {", //                                  7
      '  KeyManager "disk" {', //                      8
      "    plugin_data {", //                          9
      '      "quoted" = "{"', //                       10
      "      h = <<EOT", //                            11
      "not_a_key = 1", //                              12
      "EOT", //                                        13
      "      after = [{ inner = 1 }]", //              14
      "    }", //                                      15
      "  }", //                                        16
      "}", //                                          17
    ].join("\n");
    const found = scanKeys(text).map((o) => `${o.chain.join(".")}@${o.line}`);
    expect(found).toEqual([
      "server@1",
      "server.trust_domain@2",
      "server.ca_subject@3",
      "server.ca_subject.country@4",
      "plugins@7",
      "plugins.KeyManager@8",
      "plugins.KeyManager.disk@8",
      "plugins.KeyManager.disk.plugin_data@9",
      "plugins.KeyManager.disk.plugin_data.quoted@10",
      "plugins.KeyManager.disk.plugin_data.h@11",
      "plugins.KeyManager.disk.plugin_data.after@14",
      "plugins.KeyManager.disk.plugin_data.after.inner@14",
    ]);
  });

  it("reads JSON the same way", () => {
    const text = '{\n  "server": {\n    "trust_domain": "x",\n    "ca_subject": {"country": ["US"]}\n  }\n}';
    expect(scanKeys(text).map((o) => `${o.chain.join(".")}@${o.line}`)).toEqual([
      "server@2",
      "server.trust_domain@3",
      "server.ca_subject@4",
      "server.ca_subject.country@4",
    ]);
  });
});

describe("keyLine", () => {
  const source = { text: 'a {\n  x = 1\n}\nb {\n  x = 2\n}\nb {\n  y = 3\n}\n' };

  it("answers only when exactly one line matches", () => {
    expect(keyLine(source, ["a", "x"])).toBe(2);
    expect(keyLine(source, ["b", "y"])).toBe(8);
    expect(keyLine(source, ["b"])).toBeUndefined();
    expect(keyLines(source, ["b"])).toEqual([4, 7]);
    expect(keyLine(source, ["c"])).toBeUndefined();
    expect(keyLine(undefined, ["a"])).toBeUndefined();
  });

  it("skips list indexes and matches case-insensitively", () => {
    expect(keyLine({ text: 'L = [\n  { k = 1 },\n  { k = 2 }\n]' }, ["l", 1, "K"])).toBeUndefined();
    expect(keyLine({ text: 'L = [\n  { k = 1 }\n]' }, ["l", 0, "K"])).toBe(2);
  });
});
