// Wire-contract checks for the SPIFFE Workload API, SPIRE's server and agent
// APIs, and google.rpc.Status as generated from proto/defs.
//
// Every expectation here is a fact a stock SPIRE/go-spiffe peer relies on: the
// full gRPC method path, the streaming shape of each RPC, and the exact bytes a
// field encodes to (tag byte = field_number << 3 | wire_type). A wrong package,
// method name or field number in a .proto file makes one of these fail.
import { describe, expect, it } from "vitest";

import { Any } from "../gen/google/protobuf/any.js";
import { Status as RpcStatus } from "../gen/google/rpc/status.js";
import { DebugService as AgentDebugService, GetInfoResponse as AgentGetInfoResponse } from "../gen/spire/api/agent/debug/v1/debug.js";
import { DelegatedIdentityService } from "../gen/spire/api/agent/delegatedidentity/v1/delegatedidentity.js";
import { LoggerService as AgentLoggerService } from "../gen/spire/api/agent/logger/v1/logger.js";
import {
  AgentService,
  AttestAgentRequest,
  AttestAgentResponse,
  ListAgentsRequest,
  PostStatusRequest,
} from "../gen/spire/api/server/agent/v1/agent.js";
import { BatchDeleteFederatedBundleRequest, BatchDeleteFederatedBundleRequest_Mode, BundleService } from "../gen/spire/api/server/bundle/v1/bundle.js";
import { DebugService as ServerDebugService } from "../gen/spire/api/server/debug/v1/debug.js";
import {
  EntryService,
  GetAuthorizedEntriesRequest,
  ListEntriesRequest,
  SyncAuthorizedEntriesRequest,
  SyncAuthorizedEntriesResponse,
} from "../gen/spire/api/server/entry/v1/entry.js";
import { LocalAuthorityService } from "../gen/spire/api/server/localauthority/v1/localauthority.js";
import { LoggerService as ServerLoggerService } from "../gen/spire/api/server/logger/v1/logger.js";
import { BatchNewX509SVIDRequest, NewJWTSVIDRequest, SVIDService } from "../gen/spire/api/server/svid/v1/svid.js";
import { TrustDomainService } from "../gen/spire/api/server/trustdomain/v1/trustdomain.js";
import { Bundle, BundleMask } from "../gen/spire/api/types/bundle.js";
import { Entry, EntryMask } from "../gen/spire/api/types/entry.js";
import { FederationRelationship } from "../gen/spire/api/types/federationrelationship.js";
import { Agent } from "../gen/spire/api/types/agent.js";
import { JWTSVID as TypesJWTSVID } from "../gen/spire/api/types/jwtsvid.js";
import { LogLevel, Logger } from "../gen/spire/api/types/logger.js";
import { SelectorMatch, SelectorMatch_MatchBehavior } from "../gen/spire/api/types/selector.js";
import { PermissionDeniedDetails, PermissionDeniedDetails_Reason, Status } from "../gen/spire/api/types/status.js";
import { X509SVID as TypesX509SVID } from "../gen/spire/api/types/x509svid.js";
import {
  JWTBundlesResponse,
  JWTSVIDRequest,
  SpiffeWorkloadAPIService,
  ValidateJWTSVIDRequest,
  ValidateJWTSVIDResponse,
  WITBundlesResponse,
  WITSVID,
  X509BundlesResponse,
  X509SVID,
  X509SVIDResponse,
} from "../gen/workload/workload.js";

type Shape = "unary" | "server-stream" | "client-stream" | "bidi";

interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

function shapes(service: Record<string, MethodDef>): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const m of Object.values(service)) {
    out[m.path] =
      m.requestStream && m.responseStream
        ? "bidi"
        : m.requestStream
          ? "client-stream"
          : m.responseStream
            ? "server-stream"
            : "unary";
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
}

