/**
 * The few certificate extensions SPIFFE verification needs that node:crypto's
 * X509Certificate does not expose: key usage bits, URI SANs, and which
 * critical extensions are present. A small strict DER walk over the
 * TBSCertificate; anything malformed throws.
 */
export interface CertExtensions {
  /** KeyUsage bits present (undefined = no KeyUsage extension). */
  readonly keyUsage?: { readonly certSign: boolean; readonly crlSign: boolean };
  /** basicConstraints cA. */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  readonly maxPathLen?: number;
  /** Every URI in the subjectAltName extension, in order. */
  readonly uris: readonly string[];
  /** OIDs of critical extensions this reader does not understand. */
  readonly unhandledCritical: readonly string[];
}

const oid = {
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
} as const;

/** Extensions Go's x509 parser handles; a critical one outside this set makes Go refuse the leaf. */
const handled = new Set([
  oid.keyUsage,
  oid.subjectAltName,
  oid.basicConstraints,
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.37", // extKeyUsage
  "2.5.29.30", // nameConstraints
  "2.5.29.31", // cRLDistributionPoints
  "2.5.29.32", // certificatePolicies
  "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
]);

interface El {
  readonly tag: number;
  readonly body: Buffer;
}

export function readCertExtensions(der: Buffer): CertExtensions {
  const [cert] = elements(der);
  const [tbs] = elements(expect(cert, 0x30).body);
  let keyUsage: CertExtensions["keyUsage"];
  let isCa = false;
  let maxPathLen: number | undefined;
  const uris: string[] = [];
  const unhandledCritical: string[] = [];
  for (const field of elements(expect(tbs, 0x30).body)) {
    if (field.tag !== 0xa3) continue;
    const [list] = elements(field.body);
    for (const ext of elements(expect(list, 0x30).body)) {
      const parts = elements(expect(ext, 0x30).body);
      const id = oidString(expect(parts[0], 0x06).body);
      const critical = parts.length === 3 && expect(parts[1], 0x01).body[0] !== 0;
      const value = expect(parts[parts.length - 1], 0x04).body;
      if (critical && !handled.has(id)) unhandledCritical.push(id);
      if (id === oid.keyUsage) {
        const bits = expect(elements(value)[0], 0x03).body;
        const first = bits.length > 1 ? bits[1]! : 0;
        keyUsage = { certSign: (first & 0x04) !== 0, crlSign: (first & 0x02) !== 0 };
      } else if (id === oid.basicConstraints) {
        const items = elements(expect(elements(value)[0], 0x30).body);
        for (const item of items) {
          if (item.tag === 0x01) isCa = item.body[0] !== 0;
          else if (item.tag === 0x02) maxPathLen = item.body.length > 4 ? Number.MAX_SAFE_INTEGER : item.body.readUIntBE(0, item.body.length);
        }
      } else if (id === oid.subjectAltName) {
        for (const name of elements(expect(elements(value)[0], 0x30).body)) {
          if (name.tag === 0x86) uris.push(name.body.toString("latin1"));
        }
      }
    }
  }
  return { keyUsage, isCa, maxPathLen, uris, unhandledCritical };
}

function elements(input: Buffer): El[] {
  const out: El[] = [];
  let at = 0;
  while (at < input.length) {
    if (out.length > 256) throw new Error("too many DER elements");
    const tag = input[at++]!;
    if ((tag & 0x1f) === 0x1f) throw new Error("high tag numbers are not supported");
    let len = input[at++];
    if (len === undefined) throw new Error("truncated DER length");
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + n > input.length) throw new Error("bad DER length");
      len = input.readUIntBE(at, n);
      at += n;
    }
    if (at + len > input.length) throw new Error("truncated DER element");
    out.push({ tag, body: input.subarray(at, at + len) });
    at += len;
  }
  return out;
}

function expect(el: El | undefined, tag: number): El {
  if (!el || el.tag !== tag) throw new Error(`expected DER tag 0x${tag.toString(16)}`);
  return el;
}

function oidString(body: Buffer): string {
  if (body.length === 0) throw new Error("empty OID");
  const parts: number[] = [];
  let value = 0;
  for (const byte of body) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}
