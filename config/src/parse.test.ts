import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { isJsonText, parseConfigText, parseJsonConfigText } from "./parse.js";

async function parseError(text: string): Promise<ConfigError> {
  try {
    await parseConfigText(text, { filename: "test.conf" });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe("parseConfigText (HCL)", () => {
  it("gives hcl v1's tree: blocks are lists of objects, repeated blocks more entries", async () => {
    const tree = await parseConfigText(`
      server {
        trust_domain = "example.org"
        bind_port = 8081
        admin_ids = ["spiffe://example.org/admin"]
        ca_subject { country = ["US"] }
      }
      telemetry { Prometheus { port = 9988 } }
      telemetry { InMem {} }
    `);
    expect(tree).toEqual({
      server: [
        {
          trust_domain: "example.org",
          bind_port: 8081,
          admin_ids: ["spiffe://example.org/admin"],
          ca_subject: [{ country: ["US"] }],
        },
      ],
      telemetry: [{ Prometheus: [{ port: 9988 }] }, { InMem: [{}] }],
    });
  });

  it("reads labels, stacked keys, heredocs and comments", async () => {
    const tree = await parseConfigText(`
      # comment
      // comment
      /* block
         comment */
      plugins {
        WorkloadAttestor "unix" plugin_data { discover_workload_path = true }
      }
      x = <<EOT
two
  lines
EOT
    `);
    expect(tree.plugins).toEqual([{ WorkloadAttestor: [{ unix: [{ plugin_data: [{ discover_workload_path: true }] }] }] }]);
    expect(tree.x).toBe("two\n  lines\n");
  });

  it("reports syntax errors with file, line and column", async () => {
    const unclosed = await parseError('server {\n  trust_domain = "x"\n');
    expect(unclosed.message).toBe('test.conf:3:2: expected "}" to close the block, got end of file');
    expect([unclosed.file, unclosed.line, unclosed.column]).toEqual(["test.conf", 3, 2]);

    expect((await parseError("server {\n  trust_domain\n}")).message).toBe(
      "test.conf:3:1: key 'trust_domain' expected start of object ('{') or assignment ('=')",
    );
    expect((await parseError('a = 1\nb = "x\nc = 2')).message).toBe("test.conf:2:7: literal not terminated");
    expect((await parseError("a = 1\nb = [1 2]")).message).toBe("test.conf:2:8: error parsing list, expected comma or list end, got: number");
  });

  it("says when a string value lacks quotes", async () => {
    const error = await parseError("log_level = DEBUG");
    expect(error.message).toBe('test.conf:1:13: unexpected identifier "DEBUG" (strings must be quoted)');
  });

  it("names the key given both as a block and as a value", async () => {
    const error = await parseError("a = 1\na { b = 1 }");
    expect(error.path).toBe("a");
    expect(error.detail).toBe("the same key is given both as a block and as a value");
  });

  it("explains the nested and labelled plugin forms that hcl v1 cannot combine", async () => {
    const error = await parseError('plugins {\n  NodeAttestor { a { } }\n  NodeAttestor "b" { }\n}\n');
    expect(error.path).toBe("plugins.NodeAttestor");
    expect(error.line).toBeUndefined(); // written on two lines: ambiguous
    expect(error.detail).toContain("on lines 2, 3");
    expect(error.detail).toContain('write every one as NodeAttestor "name" { ... }');
  });
});

describe("parseConfigText (JSON)", () => {
  it("recognises JSON as hcl v1 does: first non-space character is {", () => {
    expect(isJsonText('  \n {"a": 1}')).toBe(true);
    expect(isJsonText("a = 1")).toBe(false);
    expect(isJsonText("# {\na = 1")).toBe(false);
  });

  it("gives the same tree as hcl v1 does for the same JSON text", async () => {
    const text = JSON.stringify({
      server: { trust_domain: "example.org", bind_port: 8081, ca_subject: { country: ["US"], common_name: "" } },
      list: [1, "two"],
      blocks: [{ x: { y: 1 }, q: 1 }, { z: [{ w: "v" }], q: 2 }],
      empty: {},
      nothing: null,
    });
    const hcl = createRequire(import.meta.url)("js-hcl-parser") as { parse(text: string): string };
    expect(await parseConfigText(text)).toEqual(JSON.parse(hcl.parse(text)));
    expect(await parseConfigText(text)).toEqual({
      server: [{ trust_domain: "example.org", bind_port: 8081, ca_subject: [{ country: ["US"], common_name: "" }] }],
      list: [1, "two"],
      blocks: [{ x: [{ y: 1 }], q: 1 }, { z: [{ w: "v" }], q: 2 }],
      empty: [{}],
      nothing: "",
    });
  });

  it("keeps booleans inside lists, which hcl v1's JSON parser drops", async () => {
    expect(await parseConfigText('{"flags": [true, false, 1]}')).toEqual({ flags: [true, false, 1] });
  });

  it("reports JSON syntax errors with line and column", async () => {
    const trailingComma = await parseError('{\n  "a": 1,\n}');
    expect(trailingComma.message).toBe('test.conf:3:1: expected a quoted key, got "}"');
    expect((await parseError('{\n  "a": tru\n}')).message).toBe('test.conf:2:8: expected a value, got "t"');
    expect((await parseError('{"a": 1} x')).message).toBe('test.conf:1:10: unexpected "x" after the end of the JSON value');
    expect((await parseError('{"a": "x')).message).toBe("test.conf:1:9: unterminated string");
  });

  it("keeps JSON that uses keys JavaScript treats specially as plain data", () => {
    const tree = parseJsonConfigText('{"__proto__": {"polluted": true}, "constructor": 1}');
    expect(Object.keys(tree)).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(tree.constructor).toBe(1);
  });
});
