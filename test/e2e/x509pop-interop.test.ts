/**
 * x509pop byte compatibility with SPIRE, both ways, against SPIRE's own code: the built-in
 * x509pop server and agent plugins of github.com/spiffe/spire v1.15.3, run in process by the Go
 * program test/e2e/go/x509pop (one attestation per process, the stream as JSON lines), against
 * Signet's bundled x509pop plugin program running as a real plugin process.
 *
 *  - SPIRE's agent half → Signet's server half (ECDSA P-256, P-384, RSA leaves);
 *  - Signet's agent half → SPIRE's server half, which must name the same agent with the same
 *    selectors as Signet's server does;
 *  - the same hostile payloads to both server halves: same status code and message.
 *
 * Needs `go` on PATH (and the module proxy for the first build); without it the tests are left
 * out with a reason, except in CI (CI=true), where that is a failure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PluginHarness, type PluginSession } from "@signet/plugin-sdk/conformance";
import { NodeAttestorService as AgentNodeAttestor } from "@signet/proto/spire/plugin/agent/nodeattestor/v1/nodeattestor";
import { NodeAttestorService as ServerNodeAttestor } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { Code, RpcError, codeName } from "@signet/proto";
import { encodeAttestationData } from "../../plugins/nodeattestor-x509pop/src/codec.js";
import { type KeyKind, type Minted, intermediateCa, leafCert, newKey, rootCa, writeAgentFiles, writeBundle } from "../../plugins/nodeattestor-x509pop/src/testing/pki.js";
import { buildPlugin } from "../fakes/build-plugin.js";
import { goBuild, goBuildDir, goBuildTimeoutMs, haveGo, requireGoInCI } from "./go-toolchain.js";

describe("Go toolchain for the x509pop interop test", () => {
  it("is on PATH when CI=true (otherwise the x509pop interop tests are left out)", () => {
    requireGoInCI("1.26.6 or newer (SPIRE v1.15.3 requires it)");
  });
});

// ------------------------------------------------------------------ SPIRE's halves as a process

interface PeerLine {
  payload?: string;
  challenge?: string;
  challenge_response?: string;
  attributes?: { spiffe_id: string; selector_values: string[] | null; can_reattest: boolean };
  error?: { code: string; message: string };
}

/** One half of SPIRE's x509pop for one attestation, spoken to in JSON lines. */
class SpireHalf {
  private readonly child: ChildProcess;
  private readonly queue: PeerLine[] = [];
  private readonly waiters: ((l: PeerLine) => void)[] = [];
  private stderr = "";
  private closed = false;

  constructor(side: "server" | "agent", config: string) {
    this.child = spawn(join(goBuildDir, "x509pop"), ["-side", side, "-td", "example.org", "-config", config], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    const lines = createInterface({ input: this.child.stdout! });
    lines.on("line", (text) => {
      const l = JSON.parse(text) as PeerLine;
      const w = this.waiters.shift();
      if (w) w(l);
      else this.queue.push(l);
    });
    // Only when stdout is drained: its last lines may be read after the process has exited.
    lines.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w({ error: { code: "Exited", message: `x509pop peer exited: ${this.stderr}` } });
    });
  }

  send(l: PeerLine): void {
    this.child.stdin!.write(`${JSON.stringify(l)}\n`);
  }

  next(): Promise<PeerLine> {
    const l = this.queue.shift();
    if (l) return Promise.resolve(l);
    if (this.closed) return Promise.resolve({ error: { code: "Exited", message: `x509pop peer exited: ${this.stderr}` } });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.child.stdin!.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}

// ------------------------------------------------------------------ Signet's plugin as a process

type Attributes = { spiffeId: string; selectorValues: string[]; canReattest: boolean };
type Result = { ok: true; attributes: Attributes } | { ok: false; code: string; message: string };

const b64 = (b: Buffer) => b.toString("base64");
const unb64 = (s: string | undefined) => Buffer.from(s ?? "", "base64");

let pluginFile = "";
const harnesses: PluginHarness[] = [];

