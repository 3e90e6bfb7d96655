// Pins the wire contracts of SPIRE's plugin and host services, and of Signet's
// DataStore plugin service: full method paths, streaming shapes, enum numbers
// and the field numbers that stock SPIRE plugins and hosts depend on. A change
// to any of these breaks interoperability, so each is spelled out literally.
import { describe, expect, it } from "vitest";
import { Any } from "../gen/google/protobuf/any.js";
import { AgentStoreService } from "../gen/spire/hostservice/server/agentstore/v1/agentstore.js";
import {
  FetchX509IdentityResponse,
  IdentityProviderService,
} from "../gen/spire/hostservice/server/identityprovider/v1/identityprovider.js";
import { MeasureSinceRequest, MetricsService, SetGaugeRequest } from "../gen/spire/hostservice/common/metrics/v1/metrics.js";
import * as agentKm from "../gen/spire/plugin/agent/keymanager/v1/keymanager.js";
import {
  NodeAttestorService as AgentNodeAttestorService,
  PayloadOrChallengeResponse,
} from "../gen/spire/plugin/agent/nodeattestor/v1/nodeattestor.js";
import { PutX509SVIDRequest, SVIDStoreService, X509SVID } from "../gen/spire/plugin/agent/svidstore/v1/svidstore.js";
import {
  AttestReferenceRequest,
  WorkloadAttestorService,
} from "../gen/spire/plugin/agent/workloadattestor/v1/workloadattestor.js";
import { BundlePublisherService } from "../gen/spire/plugin/server/bundlepublisher/v1/bundlepublisher.js";
import {
  ComposeAgentX509SVIDRequest,
  CredentialComposerService,
  DistinguishedName,
} from "../gen/spire/plugin/server/credentialcomposer/v1/credentialcomposer.js";
import * as serverKm from "../gen/spire/plugin/server/keymanager/v1/keymanager.js";
import {
  AgentAttributes,
  AttestRequest,
  AttestResponse,
  NodeAttestorService as ServerNodeAttestorService,
} from "../gen/spire/plugin/server/nodeattestor/v1/nodeattestor.js";
import { NotifierService, NotifyAndAdviseRequest } from "../gen/spire/plugin/server/notifier/v1/notifier.js";
import {
  MintX509CARequest,
  MintX509CAResponse,
  UpstreamAuthorityService,
} from "../gen/spire/plugin/server/upstreamauthority/v1/upstreamauthority.js";
import {
  AttestedNode,
  AttestedNodeFilter,
  DataStoreService,
  DeleteBundleRequest_Mode,
  Event,
  Event_Kind,
  Event_Op,
  StreamEventsRequest,
} from "../gen/signet/plugin/server/datastore/v1/datastore.js";
import * as batchSigner from "../gen/signet/plugin/keymanager/v1/batchsigner.js";
import { Bundle } from "../gen/spire/plugin/types/bundle.js";
import { JWTKey } from "../gen/spire/plugin/types/jwtkey.js";

/** What a generated ts-proto service definition looks like, as far as the wire cares. */
type ServiceDefinition = Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;

/** RPC name -> [client streams, server streams]. */
type Shapes = Record<string, readonly [boolean, boolean]>;

const unary = [false, false] as const;
const serverStream = [false, true] as const;
const bidi = [true, true] as const;

/**
 * Every plugin and host service a SPIRE host or plugin can name in Init, with
 * the exact gRPC service name from plugin-protocol.md section 3.
 */
