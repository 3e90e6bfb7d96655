/**
 * Go's `strconv.ParseInt(s, 0, 64)`, which hcl v1 uses when a quoted string
 * is decoded into an integer field (`server_port = "8081"` in SPIRE's own
 * sample agent.conf): optional sign, base prefix 0x/0o/0b or a leading 0 for
 * octal, underscores between digits. Returns undefined when Go would fail;
 * integers outside the exactly representable JS range are refused too.
 */
export function parseGoInt(text: string): number | undefined {
  let s = text;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "") return undefined;

  let base = 10;
  let digits = s;
  let prefixed = false;
  if (s[0] === "0" && s.length > 1) {
    const p = s[1]!.toLowerCase();
    if (p === "x" || p === "o" || p === "b") {
      base = p === "x" ? 16 : p === "o" ? 8 : 2;
      digits = s.slice(2);
      prefixed = true;
    } else {
      base = 8;
      digits = s.slice(1);
    }
  }
  if (s.includes("_") && !underscoresOk(text)) return undefined;
  digits = digits.replaceAll("_", "");
  if (digits === "" && (prefixed || base === 10)) return undefined;

  let value = 0n;
  for (const c of digits) {
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    value = value * BigInt(base) + BigInt(d);
  }
  if (neg) value = -value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/** Go's `underscoreOK`: underscores only between digits, or after a base prefix. */
function underscoresOk(text: string): boolean {
  let s = text;
  if (s[0] === "+" || s[0] === "-") s = s.slice(1);
  let saw = "^";
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "box".includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = "0";
    hex = s[1]!.toLowerCase() === "x";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    const lower = c.toLowerCase();
    if ((c >= "0" && c <= "9") || (hex && lower >= "a" && lower <= "f")) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}
