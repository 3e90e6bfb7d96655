/**
 * The Cloud KMS calls this plugin makes, over the real
 * KeyManagementServiceClient (@google-cloud/kms, gRPC through google-gax),
 * with plain types in and out so the domain code reads as SPIRE's does.
 *
 * Every call carries a deadline: google-gax retries UNAVAILABLE and
 * DEADLINE_EXCEEDED with backoff on the idempotent methods, and gives up at
 * the deadline. Failures come out as KmsError with the gRPC status code.
 *
 * Where it connects: Google's endpoint with `service_account_file` or
 * Application Default Credentials; or, when KMS_EMULATOR_HOST=host:port is
 * set (the `*_EMULATOR_HOST` convention of Google's client libraries), that
 * address in plaintext without tokens, as to a local emulator.
 */
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient, type protos } from "@google-cloud/kms";

type AlgorithmName = keyof typeof protos.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm;

export const emulatorHostVariable = "KMS_EMULATOR_HOST";

export interface CryptoKey {
  readonly name: string;
  readonly algorithm: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface CryptoKeyVersion {
  readonly name: string;
  readonly state: string;
  readonly algorithm: string;
  readonly destroyTime?: Date | undefined;
}

export interface PublicKeyAnswer {
  readonly name: string;
  readonly pem: string;
  readonly pemCrc32c: { readonly value?: unknown } | null | undefined;
}

export interface SignAnswer {
  readonly name: string;
  readonly signature: Buffer;
  readonly signatureCrc32c: { readonly value?: unknown } | null | undefined;
  readonly verifiedDigestCrc32c: boolean;
}

export interface IamBinding {
  readonly role: string;
  readonly members: readonly string[];
  readonly condition?: { readonly expression?: string; readonly title?: string; readonly description?: string; readonly location?: string } | undefined;
}

export interface IamPolicy {
  readonly version?: number | undefined;
  readonly bindings: readonly IamBinding[];
  readonly etag?: Uint8Array | undefined;
}

/** When a call must be over: epoch milliseconds. */
export type Deadline = number;

export function deadlineIn(ms: number): Deadline {
  return Date.now() + ms;
}

/** A Cloud KMS call that failed; `code` is the gRPC status code (5 NOT_FOUND, 7 PERMISSION_DENIED, …). */
export class KmsError extends Error {
  override readonly name = "KmsError";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const KmsCode = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 } as const;

/** What the key manager needs of Cloud KMS. */
export interface Kms {
  listCryptoKeys(parent: string, filter: string, deadline: Deadline): Promise<CryptoKey[]>;
  listCryptoKeyVersions(parent: string, filter: string, deadline: Deadline): Promise<CryptoKeyVersion[]>;
  createCryptoKey(parent: string, id: string, algorithm: string, labels: Record<string, string>, deadline: Deadline): Promise<CryptoKey>;
  createCryptoKeyVersion(cryptoKey: string, deadline: Deadline): Promise<CryptoKeyVersion>;
  updateCryptoKey(key: CryptoKey, paths: ReadonlyArray<"labels" | "version_template.algorithm">, deadline: Deadline): Promise<CryptoKey>;
  getCryptoKeyVersion(name: string, deadline: Deadline): Promise<CryptoKeyVersion>;
  getPublicKey(name: string, deadline: Deadline): Promise<PublicKeyAnswer>;
  asymmetricSign(name: string, digest: { readonly field: "sha256" | "sha384"; readonly bytes: Buffer; readonly crc32c: number }, deadline: Deadline): Promise<SignAnswer>;
  destroyCryptoKeyVersion(name: string, deadline: Deadline): Promise<CryptoKeyVersion>;
  getIamPolicy(resource: string, deadline: Deadline): Promise<IamPolicy>;
  setIamPolicy(resource: string, policy: IamPolicy, deadline: Deadline): Promise<IamPolicy>;
  /** The email of the service account the calls are made as (for the default IAM policy). */
  serviceAccountEmail(): Promise<string>;
  close(): Promise<void>;
}

export interface KmsClientOptions {
  readonly serviceAccountFile?: string | undefined;
  /** Where KMS_EMULATOR_HOST is read; process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function createKms(options: KmsClientOptions): Kms {
  return new GoogleKms(new KeyManagementServiceClient(clientOptions(options)));
}

/** The client's constructor options: credentials, and the emulator's address when one is named. */
export function clientOptions(options: KmsClientOptions): ConstructorParameters<typeof KeyManagementServiceClient>[0] {
  const credentials = options.serviceAccountFile !== undefined ? { keyFilename: options.serviceAccountFile } : {};
  const emulator = (options.env ?? process.env)[emulatorHostVariable];
  if (!emulator) return credentials;
  const colon = emulator.lastIndexOf(":");
  const port = Number(emulator.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${emulatorHostVariable} ${JSON.stringify(emulator)} is not host:port`);
  }
  const host = emulator.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  // universeDomain spares google-auth-library a metadata-server probe when no credentials are given.
  return { ...credentials, apiEndpoint: host, port, sslCreds: grpc.credentials.createInsecure(), universeDomain: "googleapis.com" };
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

class GoogleKms implements Kms {
  constructor(private readonly client: KeyManagementServiceClient) {}

  async listCryptoKeys(parent: string, filter: string, deadline: Deadline): Promise<CryptoKey[]> {
    const [keys] = await call(deadline, (o) => this.client.listCryptoKeys({ parent, filter }, o));
    return keys.map(cryptoKeyOf);
  }

  async listCryptoKeyVersions(parent: string, filter: string, deadline: Deadline): Promise<CryptoKeyVersion[]> {
    const [versions] = await call(deadline, (o) => this.client.listCryptoKeyVersions({ parent, filter }, o));
    return versions.map(versionOf);
  }

  async createCryptoKey(parent: string, id: string, algorithm: string, labels: Record<string, string>, deadline: Deadline): Promise<CryptoKey> {
    const [key] = await call(deadline, (o) =>
      this.client.createCryptoKey({ parent, cryptoKeyId: id, cryptoKey: { purpose: "ASYMMETRIC_SIGN", labels, versionTemplate: { algorithm: algorithm as AlgorithmName } } }, o),
    );
    return cryptoKeyOf(key);
  }

  async createCryptoKeyVersion(cryptoKey: string, deadline: Deadline): Promise<CryptoKeyVersion> {
    const [version] = await call(deadline, (o) => this.client.createCryptoKeyVersion({ parent: cryptoKey, cryptoKeyVersion: { state: "ENABLED" } }, o));
    return versionOf(version);
  }

  async updateCryptoKey(key: CryptoKey, paths: ReadonlyArray<"labels" | "version_template.algorithm">, deadline: Deadline): Promise<CryptoKey> {
    const [updated] = await call(deadline, (o) =>
      this.client.updateCryptoKey(
        { cryptoKey: { name: key.name, labels: { ...key.labels }, versionTemplate: { algorithm: key.algorithm as AlgorithmName } }, updateMask: { paths: [...paths] } },
        o,
      ),
    );
    return cryptoKeyOf(updated);
  }

  async getCryptoKeyVersion(name: string, deadline: Deadline): Promise<CryptoKeyVersion> {
    const [version] = await call(deadline, (o) => this.client.getCryptoKeyVersion({ name }, o));
    return versionOf(version);
  }

  async getPublicKey(name: string, deadline: Deadline): Promise<PublicKeyAnswer> {
    const [key] = await call(deadline, (o) => this.client.getPublicKey({ name }, o));
    return { name: key.name ?? "", pem: key.pem ?? "", pemCrc32c: key.pemCrc32c };
  }

  async asymmetricSign(name: string, digest: { field: "sha256" | "sha384"; bytes: Buffer; crc32c: number }, deadline: Deadline): Promise<SignAnswer> {
    const [res] = await call(deadline, (o) =>
      this.client.asymmetricSign({ name, digest: { [digest.field]: digest.bytes }, digestCrc32c: { value: digest.crc32c } }, o),
    );
    return {
      name: res.name ?? "",
      signature: Buffer.from(res.signature ?? []),
      signatureCrc32c: res.signatureCrc32c,
      verifiedDigestCrc32c: res.verifiedDigestCrc32c === true,
    };
  }

  async destroyCryptoKeyVersion(name: string, deadline: Deadline): Promise<CryptoKeyVersion> {
    const [version] = await call(deadline, (o) => this.client.destroyCryptoKeyVersion({ name }, o));
    return versionOf(version);
  }

  async getIamPolicy(resource: string, deadline: Deadline): Promise<IamPolicy> {
    const [policy] = await call(deadline, (o) => this.client.getIamPolicy({ resource, options: { requestedPolicyVersion: 3 } } as Parameters<KeyManagementServiceClient["getIamPolicy"]>[0], o));
    return policyOf(policy);
  }

  async setIamPolicy(resource: string, policy: IamPolicy, deadline: Deadline): Promise<IamPolicy> {
    const request = { resource, policy: { version: 3, bindings: policy.bindings.map((b) => ({ ...b, members: [...b.members] })), etag: policy.etag } };
    const [set] = await call(deadline, (o) => this.client.setIamPolicy(request as Parameters<KeyManagementServiceClient["setIamPolicy"]>[0], o));
    return policyOf(set);
  }

  async serviceAccountEmail(): Promise<string> {
    const credentials = await this.client.auth.getCredentials();
    if (!credentials.client_email) throw new Error("could not get email of authenticated service account; email is empty");
    return credentials.client_email;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Runs one client call with the time left before `deadline`, turning its failure into a KmsError. */
async function call<T>(deadline: Deadline, fn: (options: { timeout: number }) => Promise<T>): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) throw new KmsError(KmsCode.DEADLINE_EXCEEDED, "deadline exceeded before the Cloud KMS call was made");
  try {
    return await fn({ timeout: left });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new KmsError(typeof code === "number" ? code : 2, (e as Error).message);
  }
}

function cryptoKeyOf(key: { name?: string | null; labels?: Record<string, string> | null; versionTemplate?: { algorithm?: unknown } | null }): CryptoKey {
  return { name: key.name ?? "", algorithm: String(key.versionTemplate?.algorithm ?? ""), labels: { ...(key.labels ?? {}) } };
}

function versionOf(v: { name?: string | null; state?: unknown; algorithm?: unknown; destroyTime?: Timestamp }): CryptoKeyVersion {
  return { name: v.name ?? "", state: String(v.state ?? ""), algorithm: String(v.algorithm ?? ""), destroyTime: dateOf(v.destroyTime) };
}

function policyOf(p: { version?: number | null; bindings?: Array<{ role?: string | null; members?: string[] | null }> | null; etag?: Uint8Array | string | null }): IamPolicy {
  return {
    version: p.version ?? undefined,
    bindings: (p.bindings ?? []).map((b) => ({ role: b.role ?? "", members: b.members ?? [] })),
    etag: typeof p.etag === "string" ? Buffer.from(p.etag, "base64") : (p.etag ?? undefined),
  };
}

function dateOf(t: Timestamp): Date | undefined {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  return new Date(Number(String(t.seconds)) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}
