/**
 * Go's encoding/json syntax errors, for the documents JSON.parse refuses: the same scan, the same
 * messages ("invalid character 'x' looking for beginning of value", "unexpected end of JSON
 * input", …), so a refused payload reads as it does under SPIRE. Iterative: nesting depth costs
 * no stack.
 */

const maxDepth = 10000;

/** Go's message for the first syntax error in `text`, or undefined if there is none. */
export function goJsonSyntaxError(text: string): string | undefined {
  try {
    scan(text);
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxProblem) return e.message;
    throw e;
  }
}

class SyntaxProblem extends Error {}

const end = (): never => {
  throw new SyntaxProblem("unexpected end of JSON input");
};
const bad = (c: string, context: string): never => {
  throw new SyntaxProblem(`invalid character ${quoteChar(c)} ${context}`);
};

function scan(s: string): void {
  const stack: ("{" | "[")[] = [];
  let i = 0;
  const ws = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };
  const key = () => {
    ws();
    if (i >= s.length) end();
    if (s[i] !== '"') bad(s[i]!, "looking for beginning of object key string");
    i = string(s, i);
    ws();
    if (i >= s.length) end();
    if (s[i] !== ":") bad(s[i]!, "after object key");
    i++;
  };

  ws();
  for (;;) {
    // A value starts here.
    ws();
    if (i >= s.length) end();
    const c = s[i]!;
    let container = false;
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) throw new SyntaxProblem("exceeded max depth");
      stack.push(c);
      i++;
      ws();
      if (i >= s.length) end();
      if ((c === "{" && s[i] === "}") || (c === "[" && s[i] === "]")) {
        stack.pop();
        i++;
      } else {
        if (c === "{") key();
        container = true;
      }
    } else if (c === '"') i = string(s, i);
    else if (c === "-" || (c >= "0" && c <= "9")) i = number(s, i);
    else if (c === "t" || c === "f" || c === "n") i = literal(s, i, c === "t" ? "true" : c === "f" ? "false" : "null");
    else bad(c, "looking for beginning of value");
    if (container) continue;

    // After a value: close containers or move to the next element.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (!top) {
        if (i < s.length) bad(s[i]!, "after top-level value");
        return;
      }
      if (i >= s.length) end();
      const d = s[i]!;
      if (d === ",") {
        i++;
        if (top === "{") key();
        break;
      }
      if ((top === "{" && d === "}") || (top === "[" && d === "]")) {
        stack.pop();
        i++;
        continue;
      }
      bad(d, top === "{" ? "after object key:value pair" : "after array element");
    }
  }
}

function string(s: string, start: number): number {
  let i = start + 1;
  for (;;) {
    if (i >= s.length) end();
    const c = s[i]!;
    if (c === '"') return i + 1;
    if (c === "\\") {
      i++;
      if (i >= s.length) end();
      const e = s[i]!;
      if (e === "u") {
        for (let k = 1; k <= 4; k++) {
          if (i + k >= s.length) end();
          if (!/[0-9a-fA-F]/.test(s[i + k]!)) bad(s[i + k]!, "in \\u hexadecimal character escape");
        }
        i += 5;
        continue;
      }
      if (!'"\\/bfnrt'.includes(e)) bad(e, "in string escape code");
      i++;
      continue;
    }
    if (c.charCodeAt(0) < 0x20) bad(c, "in string literal");
    i++;
  }
}

function number(s: string, start: number): number {
  let i = start;
  if (s[i] === "-") {
    i++;
    if (i >= s.length) end();
    if (!(s[i]! >= "0" && s[i]! <= "9")) bad(s[i]!, "in numeric literal");
  }
  if (s[i] === "0") i++;
  else while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
  if (s[i] === ".") {
    i++;
    if (i >= s.length) end();
    if (!(s[i]! >= "0" && s[i]! <= "9")) bad(s[i]!, "after decimal point in numeric literal");
    while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
  }
  if (s[i] === "e" || s[i] === "E") {
    i++;
    if (s[i] === "+" || s[i] === "-") i++;
    if (i >= s.length) end();
    if (!(s[i]! >= "0" && s[i]! <= "9")) bad(s[i]!, "in exponent of numeric literal");
    while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
  }
  return i;
}

function literal(s: string, start: number, word: string): number {
  for (let k = 1; k < word.length; k++) {
    if (start + k >= s.length) end();
    if (s[start + k] !== word[k]) bad(s[start + k]!, `in literal ${word} (expecting ${quoteChar(word[k]!)})`);
  }
  return start + word.length;
}

/** Go's quoteChar. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}
