/**
 * The bundle the agent checks the server with before it has one of its own
 * (spire-apis.md 4.1): the copy cached in data_dir wins; otherwise
 * trust_bundle_path or trust_bundle_url (PEM or SPIFFE JSON per
 * trust_bundle_format); insecure_bootstrap gives an empty bundle, which
 * means "any chain whose leaf names the server" to the dialler.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Bundle } from "@signet/proto/spire/api/types/bundle";
import { parseBundle } from "@signet/spiffe";
import type { TrustBundleSource } from "../../config/agent-config.js";

export class BootstrapError extends Error {}

export async function loadBootstrapBundle(source: TrustBundleSource, trustDomain: string): Promise<Bundle | undefined> {
  switch (source.kind) {
    case "insecure":
      return undefined;
    case "none":
      throw new BootstrapError("no trust bundle: set trust_bundle_path, trust_bundle_url or insecure_bootstrap");
    case "path": {
      let bytes: Buffer;
      try {
        bytes = await readFile(source.path);
      } catch (e) {
        throw new BootstrapError(`unable to load trust bundle from ${source.path}: ${(e as Error).message}`);
      }
      return decodeBundle(bytes, source.format, trustDomain, source.path);
    }
    case "url":
      return decodeBundle(await download(source.url, source.unixSocket), source.format, trustDomain, source.url);
  }
}

export function decodeBundle(bytes: Buffer, format: "pem" | "spiffe", trustDomain: string, from: string): Bundle {
  if (format === "spiffe") {
    try {
      return parseBundle(trustDomain, bytes);
    } catch (e) {
      throw new BootstrapError(`unable to parse SPIFFE trust bundle from ${from}: ${(e as Error).message}`);
    }
  }
  const blocks = bytes.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new BootstrapError(`no certificates found in trust bundle ${from}`);
  const x509Authorities = blocks.map((pem) => {
    try {
      return { asn1: Buffer.from(new X509Certificate(pem).raw), tainted: false };
    } catch (e) {
      throw new BootstrapError(`unable to parse certificate in trust bundle ${from}: ${(e as Error).message}`);
    }
  });
  return { trustDomain, x509Authorities, jwtAuthorities: [], refreshHint: 0n, sequenceNumber: 0n, witAuthorities: [] };
}

function download(url: string, unixSocket: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new BootstrapError(`unable to fetch trust bundle URL ${url}: ${why}`));
    const req = (unixSocket ? httpRequest : httpsRequest)(url, { timeout: 10_000, ...(unixSocket ? { socketPath: unixSocket } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(`unexpected status ${res.statusCode}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > 4 << 20) {
          req.destroy();
          fail("response too large");
        } else chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", (e) => fail(e.message));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => fail(e.message));
    req.end();
  });
}
