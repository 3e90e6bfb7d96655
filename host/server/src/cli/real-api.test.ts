/**
 * signet-server commands against Signet's own API handlers (Entry, Bundle,
 * TrustDomain, Logger) on the SQL DataStore, served on a Unix socket as the
 * local API is.
 */
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BundleService } from "@signet/proto/spire/api/server/bundle/v1/bundle";
import { EntryService } from "@signet/proto/spire/api/server/entry/v1/entry";
import { LoggerService } from "@signet/proto/spire/api/server/logger/v1/logger";
import { TrustDomainService } from "@signet/proto/spire/api/server/trustdomain/v1/trustdomain";
import { keyObjectSigner, mintCertificateSync, selfSignedCaTemplate, spkiOf, TrustDomain } from "@signet/spiffe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@signet/host-common";
import { startApiServer, type TestApiServer } from "../../../../test/fakes/api-server.js";
import { startTestDataStore, type TestDataStore } from "../../../../test/fakes/datastore.js";
import { bundleServiceImpl } from "../api/bundle/v1/service.js";
import { entryServiceDefinition } from "../api/entry/v1/entry-wire.js";
import { entryServiceImpl } from "../api/entry/v1/service.js";
import { loggerHandlers } from "../api/logger/v1/service.js";
import { localCaller } from "../api/rpccontext/caller.js";
import { trustDomainServiceImpl } from "../api/trustdomain/v1/service.js";
import { runCli } from "./cli.js";
import { pemBlock } from "./print/bundle.js";
import type { CliEnv } from "@signet/host-common";

const td = TrustDomain.parse("example.org");

function caDer(name: string): Buffer {
  const keys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return mintCertificateSync(
    selfSignedCaTemplate({ trustDomain: TrustDomain.parse(name), spki: spkiOf(keys.publicKey), now: new Date() }),
    keyObjectSigner(keys.privateKey),
  );
}

function x509Jwk(der: Buffer): Record<string, unknown> {
  const jwk = new X509Certificate(der).publicKey.export({ format: "jwk" });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

async function cli(args: string[], stdin = "") {
  const out = { stdout: "", stderr: "" };
  const env: CliEnv = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readStdin: async () => Buffer.from(stdin),
    vars: {},
    baseDir: "",
  };
  const code = await runCli(args, env);
  return { code, ...out };
}

