/**
 * Where the Workload API lives: an explicit address or SPIFFE_ENDPOINT_SOCKET, checked with
 * go-spiffe's rules and messages (workloadapi/addr_posix.go), turned into a grpc-js target.
 */
import { isIP } from "node:net";

/** The environment variable holding the default Workload API address. */
export const socketEnv = "SPIFFE_ENDPOINT_SOCKET";

export class WorkloadApiAddressError extends Error {
  override readonly name = "WorkloadApiAddressError";
}

/**
 * The grpc-js target for `address`, or for SPIFFE_ENDPOINT_SOCKET when no address is given:
 * `unix:///abs/path` stays a unix target (percent-escapes decoded), `tcp://IP:port` becomes
 * `ipv4:IP:port` / `ipv6:[IP]:port`. Throws WorkloadApiAddressError.
 */
export function workloadApiTarget(address?: string, env: NodeJS.ProcessEnv = process.env): string {
  const addr = address ?? env[socketEnv];
  if (addr === undefined) throw new WorkloadApiAddressError("workload endpoint socket address is not configured");
  return targetFromAddress(addr);
}

/** go-spiffe's ValidateAddress: throws WorkloadApiAddressError when `address` is not usable. */
export function validateWorkloadApiAddress(address: string): void {
  targetFromAddress(address);
}

function targetFromAddress(addr: string): string {
  const u = parseUrl(addr);
  switch (u.scheme) {
    case "unix":
      if (u.opaque !== "") fail("workload endpoint unix socket URI must not be opaque");
      if (u.user !== undefined) fail("workload endpoint unix socket URI must not include user info");
      if (u.host === "" && u.path === "") fail("workload endpoint unix socket URI must include a path");
      if (u.rawQuery !== "") fail("workload endpoint unix socket URI must not include query values");
      if (u.fragment !== "") fail("workload endpoint unix socket URI must not include a fragment");
      // go-spiffe lets "unix://host/path" through and grpc-go then refuses the authority at
      // dial time; we refuse it here, with grpc-go's reason.
      if (u.host !== "") fail(`workload endpoint unix socket URI must not include a host: invalid (non-empty) authority: ${u.host}`);
      return `unix://${u.path}`;
    case "tcp": {
      if (u.opaque !== "") fail("workload endpoint tcp socket URI must not be opaque");
      if (u.user !== undefined) fail("workload endpoint tcp socket URI must not include user info");
      if (u.host === "") fail("workload endpoint tcp socket URI must include a host");
      if (u.path !== "") fail("workload endpoint tcp socket URI must not include a path");
      if (u.rawQuery !== "") fail("workload endpoint tcp socket URI must not include query values");
      if (u.fragment !== "") fail("workload endpoint tcp socket URI must not include a fragment");
      const { hostname, port } = splitHostPort(u.host);
      const family = isIP(hostname);
      if (family === 0) fail("workload endpoint tcp socket URI host component must be an IP:port");
      if (port === "") fail("workload endpoint tcp socket URI host component must include a port");
      return family === 4 ? `ipv4:${hostname}:${port}` : `ipv6:[${hostname}]:${port}`;
    }
    default:
      return fail("workload endpoint socket URI must have a tcp:// or unix:// scheme");
  }
}

function fail(message: string): never {
  throw new WorkloadApiAddressError(message);
}

interface GoUrl {
  scheme: string;
  opaque: string;
  user: string | undefined;
  host: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

/** The parts of Go's net/url.Parse that the address rules look at, with its errors. */
function parseUrl(raw: string): GoUrl {
  const bad = (reason: string): never => fail(`workload endpoint socket is not a valid URI: parse ${JSON.stringify(raw)}: ${reason}`);
  if (/[\x00-\x1f\x7f]/.test(raw)) bad("net/url: invalid control character in URL");
  const hash = raw.indexOf("#");
  const fragment = hash < 0 ? "" : unescape(raw.slice(hash + 1), bad);
  let rest = hash < 0 ? raw : raw.slice(0, hash);

  let scheme = "";
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = (m[1] as string).toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (rest.startsWith(":")) bad("missing protocol scheme");

  let rawQuery = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const url: GoUrl = { scheme, opaque: "", user: undefined, host: "", path: "", rawQuery, fragment };
  if (!rest.startsWith("/")) {
    if (scheme !== "") {
      url.opaque = rest;
      return url;
    }
    const slash = rest.indexOf("/");
    if (rest.slice(0, slash < 0 ? undefined : slash).includes(":")) bad("first path segment in URL cannot contain colon");
  }
  if (scheme !== "" && rest.startsWith("//")) {
    const end = rest.indexOf("/", 2);
    const authority = end < 0 ? rest.slice(2) : rest.slice(2, end);
    rest = end < 0 ? "" : rest.slice(end);
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      url.user = authority.slice(0, at);
      if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:%]*$/.test(url.user)) bad("net/url: invalid userinfo");
    }
    url.host = parseHost(authority.slice(at + 1), bad);
  }
  url.path = unescape(rest, bad);
  return url;
}

function parseHost(host: string, bad: (reason: string) => never): string {
  let colonPort = "";
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) bad("missing ']' in host");
    colonPort = host.slice(close + 1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) colonPort = host.slice(colon);
  }
  if (colonPort !== "" && !/^:[0-9]*$/.test(colonPort)) bad(`invalid port ${JSON.stringify(colonPort)} after host`);
  const hostPart = host.slice(0, host.length - colonPort.length);
  const invalid = /[^A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%]/.exec(hostPart);
  if (invalid) bad(`invalid character ${JSON.stringify(invalid[0])} in host name`);
  return unescape(hostPart, bad) + colonPort;
}

function splitHostPort(host: string): { hostname: string; port: string } {
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    return { hostname: host.slice(1, close), port: host.slice(close + 2) };
  }
  const colon = host.lastIndexOf(":");
  return colon < 0 ? { hostname: host, port: "" } : { hostname: host.slice(0, colon), port: host.slice(colon + 1) };
}

/** Percent-decoding that fails like Go's on a malformed escape. */
function unescape(s: string, bad: (reason: string) => never): string {
  const badEscape = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(s);
  if (badEscape) bad(`invalid URL escape ${JSON.stringify(`%${badEscape[1] ?? ""}`)}`);
  if (!s.includes("%")) return s;
  return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
}
