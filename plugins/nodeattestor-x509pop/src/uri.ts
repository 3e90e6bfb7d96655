/**
 * The parts of a URI SAN that x509pop reads, as Go's net/url presents them: the scheme in lower
 * case, the path both as written (EscapedPath) and percent-decoded (Path), and the whole URI
 * re-assembled with the lower-cased scheme (String).
 */

export interface UriParts {
  readonly scheme: string;
  readonly host: string;
  readonly escapedPath: string;
  readonly path: string;
  readonly string: string;
}

const pattern = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/s;

/** undefined when Go's url.Parse would refuse the text (or it has no scheme). */
export function parseUri(text: string): UriParts | undefined {
  const m = pattern.exec(text);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const escapedPath = m[3] ?? "";
  let path: string;
  try {
    path = decodeURIComponent(escapedPath);
  } catch {
    return undefined;
  }
  const rest = text.slice(m[1]!.length);
  return { scheme, host: m[2] ?? "", escapedPath, path, string: `${scheme}${rest}` };
}
