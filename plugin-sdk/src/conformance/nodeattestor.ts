/**
 * The NodeAttestor suite: the agent half's real payloads and challenge answers relayed to the
 * server half exactly as SPIRE's agent and server do (plugin-protocol.md §3.3–3.4), each half in
 * its own process. A good attestation must name an agent inside the trust domain under
 * /spire/agent/<plugin name>/; everything else an attacker can send (garbage, another
 * attestor's payload, a replayed or altered challenge response, a hang-up mid-challenge) must be
 * refused with a status, never accepted, and never take the plugin down.
 */
import { randomBytes } from "node:crypto";
import { NodeAttestorService as AgentNodeAttestorService } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import {
  type AgentAttributes,
  NodeAttestorService as ServerNodeAttestorService,
} from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { Code, describeRpcError, expect, fail, outcome, quote, type Outcome } from "./assert.js";
import { defineCheck, defineSuite } from "./define.js";
import { PluginHarness } from "./harness.js";
import { type PluginUnderTest, resolvePlugin } from "./plugin.js";
import type { Check, Suite } from "./suite.js";

export interface NodeAttestorSuiteOptions {
  /** The plugin's name, which is the attestation data type and the agent ID's segment after /spire/agent/. */
  readonly name: string;
  /**
   * Whether the server half challenges the agent (default true). A plugin that says so and never
   * challenges fails; the replay and alteration checks need a challenge.
   */
  readonly challenges?: boolean;
  /** Judges a good attestation's result (throw to fail), e.g. the exact agent ID and selectors. */
  readonly expectAttributes?: (attributes: AgentAttributes) => void | Promise<void>;
  /** More payloads the server must refuse, besides the suite's garbage and foreign payloads. */
  readonly badPayloads?: readonly { readonly name: string; readonly payload: Buffer }[];
  /** How many attestations to run at once; default 8. */
  readonly concurrentAttestations?: number;
}

/** Most challenge rounds one attestation may take before the suite calls it a loop. */
const maxRounds = 10;

/** Codes a refusal of hostile input may carry. */
const refusalCodes: readonly Code[] = [Code.INVALID_ARGUMENT, Code.PERMISSION_DENIED];

interface Relay {
  readonly result: Outcome<AgentAttributes>;
  readonly challenges: readonly Buffer[];
  readonly responses: readonly Buffer[];
}

interface RelayOptions {
  /** Replaces the agent's payload. */
  readonly payload?: (payload: Buffer) => Buffer;
  /** Replaces the agent's answer to challenge `round` (0-based). */
  readonly response?: (response: Buffer, round: number) => Buffer;
}

/**
 * `server` and `agent` may be the same program (two processes are started, one configured with
 * each configuration) or two different ones (e.g. a stock SPIRE plugin as one half).
 */