// Method paths and streaming shapes, complete per service: a missing, extra or
// misspelt method fails the equality.
describe("service definitions", () => {
  it("SPIFFE Workload API has no proto package", () => {
    expect(shapes(SpiffeWorkloadAPIService)).toEqual({
      "/SpiffeWorkloadAPI/FetchX509SVID": "server-stream",
      "/SpiffeWorkloadAPI/FetchX509Bundles": "server-stream",
      "/SpiffeWorkloadAPI/FetchJWTSVID": "unary",
      "/SpiffeWorkloadAPI/FetchJWTBundles": "server-stream",
      "/SpiffeWorkloadAPI/ValidateJWTSVID": "unary",
      "/SpiffeWorkloadAPI/FetchWITSVID": "server-stream",
      "/SpiffeWorkloadAPI/FetchWITBundles": "server-stream",
    });
  });

  it("server Agent", () => {
    const p = "/spire.api.server.agent.v1.Agent/";
    expect(shapes(AgentService)).toEqual({
      [`${p}CountAgents`]: "unary",
      [`${p}ListAgents`]: "unary",
      [`${p}GetAgent`]: "unary",
      [`${p}DeleteAgent`]: "unary",
      [`${p}BanAgent`]: "unary",
      [`${p}AttestAgent`]: "bidi",
      [`${p}RenewAgent`]: "unary",
      [`${p}CreateJoinToken`]: "unary",
      [`${p}PostStatus`]: "unary",
    });
  });

  it("server Entry", () => {
    const p = "/spire.api.server.entry.v1.Entry/";
    expect(shapes(EntryService)).toEqual({
      [`${p}CountEntries`]: "unary",
      [`${p}ListEntries`]: "unary",
      [`${p}GetEntry`]: "unary",
      [`${p}BatchCreateEntry`]: "unary",
      [`${p}BatchUpdateEntry`]: "unary",
      [`${p}BatchDeleteEntry`]: "unary",
      [`${p}GetAuthorizedEntries`]: "unary",
      [`${p}SyncAuthorizedEntries`]: "bidi",
    });
  });

  it("server SVID", () => {
    const p = "/spire.api.server.svid.v1.SVID/";
    expect(shapes(SVIDService)).toEqual({
      [`${p}MintX509SVID`]: "unary",
      [`${p}MintJWTSVID`]: "unary",
      [`${p}MintWITSVID`]: "unary",
      [`${p}BatchNewX509SVID`]: "unary",
      [`${p}NewJWTSVID`]: "unary",
      [`${p}BatchNewWITSVID`]: "unary",
      [`${p}NewDownstreamX509CA`]: "unary",
    });
  });

  it("server Bundle", () => {
    const p = "/spire.api.server.bundle.v1.Bundle/";
    expect(shapes(BundleService)).toEqual({
      [`${p}CountBundles`]: "unary",
      [`${p}GetBundle`]: "unary",
      [`${p}AppendBundle`]: "unary",
      [`${p}PublishJWTAuthority`]: "unary",
      [`${p}PublishWITAuthority`]: "unary",
      [`${p}ListFederatedBundles`]: "unary",
      [`${p}GetFederatedBundle`]: "unary",
      [`${p}BatchCreateFederatedBundle`]: "unary",
      [`${p}BatchUpdateFederatedBundle`]: "unary",
      [`${p}BatchSetFederatedBundle`]: "unary",
      [`${p}BatchDeleteFederatedBundle`]: "unary",
    });
  });

  it("server TrustDomain", () => {
    const p = "/spire.api.server.trustdomain.v1.TrustDomain/";
    expect(shapes(TrustDomainService)).toEqual({
      [`${p}ListFederationRelationships`]: "unary",
      [`${p}GetFederationRelationship`]: "unary",
      [`${p}BatchCreateFederationRelationship`]: "unary",
      [`${p}BatchUpdateFederationRelationship`]: "unary",
      [`${p}BatchDeleteFederationRelationship`]: "unary",
      [`${p}RefreshBundle`]: "unary",
    });
  });

  it("server LocalAuthority", () => {
    const p = "/spire.api.server.localauthority.v1.LocalAuthority/";
    const names = [
      "GetJWTAuthorityState",
      "PrepareJWTAuthority",
      "ActivateJWTAuthority",
      "TaintJWTAuthority",
      "RevokeJWTAuthority",
      "GetX509AuthorityState",
      "PrepareX509Authority",
      "ActivateX509Authority",
      "TaintX509Authority",
      "TaintX509UpstreamAuthority",
      "RevokeX509Authority",
      "RevokeX509UpstreamAuthority",
      "GetWITAuthorityState",
      "PrepareWITAuthority",
      "ActivateWITAuthority",
      "TaintWITAuthority",
      "RevokeWITAuthority",
    ];
    expect(shapes(LocalAuthorityService)).toEqual(Object.fromEntries(names.map((n) => [p + n, "unary"])));
  });

  it("server Debug and Logger", () => {
    expect(shapes(ServerDebugService)).toEqual({ "/spire.api.server.debug.v1.Debug/GetInfo": "unary" });
    const p = "/spire.api.server.logger.v1.Logger/";
    expect(shapes(ServerLoggerService)).toEqual({
      [`${p}GetLogger`]: "unary",
      [`${p}SetLogLevel`]: "unary",
      [`${p}ResetLogLevel`]: "unary",
    });
  });

  it("agent admin APIs (Debug's package has no 'api' segment)", () => {
    expect(shapes(AgentDebugService)).toEqual({ "/spire.agent.debug.v1.Debug/GetInfo": "unary" });
    const l = "/spire.api.agent.logger.v1.Logger/";
    expect(shapes(AgentLoggerService)).toEqual({
      [`${l}GetLogger`]: "unary",
      [`${l}SetLogLevel`]: "unary",
      [`${l}ResetLogLevel`]: "unary",
    });
    const d = "/spire.api.agent.delegatedidentity.v1.DelegatedIdentity/";
    expect(shapes(DelegatedIdentityService)).toEqual({
      [`${d}SubscribeToX509SVIDs`]: "server-stream",
      [`${d}SubscribeToX509Bundles`]: "server-stream",
      [`${d}FetchJWTSVIDs`]: "unary",
      [`${d}SubscribeToJWTBundles`]: "server-stream",
    });
  });
});

