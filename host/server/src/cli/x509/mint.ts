/** `x509 mint` [SVID/MintX509SVID + Bundle/GetBundle] */
import { generateKeyPairSync, sign } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createCsrWithSigner } from "@signet/spiffe";
import { CliError, fileErrorText, goRfc3339Utc, resolvePath, wrap } from "@signet/host-common";
import { apiCommand } from "../command.js";
import { durationToSeconds, idToProto } from "../parse.js";
import { pemBlock } from "../print/bundle.js";

export const x509Mint = apiCommand({
  name: "x509 mint",
  synopsis: "Mints an X509-SVID",
  define(fs) {
    const spiffeID = fs.string("spiffeID", "", "SPIFFE ID of the X509-SVID");
    const ttl = fs.duration("ttl", 0n, "TTL of the X509-SVID");
    const dns = fs.strings("dns", "DNS name that will be included in SVID. Can be used more than once.");
    const write = fs.string("write", "", "Directory to write output to instead of stdout");
    return async ({ env, client, printer }) => {
      if (spiffeID.value === "") throw new CliError("spiffeID must be specified");
      idToProto(spiffeID.value);
      const ttlSeconds = durationToSeconds(ttl.value);
      // The SPKI comes out of key generation and the algorithm is known: asking a fresh
      // KeyObject for its details (as createCsr does) can deadlock Node 20's key-generation cleanup.
      const { privateKey, publicKey: spki } = generateKeyPairSync("ec", {
        namedCurve: "P-256",
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs8", format: "der" },
      });
      const signingKey = { key: privateKey, format: "der", type: "pkcs8", dsaEncoding: "der" } as const;
      const csr = await createCsrWithSigner(
        { spki, subject: {}, uriSans: [spiffeID.value], dnsNames: dns.value },
        { algorithm: "ECDSA-SHA256", sign: (info) => sign("sha256", info, signingKey) },
      );
      let resp;
      try {
        resp = await client.svid.mintX509Svid({ csr, ttl: ttlSeconds });
      } catch (e) {
        throw wrap("unable to mint SVID", e);
      }
      const chain = resp.svid?.certChain ?? [];
      if (chain.length === 0) throw new CliError("server response missing SVID chain");
      let bundle;
      try {
        bundle = await client.bundle.getBundle({ outputMask: undefined });
      } catch (e) {
        throw wrap("unable to get bundle", e);
      }
      if (bundle.x509Authorities.length === 0) throw new CliError("server response missing X509 Authorities");
      const eol = resp.svid?.expiresAt ?? 0n;
      if (BigInt(Date.now()) * 1_000_000n + ttl.value > eol * 1_000_000_000n) {
        env.stderr(`X509-SVID lifetime was capped shorter than specified ttl; expires "${goRfc3339Utc(eol)}"\n`);
      }
      const roots = bundle.x509Authorities.map((a) => Buffer.from(a.asn1));
      const svidPem = chain.map((c) => pemBlock("CERTIFICATE", c)).join("");
      const keyPem = pemBlock("PRIVATE KEY", privateKey);
      const bundlePem = roots.map((c) => pemBlock("CERTIFICATE", c)).join("");
      if (write.value === "") {
        const result = {
          x509_svid: chain.map((c) => Buffer.from(c).toString("base64")),
          private_key: privateKey.toString("base64"),
          root_cas: roots.map((c) => c.toString("base64")),
        };
        await printer.struct(result, () => env.stdout(`X509-SVID:\n${svidPem}\nPrivate key:\n${keyPem}\nRoot CAs:\n${bundlePem}\n`));
        return;
      }
      const dir = resolvePath(env, write.value);
      const files: [string, string, number, string, string][] = [
        [path.join(dir, "svid.pem"), svidPem, 0o644, "unable to write SVID", "X509-SVID written to"],
        [path.join(dir, "key.pem"), keyPem, 0o600, "unable to write key", "Private key written to"],
        [path.join(dir, "bundle.pem"), bundlePem, 0o644, "unable to write bundle", "Root CAs written to"],
      ];
      for (const [file, text, mode, failure, done] of files) {
        try {
          await writeFile(file, text, { mode });
        } catch (e) {
          throw new CliError(`${failure}: ${fileErrorText("open", file, e)}`);
        }
        env.stdout(`${done} ${file}\n`);
      }
    };
  },
});