async function signetPlugin(config: string): Promise<PluginSession> {
  const harness = new PluginHarness({
    type: "NodeAttestor",
    file: pluginFile,
    node: true,
    args: [],
    sides: ["server", "agent"],
    configurable: true,
    trustDomain: "example.org",
    config,
    badConfigs: [],
    handshakeTimeoutMs: 60_000,
    callTimeoutMs: 30_000,
  });
  harnesses.push(harness);
  return harness.shared();
}

/** SPIRE's agent half against Signet's server half. */
async function spireAgentToSignetServer(agentConfig: string, server: PluginSession): Promise<Result> {
  const agent = new SpireHalf("agent", agentConfig);
  const call = server.client(ServerNodeAttestor).attest({ deadline: Date.now() + 30_000 });
  const fromServer = call[Symbol.asyncIterator]();
  try {
    const payload = await agent.next();
    if (!payload.payload) throw new Error(`SPIRE's agent half sent no payload: ${JSON.stringify(payload)}`);
    call.send({ request: { $case: "payload", value: unb64(payload.payload) } });
    for (;;) {
      const r = await fromServer.next();
      if (r.done) throw new Error("Signet's server half ended without attributes");
      const res = r.value.response;
      if (res?.$case === "agentAttributes") return { ok: true, attributes: res.value };
      agent.send({ challenge: b64(res!.value as Buffer) });
      const answer = await agent.next();
      if (!answer.challenge_response) throw new Error(`SPIRE's agent half did not answer: ${JSON.stringify(answer)}`);
      call.send({ request: { $case: "challengeResponse", value: unb64(answer.challenge_response) } });
    }
  } catch (e) {
    if (e instanceof RpcError) return { ok: false, code: goCodeName(e.code), message: e.message };
    throw e;
  } finally {
    call.cancel();
    agent.close();
  }
}

/** Signet's agent half against SPIRE's server half. */
async function signetAgentToSpireServer(agent: PluginSession, serverConfig: string): Promise<Result> {
  const server = new SpireHalf("server", serverConfig);
  const call = agent.client(AgentNodeAttestor).aidAttestation({ deadline: Date.now() + 30_000 });
  const fromAgent = call[Symbol.asyncIterator]();
  try {
    const first = await fromAgent.next();
    if (first.done || first.value.data?.$case !== "payload") throw new Error("Signet's agent half sent no payload");
    server.send({ payload: b64(first.value.data.value) });
    for (;;) {
      const l = await server.next();
      if (l.attributes) return { ok: true, attributes: { spiffeId: l.attributes.spiffe_id, selectorValues: l.attributes.selector_values ?? [], canReattest: l.attributes.can_reattest } };
      if (l.error) return { ok: false, code: l.error.code, message: l.error.message };
      call.send({ challenge: unb64(l.challenge) });
      const answer = await fromAgent.next();
      if (answer.done || answer.value.data?.$case !== "challengeResponse") throw new Error("Signet's agent half did not answer");
      server.send({ challenge_response: b64(answer.value.data.value) });
    }
  } finally {
    call.cancel();
    server.close();
  }
}

/** A payload sent as the first message to one server half; what it answers first. */
async function firstAnswer(server: "spire" | PluginSession, serverConfig: string, payload: Buffer): Promise<Result | "challenge"> {
  if (server === "spire") {
    const peer = new SpireHalf("server", serverConfig);
    try {
      peer.send({ payload: b64(payload) });
      const l = await peer.next();
      if (l.challenge) return "challenge";
      if (l.error) return { ok: false, code: l.error.code, message: l.error.message };
      throw new Error(`unexpected answer ${JSON.stringify(l)}`);
    } finally {
      peer.close();
    }
  }
  const call = server.client(ServerNodeAttestor).attest({ deadline: Date.now() + 30_000 });
  try {
    call.send({ request: { $case: "payload", value: payload } });
    const r = await call[Symbol.asyncIterator]().next();
    if (!r.done && r.value.response?.$case === "challenge") return "challenge";
    throw new Error(`unexpected answer ${JSON.stringify(r)}`);
  } catch (e) {
    if (e instanceof RpcError) return { ok: false, code: goCodeName(e.code), message: e.message };
    throw e;
  } finally {
    call.cancel();
  }
}

