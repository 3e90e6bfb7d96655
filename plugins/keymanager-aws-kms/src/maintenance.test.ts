/**
 * SPIRE's housekeeping on a clock the test moves: alias refresh every 6 h,
 * disposal of other servers' aliases older than two weeks (24 h) and of
 * alias-less keys older than 48 h (48 h), the deletion queue's retries, and
 * the stop signal that ends it all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyType } from "@signet/plugin-sdk";
import { FakeKms } from "../../../test/fakes/aws/kms.js";
import { ManualClock } from "../../../test/fakes/clock.js";
import { disposeAliasesPeriodMs, disposeKeysPeriodMs, refreshAliasesPeriodMs, type TaskName } from "./maintenance.js";
import { Names } from "./names.js";
import { configFor, start, trustDomain } from "./testing/plugin.js";

const hour = 3600 * 1000;
const day = 24 * hour;

let kms: FakeKms;
const clock = new ManualClock();
beforeAll(async () => {
  kms = await FakeKms.start({ now: () => clock.now() });
});
afterAll(() => kms.close());

describe("maintenance", () => {
  it("refreshes this server's aliases every 6 hours, but not one another replica has moved", async () => {
    const p = await start(kms, configFor(kms), { clock });
    try {
      await p.keys.generateKey("kept", KeyType.EC_P256);
      await p.keys.generateKey("moved", KeyType.EC_P256);
      const names = new Names(trustDomain, p.serverId);
      const kept = kms.aliases.get(names.alias("kept"))!;
      const moved = kms.aliases.get(names.alias("moved"))!;
      const elsewhere = await kms.createKeyDirect({ keySpec: "ECC_NIST_P256" });
      moved.targetKeyId = elsewhere.keyId;
      const created = kept.lastUpdatedDate.getTime();

      await clock.tick(refreshAliasesPeriodMs - 1, 3);
      expect(kept.lastUpdatedDate.getTime(), "not before 6 hours").toBe(created);
      await clock.tick(1, 3);
      expect(kept.lastUpdatedDate.getTime()).toBe(created + refreshAliasesPeriodMs);
      expect(moved.targetKeyId, "a rotation by another replica is not reverted").toBe(elsewhere.keyId);
      expect(moved.lastUpdatedDate.getTime()).toBe(created);
    } finally {
      await p.stop();
    }
  });

  it("disposes of other servers' aliases not refreshed for two weeks, with their keys, and of old keys without an alias", async () => {
    const names = new Names(trustDomain, "gone-server");
    const now = clock.now().getTime();
    const plant = async (aliasName: string | undefined, description: string, ageMs: number) => {
      const at = new Date(clock.now().getTime() - ageMs);
      const key = await kms.createKeyDirect({ keySpec: "ECC_NIST_P256", description, creationDate: at });
      if (aliasName) kms.createAliasDirect(aliasName, key.keyId, at);
      return key;
    };
    const description = names.description("x509-CA-A");
    const staleAlias = await plant(names.alias("x509-CA-A"), description, 15 * day);
    // 12 days old now, 13 when the task runs.
    const freshAlias = await plant(names.alias("JWT-Signer-A"), description, 12 * day);
    const otherDomain = await plant("alias/SPIRE_SERVER/example_org2/gone-server/x509-CA-A", "SPIRE_SERVER_KEY/example_org2/x509-CA-A", 30 * day);
    const oldOrphan = await plant(undefined, description, 49 * hour);
    const foreignOrphan = await plant(undefined, "someone else's key", 30 * day);

    const ran: TaskName[] = [];
    const p = await start(kms, configFor(kms), { clock, onTaskRun: (task, error) => ran.push(error ? (`${task} failed: ${error.message}` as TaskName) : task) });
    try {
      const ownKey = await p.keys.generateKey("x509-CA-A", KeyType.EC_P256);
      const ownAlias = kms.aliases.get(new Names(trustDomain, p.serverId).alias("x509-CA-A"))!;
      ownAlias.lastUpdatedDate = new Date(now - 20 * day);

      await clock.tick(disposeAliasesPeriodMs, 3);
      await p.queue.idle();
      expect(ran).toContain("dispose-aliases");
      expect(kms.aliases.has(names.alias("x509-CA-A"))).toBe(false);
      expect(staleAlias.keyState).toBe("PendingDeletion");
      expect(kms.aliases.has(names.alias("JWT-Signer-A"))).toBe(true);
      expect(freshAlias.keyState).toBe("Enabled");
      expect(otherDomain.keyState, "another trust domain whose name starts like ours").toBe("Enabled");
      expect(kms.aliases.has(ownAlias.aliasName), "this server's own alias").toBe(true);
      expect(oldOrphan.keyState, "orphans wait for their own task").toBe("Enabled");
      // 24 h old when the orphan task runs.
      const youngOrphan = await plant(undefined, description, 0);

      await clock.tick(disposeKeysPeriodMs - disposeAliasesPeriodMs, 3);
      await p.queue.idle();
      expect(ran).toContain("dispose-keys");
      expect(oldOrphan.keyState).toBe("PendingDeletion");
      expect(youngOrphan.keyState, "younger than 48 h").toBe("Enabled");
      expect(foreignOrphan.keyState).toBe("Enabled");
      expect(kms.resolve(ownAlias.targetKeyId)!.publicKey.equals(ownKey.pkixData)).toBe(true);
      expect(kms.resolve(ownAlias.targetKeyId)!.keyState).toBe("Enabled");
      expect(ran.filter((r) => r.includes("failed"))).toEqual([]);
    } finally {
      await p.stop();
    }
  });

  it("retries a failed deletion with backoff, drops one KMS says cannot be done, and stops on its signal", async () => {
    const ran: TaskName[] = [];
    const p = await start(kms, configFor(kms), { clock, onTaskRun: (task) => ran.push(task) });
    const a = await kms.createKeyDirect({ keySpec: "ECC_NIST_P256" });
    kms.failNext("ScheduleKeyDeletion", { type: "DependencyTimeoutException", message: "try later", status: 503, times: 4 });
    p.queue.enqueue(a.arn);
    // Four attempts by the SDK, then the queue's own backoff (2 s) on the clock.
    await clock.sleepers(4);
    expect(a.keyState).toBe("Enabled");
    expect(p.queue.size).toBe(1);
    clock.advance(2_000);
    await p.queue.idle();
    expect(a.keyState).toBe("PendingDeletion");

    const scheduledBefore = kms.count("ScheduleKeyDeletion");
    p.queue.enqueue(a.arn);
    p.queue.enqueue(`arn:aws:kms:${kms.region}:${kms.accountId}:key/00000000-0000-4000-8000-000000000000`);
    await p.queue.idle();
    expect(kms.count("ScheduleKeyDeletion") - scheduledBefore, "already pending and unknown keys are dropped, not retried").toBe(2);

    await p.stop();
    expect(clock.sleeping, "no task is left asleep").toBe(0);
    clock.advance(7 * day);
    await new Promise((r) => setImmediate(r));
    expect(ran, "nothing runs after stop").toEqual([]);
  });
});
