import { describe, expect, it } from "vitest";
import { socketEnv, validateWorkloadApiAddress, workloadApiTarget, WorkloadApiAddressError } from "./address.js";

describe("Workload API address (go-spiffe's rules)", () => {
  it.each([
    ["unix:///tmp/agent.sock", "unix:///tmp/agent.sock"],
    ["UNIX:///run/spire/api.sock", "unix:///run/spire/api.sock"],
    ["unix:///tmp/a%20b.sock", "unix:///tmp/a b.sock"],
    ["tcp://127.0.0.1:8000", "ipv4:127.0.0.1:8000"],
    ["tcp://[::1]:8000", "ipv6:[::1]:8000"],
  ])("accepts %s → %s", (address, target) => {
    expect(workloadApiTarget(address, {})).toBe(target);
  });

  it.each([
    ["", "workload endpoint socket URI must have a tcp:// or unix:// scheme"],
    ["/tmp/agent.sock", "workload endpoint socket URI must have a tcp:// or unix:// scheme"],
    ["http://127.0.0.1:80", "workload endpoint socket URI must have a tcp:// or unix:// scheme"],
    ["unix:tmp/agent.sock", "workload endpoint unix socket URI must not be opaque"],
    ["unix://user@/tmp/a.sock", "workload endpoint unix socket URI must not include user info"],
    ["unix://", "workload endpoint unix socket URI must include a path"],
    ["unix:///tmp/a.sock?x=1", "workload endpoint unix socket URI must not include query values"],
    ["unix:///tmp/a.sock#frag", "workload endpoint unix socket URI must not include a fragment"],
    ["unix://host/tmp/a.sock", "workload endpoint unix socket URI must not include a host: invalid (non-empty) authority: host"],
    ["tcp:127.0.0.1:80", "workload endpoint tcp socket URI must not be opaque"],
    ["tcp://u:p@127.0.0.1:80", "workload endpoint tcp socket URI must not include user info"],
    ["tcp:///path", "workload endpoint tcp socket URI must include a host"],
    ["tcp://127.0.0.1:80/path", "workload endpoint tcp socket URI must not include a path"],
    ["tcp://127.0.0.1:80?x=1", "workload endpoint tcp socket URI must not include query values"],
    ["tcp://127.0.0.1:80#f", "workload endpoint tcp socket URI must not include a fragment"],
    ["tcp://localhost:80", "workload endpoint tcp socket URI host component must be an IP:port"],
    ["tcp://127.0.0.1", "workload endpoint tcp socket URI host component must include a port"],
    ["tcp://127.0.0.1:", "workload endpoint tcp socket URI host component must include a port"],
    ["tcp://127.0.0.1:abc", 'workload endpoint socket is not a valid URI: parse "tcp://127.0.0.1:abc": invalid port ":abc" after host'],
    ["unix:///tmp/%zz", 'workload endpoint socket is not a valid URI: parse "unix:///tmp/%zz": invalid URL escape "%zz"'],
    ["unix:///tmp/\nx", 'workload endpoint socket is not a valid URI: parse "unix:///tmp/\\nx": net/url: invalid control character in URL'],
    [":foo", 'workload endpoint socket is not a valid URI: parse ":foo": missing protocol scheme'],
  ])("rejects %j", (address, message) => {
    expect(() => validateWorkloadApiAddress(address)).toThrow(new WorkloadApiAddressError(message));
  });

  it("falls back to SPIFFE_ENDPOINT_SOCKET, and says so when neither is set", () => {
    expect(workloadApiTarget(undefined, { [socketEnv]: "unix:///env.sock" })).toBe("unix:///env.sock");
    expect(workloadApiTarget("unix:///explicit.sock", { [socketEnv]: "unix:///env.sock" })).toBe("unix:///explicit.sock");
    expect(() => workloadApiTarget(undefined, {})).toThrow("workload endpoint socket address is not configured");
  });
});
