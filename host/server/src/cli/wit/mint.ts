/**
 * `wit mint` [SVID/MintWITSVID]: only offered when SPIRE_SERVER_FFLAGS
 * lists "wit-svid", as in spire-server.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { WITSVID } from "@signet/proto/spire/api/types/witsvid";
import { CliError, fileErrorText, goRfc3339Utc, resolvePath, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { durationToSeconds, idToProto, jwtExpiry } from "../parse.js";

export const witFeatureFlag = "wit-svid";

type KeyType = "ec-p256" | "ec-p384" | "rsa-2048" | "rsa-4096";

/** SPIRE's validateKeyTypeAndSigningAlgorithm, with its wording. */
export function witKeyType(keyType: string, alg: string): KeyType {
  if (["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"].includes(alg)) {
    if (keyType === "rsa-2048" || keyType === "rsa-4096") return keyType;
    throw new CliError(`unsupported key type '${keyType}' for signing algorithm '${alg}'`);
  }
  if (alg === "ES256" || alg === "ES384") {
    const want = alg === "ES256" ? "ec-p256" : "ec-p384";
    if (keyType !== want) throw new CliError(`unsupported key type '${keyType}' for '${alg}' signing algorithm`);
    return want;
  }
  throw new CliError(`unsupported signing algorithm: ${alg}`);
}

function generate(keyType: KeyType): KeyObject {
  if (keyType === "ec-p256" || keyType === "ec-p384") {
    return generateKeyPairSync("ec", { namedCurve: keyType === "ec-p256" ? "P-256" : "P-384" }).privateKey;
  }
  return generateKeyPairSync("rsa", { modulusLength: keyType === "rsa-2048" ? 2048 : 4096 }).privateKey;
}

/** go-jose's private JWK, members in its order. */
function privateJwk(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" }) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const m of ["kty", "crv", "x", "y", "n", "e", "d", "p", "q", "dp", "dq", "qi"]) if (jwk[m] !== undefined) out[m] = jwk[m];
  return JSON.stringify(out);
}

/** encoding/json of a types.WITSVID (protoc-gen-go tags: snake_case, omitempty, int64 as numbers). */
function witSvidStruct(s: WITSVID | undefined): Record<string, unknown> | null {
  if (!s) return null;
  const out: Record<string, unknown> = {};
  if (s.token !== "") out.token = s.token;
  if (s.id) {
    const id: Record<string, unknown> = {};
    if (s.id.trustDomain !== "") id.trust_domain = s.id.trustDomain;
    if (s.id.path !== "") id.path = s.id.path;
    out.id = id;
  }
  if (s.expiresAt !== 0n) out.expires_at = Number(s.expiresAt);
  if (s.issuedAt !== 0n) out.issued_at = Number(s.issuedAt);
  if (s.hint !== "") out.hint = s.hint;
  return out;
}

export const witMint = apiCommand({
  name: "wit mint",
  synopsis: "Mints a WIT-SVID",
  define(fs) {
    const spiffeID = fs.string("spiffeID", "", "SPIFFE ID of the WIT-SVID");
    const keyType = fs.string("keyType", "ec-p256", "Key type of the WIT-SVID");
    const signingAlgorithm = fs.string("signingAlgorithm", "ES256", "Signing algorithm for the workload signing key");
    const ttl = fs.duration("ttl", 0n, "TTL of the WIT-SVID");
    const write = fs.string("write", "", "Directory to write output to instead of stdout");
    return async ({ env, client, printer }) => {
      if (spiffeID.value === "") throw new CliError("spiffeID must be specified");
      const id = idToProto(spiffeID.value);
      const ttlSeconds = durationToSeconds(ttl.value);
      const key = generate(witKeyType(keyType.value, signingAlgorithm.value));
      const publicKey = createPublicKey(key).export({ format: "der", type: "spki" });
      let resp;
      try {
        resp = await client.svid.mintWitsvid({ id, publicKey, signingAlgorithm: signingAlgorithm.value, ttl: ttlSeconds });
      } catch (e) {
        throw wrap("unable to mint SVID", e);
      }
      const token = resp.svid?.token ?? "";
      if (token === "") throw new CliError("server response missing token");
      const exp = jwtExpiry(token);
      if (typeof exp === "string") env.stderr(`Unable to determine WIT-SVID lifetime: ${exp}\n`);
      else if (BigInt(Date.now()) * 1_000_000n + ttl.value > BigInt(exp) * 1_000_000_000n) {
        env.stderr(`WIT-SVID lifetime was capped shorter than specified ttl; expires "${goRfc3339Utc(exp)}"\n`);
      }
      const jwk = privateJwk(key);
      if (write.value === "") {
        const result = { private_key: jwk, svid: witSvidStruct(resp.svid) };
        await printer.struct(result, (r) => env.stdout(`${token}\n${r.private_key}\n`));
        return;
      }
      const tokenPath = path.join(resolvePath(env, write.value), "token");
      const keyPath = path.join(resolvePath(env, write.value), "key");
      try {
        await writeFile(tokenPath, token, { mode: 0o600 });
      } catch (e) {
        throw new CliError(`unable to write token: ${fileErrorText("open", tokenPath, e)}`);
      }
      env.stdout(`WIT-SVID written to ${tokenPath}\n`);
      try {
        await writeFile(keyPath, jwk, { mode: 0o600 });
      } catch (e) {
        throw new CliError(`unable to write key: ${fileErrorText("open", keyPath, e)}`);
      }
      env.stdout(`Private key written to ${keyPath}\n`);
    };
  },
});
