import { reasons } from "./errors.js";

/**
 * The SPIFFE ID grammar, byte by byte, as go-spiffe enforces it. Pure checks
 * that return the broken rule (or undefined), so callers choose the error.
 */

export const scheme = "spiffe://";

const trustDomainChar = new Uint8Array(128);
const pathChar = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const lowerOrDigit = (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9");
  const common = ch === "." || ch === "-" || ch === "_";
  trustDomainChar[c] = lowerOrDigit || common ? 1 : 0;
  pathChar[c] = lowerOrDigit || common || (ch >= "A" && ch <= "Z") ? 1 : 0;
}

export function trustDomainNameProblem(name: string): string | undefined {
  if (name.length === 0) return reasons.missingTrustDomain;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || trustDomainChar[c] !== 1) return reasons.badTrustDomainChar;
  }
  return undefined;
}

/** An empty path is valid (the trust domain's own ID); otherwise "/seg/seg…". */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return undefined;
  if (path.charCodeAt(0) !== 0x2f) return reasons.noLeadingSlash;
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 0x2f) {
      const segment = path.slice(segmentStart, i);
      if (segment.length === 0) return i === path.length ? reasons.trailingSlash : reasons.emptySegment;
      if (segment === "." || segment === "..") return reasons.dotSegment;
      segmentStart = i + 1;
      continue;
    }
    const c = path.charCodeAt(i);
    if (c >= 128 || pathChar[c] !== 1) return reasons.badPathChar;
  }
  return undefined;
}
