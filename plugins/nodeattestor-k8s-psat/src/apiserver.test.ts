import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { describe as describeError, isTransient, loadKubeConfig } from "./apiserver.js";

const dir = mkdtempSync(join(tmpdir(), "k8s-psat-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
afterEach(() => {
  for (const [k, v] of [["KUBERNETES_SERVICE_HOST", saved.host], ["KUBERNETES_SERVICE_PORT", saved.port]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("API server client configuration", () => {
  it("needs the in-cluster environment when no kubeconfig file is set, as client-go does", async () => {
    delete process.env.KUBERNETES_SERVICE_HOST;
    await expect(loadKubeConfig("")).rejects.toThrow("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
    process.env.KUBERNETES_SERVICE_HOST = "10.96.0.1";
    process.env.KUBERNETES_SERVICE_PORT = "443";
    expect((await loadKubeConfig("")).getCurrentCluster()?.server).toBe("https://10.96.0.1:443");
  });

  it("reads a kubeconfig file, resolving its relative paths beside it", async () => {
    const path = join(dir, "kubeconfig");
    writeFileSync(path, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://api.example:6443\n    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n");
    const kc = await loadKubeConfig(path);
    expect(kc.getCurrentCluster()?.server).toBe("https://api.example:6443");
    expect(kc.getCurrentCluster()?.caFile).toBe(join(dir, "ca.crt"));
  });

  it("refuses kubeconfig files that are missing, not YAML, or have no current cluster", async () => {
    await expect(loadKubeConfig(join(dir, "none"))).rejects.toThrow(`open ${join(dir, "none")}: no such file or directory`);
    const bad = join(dir, "bad");
    writeFileSync(bad, "clusters: [unclosed");
    await expect(loadKubeConfig(bad)).rejects.toThrow(`error loading config file "${bad}"`);
    const empty = join(dir, "empty");
    writeFileSync(empty, "apiVersion: v1\nkind: Config\n");
    await expect(loadKubeConfig(empty)).rejects.toThrow(/^invalid configuration: no cluster for the current context/);
  });
});

describe("API errors", () => {
  it("retries only what a busy or restarting API server, or a lost connection, causes", () => {
    for (const code of [429, 500, 502, 503, 504]) expect(isTransient(new ApiException(code, "", "", {}))).toBe(true);
    for (const code of [400, 401, 403, 404, 409, 422]) expect(isTransient(new ApiException(code, "", "", {}))).toBe(false);
    expect(isTransient(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("bad cert"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }))).toBe(false);
    expect(isTransient(new Error("plain"))).toBe(false);
  });

  it("words an API error with the Status message the server sent, as client-go does", () => {
    const status = JSON.stringify({ kind: "Status", status: "Failure", message: 'pods "a" not found', reason: "NotFound", code: 404 });
    expect(describeError(new ApiException(404, "Unknown API Status Code!", status, {}))).toBe('pods "a" not found');
    expect(describeError(new ApiException(401, "Unauthorized", undefined, {}))).toBe("Unauthorized");
    expect(describeError(new ApiException(502, "Unknown API Status Code!", "<html>bad gateway</html>", {}))).toBe("the server responded with HTTP status 502");
  });
});
