/**
 * The two halves in process, through their real handlers: the agent's payload and answer
 * against the server's verification, with good chains and every kind of bad one.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { type CallContext, PluginError } from "@signet/plugin-sdk";
import type { AttestRequest, AttestResponse } from "@signet/proto/spire/plugin/server/nodeattestor/v1/nodeattestor";
import { agentAidAttestation, loadKeyPair } from "./agent.js";
import { parseCertificate } from "./certificate.js";
import { decodeChallenge, decodeResponse, encodeAttestationData, encodeResponse } from "./codec.js";
import { type AgentConfig, type ServerConfig, parseConfig } from "./config.js";
import { calculateResponse } from "./pop.js";
import { serverAttest } from "./server.js";
import { type Minted, intermediateCa, leafCert, newKey, rootCa, writeAgentFiles, writeBundle } from "./testing/pki.js";

const dir = mkdtempSync(join(tmpdir(), "x509pop-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = rootCa();
const intermediate = intermediateCa(root);
const otherRoot = rootCa({ commonName: "Other Root CA" });
const bundlePath = writeBundle(dir, "bundle", [root]);
const sha1 = (der: Buffer) => createHash("sha1").update(der).digest("hex");

let files = 0;
async function agentFor(leaf: Minted, chain: readonly Minted[] = [intermediate], intermediates?: readonly Minted[]): Promise<AgentConfig> {
  const paths = writeAgentFiles(dir, `agent-${++files}`, { leaf, chain, ...(intermediates ? { intermediates } : {}) });
  return (await parseConfig(JSON.stringify({ certificate_path: paths.certificatePath, private_key_path: paths.privateKeyPath, intermediates_path: paths.intermediatesPath }), "example.org")) as AgentConfig;
}

async function serverWith(extra: Record<string, unknown> = {}): Promise<ServerConfig> {
  return (await parseConfig(JSON.stringify({ ca_bundle_path: bundlePath, ...extra }), "example.org")) as ServerConfig;
}

function ctx(metadata = new Metadata()): CallContext {
  return { method: "/test", metadata, peer: "test", signal: new AbortController().signal } as CallContext;
}

/** A request stream the test feeds by hand. */
class Feed<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;
  push(item: T): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
  }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
    };
  }
}

interface Run {
  readonly attributes?: { spiffeId: string; selectorValues: string[]; canReattest: boolean };
  readonly error?: PluginError;
  readonly challenge?: Buffer;
  readonly response?: Buffer;
}

/**
 * One attestation: the agent half's payload and answers through the server half. `tamper`
 * may replace the payload or the challenge response on the way.
 */
async function attest(
  server: ServerConfig,
  agent: AgentConfig,
  tamper: { payload?: (p: Buffer) => Buffer; response?: (r: Buffer, challenge: Buffer) => Buffer; metadata?: Metadata } = {},
): Promise<Run> {
  const agentIn = new Feed<{ challenge: Buffer }>();
  const agentOut = agentAidAttestation({ config: () => agent, fetchSvid: () => Promise.reject(new Error("unused")) })(agentIn, ctx())[Symbol.asyncIterator]();
  const serverIn = new Feed<AttestRequest>();
  const serverOut = serverAttest({ config: () => server, fetchTrustBundle: async () => [], warn: () => {} })(serverIn, ctx(tamper.metadata))[
    Symbol.asyncIterator
  ]();
  let challenge: Buffer | undefined;
  let response: Buffer | undefined;
  try {
    const first = await agentOut.next();
    if (first.done || first.value.data?.$case !== "payload") throw new Error("agent sent no payload");
    const payload = tamper.payload ? tamper.payload(first.value.data.value) : first.value.data.value;
    serverIn.push({ request: { $case: "payload", value: payload } });
    for (;;) {
      const out: IteratorResult<AttestResponse> = await serverOut.next();
      if (out.done) throw new Error("server ended without attributes");
      const r = out.value.response;
      if (r?.$case === "agentAttributes") return { attributes: r.value, challenge, response };
      if (r?.$case !== "challenge") throw new Error("server sent neither challenge nor attributes");
      challenge = r.value;
      agentIn.push({ challenge: r.value });
      const answer = await agentOut.next();
      if (answer.done || answer.value.data?.$case !== "challengeResponse") throw new Error("agent did not answer");
      response = tamper.response ? tamper.response(answer.value.data.value, r.value) : answer.value.data.value;
      serverIn.push({ request: { $case: "challengeResponse", value: response } });
    }
  } catch (e) {
    if (e instanceof PluginError) return { error: e, challenge, response };
    throw e;
  }
}