export function nodeAttestorSuite(server: PluginUnderTest, agent: PluginUnderTest, options: NodeAttestorSuiteOptions): Suite {
  const serverPlugin = resolvePlugin({ ...server, sides: server.sides ?? ["server"] });
  const agentPlugin = resolvePlugin({ ...agent, sides: agent.sides ?? ["agent"] });
  const serverHarness = new PluginHarness(serverPlugin);
  const agentHarness = new PluginHarness(agentPlugin);
  const challenges = options.challenges ?? true;
  const concurrent = options.concurrentAttestations ?? 8;
  const trustDomain = serverPlugin.trustDomain;
  const agentPrefix = `spiffe://${trustDomain}/spire/agent/${options.name}/`;
  const deadline = () => ({ deadline: Date.now() + serverPlugin.callTimeoutMs });

  const serverClient = async () => (await serverHarness.shared()).client(ServerNodeAttestorService);
  const agentClient = async () => (await agentHarness.shared()).client(AgentNodeAttestorService);

  /** The agent's first message: its payload, sent without any challenge. */
  async function agentPayload(): Promise<Buffer> {
    const call = (await agentClient()).aidAttestation(deadline());
    try {
      const first = await call[Symbol.asyncIterator]().next();
      if (first.done) fail("the agent half ended AidAttestation without sending a payload");
      const data = first.value.data;
      if (data?.$case !== "payload") fail(`the agent half's first message must be a payload, got ${data?.$case ?? "an empty message"}`);
      expect(data.value.length > 0, "the agent half sent an empty payload (SPIRE's agent refuses it as Internal)");
      return data.value;
    } finally {
      call.cancel();
    }
  }

  /** One attestation, relayed between the halves as SPIRE's agent and server do. */
  async function relay(opts: RelayOptions = {}): Promise<Relay> {
    const agentCall = (await agentClient()).aidAttestation(deadline());
    const serverCall = (await serverClient()).attest(deadline());
    const fromAgent = agentCall[Symbol.asyncIterator]();
    const fromServer = serverCall[Symbol.asyncIterator]();
    const seenChallenges: Buffer[] = [];
    const responses: Buffer[] = [];
    try {
      const first = await agentStep(fromAgent.next(), "payload");
      if (first.data?.$case !== "payload") fail(`the agent half's first message must be a payload, got ${first.data?.$case ?? "an empty message"}`);
      serverCall.send({ request: { $case: "payload", value: opts.payload ? opts.payload(first.data.value) : first.data.value } });
      for (let round = 0; ; round++) {
        const next = await outcome(fromServer.next());
        if (!next.ok) return { result: next, challenges: seenChallenges, responses };
        if (next.value.done) fail("the server half ended Attest without agent attributes or an error");
        const response = next.value.value.response;
        if (response?.$case === "agentAttributes") return { result: { ok: true, value: response.value }, challenges: seenChallenges, responses };
        if (response?.$case !== "challenge") fail("the server half sent a message with neither a challenge nor agent attributes");
        if (round >= maxRounds) fail(`the server half sent more than ${maxRounds} challenges`);
        expect(response.value.length > 0, "the server half sent an empty challenge");
        seenChallenges.push(response.value);
        agentCall.send({ challenge: response.value });
        const answer = await agentStep(fromAgent.next(), `answer to challenge ${round + 1}`);
        if (answer.data?.$case !== "challengeResponse") fail(`the agent half answered a challenge with ${answer.data?.$case ?? "an empty message"}`);
        const sent = opts.response ? opts.response(answer.data.value, round) : answer.data.value;
        responses.push(answer.data.value);
        serverCall.send({ request: { $case: "challengeResponse", value: sent } });
      }
    } finally {
      agentCall.cancel();
      serverCall.cancel();
    }
  }

  async function agentStep<T>(next: Promise<IteratorResult<T>>, what: string): Promise<T> {
    const r = await outcome(next);
    if (!r.ok) fail(`the agent half failed instead of sending its ${what}: ${describeRpcError(r.error)}`);
    if (r.value.done) fail(`the agent half ended AidAttestation instead of sending its ${what}`);
    return r.value.value;
  }

  /** A good attestation, judged; returns its attributes. */
  async function goodAttestation(what = "a good attestation"): Promise<AgentAttributes & { rounds: number }> {
    const r = await relay();
    if (!r.result.ok) fail(`${what} was refused by the server half with ${describeRpcError(r.result.error)}`);
    const attrs = r.result.value;
    if (challenges) expect(r.challenges.length > 0, `${what} completed without any challenge, but the plugin is declared to challenge agents`);
    expect(attrs.spiffeId.startsWith(agentPrefix), `${what} named the agent ${quote(attrs.spiffeId)}; SPIRE expects an agent ID under ${quote(agentPrefix)}`);
    expect(/^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)+$/.test(attrs.spiffeId), `${what} named the agent ${quote(attrs.spiffeId)}, which is not a valid SPIFFE ID`);
    const bad = attrs.selectorValues.filter((v) => v.trim() === "");
    expect(bad.length === 0, `${what} returned empty selector values: ${JSON.stringify(attrs.selectorValues)}`);
    return { ...attrs, rounds: r.challenges.length };
  }

  /** The server must refuse `r` with InvalidArgument or PermissionDenied and a message. */
  function expectRefused(r: Relay, what: string): void {
    if (r.result.ok) fail(`${what} was accepted: the server half named the agent ${quote(r.result.value.spiffeId)}`);
    const e = r.result.error;
    expect(refusalCodes.includes(e.code), `${what} was refused with ${describeRpcError(e)}; expected InvalidArgument or PermissionDenied`);
    expect(e.message.trim() !== "", `${what} was refused with ${describeRpcError(e)} but no message`);
  }

  async function serverAlive(what: string): Promise<void> {
    const session = await serverHarness.shared();
    expect(session.exited === undefined, `after ${what}, ${session.describeExit() ?? "the server half's process exited"}`);
    await goodAttestation(`a good attestation after ${what}`);
  }

  const check = (name: string, run: () => Promise<void>, timeoutMs?: number) => defineCheck(serverHarness, name, run, timeoutMs);
  const checks: Check[] = [
    check("aid attestation: the agent half sends a non-empty payload first, without waiting for a challenge", async () => {
      await agentPayload();
    }),
    check(`attest: the agent's payload, relayed through the server's challenges, names an agent under /spire/agent/${options.name}/ with selectors`, async () => {
      const attrs = await goodAttestation();
      await options.expectAttributes?.(attrs);
    }),
    check("attest: attesting the same agent again names the same agent with the same selectors", async () => {
      const a = await goodAttestation("the first attestation");
      const b = await goodAttestation("the second attestation");
      expect(a.spiffeId === b.spiffeId, `two attestations of one agent named ${quote(a.spiffeId)} and ${quote(b.spiffeId)}`);
      const sa = JSON.stringify([...a.selectorValues].sort());
      const sb = JSON.stringify([...b.selectorValues].sort());
      expect(sa === sb, `two attestations of one agent gave selectors ${sa} and ${sb}`);
      expect(a.canReattest === b.canReattest, "two attestations of one agent disagree on can_reattest");
    }),
    check("attest: garbage payloads are refused with InvalidArgument or PermissionDenied, and the plugin keeps serving", async () => {
      const garbage: [string, Buffer][] = [
        ["a one-byte payload", Buffer.from([0x00])],
        ["random bytes", randomBytes(512)],
        ["text that is not JSON", Buffer.from("hello, attestor")],
        ["a truncated copy of the agent's payload", (await agentPayload()).subarray(0, 7)],
        ["256 KiB of random bytes", randomBytes(256 << 10)],
        ...(options.badPayloads ?? []).map((b): [string, Buffer] => [b.name, b.payload]),
      ];
      for (const [name, payload] of garbage) expectRefused(await relay({ payload: () => payload }), `a payload of ${name}`);
      await serverAlive("garbage payloads");
    }),
    check("attest: payloads of other attestation types are refused", async () => {
      const foreign: [string, unknown][] = [
        ["join_token", { token: "d3e9a5b4-0000-4000-8000-000000000000" }],
        ["k8s_psat", { cluster: "prod", token: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" }],
        ["aws_iid", { document: "{}", signature: "c2ln", rsa2048: "" }],
        ["x509pop (no certificates)", { certificates: [] }],
        ["an empty JSON object", {}],
      ];
      for (const [name, doc] of foreign) expectRefused(await relay({ payload: () => Buffer.from(JSON.stringify(doc)) }), `a ${name} payload`);
    }),
    check("attest: a challenge response sent in place of the payload is refused with InvalidArgument", async () => {
      const call = (await serverClient()).attest(deadline());
      try {
        call.send({ request: { $case: "challengeResponse", value: await agentPayload() } });
        const r = await outcome(call[Symbol.asyncIterator]().next());
        if (r.ok) fail(`the server half answered a first message without a payload with ${r.value.done ? "the end of the stream" : JSON.stringify(r.value.value.response?.$case)}`);
        expect(r.error.code === Code.INVALID_ARGUMENT, `a first message without a payload was refused with ${describeRpcError(r.error)}; expected InvalidArgument`);
      } finally {
        call.cancel();
      }
    }),
    check("attest: a challenge response replayed from an earlier attestation is refused", async () => {
      const earlier = await relay();
      if (!earlier.result.ok) fail(`a good attestation was refused with ${describeRpcError(earlier.result.error)}`);
      if (!challenges) return;
      expect(earlier.responses.length > 0, "the server half issued no challenge, but the plugin is declared to challenge agents");
      const r = await relay({ response: (_fresh, round) => earlier.responses[round] ?? earlier.responses[0]! });
      expectRefused(r, "a replayed challenge response");
    }),
    check("attest: altered challenge responses (a flipped bit, truncated, emptied) are refused", async () => {
      if (!challenges) return;
      const alterations: [string, (b: Buffer) => Buffer][] = [
        ["with a bit of its last byte flipped", (b) => flip(b, b.length - 1)],
        ["with a bit flipped in the middle", (b) => flip(b, b.length >> 1)],
        ["truncated to half", (b) => b.subarray(0, b.length >> 1)],
        ["emptied", () => Buffer.alloc(0)],
      ];
      for (const [name, alter] of alterations) {
        const r = await relay({ response: (b) => alter(b) });
        if (r.challenges.length === 0) fail("the server half issued no challenge, but the plugin is declared to challenge agents");
        expectRefused(r, `a challenge response ${name}`);
      }
    }),
    check("attest: an agent hanging up in the middle of a challenge leaves the plugin serving", async () => {
      const agentPayloadBytes = await agentPayload();
      const call = (await serverClient()).attest(deadline());
      call.send({ request: { $case: "payload", value: agentPayloadBytes } });
      await outcome(call[Symbol.asyncIterator]().next());
      call.cancel();
      const half = (await serverClient()).attest(deadline());
      half.send({ request: { $case: "payload", value: agentPayloadBytes } });
      const first = await outcome(half[Symbol.asyncIterator]().next());
      half.end();
      if (first.ok && !first.value.done) await outcome(half[Symbol.asyncIterator]().next());
      half.cancel();
      await serverAlive("agents hanging up mid-attestation");
    }),
    check(`attest: ${concurrent} attestations at once all succeed and agree`, async () => {
      const results = await Promise.all(Array.from({ length: concurrent }, () => relay()));
      const ids = new Set<string>();
      for (const r of results) {
        if (!r.result.ok) fail(`one of ${concurrent} concurrent attestations was refused with ${describeRpcError(r.result.error)}`);
        ids.add(r.result.value.spiffeId);
      }
      expect(ids.size === 1, `concurrent attestations of one agent named different agents: ${JSON.stringify([...ids])}`);
    }),
    check("lifecycle: before Configure, both halves fail with FailedPrecondition", async () => {
      const unconfiguredServer = await serverHarness.launch({ configure: false });
      const payload = await agentPayload();
      const call = unconfiguredServer.client(ServerNodeAttestorService).attest(deadline());
      try {
        call.send({ request: { $case: "payload", value: payload } });
        const r = await outcome(call[Symbol.asyncIterator]().next());
        if (r.ok) fail("an unconfigured server half answered Attest instead of failing with FailedPrecondition");
        expect(r.error.code === Code.FAILED_PRECONDITION, `an unconfigured server half failed Attest with ${describeRpcError(r.error)}; expected FailedPrecondition`);
      } finally {
        call.cancel();
      }
      const unconfiguredAgent = await agentHarness.launch({ configure: false });
      const aid = unconfiguredAgent.client(AgentNodeAttestorService).aidAttestation(deadline());
      try {
        const r = await outcome(aid[Symbol.asyncIterator]().next());
        if (r.ok) fail("an unconfigured agent half answered AidAttestation instead of failing with FailedPrecondition");
        expect(r.error.code === Code.FAILED_PRECONDITION, `an unconfigured agent half failed AidAttestation with ${describeRpcError(r.error)}; expected FailedPrecondition`);
      } finally {
        aid.cancel();
      }
    }),
  ];

  return defineSuite(`NodeAttestor ${options.name}`, serverHarness, checks, {
    setup: async () => {
      await Promise.all([serverHarness.shared().catch(() => {}), agentHarness.shared().catch(() => {})]);
    },
    teardown: async () => {
      await agentHarness.close();
    },
  });
}

function flip(b: Buffer, index: number): Buffer {
  const copy = Buffer.from(b);
  if (copy.length === 0) return copy;
  const i = Math.max(0, Math.min(index, copy.length - 1));
  // Bit 3, not bit 0: in base64 text the lowest bits of the last character may be padding that
  // decoders ignore, and an alteration that changes nothing proves nothing.
  copy[i] = copy[i]! ^ 0x08;
  return copy;
}