describe("signet-server against Signet's API handlers", () => {
  let ds: TestDataStore;
  let api: TestApiServer;
  let sock: string[];
  const ownRoot = caDer("example.org");

  beforeAll(async () => {
    ds = await startTestDataStore();
    await ds.dataStore.createBundle({
      bundle: {
        trustDomain: td.name,
        x509Authorities: [{ asn1: ownRoot, tainted: false }],
        jwtAuthorities: [],
        refreshHint: 0n,
        sequenceNumber: 0n,
        witAuthorities: [],
      },
    });
    const log = createLogger({ level: "info", write: () => {} });
    api = await startApiServer(
      [
        {
          definition: entryServiceDefinition,
          impl: entryServiceImpl({ dataStore: ds.dataStore, authorizedEntries: { authorizedEntries: () => [] } as never, trustDomain: td }),
        },
        {
          definition: BundleService,
          impl: bundleServiceImpl({ dataStore: ds.dataStore, trustDomain: td, publishJwtKey: async () => [] }),
        },
        { definition: TrustDomainService, impl: trustDomainServiceImpl({ dataStore: ds.dataStore, trustDomain: td }) },
        { definition: LoggerService, impl: loggerHandlers({ log }) },
      ],
      localCaller(),
    );
    sock = ["-socketPath", api.socket];
  });
  afterAll(async () => {
    await api?.close();
    await ds?.close();
  });

  it("entry create, show, update, count and delete round-trip through the server", async () => {
    const created = await cli([
      "entry", "create", ...sock,
      "-spiffeID", "spiffe://example.org/web",
      "-parentID", "spiffe://example.org/spire/agent/join_token/abc",
      "-selector", "unix:uid:1000", "-selector", "unix:gid:1000",
      "-dns", "web.example.org", "-x509SVIDTTL", "3600", "-hint", "web", "-output", "json",
    ]);
    expect(created.stderr).toBe("");
    const result = JSON.parse(created.stdout).results[0];
    expect(result.status).toEqual({ code: 0, message: "OK" });
    const id: string = result.entry.id;
    expect(result.entry.x509_svid_ttl).toBe(3600);

    const shown = await cli(["entry", "show", ...sock, "-spiffeID", "spiffe://example.org/web"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(
      [
        "Found 1 entry",
        `Entry ID                : ${id}`,
        "SPIFFE ID               : spiffe://example.org/web",
        "Parent ID               : spiffe://example.org/spire/agent/join_token/abc",
        "Revision                : 0",
        "X509-SVID TTL           : 3600",
        "JWT-SVID TTL            : default",
        "Selector                : unix:gid:1000",
        "Selector                : unix:uid:1000",
        "DNS name                : web.example.org",
        "Hint                    : web",
        "",
        "",
      ].join("\n"),
    );

    const dup = await cli([
      "entry", "create", ...sock, "-spiffeID", "spiffe://example.org/web",
      "-parentID", "spiffe://example.org/spire/agent/join_token/abc", "-selector", "unix:uid:1000", "-selector", "unix:gid:1000",
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^Failed to create the following entry \(code: AlreadyExists, msg: "[^"]+"\):\n/);

    const reserved = await cli(["entry", "create", ...sock, "-spiffeID", "spiffe://example.org/spire/x", "-parentID", "spiffe://example.org/a", "-selector", "a:b"]);
    expect(reserved.code).toBe(1);
    expect(reserved.stderr).toContain("(code: InvalidArgument, msg:");

    const updated = await cli([
      "entry", "update", ...sock, "-entryID", id, "-spiffeID", "spiffe://example.org/web",
      "-parentID", "spiffe://example.org/spire/agent/join_token/abc", "-selector", "unix:uid:1001",
    ]);
    expect(updated.stderr).toBe("");
    expect(updated.stdout).toContain("Revision                : 1\n");

    expect((await cli(["entry", "count", ...sock])).stdout).toBe("1 registration entry\n");
    const deleted = await cli(["entry", "delete", ...sock, "-entryID", id]);
    expect(deleted.stdout).toBe(`Deleted entry with ID: ${id}\n\n\nDeleted 1 entries successfully`);
    expect((await cli(["entry", "count", ...sock])).stdout).toBe("0 registration entries\n");
    const missing = await cli(["entry", "show", ...sock, "-entryID", id]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`Error: error fetching entry ID ${id}: rpc error: code = NotFound desc = entry not found\n`);
  });

  it("bundle show prints the server's roots as PEM and as a SPIFFE bundle", async () => {
    const pem = await cli(["bundle", "show", ...sock]);
    expect(pem.code).toBe(0);
    expect(pem.stdout).toBe(pemBlock("CERTIFICATE", ownRoot));
    const spiffe = await cli(["bundle", "show", ...sock, "-format", "spiffe"]);
    const doc = JSON.parse(spiffe.stdout);
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0].use).toBe("x509-svid");
    expect(doc.keys[0].x5c).toEqual([ownRoot.toString("base64")]);
    expect(spiffe.stdout.startsWith('{\n    "keys": [\n        {\n            "use": "x509-svid",\n            "kty": "EC",')).toBe(true);
  });

  it("bundle set, list, count and delete manage federated bundles", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "signet-cli-bundle-"));
    const file = path.join(dir, "fed.pem");
    const fedRoot = caDer("fed.org");
    writeFileSync(file, pemBlock("CERTIFICATE", fedRoot));
    const set = await cli(["bundle", "set", ...sock, "-id", "spiffe://fed.org", "-path", file]);
    expect(set.stderr).toBe("");
    expect(set.stdout).toBe("bundle set.\n");
    const list = await cli(["bundle", "list", ...sock]);
    expect(list.stdout).toBe(`****************************************\n* fed.org\n****************************************\n${pemBlock("CERTIFICATE", fedRoot)}`);
    expect((await cli(["bundle", "count", ...sock])).stdout).toBe("2 bundles\n");
    const fromStdin = await cli(["bundle", "set", ...sock, "-id", "spiffe://other.org"], pemBlock("CERTIFICATE", caDer("other.org")));
    expect(fromStdin.stdout).toBe("bundle set.\n");
    const del = await cli(["bundle", "delete", ...sock, "-id", "other.org"]);
    expect(del.stdout).toBe("bundle deleted.\n");
    const badMode = await cli(["bundle", "delete", ...sock, "-id", "fed.org", "-mode", "wipe"]);
    expect(badMode.stderr).toBe('Error: unsupported mode "wipe"\n');
  });

  it("federation create, show, list and delete", async () => {
    const created = await cli([
      "federation", "create", ...sock, "-trustDomain", "partner.org",
      "-bundleEndpointURL", "https://partner.org/bundle", "-bundleEndpointProfile", "https_web",
    ]);
    expect(created.stderr).toBe("");
    expect(created.stdout).toBe(
      "\nTrust domain              : partner.org\nBundle endpoint URL       : https://partner.org/bundle\nBundle endpoint profile   : https_web\n",
    );
    const shown = await cli(["federation", "show", ...sock, "-trustDomain", "partner.org"]);
    expect(shown.stdout.startsWith("Found a federation relationship with trust domain partner.org:\n\n")).toBe(true);
    const list = await cli(["federation", "list", ...sock, "-output", "json"]);
    const rel = JSON.parse(list.stdout).federation_relationships[0];
    expect(rel.trust_domain).toBe("partner.org");
    expect(rel.https_web).toEqual({});
    const badProfile = await cli(["federation", "create", ...sock, "-trustDomain", "x.org", "-bundleEndpointURL", "https://x", "-bundleEndpointProfile", "ftp"]);
    expect(badProfile.stderr).toBe('Error: unknown bundle endpoint profile type: "ftp"\n');
    expect((await cli(["federation", "delete", ...sock, "-id", "partner.org"])).stdout).toBe("federation relationship deleted.\n");
  });

  it("federation create -data reads SPIRE's JSON, with a SPIFFE-format bundle and the https_spiffe profile", async () => {
    const root = caDer("spiffe-partner.org");
    const doc = {
      federationRelationships: [
        {
          trustDomain: "spiffe-partner.org",
          bundleEndpointURL: "https://spiffe-partner.org:8443",
          bundleEndpointProfile: "https_spiffe",
          endpointSPIFFEID: "spiffe://spiffe-partner.org/spire/server",
          trustDomainBundleFormat: "spiffe",
          trustDomainBundle: { keys: [{ use: "x509-svid", ...x509Jwk(root), x5c: [root.toString("base64")] }] },
        },
      ],
    };
    const r = await cli(["federation", "create", ...sock, "-data", "-"], JSON.stringify(doc));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "\nTrust domain              : spiffe-partner.org\nBundle endpoint URL       : https://spiffe-partner.org:8443\n" +
        "Bundle endpoint profile   : https_spiffe\nEndpoint SPIFFE ID        : spiffe://spiffe-partner.org/spire/server\n",
    );
    const bundle = await cli(["bundle", "list", ...sock, "-id", "spiffe-partner.org"]);
    expect(bundle.stdout).toBe(pemBlock("CERTIFICATE", root));
    const mixed = await cli(["federation", "create", ...sock, "-data", "-", "-trustDomain", "x.org"], JSON.stringify(doc));
    expect(mixed.stderr).toBe("Error: cannot use other flags to specify relationship fields when 'data' flag is set\n");
    const noFormat = await cli(
      ["federation", "update", ...sock, "-data", "-"],
      JSON.stringify({ federationRelationships: [{ ...doc.federationRelationships[0], trustDomainBundleFormat: undefined }] }),
    );
    expect(noFormat.stderr).toBe('Error: could not parse item 0: cannot parse bundle raw message: bundle format "" is unsupported\n');
  });

  it("federation refresh reports what the server says", async () => {
    expect((await cli(["federation", "refresh", ...sock])).stderr).toBe("Error: id is required\n");
    const r = await cli(["federation", "refresh", ...sock, "-id", "spiffe-partner.org"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: (failed to refresh bundle: rpc error: code = \w+ desc = .+|there is no federation relationship with trust domain "spiffe-partner.org")\n$/);
  });

  it("entry show refuses -entryID together with filters", async () => {
    const r = await cli(["entry", "show", ...sock, "-entryID", "x", "-spiffeID", "spiffe://example.org/a"]);
    expect(r.stderr).toBe("Error: the -entryID flag can't be combined with others\n");
  });

  it("logger get, set and reset", async () => {
    expect((await cli(["logger", "get", ...sock])).stdout).toBe("Logger Level : info\nLaunch Level : info\n\n");
    expect((await cli(["logger", "set", ...sock, "-level", "debug"])).stdout).toBe("Logger Level : debug\nLaunch Level : info\n\n");
    expect((await cli(["logger", "set", ...sock, "-level", "loud"])).stderr).toBe('Error: the value "loud" is not a valid setting\n');
    expect((await cli(["logger", "reset", ...sock, "-output", "json"])).stdout).toBe('{"current_level":"INFO","launch_level":"INFO"}\n');
  });
});