describe("Workload API field numbers", () => {
  it("X509SVID fields 1..5", () => {
    const enc = (m: Partial<X509SVID>) => hex(X509SVID.encode(X509SVID.fromPartial(m)).finish());
    expect(enc({ spiffeId: "s" })).toBe("0a0173");
    expect(enc({ x509Svid: Buffer.from([1]) })).toBe("120101");
    expect(enc({ x509SvidKey: Buffer.from([2]) })).toBe("1a0102");
    expect(enc({ bundle: Buffer.from([3]) })).toBe("220103");
    expect(enc({ hint: "h" })).toBe("2a0168");
  });

  it("X509SVIDResponse.svids=1, crl=2, federated_bundles=3 (map<string,bytes>)", () => {
    const enc = (m: Partial<X509SVIDResponse>) => hex(X509SVIDResponse.encode(X509SVIDResponse.fromPartial(m)).finish());
    expect(enc({ svids: [{ spiffeId: "s" } as X509SVID] })).toBe("0a030a0173");
    expect(enc({ crl: [Buffer.from([9])] })).toBe("120109");
    // map entry = { key = 1, value = 2 }
    expect(enc({ federatedBundles: { k: Buffer.from([1]) } })).toBe("1a060a016b120101");
  });

  it("X509BundlesResponse.crl=1, bundles=2", () => {
    const enc = (m: Partial<X509BundlesResponse>) =>
      hex(X509BundlesResponse.encode(X509BundlesResponse.fromPartial(m)).finish());
    expect(enc({ crl: [Buffer.from([9])] })).toBe("0a0109");
    expect(enc({ bundles: { k: Buffer.from([1]) } })).toBe("12060a016b120101");
  });

  it("JWTSVIDRequest.audience=1 (repeated), spiffe_id=2", () => {
    const enc = (m: Partial<JWTSVIDRequest>) => hex(JWTSVIDRequest.encode(JWTSVIDRequest.fromPartial(m)).finish());
    expect(enc({ audience: ["a", "b"] })).toBe("0a01610a0162");
    expect(enc({ spiffeId: "s" })).toBe("120173");
  });

  it("ValidateJWTSVID request/response", () => {
    expect(hex(ValidateJWTSVIDRequest.encode({ audience: "a", svid: "t" }).finish())).toBe("0a0161120174");
    // claims=2 is a google.protobuf.Struct: fields=1 map<string, Value>, Value.string_value=3.
    const resp = ValidateJWTSVIDResponse.encode({ spiffeId: "", claims: { sub: "x" } }).finish();
    expect(hex(resp)).toBe("120c0a0a0a037375621203" + "1a0178");
    expect(ValidateJWTSVIDResponse.decode(resp).claims).toEqual({ sub: "x" });
  });

  it("JWT bundles are bytes, WIT bundles are strings", () => {
    expect(hex(JWTBundlesResponse.encode({ bundles: { k: Buffer.from("{}") } }).finish())).toBe("0a070a016b12027b7d");
    const wit = WITBundlesResponse.encode({ bundles: { k: "{}" } }).finish();
    expect(hex(wit)).toBe("0a070a016b12027b7d");
    expect(typeof WITBundlesResponse.decode(wit).bundles.k).toBe("string");
  });

  it("WITSVID fields 1..4 are strings", () => {
    const enc = (m: Partial<WITSVID>) => hex(WITSVID.encode(WITSVID.fromPartial(m)).finish());
    expect(enc({ spiffeId: "s" })).toBe("0a0173");
    expect(enc({ witSvid: "w" })).toBe("120177");
    expect(enc({ witSvidKey: "k" })).toBe("1a016b");
    expect(enc({ hint: "h" })).toBe("220168");
  });
});

