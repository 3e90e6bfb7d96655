/**
 * `-expandEnv`: SPIRE runs the whole file through Go's `os.Expand` before
 * parsing, with a mapping that returns the environment value (empty when unset)
 * except for `$$` (and `${$}`), which stays a literal `$`. The scanning rules
 * below are Go's `os.Expand` byte for byte.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

export function expandEnv(text: string, env: Environment): string {
  return goExpand(text, (name) => (name === "$" ? "$" : (env[name] ?? "")));
}

/** Go's `os.Expand`: replaces `$name` and `${name}` with `mapping(name)`. */
export function goExpand(text: string, mapping: (name: string) => string): string {
  let out = "";
  let copied = 0; // text[copied..j) has not been copied to out yet
  for (let j = 0; j < text.length; j++) {
    if (text[j] !== "$" || j + 1 >= text.length) continue;
    out += text.slice(copied, j);
    const { name, width } = shellName(text, j + 1);
    if (name === "" && width > 0) {
      // Invalid syntax ("${}" or an unterminated "${"): Go drops it.
    } else if (name === "") {
      out += "$"; // "$" not followed by a name stays as it is
    } else {
      out += mapping(name);
    }
    j += width;
    copied = j + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function shellName(text: string, start: number): { name: string; width: number } {
  const first = text[start]!;
  if (first === "{") {
    if (text.length - start > 2 && isShellSpecialVar(text[start + 1]!) && text[start + 2] === "}") {
      return { name: text[start + 1]!, width: 3 };
    }
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === "}") {
        if (i === start + 1) return { name: "", width: 2 }; // "${}"
        return { name: text.slice(start + 1, i), width: i - start + 1 };
      }
    }
    return { name: "", width: 1 }; // "${" without "}"
  }
  if (isShellSpecialVar(first)) return { name: first, width: 1 };
  let i = start;
  while (i < text.length && isAlphaNum(text[i]!)) i++;
  return { name: text.slice(start, i), width: i - start };
}

function isShellSpecialVar(c: string): boolean {
  return "*#$@!?-0123456789".includes(c);
}

function isAlphaNum(c: string): boolean {
  return c === "_" || (c >= "0" && c <= "9") || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}
