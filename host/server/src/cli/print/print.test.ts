import type { Entry } from "@signet/proto/spire/api/types/entry";
import { describe, expect, it } from "vitest";
import { formatProtoJson } from "@signet/host-common";
import { formatAgentList } from "./agent.js";
import { formatEntry } from "./entry.js";
import { agent, batchEntryResponse, count, entry as entrySchema, federationRelationship, logger } from "./schemas.js";

const entry: Entry = {
  id: "e1",
  spiffeId: { trustDomain: "example.org", path: "/web" },
  parentId: { trustDomain: "example.org", path: "/spire/agent/x" },
  selectors: [{ type: "unix", value: "uid:1000" }],
  x509SvidTtl: 0,
  federatesWith: [],
  admin: true,
  downstream: false,
  expiresAt: 1_700_000_000n,
  dnsNames: ["a.example.org"],
  revisionNumber: 2n,
  storeSvid: false,
  jwtSvidTtl: 300,
  hint: "",
  createdAt: 0n,
};

describe("pretty entry output", () => {
  it("matches spire-server's printEntry", () => {
    expect(formatEntry(entry)).toBe(
      [
        "Entry ID                : e1",
        "SPIFFE ID               : spiffe://example.org/web",
        "Parent ID               : spiffe://example.org/spire/agent/x",
        "Revision                : 2",
        "X509-SVID TTL           : default",
        "JWT-SVID TTL            : 300",
        "Expiration time         : 2023-11-14 22:13:20 +0000 UTC",
        "Selector                : unix:uid:1000",
        "DNS name                : a.example.org",
        "Admin                   : true",
        "",
        "",
      ].join("\n"),
    );
  });

  it("says when no agents are attested", () => {
    expect(formatAgentList([])).toBe("No attested agents found\n");
  });
});

describe("-output json", () => {
  it("prints protojson with proto names, every field, sorted keys, int64 as strings", () => {
    const text = formatProtoJson(entrySchema, entry);
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual({
      admin: true,
      created_at: "0",
      dns_names: ["a.example.org"],
      downstream: false,
      expires_at: "1700000000",
      federates_with: [],
      hint: "",
      id: "e1",
      jwt_svid_ttl: 300,
      parent_id: { path: "/spire/agent/x", trust_domain: "example.org" },
      revision_number: "2",
      selectors: [{ type: "unix", value: "uid:1000" }],
      spiffe_id: { path: "/web", trust_domain: "example.org" },
      store_svid: false,
      x509_svid_ttl: 0,
    });
    expect(text.indexOf('"admin"')).toBeLessThan(text.indexOf('"created_at"'));
  });

  it("drops unset messages, names enums and keeps only the set oneof member", () => {
    expect(formatProtoJson(batchEntryResponse, { results: [{ status: { code: 6, message: "exists" }, entry: undefined }] })).toBe(
      '{"results":[{"status":{"code":6,"message":"exists"}}]}\n',
    );
    expect(formatProtoJson(logger, { currentLevel: 6, launchLevel: 5 })).toBe('{"current_level":"DEBUG","launch_level":"INFO"}\n');
    expect(formatProtoJson(count, { count: 0 })).toBe('{"count":0}\n');
    expect(
      formatProtoJson(federationRelationship, {
        trustDomain: "td",
        bundleEndpointUrl: "https://x/<a>",
        bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "spiffe://td/s" } },
        trustDomainBundle: undefined,
      }),
    ).toBe('{"bundle_endpoint_url":"https://x/\\u003ca\\u003e","https_spiffe":{"endpoint_spiffe_id":"spiffe://td/s"},"trust_domain":"td"}\n');
  });

  it("encodes bytes as base64 in agents and bundles", () => {
    const text = formatProtoJson(agent, {
      id: { trustDomain: "td", path: "/spire/agent/a" },
      attestationType: "join_token",
      x509svidSerialNumber: "12",
      x509svidExpiresAt: 5n,
      selectors: [],
      banned: false,
      canReattest: false,
      agentVersion: "",
    });
    expect(JSON.parse(text).x509svid_expires_at).toBe("5");
  });
});
