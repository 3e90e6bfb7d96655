/**
 * Where a JSON text stops being valid, and why. V8's JSON.parse messages do
 * not always carry a position (and change between Node versions), so this
 * small scanner runs once parsing has failed, to say `line:column: reason`.
 */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly reason: string;
}

export function findJsonSyntaxError(text: string): JsonSyntaxError {
  let i = 0;
  const fail = (reason: string): never => {
    throw { offset: i, reason } satisfies JsonSyntaxError;
  };
  const show = () => (i >= text.length ? "end of input" : JSON.stringify(text[i]));
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text[i]!;
      if (c < " ") fail("control character in string (missing closing quote?)");
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape in string");
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail("invalid escape in string");
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= text.length) fail("unterminated string");
    i++;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a quoted key, got ${show()}`);
        string();
        space();
        if (text[i] !== ":") fail(`expected ":" after key, got ${show()}`);
        i++;
        value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(`expected "," or "}" after value, got ${show()}`);
      }
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(`expected "," or "]" after value, got ${show()}`);
      }
    }
    if (c === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (literal === null) fail(`expected a value, got ${show()}`);
    i += literal![0].length;
  };

  try {
    value();
    space();
    if (i < text.length) fail(`unexpected ${show()} after the end of the JSON value`);
  } catch (error) {
    if (typeof error === "object" && error !== null && "reason" in error) return error as JsonSyntaxError;
    throw error;
  }
  // JSON.parse failed but the scanner found nothing: report the end.
  return { offset: text.length, reason: "invalid JSON" };
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
