/**
 * Chain-of-trust verification as Go's x509.Certificate.Verify does it for SPIRE's x509pop
 * (any extended key usage allowed): candidate parents by subject name, preferring a matching key
 * ID; a parent must be allowed to sign (basic constraints, keyCertSign when key usage is set) and
 * its signature must hold; every certificate must be within its validity period; intermediates
 * must be CAs and path lengths are honoured. Same search order and same error wording, so an
 * operator reads the same message from Signet as from SPIRE.
 *
 * Name constraints are not evaluated: a chain through a CA that carries them is refused (Go
 * would evaluate them), never silently accepted.
 */
import { constants, verify as verifySignature } from "node:crypto";
import { type Certificate, KeyUsage } from "./certificate.js";
import { children, expectTag, parseOne, readInteger, readOid, Tag } from "./der.js";

/** A set of certificates indexed by subject, in insertion order, without duplicates (Go's CertPool). */
export class CertPool {
  private readonly bySubject = new Map<string, Certificate[]>();
  private readonly raws = new Set<string>();

  constructor(certs: readonly Certificate[] = []) {
    for (const c of certs) this.add(c);
  }

  add(cert: Certificate): void {
    const key = cert.raw.toString("base64");
    if (this.raws.has(key)) return;
    this.raws.add(key);
    const subject = cert.rawSubject.toString("base64");
    const list = this.bySubject.get(subject);
    if (list) list.push(cert);
    else this.bySubject.set(subject, [cert]);
  }

  contains(cert: Certificate): boolean {
    return this.raws.has(cert.raw.toString("base64"));
  }

  get size(): number {
    return this.raws.size;
  }

  /** Possible issuers of `child`: matching key ID first, then one-sided, then mismatched. */
  potentialParents(child: Certificate): Certificate[] {
    const matching: Certificate[] = [];
    const oneSided: Certificate[] = [];
    const mismatched: Certificate[] = [];
    for (const c of this.bySubject.get(child.rawIssuer.toString("base64")) ?? []) {
      if (c.subjectKeyId.equals(child.authorityKeyId)) matching.push(c);
      else if ((c.subjectKeyId.length === 0) !== (child.authorityKeyId.length === 0)) oneSided.push(c);
      else mismatched.push(c);
    }
    return [...matching, ...oneSided, ...mismatched];
  }
}

export interface VerifyOptions {
  readonly roots: CertPool;
  readonly intermediates: CertPool;
  readonly now: Date;
}

/** Go's limit on signature checks while searching for chains. */
const maxChainSignatureChecks = 100;

type CertType = "leaf" | "intermediate" | "root";

/** Verified chains, leaf first, root last; throws Error with Go's message when there is none. */
export function verifyChains(leaf: Certificate, options: VerifyOptions): Certificate[][] {
  const problem = validityProblem(leaf, "leaf", [], options);
  if (problem) throw new Error(problem);
  if (options.roots.contains(leaf)) return [[leaf]];
  const sigChecks = { count: 0 };
  const result = buildChains(leaf, [leaf], sigChecks, options);
  if (typeof result === "string") throw new Error(result);
  return result;
}

/** Chains from `cert` (the end of `chain`) up to a root, or Go's error message. */
function buildChains(cert: Certificate, chain: readonly Certificate[], sigChecks: { count: number }, options: VerifyOptions): Certificate[][] | string {
  const chains: Certificate[][] = [];
  let err: string | undefined;
  let hint: { err: string; cert: Certificate } | undefined;

  const consider = (type: CertType, candidate: Certificate) => {
    if (candidate.publicKey.type === "unknown" || chain.some((c) => c.raw.equals(candidate.raw))) return;
    if (++sigChecks.count > maxChainSignatureChecks) {
      err = "x509: signature check attempts limit reached while verifying certificate chain";
      return;
    }
    const sigProblem = checkSignatureFrom(cert, candidate);
    if (sigProblem) {
      hint ??= { err: sigProblem, cert: candidate };
      return;
    }
    err = validityProblem(candidate, type, chain, options);
    if (err) {
      hint ??= { err, cert: candidate };
      return;
    }
    if (type === "root") {
      chains.push([...chain, candidate]);
    } else {
      const deeper = buildChains(candidate, [...chain, candidate], sigChecks, options);
      if (typeof deeper === "string") err = deeper;
      else {
        err = undefined;
        chains.push(...deeper);
      }
    }
  };

  for (const root of options.roots.potentialParents(cert)) consider("root", root);
  for (const intermediate of options.intermediates.potentialParents(cert)) consider("intermediate", intermediate);

  if (chains.length > 0) return chains;
  if (err !== undefined) return err;
  return unknownAuthority(hint);
}