/** grpc-go's Code.String() names. */
function goCodeName(code: Code): string {
  const names: Partial<Record<Code, string>> = {
    [Code.INVALID_ARGUMENT]: "InvalidArgument",
    [Code.PERMISSION_DENIED]: "PermissionDenied",
    [Code.FAILED_PRECONDITION]: "FailedPrecondition",
    [Code.INTERNAL]: "Internal",
    [Code.UNAVAILABLE]: "Unavailable",
  };
  return names[code] ?? codeName(code);
}

const sortedSelectors = (a: Attributes) => [...a.selectorValues].sort();

// ------------------------------------------------------------------ the tests

describe.runIf(haveGo)("x509pop interop with SPIRE v1.15.3's own x509pop plugins", () => {
  const dir = mkdtempSync(join(tmpdir(), "x509pop-interop-"));
  const root = rootCa();
  const intermediate = intermediateCa(root);
  const bundle = writeBundle(dir, "bundle", [root]);
  const serverHcl = `ca_bundle_path = "${bundle}"`;
  let files = 0;
  const agentHcl = (leaf: Minted, chain: readonly Minted[] = [intermediate]) => {
    const p = writeAgentFiles(dir, `agent-${++files}`, { leaf, chain });
    return `private_key_path = "${p.privateKeyPath}"\ncertificate_path = "${p.certificatePath}"`;
  };
  let signetServer: PluginSession;

  beforeAll(async () => {
    [pluginFile] = await Promise.all([
      buildPlugin(join(__dirname, "../../plugins/nodeattestor-x509pop/src/index.ts"), "nodeattestor-x509pop-interop", "NodeAttestor"),
      goBuild("x509pop", ["."]),
    ]);
    signetServer = await signetPlugin(serverHcl);
  }, goBuildTimeoutMs + 60_000);

  afterAll(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ["ec-p256", "ec-p384", "rsa-2048"] as KeyKind[]) {
    it(`SPIRE's agent half attests to Signet's server half (${kind} leaf)`, async () => {
      const leaf = leafCert(intermediate, { key: newKey(kind), uris: ["x509pop://example.org/datacenter/eu-1"] });
      const r = await spireAgentToSignetServer(agentHcl(leaf), signetServer);
      if (!r.ok) throw new Error(`refused: ${r.code}: ${r.message}`);
      expect(r.attributes.spiffeId).toMatch(/^spiffe:\/\/example\.org\/spire\/agent\/x509pop\/[0-9a-f]{40}$/);
      expect(r.attributes.selectorValues).toContain("san:datacenter:eu-1");
      expect(r.attributes.canReattest).toBe(true);
    });

    it(`Signet's agent half attests to SPIRE's server half, which names the agent as Signet does (${kind} leaf)`, async () => {
      const leaf = leafCert(intermediate, { key: newKey(kind), uris: ["x509pop://example.org/datacenter/eu-1"] });
      const agent = await signetPlugin(agentHcl(leaf));
      const spire = await signetAgentToSpireServer(agent, serverHcl);
      if (!spire.ok) throw new Error(`SPIRE refused Signet's agent: ${spire.code}: ${spire.message}`);
      const ours = await spireAgentToSignetServer(agentHcl(leaf), signetServer);
      if (!ours.ok) throw new Error(`Signet refused SPIRE's agent: ${ours.code}: ${ours.message}`);
      expect(spire.attributes.spiffeId).toBe(ours.attributes.spiffeId);
      expect(sortedSelectors(spire.attributes)).toEqual(sortedSelectors(ours.attributes));
      expect(spire.attributes.canReattest).toBe(true);
    });
  }

  it("a custom agent path template names the agent alike on both servers", async () => {
    const template = "/cn/{{ .Subject.CommonName }}/{{ .URISanSelectors.datacenter }}/{{ .SerialNumberHex | trunc 6 }}";
    const config = `${serverHcl}\nagent_path_template = "${template.replace(/"/g, '\\"')}"`;
    const server = await signetPlugin(config);
    const leaf = leafCert(intermediate, { uris: ["x509pop://example.org/datacenter/eu-1"] });
    const agent = await signetPlugin(agentHcl(leaf));
    const spire = await signetAgentToSpireServer(agent, config);
    const ours = await spireAgentToSignetServer(agentHcl(leaf), server);
    if (!spire.ok || !ours.ok) throw new Error(`refused: ${JSON.stringify([spire, ours])}`);
    expect(ours.attributes.spiffeId).toMatch(/^spiffe:\/\/example\.org\/spire\/agent\/cn\/node-1\.example\.org\/eu-1\/[0-9a-f]{6}$/);
    expect(spire.attributes.spiffeId).toBe(ours.attributes.spiffeId);
  });

  describe("bad challenge responses get the same status and message from both servers", () => {
    const leaf = leafCert(intermediate);
    const payload = encodeAttestationData({ certificates: [leaf.der, intermediate.der] });
    const nonce = Buffer.alloc(32, 1).toString("base64");
    const cases: [string, string][] = [
      ["an empty response", ""],
      ["broken JSON", "{"],
      ["an empty object", "{}"],
      ["an RSA-shaped response to an ECDSA challenge", '{"rsa_signature":{"nonce":"AA==","signature":"AA=="}}'],
      ["a short nonce", '{"ecdsa_signature":{"nonce":"AA==","r":"AQ==","s":"AQ=="}}'],
      ["a wrong signature", `{"ecdsa_signature":{"nonce":"${nonce}","r":"AQ==","s":"AQ=="}}`],
      ["a signature of zeros", `{"ecdsa_signature":{"nonce":"${nonce}","r":"","s":""}}`],
      ["a response of the wrong JSON type", '{"ecdsa_signature":"x"}'],
    ];
    for (const [name, response] of cases) {
      it(name, async () => {
        const spire = new SpireHalf("server", serverHcl);
        const call = signetServer.client(ServerNodeAttestor).attest({ deadline: Date.now() + 30_000 });
        try {
          spire.send({ payload: b64(payload) });
          call.send({ request: { $case: "payload", value: payload } });
          const [spireChallenge, ours] = [await spire.next(), await call[Symbol.asyncIterator]().next()];
          expect(spireChallenge.challenge).toBeDefined();
          expect(!ours.done && ours.value.response?.$case).toBe("challenge");
          spire.send({ challenge_response: b64(Buffer.from(response)) });
          call.send({ request: { $case: "challengeResponse", value: Buffer.from(response) } });
          const spireAnswer = await spire.next();
          const ourAnswer = await call[Symbol.asyncIterator]()
            .next()
            .then(
              (r) => ({ code: "OK", message: JSON.stringify(r) }),
              (e: RpcError) => ({ code: goCodeName(e.code), message: e.message }),
            );
          expect(ourAnswer).toEqual(spireAnswer.error);
        } finally {
          call.cancel();
          spire.close();
        }
      });
    }
  });

  describe("bad challenges get the same status and message from both agent halves", () => {
    const cases: [string, string][] = [
      ["broken JSON", "{"],
      ["an empty challenge", ""],
      ["an RSA challenge to an ECDSA key", `{"rsa_signature":{"nonce":"${Buffer.alloc(32).toString("base64")}"}}`],
      ["a short nonce", '{"ecdsa_signature":{"nonce":"AAAA"}}'],
      ["a challenge of the wrong JSON type", '{"ecdsa_signature":[]}'],
    ];
    for (const [name, challenge] of cases) {
      it(name, async () => {
        const hcl = agentHcl(leafCert(intermediate));
        const spire = new SpireHalf("agent", hcl);
        const session = await signetPlugin(hcl);
        const call = session.client(AgentNodeAttestor).aidAttestation({ deadline: Date.now() + 30_000 });
        try {
          const fromOurs = call[Symbol.asyncIterator]();
          expect((await spire.next()).payload).toBeDefined();
          expect((await fromOurs.next()).value?.data?.$case).toBe("payload");
          spire.send({ challenge: b64(Buffer.from(challenge)) });
          call.send({ challenge: Buffer.from(challenge) });
          const spireAnswer = await spire.next();
          const ours = await fromOurs.next().then(
            (r) => ({ code: "OK", message: JSON.stringify(r.value) }),
            (e: RpcError) => ({ code: goCodeName(e.code), message: e.message }),
          );
          expect(ours).toEqual(spireAnswer.error);
        } finally {
          call.cancel();
          spire.close();
        }
      });
    }
  });

  describe("bad configurations get the same message from both (single-problem cases)", () => {
    const leaf = leafCert(intermediate);
    const files = writeAgentFiles(dir, "config-parity", { leaf, chain: [intermediate] });
    const otherKey = writeAgentFiles(dir, "config-parity-other", { leaf: leafCert(intermediate) });
    const notPem = join(dir, "not-pem.txt");
    const cases: [string, "server" | "agent", string][] = [
      ["server: no CA bundle", "server", 'mode = "external_pki"'],
      ["server: both CA settings", "server", `ca_bundle_path = "${bundle}"\nca_bundle_paths = ["${bundle}"]`],
      ["server: an unknown mode", "server", `mode = "private_ca"\nca_bundle_path = "${bundle}"`],
      ["server: a missing bundle file", "server", `ca_bundle_path = "${join(dir, "nope.pem")}"`],
      ["server: a bundle without certificates", "server", `ca_bundle_path = "${notPem}"`],
      ["server: bundles in spiffe mode", "server", `mode = "spiffe"\nca_bundle_path = "${bundle}"`],
      ["server: max_intermediates of 0", "server", `ca_bundle_path = "${bundle}"\nmax_intermediates = 0`],
      ["agent: no certificate_path", "agent", `private_key_path = "${files.privateKeyPath}"`],
      ["agent: a missing certificate file", "agent", `private_key_path = "${files.privateKeyPath}"\ncertificate_path = "${join(dir, "nope.pem")}"`],
      ["agent: a key of another certificate", "agent", `private_key_path = "${otherKey.privateKeyPath}"\ncertificate_path = "${files.certificatePath}"`],
      ["agent: a certificate file without PEM", "agent", `private_key_path = "${files.privateKeyPath}"\ncertificate_path = "${notPem}"`],
      ["agent: an intermediates file without certificates", "agent", `private_key_path = "${files.privateKeyPath}"\ncertificate_path = "${files.certificatePath}"\nintermediates_path = "${notPem}"`],
    ];
    beforeAll(() => writeFileSync(notPem, "no PEM here\n"));
    for (const [name, side, hcl] of cases) {
      it(name, async () => {
        const config = hcl.replace(/\\n/g, "\n");
        const spire = new SpireHalf(side, config);
        const spireAnswer = await spire.next();
        spire.close();
        const harness = new PluginHarness({
          type: "NodeAttestor",
          file: pluginFile,
          node: true,
          args: [],
          sides: ["server", "agent"],
          configurable: true,
          trustDomain: "example.org",
          badConfigs: [],
          handshakeTimeoutMs: 60_000,
          callTimeoutMs: 30_000,
        });
        harnesses.push(harness);
        const session = await harness.launch({ configure: false });
        const ours = await session.configure(config).then(
          () => ({ code: "OK", message: "" }),
          (e: Error) => ({ code: e instanceof RpcError ? goCodeName(e.code) : "?", message: e instanceof RpcError ? e.message : e.message }),
        );
        expect(ours).toEqual(spireAnswer.error);
      });
    }
  });

  const mutationTargets: { name: string; count: number; chain: () => Minted[]; target: number }[] = [
    { name: "an ECDSA leaf", count: 120, chain: () => [leafCert(intermediate), intermediate], target: 0 },
    { name: "an RSA leaf", count: 50, chain: () => [leafCert(intermediate, { key: newKey("rsa-2048") }), intermediate], target: 0 },
    { name: "the intermediate", count: 60, chain: () => [leafCert(intermediate), intermediate], target: 1 },
  ];
  for (const t of mutationTargets) {
    it(`mutated certificates (${t.count} fixed-seed bit flips in ${t.name}) get the same status and message from both servers`, async () => {
      const chain = t.chain();
      let seed = Number(process.env.X509POP_MUTATION_SEED ?? 0x5eed);
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const disagreements: string[] = [];
      for (let k = 0; k < t.count; k++) {
        const ders = chain.map((m) => Buffer.from(m.der));
        const der = ders[t.target]!;
        const at = rand(der.length);
        der[at] = der[at]! ^ (1 << rand(8));
        const payload = encodeAttestationData({ certificates: ders });
        const [spire, ours] = await Promise.all([firstAnswer("spire", serverHcl, payload), firstAnswer(signetServer, serverHcl, payload)]);
        // The two servers read the clock at slightly different instants: "current time …" may differ by a second.
        const instant = (m: string) => m.replace(/current time \S+ is/, "current time <now> is");
        const code = (r: Result | "challenge") => (r === "challenge" ? "challenge" : r.ok ? "OK" : `${r.code}: ${instant(r.message)}`);
        if (code(spire) !== code(ours)) disagreements.push(`byte ${at}: SPIRE ${JSON.stringify(spire)}, Signet ${JSON.stringify(ours)}`);
      }
      expect(disagreements).toEqual([]);
    }, 120_000);
  }

  describe("hostile payloads get the same status and message from both servers", () => {
    const other = intermediateCa(rootCa({ commonName: "Other Root CA" }));
    const good = leafCert(intermediate);
    const cases: { name: string; payload: () => Buffer; differs?: "code" | "detail" }[] = [
      { name: "text that is not JSON", payload: () => Buffer.from("not json") },
      { name: "a lone x", payload: () => Buffer.from("x") },
      { name: "truncated JSON", payload: () => Buffer.from('{"certificates":[') },
      { name: "a JSON array", payload: () => Buffer.from("[1,2]") },
      { name: "certificates as a string", payload: () => Buffer.from('{"certificates":"abc"}') },
      { name: "certificates with a number", payload: () => Buffer.from('{"certificates":[1]}') },
      { name: "bad base64", payload: () => Buffer.from('{"certificates":["!!!!"]}') },
      { name: "no certificates", payload: () => Buffer.from("{}") },
      { name: "null certificates", payload: () => Buffer.from('{"certificates":null}') },
      { name: "too many intermediates", payload: () => encodeAttestationData({ certificates: Array.from({ length: 6 }, () => intermediate.der) }) },
      { name: "a leaf that is not DER", payload: () => Buffer.from('{"certificates":["AAAA"]}') },
      { name: "an intermediate that is not DER", payload: () => encodeAttestationData({ certificates: [good.der, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])] }) },
      { name: "a chain to another CA", payload: () => encodeAttestationData({ certificates: [leafCert(other).der, other.der] }) },
      { name: "a leaf without its intermediate", payload: () => encodeAttestationData({ certificates: [good.der] }) },
      {
        name: "an expired leaf",
        payload: () => encodeAttestationData({ certificates: [leafCert(intermediate, { now: new Date(Date.now() - 7_200_000), ttlSeconds: 600 }).der, intermediate.der] }),
      },
      { name: "a leaf signed by the leaf", payload: () => encodeAttestationData({ certificates: [leafCert(good).der, good.der, intermediate.der] }) },
      { name: "a leaf without digitalSignature", payload: () => encodeAttestationData({ certificates: [leafCert(intermediate, { keyUsageByte: 0x20 }).der, intermediate.der] }), differs: "code" },
      { name: "the intermediate as the leaf", payload: () => encodeAttestationData({ certificates: [intermediate.der] }), differs: "code" },
      { name: "a good chain (both challenge)", payload: () => encodeAttestationData({ certificates: [good.der, intermediate.der] }) },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const payload = c.payload();
        const [spire, ours] = await Promise.all([firstAnswer("spire", serverHcl, payload), firstAnswer(signetServer, serverHcl, payload)]);
        if (spire === "challenge" || ours === "challenge") {
          expect(ours).toBe(spire);
          return;
        }
        if (spire.ok || ours.ok) throw new Error("unexpected attributes");
        if (c.differs === "code") {
          // Deliberate: SPIRE says Internal for a certificate the agent sent; Signet says PermissionDenied.
          expect([spire.code, ours.code]).toEqual(["Internal", "PermissionDenied"]);
          expect(ours.message).toBe(spire.message);
        } else if (c.differs === "detail") {
          // Same code and the same words up to Go's parser detail.
          expect(ours.code).toBe(spire.code);
          expect(ours.message.startsWith(spire.message.split(": x509: ")[0]!)).toBe(true);
        } else {
          expect({ code: ours.code, message: ours.message.replace(/current time \S+/, "current time T") }).toEqual({
            code: spire.code,
            message: spire.message.replace(/current time \S+/, "current time T"),
          });
        }
      });
    }
  });
});
