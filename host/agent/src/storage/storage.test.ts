import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TestAuthority } from "../../../../test/fakes/agent-pki.js";
import { AgentStorage } from "./storage.js";

const now = new Date();
const ca = new TestAuthority("example.org", now);
let root: string;
let dataDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "signet-agent-storage-"));
  dataDir = join(root, "data");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("AgentStorage", () => {
  it("starts empty when data_dir does not exist", async () => {
    const storage = new AgentStorage(dataDir, true);
    expect(await storage.loadBundle()).toBeUndefined();
    expect(await storage.loadSvid()).toBeUndefined();
  });

  it("round-trips the bundle and the SVID with its key, each write keeping the other", async () => {
    const storage = new AgentStorage(dataDir, true);
    const svid = ca.svid("spiffe://example.org/spire/agent/join_token/t", now, 3600);
    const bundle = ca.bundle({ sequenceNumber: 7n });
    await storage.storeSvid({ ...svid, reattestable: true });
    await storage.storeBundle(bundle);

    const again = new AgentStorage(dataDir, true);
    expect(await again.loadBundle()).toEqual(bundle);
    const loaded = await again.loadSvid();
    expect(loaded?.chain).toEqual(svid.chain);
    expect(loaded?.reattestable).toBe(true);
    expect(loaded?.privateKey?.equals(svid.privateKey)).toBe(true);

    // A new SVID replaces the old one and leaves the bundle alone.
    const next = ca.svid("spiffe://example.org/spire/agent/join_token/t", now, 7200);
    await again.storeSvid({ ...next, reattestable: false });
    expect((await storage.loadSvid())?.chain).toEqual(next.chain);
    expect((await storage.loadSvid())?.reattestable).toBe(false);
    expect(await storage.loadBundle()).toEqual(bundle);
  });

  it("keeps the key only when the KeyManager persists keys", async () => {
    const svid = ca.svid("spiffe://example.org/spire/agent/x", now, 3600);
    await new AgentStorage(dataDir, false).storeSvid({ ...svid, reattestable: false });
    expect(() => statSync(join(dataDir, "agent_svid.key"))).toThrow(/ENOENT/);
    const loaded = await new AgentStorage(dataDir, true).loadSvid();
    expect(loaded?.chain).toEqual(svid.chain);
    expect(loaded?.privateKey).toBeUndefined();
  });

  it("writes the key file and the data file with mode 0600", async () => {
    const storage = new AgentStorage(dataDir, true);
    await storage.storeSvid({ ...ca.svid("spiffe://example.org/spire/agent/x", now, 3600), reattestable: false });
    expect(statSync(join(dataDir, "agent_svid.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "agent-data.json")).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it("deleteSvid removes the SVID and its key but keeps the bundle", async () => {
    const storage = new AgentStorage(dataDir, true);
    await storage.storeBundle(ca.bundle());
    await storage.storeSvid({ ...ca.svid("spiffe://example.org/spire/agent/x", now, 3600), reattestable: true });
    await storage.deleteSvid();
    expect(await storage.loadSvid()).toBeUndefined();
    expect(() => statSync(join(dataDir, "agent_svid.key"))).toThrow(/ENOENT/);
    expect(await storage.loadBundle()).toEqual(ca.bundle());
    // Deleting twice is fine.
    await storage.deleteSvid();
  });

  it("refuses a corrupt data file with a message naming it", async () => {
    const storage = new AgentStorage(dataDir, true);
    await storage.storeBundle(ca.bundle());
    const file = join(dataDir, "agent-data.json");
    writeFileSync(file, "{not json");
    await expect(storage.loadBundle()).rejects.toThrow(`agent data file ${file} is corrupt; remove it to attest afresh`);
    await expect(storage.loadSvid()).rejects.toThrow(/is corrupt/);
  });

  it("loads an SVID without a key when the key file is unreadable", async () => {
    const storage = new AgentStorage(dataDir, true);
    await storage.storeSvid({ ...ca.svid("spiffe://example.org/spire/agent/x", now, 3600), reattestable: false });
    writeFileSync(join(dataDir, "agent_svid.key"), "garbage");
    const loaded = await storage.loadSvid();
    expect(loaded?.chain).toHaveLength(1);
    expect(loaded?.privateKey).toBeUndefined();
  });
});