const contracts: ReadonlyArray<readonly [string, ServiceDefinition, Shapes]> = [
  ["spire.plugin.server.nodeattestor.v1.NodeAttestor", ServerNodeAttestorService, { Attest: bidi }],
  [
    "spire.plugin.server.keymanager.v1.KeyManager",
    serverKm.KeyManagerService,
    { GenerateKey: unary, GetPublicKey: unary, GetPublicKeys: unary, SignData: unary },
  ],
  [
    "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority",
    UpstreamAuthorityService,
    { MintX509CAAndSubscribe: serverStream, PublishJWTKeyAndSubscribe: serverStream, SubscribeToLocalBundle: serverStream },
  ],
  ["spire.plugin.server.notifier.v1.Notifier", NotifierService, { Notify: unary, NotifyAndAdvise: unary }],
  [
    "spire.plugin.server.credentialcomposer.v1.CredentialComposer",
    CredentialComposerService,
    {
      ComposeServerX509CA: unary,
      ComposeServerX509SVID: unary,
      ComposeAgentX509SVID: unary,
      ComposeWorkloadX509SVID: unary,
      ComposeWorkloadJWTSVID: unary,
    },
  ],
  ["spire.plugin.server.bundlepublisher.v1.BundlePublisher", BundlePublisherService, { PublishBundle: unary }],
  ["spire.plugin.agent.nodeattestor.v1.NodeAttestor", AgentNodeAttestorService, { AidAttestation: bidi }],
  [
    "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
    WorkloadAttestorService,
    { Attest: unary, AttestReference: unary },
  ],
  [
    "spire.plugin.agent.keymanager.v1.KeyManager",
    agentKm.KeyManagerService,
    { GenerateKey: unary, GetPublicKey: unary, GetPublicKeys: unary, SignData: unary },
  ],
  ["spire.plugin.agent.svidstore.v1.SVIDStore", SVIDStoreService, { PutX509SVID: unary, DeleteX509SVID: unary }],
  ["spire.hostservice.server.identityprovider.v1.IdentityProvider", IdentityProviderService, { FetchX509Identity: unary }],
  ["spire.hostservice.server.agentstore.v1.AgentStore", AgentStoreService, { GetAgentInfo: unary }],
  [
    "spire.hostservice.common.metrics.v1.Metrics",
    MetricsService,
    { SetGauge: unary, EmitKey: unary, IncrCounter: unary, AddSample: unary, MeasureSince: unary },
  ],
];

/** The method paths and shapes a service definition really has, keyed by full path. */
function actualShapes(service: ServiceDefinition): Record<string, [boolean, boolean]> {
  return Object.fromEntries(
    Object.values(service).map((m) => [m.path, [m.requestStream, m.responseStream]] as const),
  );
}