function unknownAuthority(hint: { err: string; cert: Certificate } | undefined): string {
  const base = "x509: certificate signed by unknown authority";
  if (!hint) return base;
  const name = hint.cert.subjectCommonName || `serial:${hint.cert.serialNumber.toString()}`;
  return `${base} (possibly because of ${JSON.stringify(hint.err)} while trying to verify candidate authority certificate ${JSON.stringify(name)})`;
}

/** Go's Certificate.isValid. */
function validityProblem(cert: Certificate, type: CertType, chain: readonly Certificate[], options: VerifyOptions): string | undefined {
  if (cert.unhandledCriticalExtension) return "x509: unhandled critical extension";
  const child = chain[chain.length - 1];
  if (child && !child.rawIssuer.equals(cert.rawSubject)) return "x509: issuer name does not match subject from issuing certificate";
  const now = options.now;
  if (now.getTime() < cert.notBefore.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(cert.notBefore)}`;
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(cert.notAfter)}`;
  }
  if (type !== "leaf" && cert.hasNameConstraints) {
    return "x509: a certificate in the chain has name constraints, which this verifier does not evaluate";
  }
  if (type === "intermediate" && (!cert.basicConstraintsValid || !cert.isCA)) {
    return "x509: certificate is not authorized to sign other certificates";
  }
  if (cert.basicConstraintsValid && cert.maxPathLen >= 0 && chain.length - 1 > cert.maxPathLen) {
    return "x509: too many intermediates for path length constraint";
  }
  return undefined;
}

