import { describe, expect, it } from "vitest";
import { type TokenReviewStatus, checkAudiences, podNameOf, podUidOf, serviceAccountOf } from "./token-review.js";

const status = (s: Partial<TokenReviewStatus>): TokenReviewStatus => ({ authenticated: true, error: "", username: "", extra: {}, audiences: [], ...s });

describe("TokenReview status", () => {
  it("reads the namespace and service account of a service account username", () => {
    expect(serviceAccountOf("system:serviceaccount:spire:spire-agent")).toEqual({ namespace: "spire", serviceAccount: "spire-agent" });
  });

  it("refuses usernames that are not service accounts, with SPIRE's messages", () => {
    const cases: [string, string][] = [
      ["", "empty username"],
      ["system:serviceaccount:spire", "unexpected username format: system:serviceaccount:spire"],
      ["system:serviceaccount:spire:agent:extra", "unexpected username format: system:serviceaccount:spire:agent:extra"],
      ["system:serviceaccount::agent", "missing namespace"],
      ["system:serviceaccount:spire:", "missing service account name"],
      // SPIRE would read "a:b:spire:agent" as spire:agent; a user of another authenticator is no service account.
      ["oidc:alice:spire:spire-agent", "unexpected username format: oidc:alice:spire:spire-agent"],
      ["system:node:spire:spire-agent", "unexpected username format: system:node:spire:spire-agent"],
    ];
    for (const [username, message] of cases) expect(() => serviceAccountOf(username)).toThrow(message);
  });

  it("reads exactly one pod name and UID from the extra fields", () => {
    const s = status({ extra: { "authentication.kubernetes.io/pod-name": ["agent-1"], "authentication.kubernetes.io/pod-uid": ["u-1"] } });
    expect(podNameOf(s)).toBe("agent-1");
    expect(podUidOf(s)).toBe("u-1");
    expect(() => podNameOf(status({}))).toThrow("missing pod name");
    expect(() => podUidOf(status({}))).toThrow("missing pod UID");
    expect(() => podNameOf(status({ extra: { "authentication.kubernetes.io/pod-name": ["a", "b"] } }))).toThrow("expected 1 name but got: 2");
    expect(() => podUidOf(status({ extra: { "authentication.kubernetes.io/pod-uid": [] } }))).toThrow("expected 1 UID but got: 0");
    expect(() => podNameOf(status({ extra: { "authentication.kubernetes.io/pod-name": [""] } }))).toThrow("pod name is empty");
    expect(() => podUidOf(status({ extra: { "authentication.kubernetes.io/pod-uid": [""] } }))).toThrow("pod UID is empty");
  });

  it("needs one of the requested audiences in an authenticated review", () => {
    expect(() => checkAudiences(["spire-server"], status({ audiences: ["spire-server", "x"] }))).not.toThrow();
    expect(() => checkAudiences(["a", "b"], status({ audiences: ["b"] }))).not.toThrow();
    expect(() => checkAudiences(["spire-server"], status({ audiences: ["vault"] }))).toThrow('token review API did not validate audience: wanted one of ["spire-server"] but got ["vault"]');
    expect(() => checkAudiences(["spire-server"], status({ audiences: [] }))).toThrow('wanted one of ["spire-server"] but got []');
    // No audiences asked for (the API server's own apply), or not authenticated: nothing to compare.
    expect(() => checkAudiences([], status({ audiences: ["anything"] }))).not.toThrow();
    expect(() => checkAudiences(["spire-server"], status({ authenticated: false }))).not.toThrow();
  });
});
