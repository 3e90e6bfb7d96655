import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { marshalBundle } from "@signet/spiffe";
import { TestAuthority } from "../../../../../test/fakes/agent-pki.js";
import { BootstrapError, loadBootstrapBundle } from "./bootstrap.js";

const dir = mkdtempSync(join(tmpdir(), "agent-bootstrap-"));
const authority = new TestAuthority("example.org", new Date());
const bundle = authority.bundle();
const pem = bundle.x509Authorities.map((a) => `-----BEGIN CERTIFICATE-----\n${a.asn1.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`).join("");
const socketPath = join(dir, "bundle.sock");
let server: Server;
let served: { status: number; body: string } = { status: 200, body: pem };

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.statusCode = served.status;
    res.end(served.body);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe("loadBootstrapBundle", () => {
  it("reads a PEM bundle file", async () => {
    const path = join(dir, "bundle.pem");
    writeFileSync(path, pem);
    const b = await loadBootstrapBundle({ kind: "path", path, format: "pem" }, "example.org");
    expect(b?.x509Authorities.map((a) => a.asn1)).toEqual(bundle.x509Authorities.map((a) => a.asn1));
  });

  it("reads a SPIFFE bundle document", async () => {
    const path = join(dir, "bundle.json");
    writeFileSync(path, marshalBundle(bundle));
    const b = await loadBootstrapBundle({ kind: "path", path, format: "spiffe" }, "example.org");
    expect(b?.x509Authorities).toHaveLength(bundle.x509Authorities.length);
  });

  it("downloads from trust_bundle_url over trust_bundle_unix_socket", async () => {
    served = { status: 200, body: pem };
    const b = await loadBootstrapBundle({ kind: "url", url: "http://localhost/bundle", format: "pem", unixSocket: socketPath }, "example.org");
    expect(b?.x509Authorities[0]?.asn1.equals(bundle.x509Authorities[0]!.asn1)).toBe(true);
  });

  it("refuses what is not a bundle, with the source in the message", async () => {
    served = { status: 404, body: "nope" };
    await expect(loadBootstrapBundle({ kind: "url", url: "http://localhost/bundle", format: "pem", unixSocket: socketPath }, "example.org")).rejects.toThrow(/unexpected status 404/);
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    await expect(loadBootstrapBundle({ kind: "path", path: junk, format: "pem" }, "example.org")).rejects.toThrow(BootstrapError);
    await expect(loadBootstrapBundle({ kind: "path", path: join(dir, "missing.pem"), format: "pem" }, "example.org")).rejects.toThrow(/unable to load trust bundle/);
    await expect(loadBootstrapBundle({ kind: "none" }, "example.org")).rejects.toThrow(/no trust bundle/);
  });

  it("gives no bundle for insecure_bootstrap", async () => {
    expect(await loadBootstrapBundle({ kind: "insecure" }, "example.org")).toBeUndefined();
  });
});