/** Go's time.RFC3339 in UTC, to the second. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// -----------------------------------------------------------------------------------------------
// Signatures (Go's CheckSignatureFrom)
// -----------------------------------------------------------------------------------------------

type SignatureScheme =
  | { readonly kind: "rsa"; readonly hash: string }
  | { readonly kind: "rsa-pss"; readonly hash: string; readonly saltLength: number }
  | { readonly kind: "ecdsa"; readonly hash: string }
  | { readonly kind: "ed25519" }
  | { readonly kind: "insecure"; readonly name: string }
  | { readonly kind: "unsupported" };

const hashOids: Readonly<Record<string, { name: string; size: number }>> = {
  "2.16.840.1.101.3.4.2.1": { name: "sha256", size: 32 },
  "2.16.840.1.101.3.4.2.2": { name: "sha384", size: 48 },
  "2.16.840.1.101.3.4.2.3": { name: "sha512", size: 64 },
};

const signatureOids: Readonly<Record<string, SignatureScheme>> = {
  "1.2.840.113549.1.1.2": { kind: "insecure", name: "MD2-RSA" },
  "1.2.840.113549.1.1.4": { kind: "insecure", name: "MD5-RSA" },
  "1.2.840.113549.1.1.5": { kind: "insecure", name: "SHA1-RSA" },
  "1.2.840.10045.4.1": { kind: "insecure", name: "ECDSA-SHA1" },
  "1.2.840.113549.1.1.11": { kind: "rsa", hash: "sha256" },
  "1.2.840.113549.1.1.12": { kind: "rsa", hash: "sha384" },
  "1.2.840.113549.1.1.13": { kind: "rsa", hash: "sha512" },
  "1.2.840.10045.4.3.2": { kind: "ecdsa", hash: "sha256" },
  "1.2.840.10045.4.3.3": { kind: "ecdsa", hash: "sha384" },
  "1.2.840.10045.4.3.4": { kind: "ecdsa", hash: "sha512" },
  "1.3.101.112": { kind: "ed25519" },
};

const pssOid = "1.2.840.113549.1.1.10";
const mgf1Oid = "1.2.840.113549.1.1.8";

function checkSignatureFrom(child: Certificate, parent: Certificate): string | undefined {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
    return "x509: invalid signature: parent certificate cannot sign this kind of certificate";
  }
  if (parent.keyUsage !== 0 && (parent.keyUsage & KeyUsage.certSign) === 0) {
    return "x509: invalid signature: parent certificate cannot sign this kind of certificate";
  }
  const scheme = schemeOf(child);
  const key = parent.publicKey;
  switch (scheme.kind) {
    case "insecure":
      return `x509: cannot verify signature: insecure algorithm ${scheme.name}`;
    case "unsupported":
      return "x509: cannot verify signature: algorithm unimplemented";
    case "rsa":
    case "rsa-pss": {
      if (key.type !== "rsa") return `x509: signature algorithm specifies an RSA public key, but have public key of type ${goKeyType(key.type)}`;
      const options =
        scheme.kind === "rsa"
          ? { key: key.key, padding: constants.RSA_PKCS1_PADDING }
          : { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength };
      return safeVerify(scheme.hash, child, options) ? undefined : "crypto/rsa: verification error";
    }
    case "ecdsa":
      if (key.type !== "ecdsa") return `x509: signature algorithm specifies an ECDSA public key, but have public key of type ${goKeyType(key.type)}`;
      return safeVerify(scheme.hash, child, { key: key.key, dsaEncoding: "der" }) ? undefined : "x509: ECDSA verification failure";
    case "ed25519":
      if (key.type !== "ed25519") return `x509: signature algorithm specifies an Ed25519 public key, but have public key of type ${goKeyType(key.type)}`;
      return safeVerify(null, child, { key: key.key }) ? undefined : "x509: Ed25519 verification failure";
  }
}

function safeVerify(hash: string | null, child: Certificate, key: Parameters<typeof verifySignature>[2]): boolean {
  try {
    return verifySignature(hash, child.rawTbs, key, child.signature);
  } catch {
    return false;
  }
}

function goKeyType(type: Certificate["publicKey"]["type"]): string {
  return { rsa: "*rsa.PublicKey", ecdsa: "*ecdsa.PublicKey", ed25519: "ed25519.PublicKey", unknown: "<nil>" }[type];
}

/** The child's signature scheme; RSA-PSS only with Go's parameter sets (salt = hash size, MGF1 with the same hash). */
function schemeOf(cert: Certificate): SignatureScheme {
  if (cert.signatureAlgorithm !== pssOid) return signatureOids[cert.signatureAlgorithm] ?? { kind: "unsupported" };
  try {
    const tbs = parseOne(cert.rawTbs, Tag.sequence, "tbs");
    const fields = children(tbs, "tbs", 10);
    const alg = fields[fields[0]?.tag === 0xa0 ? 2 : 1];
    const [, params] = children(expectTag(alg, Tag.sequence, "algorithm"), "algorithm", 2);
    const parts = children(expectTag(params, Tag.sequence, "pss params"), "pss params", 4);
    let hash: { name: string; size: number } | undefined;
    let mgfHash: string | undefined;
    let salt = -1;
    let trailer = 1n;
    for (const p of parts) {
      const [inner] = children(p, "pss param", 1);
      if (p.tag === 0xa0) hash = hashOids[readOid(children(expectTag(inner, Tag.sequence, "hash"), "hash", 2)[0], "hash")];
      else if (p.tag === 0xa1) {
        const [mgf, mgfParams] = children(expectTag(inner, Tag.sequence, "mgf"), "mgf", 2);
        if (readOid(mgf, "mgf") !== mgf1Oid) return { kind: "unsupported" };
        mgfHash = hashOids[readOid(children(expectTag(mgfParams, Tag.sequence, "mgf hash"), "mgf hash", 2)[0], "mgf hash")]?.name;
      } else if (p.tag === 0xa2) salt = Number(readInteger(inner, "salt length", 2));
      else if (p.tag === 0xa3) trailer = readInteger(inner, "trailer", 2);
    }
    if (!hash || mgfHash !== hash.name || salt !== hash.size || trailer !== 1n) return { kind: "unsupported" };
    return { kind: "rsa-pss", hash: hash.name, saltLength: salt };
  } catch {
    return { kind: "unsupported" };
  }
}
