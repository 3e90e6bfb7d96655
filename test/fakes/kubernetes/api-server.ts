/**
 * Stands for a Kubernetes API server (kube-apiserver) over HTTPS, for the three calls SPIRE's
 * k8s_psat attestor makes, with the real request and response JSON:
 *
 *   POST /apis/authentication.k8s.io/v1/tokenreviews   TokenReview in, TokenReview with status out (201)
 *   GET  /api/v1/namespaces/{ns}/pods/{name}           Pod (200) or a Status NotFound (404)
 *   GET  /api/v1/nodes/{name}                          Node (200) or a Status NotFound (404)
 *
 * Clients authenticate with a bearer token (401 Status otherwise). TLS uses a self-signed CA that
 * `writeKubeconfig` puts into a kubeconfig file, as `kubectl config view --raw` would show it.
 * The TokenReview does real token checking: it issues RS256 service account tokens with its own
 * key (`issueToken`) and verifies signature, expiry and audiences as the API server does
 * (service-account-tokens.ts), then, like the real one, checks that the pod the token is bound
 * to still exists with the same UID (turn off with `checkBoundObjects: false` to stand for the
 * moment between a TokenReview and a pod's replacement). A refused token is `authenticated:
 * false` with `status.error`; a token of another issuer is `authenticated: false` alone.
 *
 * `failNext` injects what a busy or flaky API server does (503/429/500 answers, reset
 * connections, hangs) to exercise a client's retries and deadlines.
 */
