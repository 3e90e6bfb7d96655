/**
 * Stands for AWS Key Management Service (KMS), as the AWS SDKs reach it: an
 * HTTP endpoint speaking the AWS JSON 1.1 protocol (POST /,
 * `X-Amz-Target: TrentService.<Operation>`, `application/x-amz-json-1.1`,
 * blobs as base64, timestamps as epoch seconds, errors as HTTP 400 with
 * `{"__type": …, "message": …}`). It also answers STS GetCallerIdentity
 * (kms-caller-identity.ts), which KMS clients use to build a default key policy,
 * so one endpoint (AWS_ENDPOINT_URL) serves both.
 *
 * Keys are real: CreateKey makes an EC P-256/P-384 or RSA 2048/4096 key pair
 * with node:crypto, GetPublicKey answers its SubjectPublicKeyInfo DER, and
 * Sign signs the digest it is given (MessageType DIGEST) the way KMS does
 * (ECDSA as ASN.1 DER, PKCS #1 v1.5, PSS with a salt as long as the hash),
 * so signatures verify against the public key. Aliases, tags, paging
 * (Limit/Marker), key states and ScheduleKeyDeletion follow the KMS API
 * reference; requests must carry a SigV4 Authorization header whose
 * credential scope names the fake's region and the `kms` (or `sts`) service.
 *
 * Tests inject failures (`failNext`), read every call (`calls`), control time
 * (`now`), and plant keys and aliases as other servers would have left them.
 */