describe("spire.api.types field numbers", () => {
  const enc = (m: Partial<Entry>) => hex(Entry.encode(Entry.fromPartial(m)).finish());

  it("Entry scalar and message fields", () => {
    expect(enc({ id: "a" })).toBe("0a0161");
    // SPIFFEID{trust_domain=1, path=2}
    expect(enc({ spiffeId: { trustDomain: "t", path: "/p" } })).toBe("12070a0174" + "12022f70");
    expect(enc({ parentId: { trustDomain: "t", path: "" } })).toBe("1a030a0174");
    // Selector{type=1, value=2}
    expect(enc({ selectors: [{ type: "u", value: "v" }] })).toBe("22060a0175120176");
    expect(enc({ x509SvidTtl: 3 })).toBe("2803");
    expect(enc({ federatesWith: ["d"] })).toBe("320164");
    expect(enc({ admin: true })).toBe("3801");
    expect(enc({ downstream: true })).toBe("4001");
    expect(enc({ expiresAt: 1n })).toBe("4801");
    expect(enc({ dnsNames: ["n"] })).toBe("52016e");
    expect(enc({ revisionNumber: 5n })).toBe("5805");
    expect(enc({ storeSvid: true })).toBe("6001");
    expect(enc({ jwtSvidTtl: 4 })).toBe("6804");
    expect(enc({ hint: "h" })).toBe("720168");
    expect(enc({ createdAt: 2n })).toBe("7802");
  });

  it("Entry.additional_attributes=16 is optional with presence", () => {
    // Field 16, wire type 2 -> tag varint 0x82 0x01.
    expect(enc({})).toBe("");
    expect(enc({ additionalAttributes: { disableX509SvidPrefetch: false, jwtSvidIncludeJti: false } })).toBe("820100");
    expect(enc({ additionalAttributes: { disableX509SvidPrefetch: true, jwtSvidIncludeJti: false } })).toBe("82010208" + "01");
    expect(enc({ additionalAttributes: { disableX509SvidPrefetch: false, jwtSvidIncludeJti: true } })).toBe("82010210" + "01");
    expect(Entry.decode(bytes("820100")).additionalAttributes).toEqual({
      disableX509SvidPrefetch: false,
      jwtSvidIncludeJti: false,
    });
    expect(Entry.decode(bytes("0a0161")).additionalAttributes).toBeUndefined();
  });

  it("EntryMask flags share numbers with Entry fields", () => {
    const m = (p: Partial<EntryMask>) => hex(EntryMask.encode(EntryMask.fromPartial(p)).finish());
    expect(m({ spiffeId: true })).toBe("1001");
    expect(m({ revisionNumber: true })).toBe("5801");
    expect(m({ createdAt: true })).toBe("7801");
    expect(m({ additionalAttributes: true })).toBe("800101");
  });

  it("Agent, Bundle, X509SVID, JWTSVID", () => {
    expect(hex(Agent.encode(Agent.fromPartial({ x509svidSerialNumber: "1" })).finish())).toBe("1a0131");
    expect(hex(Agent.encode(Agent.fromPartial({ canReattest: true })).finish())).toBe("3801");
    expect(hex(Agent.encode(Agent.fromPartial({ agentVersion: "v" })).finish())).toBe("420176");
    expect(hex(Bundle.encode(Bundle.fromPartial({ sequenceNumber: 1n })).finish())).toBe("2801");
    expect(hex(Bundle.encode(Bundle.fromPartial({ witAuthorities: [{ keyId: "k" }] })).finish())).toBe("3203" + "12016b");
    expect(hex(BundleMask.encode(BundleMask.fromPartial({ witAuthorities: true })).finish())).toBe("3001");
    expect(hex(TypesX509SVID.encode(TypesX509SVID.fromPartial({ certChain: [Buffer.from([1])], hint: "h" })).finish())).toBe(
      "0a0101" + "220168",
    );
    expect(hex(TypesJWTSVID.encode(TypesJWTSVID.fromPartial({ issuedAt: 1n, hint: "h" })).finish())).toBe("2001" + "2a0168");
  });

  it("FederationRelationship profile oneof uses fields 3 and 4", () => {
    const web = FederationRelationship.encode(
      FederationRelationship.fromPartial({ bundleEndpointProfile: { $case: "httpsWeb", value: {} } }),
    ).finish();
    expect(hex(web)).toBe("1a00");
    const spiffe = FederationRelationship.encode(
      FederationRelationship.fromPartial({
        bundleEndpointProfile: { $case: "httpsSpiffe", value: { endpointSpiffeId: "x" } },
      }),
    ).finish();
    expect(hex(spiffe)).toBe("22030a0178");
    expect(FederationRelationship.decode(spiffe).bundleEndpointProfile?.$case).toBe("httpsSpiffe");
  });

  it("SelectorMatch and LogLevel enums", () => {
    expect(SelectorMatch_MatchBehavior.MATCH_SUPERSET).toBe(2);
    expect(SelectorMatch_MatchBehavior.MATCH_ANY).toBe(3);
    expect(hex(SelectorMatch.encode({ selectors: [], match: SelectorMatch_MatchBehavior.MATCH_ANY }).finish())).toBe("1003");
    expect(LogLevel.TRACE).toBe(7);
    expect(hex(Logger.encode({ currentLevel: LogLevel.DEBUG, launchLevel: LogLevel.INFO }).finish())).toBe("08061005");
  });

  it("Status and PermissionDeniedDetails", () => {
    expect(hex(Status.encode({ code: 5, message: "x" }).finish())).toBe("0805120178");
    expect(PermissionDeniedDetails_Reason.AGENT_EXPIRED).toBe(1);
    expect(PermissionDeniedDetails_Reason.AGENT_NOT_ATTESTED).toBe(2);
    expect(PermissionDeniedDetails_Reason.AGENT_NOT_ACTIVE).toBe(3);
    expect(PermissionDeniedDetails_Reason.AGENT_BANNED).toBe(4);
    expect(PermissionDeniedDetails_Reason.AGENT_MUST_REATTEST).toBe(5);
    expect(hex(PermissionDeniedDetails.encode({ reason: PermissionDeniedDetails_Reason.AGENT_BANNED }).finish())).toBe("0804");
  });
});