async function refused(run: Promise<Run>): Promise<PluginError> {
  const r = await run;
  if (!r.error) throw new Error(`expected a refusal, got ${JSON.stringify(r.attributes)}`);
  return r.error;
}

describe("x509pop attestation", () => {
  it("attests an ECDSA leaf through an intermediate: agent ID by fingerprint, SPIRE's selectors, can reattest", async () => {
    const leaf = leafCert(intermediate, { serial: 0x0a1b2cn });
    const r = await attest(await serverWith(), await agentFor(leaf));
    expect(r.error).toBeUndefined();
    expect(r.attributes).toEqual({
      spiffeId: `spiffe://example.org/spire/agent/x509pop/${sha1(leaf.der)}`,
      selectorValues: ["subject:cn:node-1.example.org", `ca:fingerprint:${sha1(intermediate.der)}`, `ca:fingerprint:${sha1(root.der)}`, "serialnumber:0a1b2c"],
      canReattest: true,
    });
    const challenge = JSON.parse(r.challenge!.toString()) as Record<string, unknown>;
    expect(Object.keys(challenge)).toEqual(["rsa_signature", "ecdsa_signature"]);
    expect(challenge.rsa_signature).toBeNull();
    expect(Buffer.from((challenge.ecdsa_signature as { nonce: string }).nonce, "base64")).toHaveLength(32);
  });

  it("attests RSA leaves with RSA-PSS, and P-384 leaves", async () => {
    for (const key of [newKey("rsa-2048"), newKey("ec-p384")]) {
      const leaf = leafCert(intermediate, { key });
      const r = await attest(await serverWith(), await agentFor(leaf));
      expect(r.error).toBeUndefined();
      expect(r.attributes?.spiffeId).toBe(`spiffe://example.org/spire/agent/x509pop/${sha1(leaf.der)}`);
    }
    const rsa = leafCert(intermediate, { key: newKey("rsa-2048") });
    const r = await attest(await serverWith(), await agentFor(rsa));
    expect(Object.keys(JSON.parse(r.response!.toString()).rsa_signature)).toEqual(["nonce", "signature"]);
  });

  it("takes intermediates from intermediates_path, and a leaf signed by the root directly", async () => {
    const leaf = leafCert(intermediate);
    expect((await attest(await serverWith(), await agentFor(leaf, [], [intermediate]))).attributes).toBeDefined();
    const direct = leafCert(root);
    const r = await attest(await serverWith(), await agentFor(direct, []));
    expect(r.attributes?.selectorValues).toContain(`ca:fingerprint:${sha1(root.der)}`);
  });

  it("san selectors and a custom agent path template", async () => {
    const leaf = leafCert(intermediate, { uris: ["x509pop://example.org/datacenter/us-east-1", "x509pop://example.org/nokey", "x509pop://other.org/a/b"] });
    const server = await serverWith({ agent_path_template: "/cn/{{ .Subject.CommonName }}/{{ .URISanSelectors.datacenter }}/{{ .SerialNumberHex | trunc 4 }}" });
    const r = await attest(server, await agentFor(leaf));
    expect(r.error).toBeUndefined();
    const hex = parseCertificate(leaf.der).serialNumber.toString(16);
    expect(r.attributes?.spiffeId).toBe(`spiffe://example.org/spire/agent/cn/node-1.example.org/us-east-1/${(hex.length % 2 ? `0${hex}` : hex).slice(0, 4)}`);
    expect(r.attributes?.selectorValues).toContain("san:datacenter:us-east-1");
    expect(r.attributes?.selectorValues.filter((s) => s.startsWith("san:"))).toHaveLength(1);
  });

  it("spiffe mode is refused without the IdentityProvider, and trims the SVID prefix when verified", async () => {
    const server = (await parseConfig('mode = "spiffe"', "example.org")) as ServerConfig;
    const leaf = leafCert(intermediate);
    const agent = await agentFor(leaf);
    // With the server's own bundle (here: the test root) the SVID path after /spire-exchange/ names the agent.
    const run = async (bundle: Buffer[]) => {
      const agentIn = new Feed<{ challenge: Buffer }>();
      const agentOut = agentAidAttestation({ config: () => agent, fetchSvid: () => Promise.reject(new Error("unused")) })(agentIn, ctx())[Symbol.asyncIterator]();
      const serverIn = new Feed<AttestRequest>();
      const serverOut = serverAttest({ config: () => server, fetchTrustBundle: async () => bundle, warn: () => {} })(serverIn, ctx())[Symbol.asyncIterator]();
      const p = await agentOut.next();
      serverIn.push({ request: { $case: "payload", value: (p.value as { data: { value: Buffer } }).data.value } });
      const c = await serverOut.next();
      agentIn.push({ challenge: (c.value as { response: { value: Buffer } }).response.value });
      const a = await agentOut.next();
      serverIn.push({ request: { $case: "challengeResponse", value: (a.value as { data: { value: Buffer } }).data.value } });
      return (await serverOut.next()).value as AttestResponse;
    };
    const res = await run([root.der]);
    expect(res.response?.$case === "agentAttributes" && res.response.value.spiffeId).toBe("spiffe://example.org/spire/agent/x509pop/node-1");
    await expect(run([otherRoot.der])).rejects.toThrow(/^certificate verification failed: x509: certificate signed by unknown authority/);
  });

  describe("refuses", () => {
    it("a chain to another CA (PermissionDenied, Go's wording)", async () => {
      const other = intermediateCa(otherRoot);
      const e = await refused(attest(await serverWith(), await agentFor(leafCert(other), [other])));
      expect(e.kind).toBe("permission-denied");
      expect(e.message).toBe("certificate verification failed: x509: certificate signed by unknown authority");
    });

    it("a leaf without its intermediate", async () => {
      const e = await refused(attest(await serverWith(), await agentFor(leafCert(intermediate), [])));
      expect(e.kind).toBe("permission-denied");
      expect(e.message).toMatch(/^certificate verification failed: x509: certificate signed by unknown authority/);
    });

    it("an expired leaf, and one not yet valid", async () => {
      const expired = leafCert(intermediate, { now: new Date(Date.now() - 7200_000), ttlSeconds: 600 });
      const e = await refused(attest(await serverWith(), await agentFor(expired)));
      expect(e.kind).toBe("permission-denied");
      expect(e.message).toMatch(/^certificate verification failed: x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after \d{4}-.*Z$/);
    });

    it("an expired intermediate, naming it as Go does", async () => {
      const old = intermediateCa(root, { now: new Date(Date.now() - 7200_000), ttlSeconds: 600 });
      const leaf = leafCert(old, { now: new Date(Date.now() - 7000_000), ttlSeconds: 100_000 });
      const e = await refused(attest(await serverWith(), await agentFor(leaf, [old])));
      expect(e.message).toMatch(/^certificate verification failed: x509: certificate has expired or is not yet valid: current time .* is after /);
    });

    it("a leaf without digitalSignature key usage (SPIRE's wording; PermissionDenied where SPIRE says Internal)", async () => {
      const e = await refused(attest(await serverWith(), await agentFor(leafCert(intermediate, { keyUsageByte: 0x20 }))));
      expect(e.kind).toBe("permission-denied");
      expect(e.message).toBe("unable to generate challenge: certificate not intended for digital signature use");
    });

    it("a leaf used as a CA (the agent's leaf cannot sign another)", async () => {
      const leaf = leafCert(intermediate);
      const grandchild = leafCert(leaf);
      const e = await refused(attest(await serverWith(), await agentFor(grandchild, [leaf, intermediate])));
      expect(e.kind).toBe("permission-denied");
      expect(e.message).toMatch(/unknown authority \(possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate"/);
    });

    it("garbage payloads with InvalidArgument and SPIRE's wording", async () => {
      const server = await serverWith();
      const agent = await agentFor(leafCert(intermediate));
      const cases: [Buffer, string | RegExp][] = [
        [Buffer.from(""), "failed to unmarshal data: unexpected end of JSON input"],
        [Buffer.from("not json"), "failed to unmarshal data: invalid character 'o' in literal null (expecting 'u')"],
        [Buffer.from("x"), "failed to unmarshal data: invalid character 'x' looking for beginning of value"],
        [Buffer.from('{"certificates":[]'), "failed to unmarshal data: unexpected end of JSON input"],
        [Buffer.from('{"certificates" 1}'), "failed to unmarshal data: invalid character '1' after object key"],
        [Buffer.from("[1,2]"), "failed to unmarshal data: json: cannot unmarshal array into Go value of type x509pop.AttestationData"],
        [Buffer.from('{"certificates":"abc"}'), "failed to unmarshal data: json: cannot unmarshal string into Go struct field AttestationData.certificates of type [][]uint8"],
        [Buffer.from('{"certificates":["!!!"]}'), "failed to unmarshal data: illegal base64 data at input byte 0"],
        [Buffer.from("{}"), "no certificate to attest"],
        [Buffer.from('{"certificates":null}'), "no certificate to attest"],
        [Buffer.from('{"certificates":["AAAA"]}'), /^unable to parse leaf certificate: x509: malformed certificate/],
        [encodeAttestationData({ certificates: [leafCert(intermediate).der, Buffer.from("junk")] }), /^unable to parse intermediate certificate 0: x509: malformed/],
        [encodeAttestationData({ certificates: Array.from({ length: 6 }, () => intermediate.der) }), "too many intermediate certificates"],
        [Buffer.alloc(2 << 20, 0x20), /^failed to unmarshal data: attestation payload is 2097152 bytes; the limit is 1048576$/],
      ];
      for (const [payload, message] of cases) {
        const e = await refused(attest(server, agent, { payload: () => payload }));
        expect(e.kind, String(message)).toBe("invalid-argument");
        if (typeof message === "string") expect(e.message).toBe(message);
        else expect(e.message).toMatch(message);
      }
    });

    it("keys are matched case-insensitively and unknown keys ignored, as encoding/json does", async () => {
      const leaf = leafCert(intermediate);
      const payload = Buffer.from(JSON.stringify({ Certificates: [leaf.der.toString("base64"), intermediate.der.toString("base64")], extra: 1 }));
      const r = await attest(await serverWith(), await agentFor(leaf), { payload: () => payload });
      expect(r.attributes).toBeDefined();
    });

    it("an RSA leaf over max_rsa_key_size", async () => {
      const leaf = leafCert(intermediate, { key: newKey("rsa-2048") });
      const e = await refused(attest(await serverWith({ max_rsa_key_size: 1024 }), await agentFor(leaf)));
      expect(e.message).toBe("leaf certificate key size too large");
    });

    it("a response signed over other nonces, a bit-flipped one, a replayed one, a missing one", async () => {
      const server = await serverWith();
      const agent = await agentFor(leafCert(intermediate));
      const first = await attest(server, agent);
      expect(first.attributes).toBeDefined();

      const replay = await refused(attest(server, agent, { response: () => first.response! }));
      expect(replay.kind).toBe("permission-denied");
      expect(replay.message).toBe("challenge response verification failed: ECDSA signature verify failed");

      const flipped = await refused(
        attest(server, agent, {
          response: (r) => {
            const parsed = decodeResponse(r);
            const s = Buffer.from(parsed.ecdsaSignature!.s);
            s[s.length - 1]! ^= 1;
            return encodeResponse({ ecdsaSignature: { ...parsed.ecdsaSignature!, s } });
          },
        }),
      );
      expect(flipped.message).toBe("challenge response verification failed: ECDSA signature verify failed");

      const shortNonce = await refused(
        attest(server, agent, {
          response: (r) => {
            const parsed = decodeResponse(r);
            return encodeResponse({ ecdsaSignature: { ...parsed.ecdsaSignature!, nonce: Buffer.alloc(8) } });
          },
        }),
      );
      expect(shortNonce.message).toBe("challenge response verification failed: invalid response nonce");

      const rsaShaped = await refused(attest(server, agent, { response: () => Buffer.from('{"rsa_signature":{"nonce":"","signature":""}}') }));
      expect(rsaShaped.message).toBe("challenge response verification failed: expecting ECDSA response");

      const garbage = await refused(attest(server, agent, { response: () => Buffer.from("{") }));
      expect(garbage.kind).toBe("invalid-argument");
      expect(garbage.message).toMatch(/^unable to unmarshal challenge response: /);

      // A different key's correct answer to this very challenge proves nothing.
      const stolen = await refused(attest(server, agent, { response: (_r, challenge) => answerWith(newKey(), challenge) }));
      expect(stolen.message).toBe("challenge response verification failed: ECDSA signature verify failed");
    });

    it("verify_client_ip: only a peer address in the leaf's IP SANs", async () => {
      const server = await serverWith({ verify_client_ip: true });
      const agent = await agentFor(leafCert(intermediate, { ips: [Buffer.from([10, 0, 0, 7])] }));
      const md = (ip?: string) => {
        const m = new Metadata();
        if (ip !== undefined) m.set("x-forwarded-client-ip", ip);
        return m;
      };
      expect((await attest(server, agent, { metadata: md("10.0.0.7") })).attributes).toBeDefined();
      expect((await attest(server, agent, { metadata: md("::ffff:10.0.0.7") })).attributes).toBeDefined();
      expect((await refused(attest(server, agent, { metadata: md("10.0.0.8") }))).message).toBe("client IP 10.0.0.8 does not match any certificate IP SAN");
      expect((await refused(attest(server, agent, { metadata: md() }))).message).toBe("client IP not available for verification");
      expect((await refused(attest(server, agent, { metadata: md("nope") }))).message).toBe('invalid client IP "nope"');
    });
  });

  describe("agent keypair loading (Go's tls.LoadX509KeyPair)", () => {
    it("refuses a key that does not belong to the certificate, and missing files", async () => {
      const leaf = leafCert(intermediate);
      const paths = writeAgentFiles(dir, "mismatch", { leaf: { der: leaf.der, key: newKey() } });
      await expect(loadKeyPair(paths.certificatePath, paths.privateKeyPath)).rejects.toThrow("tls: private key does not match public key");
      await expect(loadKeyPair(join(dir, "nope.pem"), paths.privateKeyPath)).rejects.toThrow(`open ${join(dir, "nope.pem")}: no such file or directory`);
      const empty = join(dir, "empty.pem");
      writeFileSync(empty, "nothing here");
      await expect(loadKeyPair(empty, paths.privateKeyPath)).rejects.toThrow("tls: failed to find any PEM data in certificate input");
    });
  });
});

/** A correct-looking ECDSA answer by `key` (not the leaf's) to `challenge`. */
function answerWith(key: ReturnType<typeof newKey>, challenge: Buffer): Buffer {
  return encodeResponse(calculateResponse(key, decodeChallenge(challenge)));
}
