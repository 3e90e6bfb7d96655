/**
 * SPIRE's check of an entry's DNS names (x509util.ValidateLabel): ASCII, at
 * most one wildcard and only as the whole first label, then what Go's strict
 * IDNA lookup profile accepts (letters, digits and hyphens; labels of 1–63
 * bytes; 253 bytes in all; no hyphen at either end of a label, none in
 * positions 3–4 except for "xn--" labels, whose punycode is not decoded here). Surrounding
 * whitespace is trimmed before the check, as SPIRE does. Returns the reason in SPIRE's words, or undefined.
 */
export function dnsNameProblem(name: string): string | undefined {
  if (!/^[\x00-\x7f]*$/.test(name)) return "name must be ascii";
  const stars = name.split("*").length - 1;
  if (stars === 0) return plainNameProblem(name);
  if (stars > 1) return "too many wildcards";
  if (!name.startsWith("*.")) return "wildcard must be first label";
  return plainNameProblem(name.slice(2));
}

function plainNameProblem(input: string): string | undefined {
  const name = input.trim();
  if (name === "") return "empty or only whitespace";
  if (name.endsWith(".")) return "domain ends with dot";
  if (name.startsWith("*.")) return "wildcard not allowed";
  for (const ch of name) {
    if (!/[a-z0-9.-]/.test(ch)) {
      const code = ch.codePointAt(0) ?? 0;
      return idna(`idna: disallowed rune U+${code.toString(16).toUpperCase().padStart(4, "0")}`);
    }
  }
  if (name.length > 253) return idna(`idna: invalid label ${JSON.stringify(name)}`);
  for (const label of name.split(".")) {
    if (label.length === 0 || label.length > 63) return idna(`idna: invalid label ${JSON.stringify(label)}`);
    const punycode = label.startsWith("xn--");
    if (label.startsWith("-") || label.endsWith("-") || (!punycode && label.slice(2, 4) === "--")) {
      return idna(`idna: invalid label ${JSON.stringify(label)}`);
    }
  }
  return undefined;
}

function idna(detail: string): string {
  return `idna error\n${detail}`;
}