describe("server API messages", () => {
  it("AttestAgentRequest oneof step: params=1, challenge_response=2", () => {
    const first = AttestAgentRequest.encode({
      step: {
        $case: "params",
        value: { data: { type: "j", payload: Buffer.from("t") }, params: { csr: Buffer.from([7]) } },
      },
    }).finish();
    // Params{data=1 AttestationData{type=1,payload=2}, params=2 AgentX509SVIDParams{csr=1}}
    expect(hex(first)).toBe("0a0d" + "0a06" + "0a016a" + "120174" + "1203" + "0a0107");
    expect(hex(AttestAgentRequest.encode({ step: { $case: "params", value: { data: undefined, params: undefined } } }).finish())).toBe(
      "0a00",
    );
    const answer = AttestAgentRequest.encode({ step: { $case: "challengeResponse", value: Buffer.from([1, 2]) } }).finish();
    expect(hex(answer)).toBe("12020102");
    expect(AttestAgentRequest.decode(bytes("12020102")).step?.$case).toBe("challengeResponse");
    expect(AttestAgentRequest.decode(bytes("")).step).toBeUndefined();
  });

  it("AttestAgentResponse oneof step: result=1 {svid=1, reattestable=2}, challenge=2", () => {
    const res = AttestAgentResponse.encode({ step: { $case: "result", value: { svid: undefined, reattestable: true } } }).finish();
    expect(hex(res)).toBe("0a021001");
    expect(hex(AttestAgentResponse.encode({ step: { $case: "challenge", value: Buffer.from([3]) } }).finish())).toBe("120103");
  });

  it("ListAgentsRequest filter wrappers keep presence of false", () => {
    // filter=1 { by_banned=3 BoolValue{} } : a present false is an empty sub-message.
    const req = ListAgentsRequest.fromPartial({ filter: { byBanned: false } });
    expect(hex(ListAgentsRequest.encode(req).finish())).toBe("0a021a00");
    expect(ListAgentsRequest.decode(bytes("0a021a00")).filter?.byBanned).toBe(false);
    expect(ListAgentsRequest.decode(bytes("0a00")).filter?.byBanned).toBeUndefined();
    expect(hex(ListAgentsRequest.encode(ListAgentsRequest.fromPartial({ pageSize: 1000, pageToken: "t" })).finish())).toBe(
      "18e807" + "220174",
    );
  });

  it("PostStatusRequest fields", () => {
    expect(hex(PostStatusRequest.encode({ currentBundleSerial: 1n, agentVersion: "v" }).finish())).toBe("0801120176");
  });

  it("EntryMask presence: absent output_mask stays undefined, all-false mask is an empty sub-message", () => {
    const absent = ListEntriesRequest.encode(ListEntriesRequest.fromPartial({})).finish();
    expect(hex(absent)).toBe("");
    expect(ListEntriesRequest.decode(absent).outputMask).toBeUndefined();

    const present = ListEntriesRequest.encode(ListEntriesRequest.fromPartial({ outputMask: {} })).finish();
    expect(hex(present)).toBe("1200");
    const decoded = ListEntriesRequest.decode(present).outputMask;
    expect(decoded).toBeDefined();
    expect(Object.values(decoded!).every((v) => v === false)).toBe(true);

    // GetAuthorizedEntries puts its mask at field 1.
    expect(hex(GetAuthorizedEntriesRequest.encode({ outputMask: EntryMask.fromPartial({}) }).finish())).toBe("0a00");
    expect(GetAuthorizedEntriesRequest.decode(bytes("")).outputMask).toBeUndefined();
  });

  it("SyncAuthorizedEntries request/response fields", () => {
    const req = SyncAuthorizedEntriesRequest.encode({
      outputMask: EntryMask.fromPartial({ revisionNumber: true }),
      ids: ["a"],
    }).finish();
    expect(hex(req)).toBe("0a025801" + "120161");
    const resp = SyncAuthorizedEntriesResponse.encode(
      SyncAuthorizedEntriesResponse.fromPartial({
        entryRevisions: [{ id: "a", revisionNumber: 1n, createdAt: 2n }],
        entries: [{ id: "b" }],
        more: true,
      }),
    ).finish();
    expect(hex(resp)).toBe("0a07" + "0a0161" + "1001" + "1802" + "1203" + "0a0162" + "1801");
  });

  it("SVID request fields", () => {
    const batch = BatchNewX509SVIDRequest.encode({ params: [{ entryId: "e", csr: Buffer.from([1]) }] }).finish();
    expect(hex(batch)).toBe("0a06" + "0a0165" + "120101");
    expect(hex(NewJWTSVIDRequest.encode({ entryId: "e", audience: ["a"] }).finish())).toBe("0a0165" + "120161");
  });

  it("BatchDeleteFederatedBundleRequest.mode", () => {
    expect(BatchDeleteFederatedBundleRequest_Mode.DISSOCIATE).toBe(2);
    expect(
      hex(BatchDeleteFederatedBundleRequest.encode({ trustDomains: ["d"], mode: BatchDeleteFederatedBundleRequest_Mode.DELETE }).finish()),
    ).toBe("0a0164" + "1001");
  });

  it("agent Debug GetInfoResponse", () => {
    const enc = (m: Partial<AgentGetInfoResponse>) =>
      hex(AgentGetInfoResponse.encode(AgentGetInfoResponse.fromPartial(m)).finish());
    expect(enc({ lastSyncSuccess: 1n })).toBe("2001");
    expect(enc({ cachedSvidstoreX509SvidsCount: 1 })).toBe("3801");
  });
});

