/**
 * A fake Google Cloud KMS: a local gRPC server speaking the real
 * `google.cloud.kms.v1.KeyManagementService` (and the `google.iam.v1.IAMPolicy`
 * mixin the KMS endpoint serves), loaded from the .proto files shipped in
 * @google-cloud/kms and google-gax, so the real KeyManagementServiceClient
 * talks to it unchanged (plaintext, as to an emulator).
 *
 * It holds key rings, CryptoKeys with labels, versions with states
 * (PENDING_GENERATION, ENABLED, DESTROY_SCHEDULED), real keys made with
 * node:crypto, PEM public keys and signatures with their CRC32C checksums,
 * list filters and pagination, and IAM policies; and it answers Cloud KMS's
 * status codes (NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION,
 * INVALID_ARGUMENT, PERMISSION_DENIED). Tests steer it: key rings to create,
 * permissions to deny, failures and corrupted checksums to inject, how many
 * polls a new version stays pending. State lives in the test process, so it
 * outlives the plugin processes that use it.
 */
import { createHash } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { crc32c } from "./crc32c.js";
import { type Algorithm, algorithms, digestSizes, generateKey, publicKeyPem, signDigest } from "./kms-keys.js";
import { FilterError, matches, parseFilter } from "./kms-filter.js";

const root = join(__dirname, "..", "..", "..");

export interface FakeVersion {
  readonly name: string;
  state: string;
  readonly algorithm: string;
  readonly createTime: Date;
  destroyTime?: Date;
  /** Get calls left before a pending version turns ENABLED. */
  pollsLeft: number;
  readonly privateKey: KeyObject;
}

export interface FakeCryptoKey {
  readonly name: string;
  readonly purpose: string;
  readonly createTime: Date;
  algorithm: string;
  labels: Record<string, string>;
  readonly versions: FakeVersion[];
  policy: Policy;
}

interface Policy {
  version: number;
  bindings: Array<{ role: string; members: string[]; condition?: unknown }>;
  etag: Buffer;
}

interface Failure {
  readonly code: grpc.status;
  readonly message: string;
}

/** An error answered with a gRPC status code. */
class KmsError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** The IAM permission each method needs, as Cloud KMS names them. */
const permissions: Readonly<Record<string, string>> = {
  ListCryptoKeys: "cloudkms.cryptoKeys.list",
  CreateCryptoKey: "cloudkms.cryptoKeys.create",
  UpdateCryptoKey: "cloudkms.cryptoKeys.update",
  GetIamPolicy: "cloudkms.cryptoKeys.getIamPolicy",
  SetIamPolicy: "cloudkms.cryptoKeys.setIamPolicy",
  CreateCryptoKeyVersion: "cloudkms.cryptoKeyVersions.create",
  DestroyCryptoKeyVersion: "cloudkms.cryptoKeyVersions.destroy",
  GetCryptoKeyVersion: "cloudkms.cryptoKeyVersions.get",
  ListCryptoKeyVersions: "cloudkms.cryptoKeyVersions.list",
  AsymmetricSign: "cloudkms.cryptoKeyVersions.useToSign",
  GetPublicKey: "cloudkms.cryptoKeyVersions.viewPublicKey",
};

const keyRingPattern = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+$/;
const labelKey = /^[a-z][a-z0-9_-]{0,62}$/;
const labelValue = /^[a-z0-9_-]{0,63}$/;
const destroyScheduledSeconds = 30 * 24 * 3600;

export interface FakeCloudKmsOptions {
  /** Largest page a list call answers (small by default, so clients must follow page tokens). */
  readonly maxPageSize?: number;
}