function expectedShapes(name: string, shapes: Shapes): Record<string, [boolean, boolean]> {
  return Object.fromEntries(Object.entries(shapes).map(([rpc, [c, s]]) => [`/${name}/${rpc}`, [c, s]] as const));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

describe("plugin and host service definitions", () => {
  it.each(contracts)("%s has exactly the expected methods and streaming shapes", (name, service, shapes) => {
    expect(actualShapes(service)).toEqual(expectedShapes(name, shapes));
  });

  it("covers every service name listed in the protocol reference", () => {
    const names = contracts.map(([name]) => name).sort();
    expect(names).toEqual(
      [
        "spire.hostservice.common.metrics.v1.Metrics",
        "spire.hostservice.server.agentstore.v1.AgentStore",
        "spire.hostservice.server.identityprovider.v1.IdentityProvider",
        "spire.plugin.agent.keymanager.v1.KeyManager",
        "spire.plugin.agent.nodeattestor.v1.NodeAttestor",
        "spire.plugin.agent.svidstore.v1.SVIDStore",
        "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor",
        "spire.plugin.server.bundlepublisher.v1.BundlePublisher",
        "spire.plugin.server.credentialcomposer.v1.CredentialComposer",
        "spire.plugin.server.keymanager.v1.KeyManager",
        "spire.plugin.server.nodeattestor.v1.NodeAttestor",
        "spire.plugin.server.notifier.v1.Notifier",
        "spire.plugin.server.upstreamauthority.v1.UpstreamAuthority",
      ].sort(),
    );
  });
});

describe("KeyManager enums", () => {
  for (const [side, km] of [
    ["server", serverKm],
    ["agent", agentKm],
  ] as const) {
    it(`${side} KeyType numbers`, () => {
      expect({ ...km.KeyType }).toMatchObject({
        UNSPECIFIED_KEY_TYPE: 0,
        EC_P256: 1,
        EC_P384: 2,
        RSA_2048: 3,
        RSA_4096: 4,
      });
    });

    it(`${side} HashAlgorithm numbers are Go's crypto.Hash numbers`, () => {
      expect({ ...km.HashAlgorithm }).toMatchObject({
        UNSPECIFIED_HASH_ALGORITHM: 0,
        SHA224: 4,
        SHA256: 5,
        SHA384: 6,
        SHA512: 7,
        SHA3_224: 10,
        SHA3_256: 11,
        SHA3_384: 12,
        SHA3_512: 13,
        SHA512_224: 14,
        SHA512_256: 15,
      });
    });
  }
});

describe("field numbers on the wire", () => {
  // Tag byte = field number << 3 | wire type (0 varint, 2 length-delimited).
  it("SignDataRequest.signer_opts: hash_algorithm = 3, pss_options = 4 {salt_length = 1, hash_algorithm = 2}", () => {
    for (const km of [serverKm, agentKm]) {
      const byHash = km.SignDataRequest.fromPartial({
        signerOpts: { $case: "hashAlgorithm", value: km.HashAlgorithm.SHA256 },
      });
      expect(hex(km.SignDataRequest.encode(byHash).finish())).toBe("1805");

      const byPss = km.SignDataRequest.fromPartial({
        signerOpts: { $case: "pssOptions", value: { saltLength: 32, hashAlgorithm: km.HashAlgorithm.SHA384 } },
      });
      expect(hex(km.SignDataRequest.encode(byPss).finish())).toBe("2204" + "0820" + "1006");
      expect(km.SignDataRequest.decode(Buffer.from("220408201006", "hex"))).toEqual(byPss);
    }
  });

  it("SignDataRequest key_id = 1, data = 2; SignDataResponse key_fingerprint = 2; PublicKey fingerprint = 4", () => {
    const req = serverKm.SignDataRequest.fromPartial({ keyId: "k", data: Buffer.from([0xab]) });
    expect(hex(serverKm.SignDataRequest.encode(req).finish())).toBe("0a016b" + "1201ab");
    const resp = serverKm.SignDataResponse.fromPartial({ keyFingerprint: "f" });
    expect(hex(serverKm.SignDataResponse.encode(resp).finish())).toBe("120166");
    const key = agentKm.PublicKey.fromPartial({ fingerprint: "f" });
    expect(hex(agentKm.PublicKey.encode(key).finish())).toBe("220166");
  });

  it("server AttestRequest: payload = 1, challenge_response = 2", () => {
    const payload = AttestRequest.fromPartial({ request: { $case: "payload", value: Buffer.from([0xaa]) } });
    expect(hex(AttestRequest.encode(payload).finish())).toBe("0a01aa");
    const answer = AttestRequest.fromPartial({ request: { $case: "challengeResponse", value: Buffer.from([0xaa]) } });
    expect(hex(AttestRequest.encode(answer).finish())).toBe("1201aa");
  });

  it("server AttestResponse: challenge = 1, agent_attributes = 2 {spiffe_id = 1, selector_values = 2, can_reattest = 3}", () => {
    const challenge = AttestResponse.fromPartial({ response: { $case: "challenge", value: Buffer.from([0x01]) } });
    expect(hex(AttestResponse.encode(challenge).finish())).toBe("0a0101");
    expect(hex(AgentAttributes.encode(AgentAttributes.fromPartial({ canReattest: true })).finish())).toBe("1801");
    const attrs = AgentAttributes.fromPartial({ spiffeId: "a", selectorValues: ["b"] });
    expect(hex(AgentAttributes.encode(attrs).finish())).toBe("0a0161" + "120162");
    const done = AttestResponse.fromPartial({ response: { $case: "agentAttributes", value: { canReattest: true } } });
    expect(hex(AttestResponse.encode(done).finish())).toBe("1202" + "1801");
  });

  it("agent PayloadOrChallengeResponse: payload = 1, challenge_response = 2", () => {
    const answer = PayloadOrChallengeResponse.fromPartial({
      data: { $case: "challengeResponse", value: Buffer.from([0x07]) },
    });
    expect(hex(PayloadOrChallengeResponse.encode(answer).finish())).toBe("120107");
  });

  it("MintX509CARequest: csr = 1, preferred_ttl = 2; MintX509CAResponse: upstream_x509_roots = 2", () => {
    expect(hex(MintX509CARequest.encode(MintX509CARequest.fromPartial({ preferredTtl: 60 })).finish())).toBe("103c");
    expect(hex(MintX509CARequest.encode(MintX509CARequest.fromPartial({ csr: Buffer.from([0x30]) })).finish())).toBe(
      "0a0130",
    );
    const roots = MintX509CAResponse.fromPartial({ upstreamX509Roots: [{ asn1: Buffer.from([0x30]), tainted: true }] });
    // X509Certificate {asn1 = 1, tainted = 2}
    expect(hex(MintX509CAResponse.encode(roots).finish())).toBe("1205" + "0a0130" + "1001");
  });

  it("SVIDStore X509SVID: spiffeID = 1, cert_chain = 2, private_key = 3, bundle = 4, expires_at = 5", () => {
    const svid = X509SVID.fromPartial({
      spiffeID: "a",
      certChain: [Buffer.from([0x01])],
      privateKey: Buffer.from([0x02]),
      bundle: [Buffer.from([0x03])],
      expiresAt: 1n,
    });
    expect(hex(X509SVID.encode(svid).finish())).toBe("0a0161" + "120101" + "1a0102" + "220103" + "2801");
  });

  it("PutX509SVIDRequest: federated_bundles = 3 is a map<string, bytes>", () => {
    const req = PutX509SVIDRequest.fromPartial({ federatedBundles: { td: Buffer.from([0x01]) } });
    expect(hex(PutX509SVIDRequest.encode(req).finish())).toBe("1a07" + "0a027464" + "120101");
  });

  it("spire.plugin.types.Bundle: sequence_number = 5, wit_authorities = 6, refresh_hint = 4", () => {
    expect(hex(Bundle.encode(Bundle.fromPartial({ sequenceNumber: 5n })).finish())).toBe("2805");
    expect(hex(Bundle.encode(Bundle.fromPartial({ refreshHint: 300n })).finish())).toBe("20ac02");
    expect(hex(Bundle.encode(Bundle.fromPartial({ witAuthorities: [{ keyId: "k" }] })).finish())).toBe("3203" + "12016b");
  });

  it("JWTKey: public_key = 1, key_id = 2, expires_at = 3, tainted = 4", () => {
    const key = JWTKey.fromPartial({ publicKey: Buffer.from([0x01]), keyId: "k", expiresAt: 2n, tainted: true });
    expect(hex(JWTKey.encode(key).finish())).toBe("0a0101" + "12016b" + "1802" + "2001");
  });

  it("WorkloadAttestor AttestReferenceRequest: reference = 1 is a google.protobuf.Any", () => {
    const req = AttestReferenceRequest.fromPartial({ reference: { typeUrl: "t", value: Buffer.from([0x08, 0x01]) } });
    expect(hex(AttestReferenceRequest.encode(req).finish())).toBe("0a07" + "0a0174" + "12020801");
    expect(hex(Any.encode(req.reference!).finish())).toBe("0a0174" + "12020801");
  });

  it("CredentialComposer: public_key = 3 on agent requests; DistinguishedName common_name = 9, extra_names = 10", () => {
    const req = ComposeAgentX509SVIDRequest.fromPartial({ spiffeId: "a", publicKey: Buffer.from([0x01]) });
    expect(hex(ComposeAgentX509SVIDRequest.encode(req).finish())).toBe("120161" + "1a0101");
    const dn = DistinguishedName.fromPartial({ commonName: "c", extraNames: [{ oid: "1", stringValue: "v" }] });
    expect(hex(DistinguishedName.encode(dn).finish())).toBe("4a0163" + "5206" + "0a0131" + "120176");
  });

  it("Notifier NotifyAndAdviseRequest: bundle_loaded = 1", () => {
    const req = NotifyAndAdviseRequest.fromPartial({
      event: { $case: "bundleLoaded", value: { bundle: { trustDomain: "a" } } },
    });
    expect(hex(NotifyAndAdviseRequest.encode(req).finish())).toBe("0a05" + "0a03" + "0a0161");
  });

  it("host services: FetchX509IdentityResponse bundle = 2, MeasureSince time = 2, labels = 3", () => {
    const ident = FetchX509IdentityResponse.fromPartial({ bundle: { trustDomain: "a" } });
    expect(hex(FetchX509IdentityResponse.encode(ident).finish())).toBe("1203" + "0a0161");
    const since = MeasureSinceRequest.fromPartial({ time: 1n, labels: [{ name: "n", value: "v" }] });
    expect(hex(MeasureSinceRequest.encode(since).finish())).toBe("1001" + "1a06" + "0a016e" + "120176");
    // val is a 32-bit float (fixed32, wire type 5): 1.0f = 0x3f800000 little-endian.
    expect(hex(SetGaugeRequest.encode(SetGaugeRequest.fromPartial({ val: 1 })).finish())).toBe("150000803f");
  });
});

describe("Signet DataStore plugin service", () => {
  const name = "signet.plugin.server.datastore.v1.DataStore";

  it("has exactly the expected methods and streaming shapes", () => {
    const shapes: Shapes = {
      CreateEntries: unary,
      UpdateEntries: unary,
      DeleteEntries: unary,
      FetchEntry: unary,
      FetchEntries: unary,
      ListEntries: serverStream,
      CountEntries: unary,
      PruneEntries: unary,
      CreateAttestedNode: unary,
      FetchAttestedNode: unary,
      FetchAttestedNodes: unary,
      ListAttestedNodes: serverStream,
      CountAttestedNodes: unary,
      UpdateAttestedNode: unary,
      DeleteAttestedNode: unary,
      PruneAttestedNodes: unary,
      SetNodeSelectors: unary,
      GetNodeSelectors: unary,
      CreateJoinToken: unary,
      FetchJoinToken: unary,
      DeleteJoinToken: unary,
      PruneJoinTokens: unary,
      CreateBundle: unary,
      AppendBundle: unary,
      SetBundle: unary,
      UpdateBundle: unary,
      FetchBundle: unary,
      ListBundles: unary,
      CountBundles: unary,
      DeleteBundle: unary,
      PruneBundle: unary,
      CreateFederationRelationship: unary,
      FetchFederationRelationship: unary,
      ListFederationRelationships: unary,
      UpdateFederationRelationship: unary,
      DeleteFederationRelationship: unary,
      SetCAJournal: unary,
      FetchCAJournal: unary,
      PruneCAJournals: unary,
      StreamEvents: serverStream,
      GetLatestEventId: unary,
      PruneEvents: unary,
    };
    expect(actualShapes(DataStoreService)).toEqual(expectedShapes(name, shapes));
  });

  it("numbers the change-feed enums and delete modes", () => {
    expect({ ...Event_Kind }).toMatchObject({
      KIND_UNSPECIFIED: 0,
      ENTRY: 1,
      ATTESTED_NODE: 2,
      NODE_SELECTORS: 3,
      BUNDLE: 4,
      FEDERATION_RELATIONSHIP: 5,
    });
    expect({ ...Event_Op }).toMatchObject({ OP_UNSPECIFIED: 0, CREATED: 1, UPDATED: 2, DELETED: 3 });
    expect({ ...DeleteBundleRequest_Mode }).toMatchObject({ RESTRICT: 0, DELETE: 1, DISSOCIATE: 2 });
  });

  it("round-trips an Event with exact bytes", () => {
    const event: Event = {
      eventId: 2n ** 40n + 1n,
      kind: Event_Kind.NODE_SELECTORS,
      op: Event_Op.DELETED,
      key: { $case: "spiffeId", value: "spiffe://td/a" },
      createdAt: 1_700_000_000n,
    };
    const bytes = Event.encode(event).finish();
    expect(hex(bytes)).toBe(
      "08" + "818080808020" + // event_id = 1, varint 2^40 + 1
        "1003" + // kind = 2, NODE_SELECTORS
        "1803" + // op = 3, DELETED
        "2a0d" + Buffer.from("spiffe://td/a").toString("hex") + // spiffe_id = 5
        "38" + "80e2cfaa06", // created_at = 7
    );
    expect(Event.decode(bytes)).toEqual(event);

    const entryEvent = Event.fromPartial({ kind: Event_Kind.ENTRY, key: { $case: "entryId", value: "e" } });
    expect(hex(Event.encode(entryEvent).finish())).toBe("1001" + "220165");
    const bundleEvent = Event.fromPartial({ key: { $case: "trustDomain", value: "t" } });
    expect(hex(Event.encode(bundleEvent).finish())).toBe("320174");
  });

  it("round-trips an AttestedNode with the pending serial and selectors", () => {
    const node: AttestedNode = {
      spiffeId: "s",
      attestationDataType: "x",
      certSerialNumber: "1",
      certNotAfter: 10n,
      newCertSerialNumber: "2",
      newCertNotAfter: 20n,
      selectors: [{ type: "t", value: "v" }],
      canReattest: true,
      agentVersion: "9",
    };
    const bytes = AttestedNode.encode(node).finish();
    expect(hex(bytes)).toBe(
      "0a0173" + // spiffe_id = 1
        "120178" + // attestation_data_type = 2
        "1a0131" + // cert_serial_number = 3
        "200a" + // cert_not_after = 4
        "2a0132" + // new_cert_serial_number = 5
        "3014" + // new_cert_not_after = 6
        "3a06" + "0a0174" + "120176" + // selectors = 7 (spire.api.types.Selector)
        "4001" + // can_reattest = 8
        "4a0139", // agent_version = 9
    );
    expect(AttestedNode.decode(bytes)).toEqual(node);
  });

  it("keeps presence of optional filters, so by_banned=false differs from unset", () => {
    expect(hex(AttestedNodeFilter.encode(AttestedNodeFilter.fromPartial({})).finish())).toBe("");
    expect(hex(AttestedNodeFilter.encode(AttestedNodeFilter.fromPartial({ byBanned: false })).finish())).toBe("1000");
    const decoded = AttestedNodeFilter.decode(Buffer.from("1000", "hex"));
    expect(decoded.byBanned).toBe(false);
    expect(AttestedNodeFilter.decode(new Uint8Array()).byBanned).toBeUndefined();
  });

  it("StreamEventsRequest: after_event_id = 1, kinds = 2 (packed)", () => {
    const req = StreamEventsRequest.fromPartial({ afterEventId: 7n, kinds: [Event_Kind.ENTRY, Event_Kind.BUNDLE] });
    expect(hex(StreamEventsRequest.encode(req).finish())).toBe("0807" + "12020104");
  });
});

describe("Signet BatchSigner extension for KeyManager plugins", () => {
  it("has exactly one unary method, SignMessages, under signet.plugin.keymanager.v1.BatchSigner", () => {
    expect(actualShapes(batchSigner.BatchSignerService)).toEqual(
      expectedShapes("signet.plugin.keymanager.v1.BatchSigner", { SignMessages: unary }),
    );
  });

  it("numbers HashAlgorithm as SPIRE's KeyManager does (Go's crypto.Hash)", () => {
    for (const [name, value] of Object.entries(serverKm.HashAlgorithm)) {
      if (typeof value === "number" && value >= 0) expect(batchSigner.HashAlgorithm[name as keyof typeof batchSigner.HashAlgorithm]).toBe(value);
    }
    expect(batchSigner.HashAlgorithm.SHA512_256).toBe(15);
  });

  it("SignMessagesRequest: key_id = 1, messages = 2, hash_algorithm = 3, pss_options = 4 {salt_length = 1, hash_algorithm = 2}", () => {
    const req = batchSigner.SignMessagesRequest.fromPartial({
      keyId: "k",
      messages: [Buffer.from([0x01]), Buffer.alloc(0)],
      signerOpts: { $case: "hashAlgorithm", value: batchSigner.HashAlgorithm.SHA256 },
    });
    expect(hex(batchSigner.SignMessagesRequest.encode(req).finish())).toBe("0a016b" + "120101" + "1200" + "1805");
    const pss = batchSigner.SignMessagesRequest.fromPartial({
      signerOpts: { $case: "pssOptions", value: { saltLength: -1, hashAlgorithm: batchSigner.HashAlgorithm.SHA384 } },
    });
    // salt_length -1 is a 10-byte varint (int32 is sign-extended on the wire).
    const bytes = batchSigner.SignMessagesRequest.encode(pss).finish();
    expect(hex(bytes)).toBe("220d" + "08ffffffffffffffffff01" + "1006");
    expect(batchSigner.SignMessagesRequest.decode(bytes)).toEqual(pss);
  });

  it("SignMessagesResponse: signatures = 1 (in order), key_fingerprint = 2", () => {
    const res = batchSigner.SignMessagesResponse.fromPartial({ signatures: [Buffer.from([0xaa]), Buffer.from([0xbb])], keyFingerprint: "f" });
    expect(hex(batchSigner.SignMessagesResponse.encode(res).finish())).toBe("0a01aa" + "0a01bb" + "120166");
  });
});