describe("google.rpc.Status carrying PermissionDeniedDetails", () => {
  const typeUrl = "type.googleapis.com/spire.api.types.PermissionDeniedDetails";

  it("encodes code=1, message=2, details=3 as Any{type_url=1, value=2}", () => {
    const detail = PermissionDeniedDetails.encode({ reason: PermissionDeniedDetails_Reason.AGENT_BANNED }).finish();
    const st = RpcStatus.encode({ code: 7, message: "x", details: [{ typeUrl, value: Buffer.from(detail) }] }).finish();
    const url = Buffer.from(typeUrl).toString("hex");
    const anyBody = "0a" + typeUrl.length.toString(16).padStart(2, "0") + url + "12020804";
    expect(hex(st)).toBe("0807" + "120178" + "1a" + (anyBody.length / 2).toString(16).padStart(2, "0") + anyBody);
  });

  it("decodes a trailer payload back to the reason", () => {
    const wire = RpcStatus.encode({
      code: 7,
      message: "authorization denied",
      details: [Any.fromPartial({ typeUrl, value: Buffer.from([0x08, 0x05]) })],
    }).finish();
    const st = RpcStatus.decode(wire);
    expect(st.code).toBe(7);
    expect(st.details).toHaveLength(1);
    expect(st.details[0]!.typeUrl).toBe(typeUrl);
    expect(PermissionDeniedDetails.decode(st.details[0]!.value).reason).toBe(PermissionDeniedDetails_Reason.AGENT_MUST_REATTEST);
  });
});