export class FakeCloudKms {
  readonly keyRings = new Set<string>();
  readonly cryptoKeys = new Map<string, FakeCryptoKey>();
  /** Every call, in order: method and request. */
  readonly calls: Array<{ readonly method: string; readonly request: Record<string, unknown> }> = [];
  /** Permissions the caller lacks: calls needing them answer PERMISSION_DENIED. */
  readonly denied = new Set<string>();
  /** Get calls a new version stays PENDING_GENERATION for (as large RSA keys do). */
  pendingPolls = 0;
  private readonly failures = new Map<string, Failure[]>();
  private readonly corrupted = new Set<string>();
  private readonly maxPageSize: number;

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    options: FakeCloudKmsOptions,
  ) {
    this.maxPageSize = options.maxPageSize ?? 2;
  }

  /** host:port, as KMS_EMULATOR_HOST takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: FakeCloudKmsOptions = {}): Promise<FakeCloudKms> {
    const definition = protoLoader.loadSync(["google/cloud/kms/v1/service.proto", "google/iam/v1/iam_policy.proto"], {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [join(root, "node_modules/@google-cloud/kms/build/protos"), join(root, "node_modules/google-gax/build/protos")],
    });
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const fake = new FakeCloudKms(server, port, options);
    const kms = definition["google.cloud.kms.v1.KeyManagementService"] as grpc.ServiceDefinition;
    const iam = definition["google.iam.v1.IAMPolicy"] as grpc.ServiceDefinition;
    server.addService(kms, fake.handlers(kms));
    server.addService(iam, fake.handlers(iam));
    return fake;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  addKeyRing(name: string): string {
    if (!keyRingPattern.test(name)) throw new Error(`not a key ring name: ${name}`);
    this.keyRings.add(name);
    return name;
  }

  /** The next `times` calls of `method` fail with `code`. */
  failNext(method: string, code: grpc.status, message: string, times = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push({ code, message });
    this.failures.set(method, list);
  }

  /** The next answer of `method` (GetPublicKey or AsymmetricSign) carries a wrong CRC32C. */
  corruptNext(method: "GetPublicKey" | "AsymmetricSign"): void {
    this.corrupted.add(method);
  }

  callsOf(method: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }

  keysIn(keyRing: string): FakeCryptoKey[] {
    return [...this.cryptoKeys.values()].filter((k) => k.name.startsWith(`${keyRing}/cryptoKeys/`));
  }

  /** A CryptoKey put in place directly (as another server or an operator would have made it). */
  async seedCryptoKey(keyRing: string, id: string, algorithm: string, labels: Record<string, string>, versions = 1): Promise<FakeCryptoKey> {
    const key = await this.createCryptoKey({ parent: keyRing, cryptoKeyId: id, cryptoKey: { purpose: "ASYMMETRIC_SIGN", labels, versionTemplate: { algorithm } } });
    for (let i = 1; i < versions; i++) await this.addVersion(key);
    return key;
  }

  private handlers(service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, definition] of Object.entries(service)) {
      if (definition.requestStream || definition.responseStream) continue;
      impl[method] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.calls.push({ method, request: call.request });
        this.dispatch(method, call.request).then(
          (response) => callback(null, response),
          (e: unknown) => {
            const code = e instanceof KmsError ? e.code : grpc.status.INTERNAL;
            callback({ code, details: (e as Error).message, metadata: new grpc.Metadata() });
          },
        );
      };
    }
    return impl;
  }

  private async dispatch(method: string, req: Record<string, unknown>): Promise<unknown> {
    const failure = this.failures.get(method)?.shift();
    if (failure) throw new KmsError(failure.code, failure.message);
    const permission = permissions[method];
    if (permission && this.denied.has(permission)) {
      const resource = (req["name"] ?? req["parent"] ?? req["resource"] ?? (req["cryptoKey"] as { name?: string } | undefined)?.name ?? "") as string;
      throw new KmsError(grpc.status.PERMISSION_DENIED, `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`);
    }
    switch (method) {
      case "CreateCryptoKey":
        return cryptoKeyMessage(await this.createCryptoKey(req));
      case "CreateCryptoKeyVersion":
        return versionMessage(await this.addVersion(this.cryptoKey(req["parent"] as string)));
      case "UpdateCryptoKey":
        return cryptoKeyMessage(this.updateCryptoKey(req));
      case "ListCryptoKeys":
        return this.listCryptoKeys(req);
      case "ListCryptoKeyVersions":
        return this.listVersions(req);
      case "GetCryptoKeyVersion":
        return versionMessage(this.poll(this.version(req["name"] as string)));
      case "GetPublicKey":
        return this.getPublicKey(req);
      case "AsymmetricSign":
        return this.asymmetricSign(req);
      case "DestroyCryptoKeyVersion":
        return versionMessage(this.destroy(req["name"] as string));
      case "GetIamPolicy":
        return this.cryptoKey(req["resource"] as string).policy;
      case "SetIamPolicy":
        return this.setIamPolicy(req);
      default:
        throw new KmsError(grpc.status.UNIMPLEMENTED, `the fake Cloud KMS does not implement ${method}`);
    }
  }

  private async createCryptoKey(req: Record<string, unknown>): Promise<FakeCryptoKey> {
    const parent = req["parent"] as string;
    const id = req["cryptoKeyId"] as string;
    const spec = (req["cryptoKey"] ?? {}) as { purpose?: string; labels?: Record<string, string>; versionTemplate?: { algorithm?: string } };
    if (!this.keyRings.has(parent)) throw new KmsError(grpc.status.NOT_FOUND, `KeyRing ${parent} not found.`);
    if (!/^[a-zA-Z0-9_-]{1,63}$/.test(id)) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Invalid value for field 'crypto_key_id': ${JSON.stringify(id)}; must match [a-zA-Z0-9_-]{1,63}`);
    const name = `${parent}/cryptoKeys/${id}`;
    if (this.cryptoKeys.has(name)) throw new KmsError(grpc.status.ALREADY_EXISTS, `CryptoKey ${name} already exists.`);
    if (spec.purpose !== "ASYMMETRIC_SIGN") throw new KmsError(grpc.status.INVALID_ARGUMENT, `the fake Cloud KMS only makes ASYMMETRIC_SIGN keys, not ${spec.purpose}`);
    const algorithm = spec.versionTemplate?.algorithm ?? "";
    if (!algorithms.has(algorithm)) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Algorithm ${algorithm} is not valid for purpose ASYMMETRIC_SIGN.`);
    const labels = checkedLabels(spec.labels ?? {});
    const key: FakeCryptoKey = { name, purpose: "ASYMMETRIC_SIGN", createTime: new Date(), algorithm, labels, versions: [], policy: { version: 1, bindings: [], etag: Buffer.from("ACAB") } };
    this.cryptoKeys.set(name, key);
    await this.addVersion(key);
    return key;
  }

  private async addVersion(key: FakeCryptoKey): Promise<FakeVersion> {
    const algorithm = algorithms.get(key.algorithm)!;
    const version: FakeVersion = {
      name: `${key.name}/cryptoKeyVersions/${key.versions.length + 1}`,
      state: this.pendingPolls > 0 ? "PENDING_GENERATION" : "ENABLED",
      algorithm: key.algorithm,
      createTime: new Date(),
      pollsLeft: this.pendingPolls,
      privateKey: await generateKey(algorithm),
    };
    key.versions.push(version);
    return version;
  }

  private updateCryptoKey(req: Record<string, unknown>): FakeCryptoKey {
    const spec = req["cryptoKey"] as { name: string; labels?: Record<string, string>; versionTemplate?: { algorithm?: string } };
    const key = this.cryptoKey(spec?.name ?? "");
    const paths = ((req["updateMask"] as { paths?: string[] } | null)?.paths ?? []).map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    if (paths.length === 0) throw new KmsError(grpc.status.INVALID_ARGUMENT, "update_mask is required");
    for (const path of paths) {
      if (path === "labels") key.labels = checkedLabels(spec.labels ?? {});
      else if (path === "version_template.algorithm") {
        const algorithm = spec.versionTemplate?.algorithm ?? "";
        if (!algorithms.has(algorithm)) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Algorithm ${algorithm} is not valid for purpose ASYMMETRIC_SIGN.`);
        key.algorithm = algorithm;
      } else throw new KmsError(grpc.status.INVALID_ARGUMENT, `update_mask path ${JSON.stringify(path)} is not supported`);
    }
    return key;
  }

  private listCryptoKeys(req: Record<string, unknown>) {
    const parent = req["parent"] as string;
    if (!this.keyRings.has(parent)) throw new KmsError(grpc.status.NOT_FOUND, `KeyRing ${parent} not found.`);
    const terms = filterOf(req["filter"] as string);
    const all = this.keysIn(parent)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .filter((k) => matches({ name: k.name, purpose: k.purpose, labels: k.labels }, terms));
    const page = this.page(all, req);
    return { cryptoKeys: page.items.map(cryptoKeyMessage), nextPageToken: page.next, totalSize: all.length };
  }

  private listVersions(req: Record<string, unknown>) {
    const key = this.cryptoKey(req["parent"] as string);
    const terms = filterOf(req["filter"] as string);
    const all = key.versions.filter((v) => matches({ name: v.name, state: this.poll(v).state, algorithm: v.algorithm }, terms));
    const page = this.page(all, req);
    return { cryptoKeyVersions: page.items.map(versionMessage), nextPageToken: page.next, totalSize: all.length };
  }

  private page<T>(all: T[], req: Record<string, unknown>): { items: T[]; next: string } {
    const size = Math.min((req["pageSize"] as number) || this.maxPageSize, this.maxPageSize);
    const start = req["pageToken"] ? Number(Buffer.from(req["pageToken"] as string, "base64url").toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw new KmsError(grpc.status.INVALID_ARGUMENT, "invalid page_token");
    const items = all.slice(start, start + size);
    return { items, next: start + size < all.length ? Buffer.from(String(start + size)).toString("base64url") : "" };
  }

  private getPublicKey(req: Record<string, unknown>) {
    const version = this.poll(this.version(req["name"] as string));
    requireEnabled(version);
    const pem = publicKeyPem(version.privateKey);
    let crc = crc32c(Buffer.from(pem));
    if (this.corrupted.delete("GetPublicKey")) crc ^= 1;
    return { pem, algorithm: version.algorithm, pemCrc32c: { value: String(crc) }, name: version.name, protectionLevel: "SOFTWARE" };
  }

  private asymmetricSign(req: Record<string, unknown>) {
    const version = this.version(req["name"] as string);
    requireEnabled(version);
    const algorithm: Algorithm = algorithms.get(version.algorithm)!;
    const digestMessage = req["digest"] as ({ digest?: string } & Record<string, Buffer | undefined>) | null;
    const which = digestMessage?.digest;
    if (!which || !digestMessage[which]) throw new KmsError(grpc.status.INVALID_ARGUMENT, "digest is required");
    if (which !== algorithm.digest) {
      throw new KmsError(grpc.status.INVALID_ARGUMENT, `The digest type ${which.toUpperCase()} does not match the algorithm ${version.algorithm} of ${version.name}.`);
    }
    const digest = digestMessage[which]!;
    if (digest.length !== digestSizes[algorithm.digest]) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Digest of ${digest.length} bytes is not a ${which} digest.`);
    const digestCrc = req["digestCrc32c"] as { value: string } | null;
    if (digestCrc && Number(digestCrc.value) !== crc32c(digest)) {
      throw new KmsError(grpc.status.INVALID_ARGUMENT, "The checksum in field digest_crc32c did not match the data in field digest.");
    }
    if (algorithm.kind === "rsa-pss") throw new KmsError(grpc.status.UNIMPLEMENTED, "the fake Cloud KMS does not sign with RSA PSS");
    const signature = signDigest(algorithm, version.privateKey, digest);
    let crc = crc32c(signature);
    if (this.corrupted.delete("AsymmetricSign")) crc ^= 1;
    return { signature, signatureCrc32c: { value: String(crc) }, verifiedDigestCrc32c: digestCrc !== null, name: version.name, protectionLevel: "SOFTWARE" };
  }

  private destroy(name: string): FakeVersion {
    const version = this.version(name);
    if (version.state === "DESTROY_SCHEDULED" || version.state === "DESTROYED") {
      throw new KmsError(grpc.status.FAILED_PRECONDITION, `The request cannot be fulfilled. Resource ${name} has value ${version.state} in field crypto_key_version.state.`);
    }
    version.state = "DESTROY_SCHEDULED";
    version.destroyTime = new Date(Date.now() + destroyScheduledSeconds * 1000);
    return version;
  }

  private setIamPolicy(req: Record<string, unknown>) {
    const key = this.cryptoKey(req["resource"] as string);
    const policy = req["policy"] as Policy | null;
    if (!policy) throw new KmsError(grpc.status.INVALID_ARGUMENT, "policy is required");
    key.policy = { version: policy.version, bindings: policy.bindings, etag: createHash("sha256").update(JSON.stringify(policy.bindings)).digest().subarray(0, 8) };
    return key.policy;
  }

  private cryptoKey(name: string): FakeCryptoKey {
    const key = this.cryptoKeys.get(name);
    if (!key) throw new KmsError(grpc.status.NOT_FOUND, `CryptoKey ${name} not found.`);
    return key;
  }

  private version(name: string): FakeVersion {
    const i = name.lastIndexOf("/cryptoKeyVersions/");
    const key = i < 0 ? undefined : this.cryptoKeys.get(name.slice(0, i));
    const version = key?.versions.find((v) => v.name === name);
    if (!version) throw new KmsError(grpc.status.NOT_FOUND, `CryptoKeyVersion ${name} not found.`);
    return version;
  }

  /** A Get of a pending version counts towards its generation finishing. */
  private poll(version: FakeVersion): FakeVersion {
    if (version.state === "PENDING_GENERATION" && version.pollsLeft-- <= 0) version.state = "ENABLED";
    return version;
  }
}