import { type KeyObject, generateKeyPair, randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { KeyStore, keyEntryFromPrivateKey } from "@signet/plugin-sdk";
import { callerIdentityResponse, isCallerIdentityRequest } from "./kms-caller-identity.js";

const generate = promisify(generateKeyPair);

export type KeySpec = "ECC_NIST_P256" | "ECC_NIST_P384" | "RSA_2048" | "RSA_4096";
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

export interface FakeKey {
  readonly keyId: string;
  readonly arn: string;
  readonly keySpec: KeySpec;
  readonly description: string;
  readonly policy: string | undefined;
  readonly creationDate: Date;
  keyState: KeyState;
  deletionDate?: Date;
  readonly tags: Map<string, string>;
  readonly publicKey: Buffer;
  /** Signs as KMS does: the store holds the one key under id "k". */
  readonly signer: KeyStore;
}

export interface FakeAlias {
  readonly aliasName: string;
  targetKeyId: string;
  readonly creationDate: Date;
  lastUpdatedDate: Date;
}

/** An error a test wants an operation to answer, `times` times (default once). */
export interface InjectedError {
  readonly type: string;
  readonly message?: string;
  readonly status?: number;
  readonly times?: number;
}

export interface Call {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface FakeKmsOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** The clock behind CreationDate, LastUpdatedDate and DeletionDate. */
  readonly now?: () => Date;
  /** The ARN STS GetCallerIdentity answers (an assumed role by default). */
  readonly callerArn?: string;
  /** Largest page ListAliases and ListKeys answer whatever Limit asks (real KMS: 100 and 1000). */
  readonly maxPage?: number;
  /**
   * Key pairs to start generating at once, so CreateKey answers without the
   * seconds an RSA 4096 key takes; each is handed out once, then keys are made on demand.
   */
  readonly pregenerate?: Partial<Record<KeySpec, number>>;
}

/** A KMS error as the service answers it. */
class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const signingAlgorithms: Record<KeySpec, readonly string[]> = {
  ECC_NIST_P256: ["ECDSA_SHA_256"],
  ECC_NIST_P384: ["ECDSA_SHA_384"],
  RSA_2048: rsaAlgorithms(),
  RSA_4096: rsaAlgorithms(),
};

function rsaAlgorithms(): string[] {
  return ["SHA_256", "SHA_384", "SHA_512"].flatMap((h) => [`RSASSA_PSS_${h}`, `RSASSA_PKCS1_V1_5_${h}`]);
}

/** Go crypto.Hash numbers the SDK's KeyStore takes, and digest sizes, per KMS algorithm hash. */
const hashOf: Record<string, { wire: number; size: number }> = {
  SHA_256: { wire: 5, size: 32 },
  SHA_384: { wire: 6, size: 48 },
  SHA_512: { wire: 7, size: 64 },
};

export class FakeKms {
  readonly keys = new Map<string, FakeKey>();
  readonly aliases = new Map<string, FakeAlias>();
  readonly calls: Call[] = [];
  readonly region: string;
  readonly accountId: string;
  callerArn: string;
  now: () => Date;
  private readonly maxPage: number;
  private readonly injected = new Map<string, InjectedError[]>();
  private readonly pool = new Map<KeySpec, Promise<KeyPair>[]>();
  private server: Server | undefined;
  private address = "";

  private constructor(options: FakeKmsOptions) {
    this.region = options.region ?? "us-east-2";
    this.accountId = options.accountId ?? "111122223333";
    this.now = options.now ?? (() => new Date());
    this.callerArn = options.callerArn ?? `arn:aws:sts::${this.accountId}:assumed-role/spire-server/i-0123456789abcdef0`;
    this.maxPage = options.maxPage ?? 1000;
    for (const [spec, count] of Object.entries(options.pregenerate ?? {}) as Array<[KeySpec, number]>) {
      const pairs = Array.from({ length: count }, () => keyPairOf(spec));
      for (const p of pairs) p.catch(() => {});
      this.pool.set(spec, pairs);
    }
  }

  /** Starts the endpoint on a loopback port. */
  static async start(options: FakeKmsOptions = {}): Promise<FakeKms> {
    const kms = new FakeKms(options);
    const server = createServer((req, res) => void kms.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    kms.server = server;
    kms.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Some AWS-managed aliases exist in every account; clients must skip them.
    const managed = await kms.createKeyDirect({ keySpec: "ECC_NIST_P256", description: "Default key that protects my EBS volumes" });
    kms.createAliasDirect("alias/aws/ebs", managed.keyId);
    return kms;
  }

  /** Base URL for AWS_ENDPOINT_URL (or the client's `endpoint`). */
  get url(): string {
    return this.address;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `times` calls of `operation` (e.g. "Sign") answer `error` instead. */
  failNext(operation: string, error: InjectedError): void {
    const list = this.injected.get(operation) ?? [];
    for (let i = 0; i < (error.times ?? 1); i++) list.push(error);
    this.injected.set(operation, list);
  }

  /** How many times `operation` was called (failed attempts included). */
  count(operation: string): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  /** Creates a key as CreateKey would, without a request (keys other servers left behind). */
  async createKeyDirect(options: { keySpec: KeySpec; description?: string; tags?: Record<string, string>; policy?: string; creationDate?: Date }): Promise<FakeKey> {
    const { keySpec } = options;
    const { privateKey, publicKey } = await (this.pool.get(keySpec)?.shift() ?? keyPairOf(keySpec));
    const keyId = randomUUID();
    const signer = new KeyStore();
    signer.set(keyEntryFromPrivateKey("k", privateKey));
    const key: FakeKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`,
      keySpec,
      description: options.description ?? "",
      policy: options.policy,
      creationDate: options.creationDate ?? this.now(),
      keyState: "Enabled",
      tags: new Map(Object.entries(options.tags ?? {})),
      publicKey: publicKey.export({ type: "spki", format: "der" }),
      signer,
    };
    this.keys.set(keyId, key);
    return key;
  }

  /** Points an alias at a key, without a request; `lastUpdatedDate` lets a test age it. */
  createAliasDirect(aliasName: string, keyId: string, lastUpdatedDate: Date = this.now()): FakeAlias {
    const alias = { aliasName, targetKeyId: keyId, creationDate: lastUpdatedDate, lastUpdatedDate };
    this.aliases.set(aliasName, alias);
    return alias;
  }

  /** The key an id, key ARN, alias name or alias ARN names, as KMS resolves a KeyId. */
  resolve(keyId: string): FakeKey | undefined {
    let id = keyId;
    const aliasArnPrefix = `arn:aws:kms:${this.region}:${this.accountId}:`;
    if (id.startsWith(aliasArnPrefix)) id = id.slice(aliasArnPrefix.length);
    if (id.startsWith("alias/")) {
      const alias = this.aliases.get(id);
      return alias ? this.keys.get(alias.targetKeyId) : undefined;
    }
    if (id.startsWith("key/")) id = id.slice(4);
    return this.keys.get(id);
  }

  aliasArn(aliasName: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${aliasName}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (isCallerIdentityRequest(req, body)) {
      this.calls.push({ operation: "GetCallerIdentity", input: {} });
      const problem = this.authorizationProblem(req, "sts");
      if (problem) return sendXmlError(res, problem);
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(callerIdentityResponse(this.callerArn, this.accountId));
      return;
    }
    const target = req.headers["x-amz-target"];
    const operation = typeof target === "string" && target.startsWith("TrentService.") ? target.slice("TrentService.".length) : "";
    let input: Record<string, unknown> = {};
    try {
      input = body.length ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
    } catch {
      return sendError(res, new KmsError("SerializationException", "request body is not JSON"));
    }
    this.calls.push({ operation, input });
    try {
      if (req.method !== "POST") throw new KmsError("UnknownOperationException", `method ${req.method ?? ""} is not POST`);
      if (req.headers["content-type"] !== "application/x-amz-json-1.1") {
        throw new KmsError("UnknownOperationException", `content type ${req.headers["content-type"] ?? "(none)"} is not application/x-amz-json-1.1`);
      }
      const problem = this.authorizationProblem(req, "kms");
      if (problem) throw new KmsError("UnrecognizedClientException", problem);
      const injected = this.injected.get(operation)?.shift();
      if (injected) throw new KmsError(injected.type, injected.message ?? `${injected.type} (injected)`, injected.status ?? 400);
      const output = await this.operate(operation, input);
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
      res.end(JSON.stringify(output));
    } catch (e) {
      sendError(res, e instanceof KmsError ? e : new KmsError("KMSInternalException", (e as Error).message, 500));
    }
  }

  /** Checks the SigV4 Authorization header names this region and the service; the signature itself is not recomputed. */
  private authorizationProblem(req: IncomingMessage, service: string): string | undefined {
    const auth = req.headers.authorization ?? "";
    const scope = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    if (!scope) return "The security token included in the request is invalid (no SigV4 Authorization header).";
    if (scope[3] !== this.region) return `Credential should be scoped to a valid region, not '${scope[3]}'.`;
    if (scope[4] !== service) return `Credential should be scoped to correct service: '${service}'.`;
    return undefined;
  }

  private async operate(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    switch (operation) {
      case "CreateKey":
        return this.createKey(input);
      case "DescribeKey":
        return { KeyMetadata: this.metadata(this.requireKey(input)) };
      case "GetPublicKey":
        return this.getPublicKey(input);
      case "Sign":
        return this.sign(input);
      case "CreateAlias":
        return this.createAlias(input);
      case "UpdateAlias":
        return this.updateAlias(input);
      case "DeleteAlias":
        return this.deleteAlias(input);
      case "ListAliases":
        return this.listAliases(input);
      case "ListKeys":
        return this.listKeys(input);
      case "ScheduleKeyDeletion":
        return this.scheduleKeyDeletion(input);
      case "TagResource":
        return this.tagResource(input);
      default:
        throw new KmsError("UnknownOperationException", `unknown operation ${JSON.stringify(operation)}`);
    }
  }

  private async createKey(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const keySpec = stringOf(input, "KeySpec") ?? "SYMMETRIC_DEFAULT";
    if (!(keySpec in signingAlgorithms)) throw new KmsError("UnsupportedOperationException", `KeySpec ${keySpec} is not supported by this fake`);
    if (stringOf(input, "KeyUsage") !== "SIGN_VERIFY") throw new KmsError("ValidationException", `KeyUsage must be SIGN_VERIFY for ${keySpec}`);
    const policy = stringOf(input, "Policy");
    if (policy !== undefined) {
      try {
        JSON.parse(policy);
      } catch {
        throw new KmsError("MalformedPolicyDocumentException", "The key policy is not valid JSON");
      }
    }
    const tags: Record<string, string> = {};
    for (const tag of arrayOf(input, "Tags")) {
      const { TagKey, TagValue } = tag as { TagKey?: unknown; TagValue?: unknown };
      if (typeof TagKey !== "string" || typeof TagValue !== "string") throw new KmsError("TagException", "a tag needs TagKey and TagValue");
      tags[TagKey] = TagValue;
    }
    const key = await this.createKeyDirect({ keySpec: keySpec as KeySpec, description: stringOf(input, "Description") ?? "", tags, ...(policy === undefined ? {} : { policy }) });
    return { KeyMetadata: this.metadata(key) };
  }

  private getPublicKey(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.requireUsableKey(input);
    return {
      KeyId: key.arn,
      PublicKey: key.publicKey.toString("base64"),
      KeySpec: key.keySpec,
      CustomerMasterKeySpec: key.keySpec,
      KeyUsage: "SIGN_VERIFY",
      SigningAlgorithms: signingAlgorithms[key.keySpec],
    };
  }

  private sign(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.requireUsableKey(input);
    const algorithm = stringOf(input, "SigningAlgorithm") ?? "";
    if (!signingAlgorithms[key.keySpec].includes(algorithm)) {
      throw new KmsError("InvalidKeyUsageException", `You cannot sign with ${algorithm} using a key with KeySpec ${key.keySpec}.`);
    }
    if (stringOf(input, "MessageType") !== "DIGEST") throw new KmsError("ValidationException", "this fake signs digests only (MessageType DIGEST)");
    const message = Buffer.from(stringOf(input, "Message") ?? "", "base64");
    const hash = hashOf[/SHA_(256|384|512)$/.exec(algorithm)![0]]!;
    if (message.length !== hash.size) throw new KmsError("ValidationException", `Digest is invalid length for algorithm ${algorithm}.`);
    const opts = algorithm.startsWith("RSASSA_PSS")
      ? ({ kind: "pss", hashAlgorithm: hash.wire, saltLength: -1 } as const)
      : ({ kind: "hash", hashAlgorithm: hash.wire } as const);
    const { signature } = key.signer.signData("k", message, opts);
    return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: algorithm };
  }

  private createAlias(input: Record<string, unknown>): Record<string, unknown> {
    const aliasName = this.validAliasName(input);
    if (this.aliases.has(aliasName)) throw new KmsError("AlreadyExistsException", `An alias with the name ${this.aliasArn(aliasName)} already exists`);
    const key = this.requireTarget(input);
    this.createAliasDirect(aliasName, key.keyId);
    return {};
  }

  private updateAlias(input: Record<string, unknown>): Record<string, unknown> {
    const aliasName = this.validAliasName(input);
    const alias = this.aliases.get(aliasName);
    if (!alias) throw new KmsError("NotFoundException", `Alias ${this.aliasArn(aliasName)} is not found.`);
    const key = this.requireTarget(input);
    alias.targetKeyId = key.keyId;
    alias.lastUpdatedDate = this.now();
    return {};
  }

  private deleteAlias(input: Record<string, unknown>): Record<string, unknown> {
    const aliasName = stringOf(input, "AliasName") ?? "";
    if (!this.aliases.delete(aliasName)) throw new KmsError("NotFoundException", `Alias ${this.aliasArn(aliasName)} is not found.`);
    return {};
  }

  private listAliases(input: Record<string, unknown>): Record<string, unknown> {
    const keyFilter = stringOf(input, "KeyId");
    const key = keyFilter === undefined ? undefined : this.requireKey(input);
    const all = [...this.aliases.values()]
      .filter((a) => !key || a.targetKeyId === key.keyId)
      .sort((a, b) => (a.aliasName < b.aliasName ? -1 : 1))
      .map((a) => ({
        AliasName: a.aliasName,
        AliasArn: this.aliasArn(a.aliasName),
        TargetKeyId: a.targetKeyId,
        CreationDate: epoch(a.creationDate),
        LastUpdatedDate: epoch(a.lastUpdatedDate),
      }));
    return this.page(all, input, 100, "Aliases");
  }

  private listKeys(input: Record<string, unknown>): Record<string, unknown> {
    const all = [...this.keys.values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn }));
    return this.page(all, input, 1000, "Keys");
  }

  private scheduleKeyDeletion(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.requireKey(input);
    const days = numberOf(input, "PendingWindowInDays") ?? 30;
    if (days < 7 || days > 30) throw new KmsError("ValidationException", "PendingWindowInDays must be between 7 and 30");
    if (key.keyState === "PendingDeletion") throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    key.keyState = "PendingDeletion";
    key.deletionDate = new Date(this.now().getTime() + days * 24 * 3600 * 1000);
    return { KeyId: key.arn, DeletionDate: epoch(key.deletionDate), KeyState: key.keyState, PendingWindowInDays: days };
  }

  private tagResource(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.requireKey(input);
    if (key.keyState === "PendingDeletion") throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    for (const tag of arrayOf(input, "Tags")) {
      const { TagKey, TagValue } = tag as { TagKey?: unknown; TagValue?: unknown };
      if (typeof TagKey !== "string" || typeof TagValue !== "string") throw new KmsError("TagException", "a tag needs TagKey and TagValue");
      key.tags.set(TagKey, TagValue);
    }
    return {};
  }

  /** One page of `all` after Marker, at most Limit (capped by `cap` and the fake's maxPage) long. */
  private page<T>(all: readonly T[], input: Record<string, unknown>, cap: number, field: string): Record<string, unknown> {
    const limit = numberOf(input, "Limit") ?? cap;
    if (limit < 1 || limit > cap) throw new KmsError("ValidationException", `Limit must be between 1 and ${cap}`);
    const marker = stringOf(input, "Marker");
    const start = marker === undefined ? 0 : Number.parseInt(Buffer.from(marker, "base64url").toString("utf8"), 10);
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw new KmsError("InvalidMarkerException", "The marker is invalid");
    const size = Math.min(limit, this.maxPage);
    const items = all.slice(start, start + size);
    const next = start + items.length;
    const truncated = next < all.length;
    return { [field]: items, Truncated: truncated, ...(truncated ? { NextMarker: Buffer.from(String(next)).toString("base64url") } : {}) };
  }

  private metadata(key: FakeKey): Record<string, unknown> {
    return {
      AWSAccountId: this.accountId,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: epoch(key.creationDate),
      Enabled: key.keyState === "Enabled",
      Description: key.description,
      KeyUsage: "SIGN_VERIFY",
      KeyState: key.keyState,
      ...(key.deletionDate ? { DeletionDate: epoch(key.deletionDate) } : {}),
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      SigningAlgorithms: signingAlgorithms[key.keySpec],
      MultiRegion: false,
    };
  }

  private requireKey(input: Record<string, unknown>, field = "KeyId"): FakeKey {
    const id = stringOf(input, field);
    if (!id) throw new KmsError("ValidationException", `1 validation error detected: Value null at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
    if (id.startsWith("arn:") && !id.startsWith(`arn:aws:kms:${this.region}:${this.accountId}:`)) throw new KmsError("InvalidArnException", `Invalid arn ${id}`);
    const key = this.resolve(id);
    if (!key) throw new KmsError("NotFoundException", id.includes("alias/") ? `Alias ${id} is not found.` : `Key '${id}' does not exist`);
    return key;
  }

  private requireUsableKey(input: Record<string, unknown>): FakeKey {
    const key = this.requireKey(input);
    if (key.keyState === "Disabled") throw new KmsError("DisabledException", `${key.arn} is disabled.`);
    if (key.keyState === "PendingDeletion") throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    return key;
  }

  private requireTarget(input: Record<string, unknown>): FakeKey {
    const key = this.requireKey(input, "TargetKeyId");
    if (key.keyState === "PendingDeletion") throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    return key;
  }

  private validAliasName(input: Record<string, unknown>): string {
    const aliasName = stringOf(input, "AliasName") ?? "";
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(aliasName) || aliasName.length > 256) {
      throw new KmsError("ValidationException", `1 validation error detected: Value '${aliasName}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`);
    }
    if (aliasName.startsWith("alias/aws/")) throw new KmsError("NotFoundException", "Cannot create, update or delete an alias starting with alias/aws/");
    return aliasName;
  }
}

type KeyPair = { privateKey: KeyObject; publicKey: KeyObject };

function keyPairOf(keySpec: KeySpec): Promise<KeyPair> {
  return keySpec === "ECC_NIST_P256" || keySpec === "ECC_NIST_P384"
    ? generate("ec", { namedCurve: keySpec === "ECC_NIST_P256" ? "P-256" : "P-384" })
    : generate("rsa", { modulusLength: keySpec === "RSA_2048" ? 2048 : 4096 });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendError(res: ServerResponse, e: KmsError): void {
  res.writeHead(e.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": e.type, "x-amzn-requestid": randomUUID() });
  res.end(JSON.stringify({ __type: e.type, message: e.message }));
}

function sendXmlError(res: ServerResponse, message: string): void {
  res.writeHead(403, { "content-type": "text/xml" });
  res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
}

function epoch(d: Date): number {
  return d.getTime() / 1000;
}

function stringOf(input: Record<string, unknown>, field: string): string | undefined {
  const v = input[field];
  return typeof v === "string" ? v : undefined;
}

function numberOf(input: Record<string, unknown>, field: string): number | undefined {
  const v = input[field];
  return typeof v === "number" ? v : undefined;
}

function arrayOf(input: Record<string, unknown>, field: string): unknown[] {
  const v = input[field];
  return Array.isArray(v) ? v : [];
}
