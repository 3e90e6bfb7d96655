import { describe, expect, it } from "vitest";
import { goJsonString } from "./string.js";
import { goJsonSyntaxError } from "./syntax-error.js";

describe("Go's encoding/json", () => {
  it("goJsonString escapes <, > and & as Go's HTML-safe encoder does", () => {
    expect(goJsonString("a<b>&c")).toBe('"a\\u003cb\\u003e\\u0026c"');
    expect(goJsonString("</script>")).toBe('"\\u003c/script\\u003e"');
  });

  it("goJsonString escapes the line terminators U+2028 and U+2029", () => {
    expect(goJsonString("x\u2028y\u2029z")).toBe('"x\\u2028y\\u2029z"');
    expect(goJsonString("\u2028\u0001\"\\")).toBe('"\\u2028\\u0001\\"\\\\"');
  });

  it("goJsonString writes control characters, quotes and backslashes as JSON.stringify does", () => {
    expect(goJsonString("t\n\r\t\b\f")).toBe('"t\\n\\r\\t\\b\\f"');
    expect(goJsonString("\u0000\u001f")).toBe('"\\u0000\\u001f"');
    expect(goJsonString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    // Other non-ASCII text is written as is, in UTF-8, as Go does.
    expect(goJsonString("é日本\u{1f600}")).toBe('"é日本\u{1f600}"');
  });

  it("goJsonString escapes lone surrogates, so the output is valid UTF-8 that reads back as U+FFFD in Go", () => {
    expect(goJsonString("a\ud800b")).toBe('"a\\ud800b"');
    expect(goJsonString("\udfff")).toBe('"\\udfff"');
    // A valid pair is one character, written as is.
    expect(goJsonString("\ud83d\ude00")).toBe('"\u{1f600}"');
    expect(Buffer.from(goJsonString("\ud800"), "utf8").toString("utf8")).toBe('"\\ud800"');
  });

  it("goJsonString output is JSON that reads back to the same string", () => {
    for (const s of ["", "plain", "a<b>&c", "\u2028\u2029", "\n\u0000", "é\u{1f600}"]) expect(JSON.parse(goJsonString(s))).toBe(s);
  });

  it("goJsonSyntaxError reports JSON syntax errors as Go's scanner does", () => {
    const cases: [string, string | undefined][] = [
      ["", "unexpected end of JSON input"],
      ["  ", "unexpected end of JSON input"],
      ["{", "unexpected end of JSON input"],
      ["x", "invalid character 'x' looking for beginning of value"],
      ["tru", "unexpected end of JSON input"],
      ["trux", "invalid character 'x' in literal true (expecting 'e')"],
      ["{1}", "invalid character '1' looking for beginning of object key string"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b"}', "invalid character '\"' after object key:value pair"],
      ["[1 2]", "invalid character '2' after array element"],
      ["[1] x", "invalid character 'x' after top-level value"],
      ["01", "invalid character '1' after top-level value"],
      ["-x", "invalid character 'x' in numeric literal"],
      ["1.x", "invalid character 'x' after decimal point in numeric literal"],
      ["1ex", "invalid character 'x' in exponent of numeric literal"],
      ['"\\x"', "invalid character 'x' in string escape code"],
      ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['"a\u0001"', "invalid character '\\u0001' in string literal"],
      ["'", "invalid character '\\'' looking for beginning of value"],
      ['{"a":[1,{"b":null}],"c":-1.5e+3}', undefined],
      ["[".repeat(10001), "exceeded max depth"],
    ];
    for (const [text, message] of cases) expect(goJsonSyntaxError(text), text.slice(0, 20)).toBe(message);
  });
});