function requireEnabled(version: FakeVersion): void {
  if (version.state !== "ENABLED") {
    throw new KmsError(grpc.status.FAILED_PRECONDITION, `The request cannot be fulfilled. Resource ${version.name} has value ${version.state} in field crypto_key_version.state.`);
  }
}

function checkedLabels(labels: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!labelKey.test(k)) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Invalid label key ${JSON.stringify(k)}.`);
    if (!labelValue.test(v)) throw new KmsError(grpc.status.INVALID_ARGUMENT, `Invalid value ${JSON.stringify(v)} for label ${JSON.stringify(k)}.`);
  }
  return { ...labels };
}

function filterOf(filter: string | undefined) {
  try {
    return parseFilter(filter ?? "");
  } catch (e) {
    if (e instanceof FilterError) throw new KmsError(grpc.status.INVALID_ARGUMENT, e.message);
    throw e;
  }
}

function timestamp(date: Date) {
  return { seconds: String(Math.floor(date.getTime() / 1000)), nanos: (date.getTime() % 1000) * 1e6 };
}

function cryptoKeyMessage(key: FakeCryptoKey) {
  return {
    name: key.name,
    purpose: key.purpose,
    createTime: timestamp(key.createTime),
    versionTemplate: { algorithm: key.algorithm, protectionLevel: "SOFTWARE" },
    labels: { ...key.labels },
    destroyScheduledDuration: { seconds: String(destroyScheduledSeconds), nanos: 0 },
  };
}

function versionMessage(version: FakeVersion) {
  return {
    name: version.name,
    state: version.state,
    algorithm: version.algorithm,
    protectionLevel: "SOFTWARE",
    createTime: timestamp(version.createTime),
    ...(version.destroyTime ? { destroyTime: timestamp(version.destroyTime) } : {}),
  };
}
