/**
 * DNS names requested in a MintX509SVID CSR, checked as SPIRE's
 * x509util.ValidateLabel and CheckForWildcardOverlap do. Each check throws an
 * Error carrying Go's text, which SPIRE puts after "CSR DNS name is invalid: ".
 */
import { domainToUnicode } from "node:url";

export function validateDnsName(domain: string): void {
  if (!/^[\x00-\x7f]*$/.test(domain)) throw new Error("name must be ascii");
  const stars = domain.split("*").length - 1;
  if (stars === 0) return validNonWildcard(domain);
  if (stars > 1) throw new Error("too many wildcards");
  if (!domain.startsWith("*.")) throw new Error("wildcard must be first label");
  validNonWildcard(domain.slice(2));
}

/** A non-wildcard name must not be covered by a wildcard in the same list. */
export function checkWildcardOverlap(names: readonly string[]): void {
  const set = new Set(names);
  for (const name of set) {
    if (name.startsWith("*")) continue;
    const labels = name.split(".");
    labels[0] = "*";
    if (set.has(labels.join("."))) {
      throw new Error(`name "${name}" overlaps with an existing wildcard name in the list: wildcard overlap`);
    }
  }
}

function validNonWildcard(input: string): void {
  const domain = input.trim();
  if (domain === "") throw new Error("empty or only whitespace");
  if (domain.endsWith(".")) throw new Error("domain ends with dot");
  if (domain.startsWith("*.")) throw new Error("wildcard not allowed");
  const problem = idnaProblem(domain);
  if (problem) throw new Error(`idna error\nidna: invalid label ${JSON.stringify(problem)}`);
}

/**
 * The IDNA ToASCII checks Go's profile applies to an ASCII name (DNS
 * lengths, hyphen rules, punycode labels that must decode): the offending
 * label, or undefined when the name passes.
 */
function idnaProblem(domain: string): string | undefined {
  for (const label of domain.split(".")) {
    if (label.length === 0 || label.length > 63) return label.length === 0 ? domain : label;
    if (label.toLowerCase().startsWith("xn--")) {
      const decoded = domainToUnicode(label.toLowerCase());
      if (decoded === "" || decoded === label.toLowerCase()) return label;
      continue;
    }
    if (label.length > 4 && label[2] === "-" && label[3] === "-") return label;
    if (label.startsWith("-") || label.endsWith("-")) return label;
    if (/[\x00-\x20\x7f]/.test(label)) return label;
  }
  if (domain.length > 253) return domain;
  return undefined;
}
