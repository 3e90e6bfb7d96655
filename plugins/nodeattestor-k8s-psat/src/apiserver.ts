/**
 * The three Kubernetes API calls of k8s_psat (SPIRE's pkg/common/plugin/k8s/apiserver), made with
 * @kubernetes/client-node: create a TokenReview, get a pod, get a node. The configuration is the
 * cluster's kubeconfig file, read again for every call as SPIRE does (so rotated credentials are
 * picked up; the clients are rebuilt only when its text changed), or the in-cluster configuration
 * when no file is set. Every call runs under the caller's signal with retries (retry.ts).
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  ApiException,
  AuthenticationV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import { type RetryPolicy, defaultRetryPolicy, withRetries } from "./retry.js";
import type { TokenReviewStatus } from "./token-review.js";

export interface PodInfo {
  readonly uid: string;
  readonly nodeName: string;
  readonly hostIP: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodeInfo {
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One cluster's API server, as the attestor uses it. Errors carry SPIRE's wording. */
export interface KubernetesClient {
  validateToken(token: string, audiences: readonly string[], signal: AbortSignal): Promise<TokenReviewStatus>;
  getPod(namespace: string, podName: string, signal: AbortSignal): Promise<PodInfo>;
  getNode(nodeName: string, signal: AbortSignal): Promise<NodeInfo>;
}

interface Apis {
  readonly core: CoreV1Api;
  readonly auth: AuthenticationV1Api;
}

/** Environment of a pod, as Go's rest.InClusterConfig reads it. */
const inClusterEnv = ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"] as const;

/** The configuration a cluster's client uses; throws with Go's wording when it cannot be had. */
export async function loadKubeConfig(kubeConfigFile: string): Promise<KubeConfig> {
  const kc = new KubeConfig();
  if (kubeConfigFile === "") {
    if (inClusterEnv.some((k) => !process.env[k])) {
      throw new Error("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
    }
    kc.loadFromCluster();
    return kc;
  }
  const text = await readFile(kubeConfigFile, "utf8").catch((e: unknown) => {
    throw new Error(goFileError(kubeConfigFile, e));
  });
  return kubeConfigFromText(text, kubeConfigFile);
}

function kubeConfigFromText(text: string, file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new Error(`error loading config file "${file}": ${(e as Error).message}`);
  }
  kc.makePathsAbsolute(dirname(file));
  if (!kc.getCurrentCluster()) throw new Error(`invalid configuration: no cluster for the current context ${JSON.stringify(kc.getCurrentContext() ?? "")} in "${file}"`);
  return kc;
}

export function kubernetesClient(kubeConfigFile: string, policy: RetryPolicy = defaultRetryPolicy): KubernetesClient {
  let cached: { text: string; apis: Apis } | undefined;

  /** SPIRE reloads the configuration for every call; so do we, rebuilding clients only on change. */
  async function apis(): Promise<Apis> {
    try {
      if (kubeConfigFile === "") {
        if (!cached) cached = { text: "", apis: makeApis(await loadKubeConfig("")) };
        return cached.apis;
      }
      const text = await readFile(kubeConfigFile, "utf8").catch((e: unknown) => {
        throw new Error(goFileError(kubeConfigFile, e));
      });
      if (cached?.text !== text) cached = { text, apis: makeApis(kubeConfigFromText(text, kubeConfigFile)) };
      return cached.apis;
    } catch (e) {
      throw new Error(`unable to get clientset: unable to create client config: ${(e as Error).message}`);
    }
  }

  const call = <T>(what: string, signal: AbortSignal, op: (apis: Apis, options: ConfigurationOptions) => Promise<T>) =>
    apis().then((a) =>
      withRetries((attempt) => op(a, withSignal(attempt)), { signal, policy, isTransient }).catch((e: unknown) => {
        throw new Error(`unable to query ${what} API: ${describe(e)}`);
      }),
    );

  return {
    async validateToken(token, audiences, signal) {
      const review = await call("token review", signal, ({ auth }, options) =>
        auth.createTokenReview(
          { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, ...(audiences.length ? { audiences: [...audiences] } : {}) } } },
          options,
        ),
      );
      const status = review.status;
      return {
        authenticated: status?.authenticated ?? false,
        error: status?.error ?? "",
        username: status?.user?.username ?? "",
        extra: status?.user?.extra ?? {},
        audiences: status?.audiences ?? [],
      };
    },
    async getPod(namespace, podName, signal) {
      if (namespace === "") throw new Error("empty namespace");
      if (podName === "") throw new Error("empty pod name");
      const pod = await call("pods", signal, ({ core }, options) => core.readNamespacedPod({ namespace, name: podName }, options));
      return {
        uid: pod.metadata?.uid ?? "",
        nodeName: pod.spec?.nodeName ?? "",
        hostIP: pod.status?.hostIP ?? "",
        labels: pod.metadata?.labels ?? {},
      };
    },
    async getNode(nodeName, signal) {
      if (nodeName === "") throw new Error("empty node name");
      const node = await call("nodes", signal, ({ core }, options) => core.readNode({ name: nodeName }, options));
      return { uid: node.metadata?.uid ?? "", labels: node.metadata?.labels ?? {} };
    },
  };
}

function makeApis(kc: KubeConfig): Apis {
  return { core: kc.makeApiClient(CoreV1Api), auth: kc.makeApiClient(AuthenticationV1Api) };
}

/** Per-request options that tie the HTTP request to `signal`. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal as Parameters<RequestContext["setSignal"]>[0]);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/** Worth another attempt: the API server overloaded or restarting, or the connection lost. */
const transientStatuses = new Set([429, 500, 502, 503, 504]);
const transientErrnos = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

export function isTransient(e: unknown): boolean {
  if (e instanceof ApiException) return transientStatuses.has(e.code);
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && transientErrnos.has(code);
}

/** An API error as client-go words it: the Status message the server sent, else the HTTP status. */
export function describe(e: unknown): string {
  if (e instanceof ApiException) {
    const body = e.body as unknown;
    if (typeof body === "string") {
      try {
        const status = JSON.parse(body) as { message?: unknown };
        if (typeof status.message === "string" && status.message !== "") return status.message;
      } catch {
        // not a Status document
      }
    }
    return e.code === 401 ? "Unauthorized" : e.code === 403 ? "Forbidden" : `the server responded with HTTP status ${e.code}`;
  }
  return e instanceof Error ? e.message : String(e);
}

function goFileError(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
  return `${code === "EISDIR" ? "read" : "open"} ${path}: ${reason}`;
}
