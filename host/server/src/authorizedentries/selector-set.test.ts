import { describe, expect, it } from "vitest";
import { packSelectors, selectorKey, unpackSelectors } from "./selector-set.js";

describe("selector sets", () => {
  it("packs and unpacks any selector, dropping duplicates", () => {
    const list = [
      { type: "x509pop", value: "subject:cn:agent 1" },
      { type: "unix", value: "" },
      { type: "k8s", value: `label:${"x".repeat(2000)}` },
      { type: "ü", value: " 3 spaces: and colons " },
      { type: "unix", value: "" },
    ];
    const keys = unpackSelectors(packSelectors(list));
    expect([...keys]).toEqual([...new Set(list.map(selectorKey))]);
    expect(keys.size).toBe(4);
    expect(unpackSelectors(packSelectors([]))).toEqual(new Set());
  });

  it("gives different pairs different keys even when their text runs together", () => {
    expect(selectorKey({ type: "a:b", value: "c" })).not.toBe(selectorKey({ type: "a", value: "b:c" }));
  });
});