import { type KeyObject, generateKeyPairSync, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse } from "node:http";
import { type Server, createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import {
  SpiffeId,
  issuerFromCertificate,
  keyObjectSigner,
  mintCertificateSync,
  spkiOf,
  x509SvidTemplate,
} from "@signet/spiffe";
import { newKey, pem, selfSignedCa } from "../ca-files.js";
import { type BoundPod, issueToken, publicKeyOf, verifyToken } from "./service-account-tokens.js";

export const defaultIssuer = "https://kubernetes.default.svc.cluster.local";

export interface FakeKubernetesOptions {
  /** The service account token issuer (--service-account-issuer). */
  readonly issuer?: string;
  /** --api-audiences: used when a TokenReview names none; default [issuer]. */
  readonly apiAudiences?: readonly string[];
  /** Check that a token's bound pod exists with its UID (the real API server does); default true. */
  readonly checkBoundObjects?: boolean;
  /**
   * Check audiences and report those a token was validated for in status.audiences (every real
   * API server since 1.13 does; a webhook authenticator that is not audience-aware does
   * neither); default true.
   */
  readonly audienceAware?: boolean;
}

export interface FakePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly serviceAccount: string;
  readonly hostIP: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface FakeNode {
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

export type Fault = { readonly status: 429 | 500 | 502 | 503 | 504 } | "reset" | "hang";

export interface TokenOptions {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The pod the token is bound to (its current UID unless `podUid` says otherwise). */
  readonly podName?: string;
  readonly podUid?: string;
  readonly audiences?: readonly string[];
  readonly expirationSeconds?: number;
  /** Seconds since the epoch. */
  readonly issuedAt?: number;
  /** Sign with this key instead of the cluster's (a forgery). */
  readonly signingKey?: KeyObject;
  readonly issuer?: string;
}

export class FakeKubernetes {
  readonly requests: RecordedRequest[] = [];
  /** The bearer token clients must present. */
  readonly clientToken = `fake-admin-${randomUUID()}`;
  private readonly pods = new Map<string, FakePod>();
  private readonly nodes = new Map<string, FakeNode>();
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly saUids = new Map<string, string>();
  private readonly signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  private readonly keyId = randomUUID();
  readonly issuer: string;
  private readonly apiAudiences: readonly string[];

  private constructor(
    private readonly server: Server,
    readonly caPem: string,
    private readonly options: FakeKubernetesOptions,
  ) {
    this.issuer = options.issuer ?? defaultIssuer;
    this.apiAudiences = options.apiAudiences ?? [this.issuer];
  }

  static async start(options: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
    const caKey = newKey();
    const ca = selfSignedCa(caKey, { trustDomain: "kubernetes.test" });
    const serverKey = newKey();
    const cert = mintCertificateSync(
      x509SvidTemplate({ spiffeId: SpiffeId.parse("spiffe://kubernetes.test/kube-apiserver"), issuer: issuerFromCertificate(ca), spki: spkiOf(serverKey), dnsNames: ["kubernetes.default.svc", "localhost"] }),
      keyObjectSigner(caKey),
    );
    const server = createServer({ key: serverKey.export({ type: "pkcs8", format: "pem" }), cert: pem("CERTIFICATE", cert) });
    const fake = new FakeKubernetes(server, pem("CERTIFICATE", ca), options);
    server.on("connection", (s: Socket) => {
      fake.sockets.add(s);
      s.on("close", () => fake.sockets.delete(s));
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig for this server (CA inline, bearer token, TLS server name "localhost"). */
  writeKubeconfig(path: string, options: { token?: string } = {}): string {
    const text = `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${this.url}
    tls-server-name: localhost
    certificate-authority-data: ${Buffer.from(this.caPem).toString("base64")}
users:
- name: spire-server
  user:
    token: ${options.token ?? this.clientToken}
contexts:
- name: fake
  context:
    cluster: fake
    user: spire-server
current-context: fake
`;
    writeFileSync(path, text);
    return path;
  }

  addNode(node: { name: string; uid?: string; labels?: Record<string, string> }): FakeNode {
    const n: FakeNode = { name: node.name, uid: node.uid ?? randomUUID(), labels: node.labels ?? {} };
    this.nodes.set(n.name, n);
    return n;
  }

  addPod(pod: { namespace: string; name: string; uid?: string; nodeName: string; serviceAccount: string; hostIP?: string; labels?: Record<string, string> }): FakePod {
    const p: FakePod = { ...pod, uid: pod.uid ?? randomUUID(), hostIP: pod.hostIP ?? "10.0.0.1", labels: pod.labels ?? {} };
    this.pods.set(`${p.namespace}/${p.name}`, p);
    return p;
  }

  pod(namespace: string, name: string): FakePod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  /** A projected service account token, as kubelet gets it from the TokenRequest API. */
  issueToken(opts: TokenOptions): string {
    const pod = opts.podName !== undefined ? this.pod(opts.namespace, opts.podName) : undefined;
    const node = pod ? this.nodes.get(pod.nodeName) : undefined;
    const bound: BoundPod | undefined = opts.podName !== undefined ? { name: opts.podName, uid: opts.podUid ?? pod?.uid ?? randomUUID() } : undefined;
    const saKey = `${opts.namespace}/${opts.serviceAccount}`;
    if (!this.saUids.has(saKey)) this.saUids.set(saKey, randomUUID());
    return issueToken(opts.signingKey ?? this.signingKey, this.keyId, {
      issuer: opts.issuer ?? this.issuer,
      namespace: opts.namespace,
      serviceAccount: opts.serviceAccount,
      serviceAccountUid: this.saUids.get(saKey)!,
      audiences: opts.audiences ?? ["spire-server"],
      ...(bound ? { pod: bound } : {}),
      ...(node ? { node: { name: node.name, uid: node.uid } } : {}),
      ...(opts.expirationSeconds !== undefined ? { expirationSeconds: opts.expirationSeconds } : {}),
      ...(opts.issuedAt !== undefined ? { issuedAt: opts.issuedAt } : {}),
    });
  }

  /** The next `count` requests meet `fault` instead of an answer. */
  failNext(count: number, fault: Fault): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0]!;
    this.requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization, body });

    const fault = this.faults.shift();
    if (fault === "reset") return void req.socket.destroy();
    if (fault === "hang") return; // never answered; the client's deadline must end it
    if (fault) return this.status(res, fault.status, fault.status === 429 ? "TooManyRequests" : "InternalError", "the server is currently unable to handle the request");

    if (req.headers.authorization !== `Bearer ${this.clientToken}`) return this.status(res, 401, "Unauthorized", "Unauthorized");
    let m: RegExpExecArray | null;
    if (req.method === "POST" && path === "/apis/authentication.k8s.io/v1/tokenreviews") return this.tokenReview(res, body);
    if (req.method === "GET" && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path))) {
      const pod = this.pod(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      if (!pod) return this.status(res, 404, "NotFound", `pods "${decodeURIComponent(m[2]!)}" not found`, { name: decodeURIComponent(m[2]!), kind: "pods" });
      return this.json(res, 200, podJson(pod));
    }
    if (req.method === "GET" && (m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path))) {
      const node = this.nodes.get(decodeURIComponent(m[1]!));
      if (!node) return this.status(res, 404, "NotFound", `nodes "${decodeURIComponent(m[1]!)}" not found`, { name: decodeURIComponent(m[1]!), kind: "nodes" });
      return this.json(res, 200, nodeJson(node));
    }
    return this.status(res, 404, "NotFound", "the server could not find the requested resource");
  }

  private tokenReview(res: ServerResponse, body: string): void {
    let review: { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } };
    try {
      review = JSON.parse(body) as typeof review;
    } catch (e) {
      return this.status(res, 400, "BadRequest", `error decoding request body: ${(e as Error).message}`);
    }
    const spec = review.spec ?? {};
    if (!spec.token) return this.status(res, 422, "Invalid", 'TokenReview.authentication.k8s.io "" is invalid: spec.token: Required value');
    const wanted = spec.audiences?.length ? spec.audiences : this.apiAudiences;
    const verdict = verifyToken(spec.token, { issuer: this.issuer, publicKeys: [publicKeyOf(this.signingKey)], audiences: wanted, checkAudiences: this.options.audienceAware !== false });
    const out = { kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", metadata: { creationTimestamp: null }, spec: { token: spec.token, ...(spec.audiences ? { audiences: spec.audiences } : {}) } };
    if (verdict.kind === "not-handled") return this.json(res, 201, { ...out, status: { user: {} } });
    if (verdict.kind === "error") return this.json(res, 201, { ...out, status: { user: {}, error: verdict.message } });
    const k8s = verdict.claims["kubernetes.io"];
    if (this.options.checkBoundObjects !== false && k8s.pod) {
      const pod = this.pod(k8s.namespace, k8s.pod.name);
      const problem = !pod ? `pods "${k8s.pod.name}" not found` : pod.uid !== k8s.pod.uid ? `pod UID (${pod.uid}) does not match claim (${k8s.pod.uid})` : undefined;
      if (problem) return this.json(res, 201, { ...out, status: { user: {}, error: `service account token has been invalidated: ${problem}` } });
    }
    const extra: Record<string, string[]> = { "authentication.kubernetes.io/credential-id": [`JTI=${verdict.claims.jti}`] };
    if (k8s.node) {
      extra["authentication.kubernetes.io/node-name"] = [k8s.node.name];
      extra["authentication.kubernetes.io/node-uid"] = [k8s.node.uid];
    }
    if (k8s.pod) {
      extra["authentication.kubernetes.io/pod-name"] = [k8s.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [k8s.pod.uid];
    }
    this.json(res, 201, {
      ...out,
      status: {
        authenticated: true,
        user: {
          username: verdict.claims.sub,
          uid: k8s.serviceaccount.uid,
          groups: ["system:serviceaccounts", `system:serviceaccounts:${k8s.namespace}`, "system:authenticated"],
          extra,
        },
        ...(this.options.audienceAware === false ? {} : { audiences: verdict.audiences }),
      },
    });
  }

  private json(res: ServerResponse, code: number, value: unknown): void {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, string>): void {
    this.json(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code });
  }
}

function podJson(p: FakePod): unknown {
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name: p.name, namespace: p.namespace, uid: p.uid, labels: p.labels, creationTimestamp: "2024-01-01T00:00:00Z" },
    spec: { nodeName: p.nodeName, serviceAccountName: p.serviceAccount, containers: [{ name: "spire-agent", image: "ghcr.io/spiffe/spire-agent:1.15.3" }] },
    status: { phase: "Running", hostIP: p.hostIP, hostIPs: [{ ip: p.hostIP }], podIP: "10.244.0.7" },
  };
}

function nodeJson(n: FakeNode): unknown {
  return {
    kind: "Node",
    apiVersion: "v1",
    metadata: { name: n.name, uid: n.uid, labels: n.labels, creationTimestamp: "2024-01-01T00:00:00Z" },
    spec: {},
    status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }] },
  };
}
