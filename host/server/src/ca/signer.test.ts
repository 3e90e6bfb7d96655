import { generateKeyPairSync, sign, verify } from "node:crypto";
import { HashAlgorithm, type SignerOpts } from "@signet/host-common";
import { afterEach, describe, expect, it } from "vitest";
import { type TestKeyManager, startTestKeyManager } from "../../../../test/fakes/keymanager.js";
import { keyManagerCaSigner } from "./signer.js";

const kms: TestKeyManager[] = [];
afterEach(async () => {
  for (const k of kms.splice(0)) await k.close();
});

describe("keyManagerCaSigner", () => {
  it("falls back to SignData per message (digest computed here) for stock KeyManagers", async () => {
    const km = await startTestKeyManager();
    kms.push(km);
    const key = await km.facade.generateKey("x509-CA-A", 2 /* EC_P384 */);
    const messages = [Buffer.from("one"), Buffer.from("two")];
    const sigs = await keyManagerCaSigner(km.facade).signMessages("x509-CA-A", messages, "sha384");
    expect(km.keys.signCalls).toBe(2);
    sigs.forEach((s, i) => expect(verify("sha384", messages[i]!, key.publicKey, s)).toBe(true));
  });

  it("uses signMessages when the facade has it, in chunks of at most 1024", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const calls: number[] = [];
    const facade = {
      signData: async () => {
        throw new Error("must not be called");
      },
      signMessages: async (_id: string, messages: readonly Buffer[], opts: SignerOpts) => {
        expect(opts).toEqual({ hashAlgorithm: HashAlgorithm.SHA256 });
        calls.push(messages.length);
        return messages.map((m) => sign("sha256", m, privateKey));
      },
    };
    const messages = Array.from({ length: 1500 }, (_, i) => Buffer.from(`m${i}`));
    const sigs = await keyManagerCaSigner(facade).signMessages("k", messages, "sha256");
    expect(calls).toEqual([1024, 476]);
    expect(verify("sha256", messages[1499]!, publicKey, sigs[1499]!)).toBe(true);
  });

  it("refuses an answer with the wrong number of signatures", async () => {
    const facade = { signData: async () => Buffer.alloc(0), signMessages: async () => [Buffer.from([1])] };
    await expect(keyManagerCaSigner(facade).signMessages("k", [Buffer.from("a"), Buffer.from("b")], "sha256")).rejects.toThrow("answered 1 signatures for 2 messages");
  });
});
