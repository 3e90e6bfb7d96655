/**
 * The memory KeyManager with one defect injected, chosen by its first
 * argument, so the conformance kit's own tests can show that each check
 * catches what it is meant to (and that the other checks still pass):
 *
 * KeyManager defects
 *   wrong-fingerprint      SignData answers a key_fingerprint that is not the key's
 *   p1363-signatures       ECDSA signatures as r||s (IEEE P1363) instead of ASN.1 DER
 *   hashes-again           signs hash(data), the classic mistake of treating the digest as the message
 *   keeps-old-key          GenerateKey of an existing id keeps (and answers) the old key
 *   lax-validation         GenerateKey accepts an empty key id and an unspecified key type
 *   not-found-as-internal  unknown key ids fail with Internal instead of NotFound
 *   forgets-listing        GetPublicKeys lists only the first key
 * Lifecycle defects
 *   accepts-anything       Configure and Validate accept every configuration
 *   js-timestamps          logs with millisecond @timestamps (JS toISOString), which Go hosts cannot parse
 *   dies-on-sigint         does not ignore SIGINT
 *   lingers                does not exit after Shutdown
 *   talks-by-hand          started without the cookie, prints a greeting on stdout first
 * Anything else: no defect.
 */
import { createHash } from "node:crypto";
import { Code, RpcError, configService, keyManager, serve } from "@signet/plugin-sdk";
import { parseConfig } from "../../../plugins/keymanager-memory/src/config.js";
import { KeyManagerError, type KeyManagerErrorKind, MemoryKeyManager, type SignerOpts } from "../../../plugins/keymanager-memory/src/keymanager.js";

const mode = process.argv[2] ?? "none";
const keys = new MemoryKeyManager();

if (mode === "talks-by-hand" && process.env.KeyManager !== "KeyManager") process.stdout.write("hello from the key manager\n");

type WireSignerOpts =
  | { $case: "hashAlgorithm"; value: number }
  | { $case: "pssOptions"; value: { saltLength: number; hashAlgorithm: number } }
  | undefined;

const nodeHash: Record<number, string> = { 5: "sha256", 6: "sha384", 7: "sha512" };

const service = {
  async generateKey(req: { keyId: string; keyType: number }) {
    if (mode === "keeps-old-key") {
      const existing = keys.getPublicKeys().find((k) => k.id === req.keyId);
      if (existing) return { publicKey: existing };
    }
    if (mode === "lax-validation" && (req.keyId === "" || req.keyType === 0)) {
      return { publicKey: await domain(() => keys.generateKey(req.keyId || "unnamed", req.keyType || 1)) };
    }
    return { publicKey: await domain(() => keys.generateKey(req.keyId, req.keyType)) };
  },
  async getPublicKey(req: { keyId: string }) {
    return { publicKey: await domain(() => keys.getPublicKey(req.keyId)) };
  },
  async getPublicKeys() {
    const all = keys.getPublicKeys();
    return { publicKeys: mode === "forgets-listing" ? all.slice(0, 1) : all };
  },
  async signData(req: { keyId: string; data: Buffer; signerOpts: WireSignerOpts }) {
    const opts = signerOpts(req.signerOpts);
    const hashName = opts ? nodeHash[opts.hashAlgorithm] : undefined;
    const data = mode === "hashes-again" && hashName ? createHash(hashName).update(req.data).digest() : req.data;
    const res = await domain(() => keys.signData(req.keyId, data, opts));
    if (mode === "wrong-fingerprint") return { ...res, keyFingerprint: `${res.keyFingerprint.slice(0, -4)}0000` };
    if (mode === "p1363-signatures" && res.signature[0] === 0x30 && isEcKey(req.keyId)) return { ...res, signature: derToP1363(res.signature, req.keyId) };
    return res;
  },
};

function signerOpts(opts: WireSignerOpts): SignerOpts | undefined {
  if (!opts) return undefined;
  if (opts.$case === "hashAlgorithm") return { kind: "hash", hashAlgorithm: opts.value };
  return { kind: "pss", hashAlgorithm: opts.value.hashAlgorithm, saltLength: opts.value.saltLength };
}

function isEcKey(id: string): boolean {
  const type = keys.getPublicKey(id).type;
  return type === 1 || type === 2;
}

/** ECDSA-Sig-Value DER → fixed-width r||s. */
function derToP1363(der: Buffer, id: string): Buffer {
  const size = keys.getPublicKey(id).type === 1 ? 32 : 48;
  let offset = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const readInt = () => {
    const len = der[offset + 1]!;
    const bytes = der.subarray(offset + 2, offset + 2 + len);
    offset += 2 + len;
    const trimmed = bytes[0] === 0 ? bytes.subarray(1) : bytes;
    return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
  };
  return Buffer.concat([readInt(), readInt()]);
}

const codes: Record<KeyManagerErrorKind, Code> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "not-found": mode === "not-found-as-internal" ? Code.INTERNAL : Code.NOT_FOUND,
  internal: Code.INTERNAL,
};

async function domain<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof KeyManagerError) throw new RpcError(codes[e.kind], e.message);
    throw e;
  }
}

serve({
  type: "KeyManager",
  plugin: keyManager.server(service),
  services: [
    keyManager.agent(service),
    configService({ parse: (text) => (mode === "accepts-anything" ? undefined : parseConfig(text)), apply: () => {} }),
  ],
}).then(() => {
  if (mode === "js-timestamps") {
    process.stderr.write(`${JSON.stringify({ "@level": "info", "@message": "serving", "@timestamp": new Date().toISOString() })}\n`);
  }
  if (mode === "dies-on-sigint") process.removeAllListeners("SIGINT");
  if (mode === "lingers") {
    // Shutdown stops the gRPC server, but the process stays.
    process.exit = (() => undefined) as typeof process.exit;
    setInterval(() => {}, 1_000);
  }
});
