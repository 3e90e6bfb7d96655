/**
 * The background tasks on a hand-moved clock, against the fake Cloud KMS:
 * keep-alive every 6 hours, the stale-key sweep every 48 hours, destruction
 * of replaced versions with backoff after failures, and stopping.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KeyType } from "@signet/plugin-sdk";
import { ManualClock } from "../../../test/fakes/clock.js";
import { FakeCloudKms } from "../../../test/fakes/gcp/kms.js";
import { writeServiceAccountFile } from "../../../test/fakes/gcp/service-account.js";
import type { Kms } from "./kms-client.js";
import { trustDomainHash, unixSeconds } from "./naming.js";
import { KeyManagerTasks, destroyBackoffMinMs, disposeIntervalMs, keepActiveIntervalMs } from "./tasks.js";
import { kmsFor, managerFor, recordingLogger, testTrustDomain } from "./testing/support.js";

const hour = 3600 * 1000;
const day = 24 * hour;

let fake: FakeCloudKms;
let kms: Kms;
let dir: string;
beforeAll(async () => {
  fake = await FakeCloudKms.start();
  dir = mkdtempSync(join(tmpdir(), "keymanager-gcp-kms-tasks-"));
  kms = kmsFor(fake, writeServiceAccountFile(dir));
});
afterAll(async () => {
  await kms.close();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

let running: KeyManagerTasks | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

let rings = 0;
async function setup() {
  const keyRing = fake.addKeyRing(`projects/signet-test/locations/global/keyRings/tasks-${++rings}`);
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const log = recordingLogger();
  const km = managerFor({ kms, clock, keyRing, serverId: "server-a", log });
  running = new KeyManagerTasks(km, clock, log);
  await clock.sleepers(2);
  return { keyRing, clock, log, km, tasks: running };
}

/** Waits (a bounded number of turns of the event loop) until `condition` holds. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition(), what).toBe(true);
}

const labelsOf = (serverId: string, lastUpdate: Date, trustDomain = testTrustDomain) => ({
  "spire-server-td": trustDomainHash(trustDomain),
  "spire-server-id": serverId,
  "spire-active": "true",
  "spire-last-update": unixSeconds(lastUpdate),
});

describe("keep-alive", () => {
  it("refreshes spire-last-update on this server's keys every 6 hours, and not before", async () => {
    const { keyRing, clock, km } = await setup();
    await km.generateKey("x509-CA-A", KeyType.EC_P256);
    await km.generateKey("JWT-Signer-A", KeyType.EC_P256);
    const created = unixSeconds(clock.now());
    const lastUpdates = () => fake.keysIn(keyRing).map((k) => k.labels["spire-last-update"]);

    await clock.tick(keepActiveIntervalMs - 1, 2);
    expect(lastUpdates()).toEqual([created, created]);
    await clock.tick(1, 2);
    const refreshed = unixSeconds(clock.now());
    expect(refreshed).not.toBe(created);
    expect(lastUpdates()).toEqual([refreshed, refreshed]);
    // The other labels stay as they were.
    expect(fake.keysIn(keyRing)[0]!.labels).toEqual(labelsOf("server-a", clock.now()));
    await clock.tick(keepActiveIntervalMs, 2);
    expect(lastUpdates()).toEqual([unixSeconds(clock.now()), unixSeconds(clock.now())]);
  });

  it("logs a key it could not refresh and keeps going", async () => {
    const { keyRing, clock, km, log } = await setup();
    await km.generateKey("a", KeyType.EC_P256);
    await km.generateKey("b", KeyType.EC_P256);
    fake.failNext("UpdateCryptoKey", status.INTERNAL, "backend error");
    await clock.tick(keepActiveIntervalMs, 2);
    expect(fake.keysIn(keyRing).filter((k) => k.labels["spire-last-update"] === unixSeconds(clock.now()))).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "error").map((l) => l.message)).toEqual(["Failed to update CryptoKey", "Failed to keep CryptoKeys active"]);
  });
});

describe("stale-key sweep", () => {
  it("every 48 hours destroys the versions of other servers' keys in the trust domain not kept alive for two weeks, then marks them inactive", async () => {
    const { keyRing, clock } = await setup();
    const now = clock.now();
    const stale = new Date(now.getTime() - 13 * day); // two weeks old by the time the sweep runs
    const gone = await fake.seedCryptoKey(keyRing, "spire-key-server-b-x509-CA-A", "EC_SIGN_P256_SHA256", labelsOf("server-b", stale), 2);
    const alive = await fake.seedCryptoKey(keyRing, "spire-key-server-c-x509-CA-A", "EC_SIGN_P256_SHA256", labelsOf("server-c", now));
    const otherDomain = await fake.seedCryptoKey(keyRing, "spire-key-server-d-x509-CA-A", "EC_SIGN_P256_SHA256", labelsOf("server-d", stale, "other.org"));
    const emptied = await fake.seedCryptoKey(keyRing, "spire-key-server-e-x509-CA-A", "EC_SIGN_P256_SHA256", labelsOf("server-e", stale));
    emptied.versions[0]!.state = "DESTROYED";
    // This server's own key, left over (not in use, so not kept alive): never swept by itself.
    const mine = await fake.seedCryptoKey(keyRing, "spire-key-server-a-orphan", "EC_SIGN_P256_SHA256", labelsOf("server-a", stale));

    await clock.tick(keepActiveIntervalMs, 2); // 6 h: keep-alive only
    expect(fake.callsOf("ListCryptoKeys").some((r) => String(r["filter"]).includes("!="))).toBe(false);
    await clock.tick(disposeIntervalMs - 6 * hour, 2);
    await eventually(() => gone.versions.every((v) => v.state === "DESTROY_SCHEDULED"), "both versions of the stale key are scheduled for destruction");
    expect(emptied.labels["spire-active"]).toBe("false");
    expect(gone.labels["spire-active"], "marked inactive only once no version is left enabled").toBe("true");
    for (const untouched of [alive, otherDomain]) expect(untouched.versions[0]!.state, untouched.name).toBe("ENABLED");
    expect(mine.versions[0]!.state).toBe("ENABLED");

    const filter = fake.callsOf("ListCryptoKeys").find((r) => String(r["filter"]).includes("!="))!["filter"];
    expect(filter).toBe(
      `labels.spire-server-td = ${trustDomainHash(testTrustDomain)} AND labels.spire-server-id != server-a AND labels.spire-active = true AND labels.spire-last-update < ${unixSeconds(new Date(clock.now().getTime() - 14 * day))}`,
    );

    await clock.tick(disposeIntervalMs, 2);
    expect(gone.labels["spire-active"]).toBe("false");
  });
});

describe("destruction of replaced versions", () => {
  it("schedules the replaced version's destruction as soon as a key is replaced", async () => {
    const { keyRing, km } = await setup();
    await km.generateKey("x509-CA-A", KeyType.EC_P256);
    await km.generateKey("x509-CA-A", KeyType.EC_P256);
    const [key] = fake.keysIn(keyRing);
    await eventually(() => key!.versions[0]!.state === "DESTROY_SCHEDULED", "version 1 scheduled for destruction");
    expect(key!.versions[1]!.state).toBe("ENABLED");
  });

  it("after a failure, tries again once the backoff has passed on the clock; a version someone else disabled is left alone", async () => {
    const { keyRing, clock, km, log } = await setup();
    await km.generateKey("k", KeyType.EC_P256);
    fake.failNext("DestroyCryptoKeyVersion", status.INTERNAL, "backend error");
    await km.generateKey("k", KeyType.EC_P256);
    const [key] = fake.keysIn(keyRing);
    await clock.sleepers(3); // the destruction loop backs off
    expect(key!.versions[0]!.state).toBe("ENABLED");
    expect(log.lines.some((l) => l.message === "CryptoKeyVersion re-enqueued for destruction")).toBe(true);
    await clock.tick(2 * destroyBackoffMinMs - 1, 3);
    expect(key!.versions[0]!.state).toBe("ENABLED");
    clock.advance(1);
    await eventually(() => key!.versions[0]!.state === "DESTROY_SCHEDULED", "destroyed on the second try");

    // Disabled by someone else: the failed destroy is not retried.
    fake.failNext("DestroyCryptoKeyVersion", status.INTERNAL, "backend error");
    await km.generateKey("k", KeyType.EC_P256);
    key!.versions[1]!.state = "DISABLED";
    await eventually(() => log.lines.some((l) => l.message === "CryptoKeyVersion is not enabled, will not be scheduled for destruction"), "left alone");
    expect(km.destroyQueue.size).toBe(0);
    expect(key!.versions[1]!.state).toBe("DISABLED");
  });
});

describe("stopping", () => {
  it("ends every task: no sweep, keep-alive or destruction happens after stop", async () => {
    const { clock, km, tasks } = await setup();
    await km.generateKey("k", KeyType.EC_P256);
    await tasks.stop();
    expect(clock.sleeping).toBe(0);
    const calls = fake.calls.length;
    await km.generateKey("k", KeyType.EC_P256);
    const afterGenerate = fake.calls.length;
    // Nothing is asleep on the clock to be woken, and waking it starts nothing.
    expect(clock.sleeping).toBe(0);
    clock.advance(disposeIntervalMs * 2);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(clock.sleeping).toBe(0);
    expect(fake.calls.length).toBe(afterGenerate);
    expect(afterGenerate).toBeGreaterThan(calls);
    expect(km.destroyQueue.size, "the replaced version waits in the queue; nothing takes it").toBe(1);
  });
});
