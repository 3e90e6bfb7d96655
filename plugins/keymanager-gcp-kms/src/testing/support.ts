/**
 * Test support shared by this plugin's unit tests (not bundled: only tests
 * import it): the real Cloud KMS client pointed at the fake Cloud KMS, and a
 * logger that keeps what it is told.
 */
import type { Clock, LogFields, LogLevel, Logger } from "@signet/plugin-sdk";
import type { FakeCloudKms } from "../../../../test/fakes/gcp/kms.js";
import { GcpKmsKeyManager } from "../keymanager.js";
import { type Kms, createKms, emulatorHostVariable } from "../kms-client.js";
import { type ServerIdentity, trustDomainHash } from "../naming.js";
import type { KmsKeyEntry } from "../fetcher.js";
import type { IamPolicy } from "../kms-client.js";

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

export function recordingLogger(lines: LogLine[] = [], base: LogFields = {}): Logger & { readonly lines: LogLine[] } {
  const log = (level: LogLevel, message: string, fields: LogFields = {}) => lines.push({ level, message, fields: { ...base, ...fields } });
  return {
    lines,
    log,
    trace: (m, f) => log("trace", m, f),
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    with: (fields) => recordingLogger(lines, { ...base, ...fields }),
  };
}

/** The real KeyManagementServiceClient, talking to `fake` as to an emulator. */
export function kmsFor(fake: FakeCloudKms, serviceAccountFile?: string): Kms {
  return createKms({ serviceAccountFile, env: { [emulatorHostVariable]: fake.address } });
}

export const testTrustDomain = "example.org";

export function identityOf(serverId: string, trustDomain = testTrustDomain): ServerIdentity {
  return { serverId, trustDomainHash: trustDomainHash(trustDomain) };
}

export interface ManagerSetup {
  readonly kms: Kms;
  readonly clock: Clock;
  readonly keyRing: string;
  readonly serverId: string;
  readonly log?: Logger;
  readonly customPolicy?: IamPolicy;
  readonly entries?: readonly KmsKeyEntry[];
}

export function managerFor(setup: ManagerSetup): GcpKmsKeyManager {
  return new GcpKmsKeyManager(
    { kms: setup.kms, clock: setup.clock, log: setup.log ?? recordingLogger(), keyRing: setup.keyRing, identity: identityOf(setup.serverId), customPolicy: setup.customPolicy },
    setup.entries ?? [],
  );
}
