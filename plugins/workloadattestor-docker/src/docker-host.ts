/**
 * Docker host addresses as the Docker client takes them
 * (`unix:///var/run/docker.sock`, `tcp://10.0.0.1:2375`): the value of
 * `docker_socket_path`, `podman_socket_path` and the expanded
 * `podman_socket_path_template`. Plain HTTP only, as SPIRE's client is
 * configured (no TLS options exist for this plugin).
 */
export type DockerHost =
  | { readonly kind: "unix"; readonly url: string; readonly socketPath: string }
  | { readonly kind: "tcp"; readonly url: string; readonly hostname: string; readonly port: number; readonly basePath: string };

export class DockerHostError extends Error {}

export function parseDockerHost(url: string): DockerHost {
  const separator = url.indexOf("://");
  const proto = separator < 0 ? "" : url.slice(0, separator);
  const address = separator < 0 ? "" : url.slice(separator + 3);
  if (separator < 0 || address === "") throw new DockerHostError(`unable to parse docker host \`${url}\``);
  if (proto === "unix") return { kind: "unix", url, socketPath: address };
  if (proto === "tcp" || proto === "http") {
    let parsed: URL;
    try {
      parsed = new URL(`http://${address}`);
    } catch {
      throw new DockerHostError(`unable to parse docker host \`${url}\``);
    }
    const basePath = parsed.pathname === "/" ? "" : parsed.pathname.replace(/\/$/, "");
    return { kind: "tcp", url, hostname: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 80), basePath };
  }
  throw new DockerHostError(`docker host \`${url}\`: protocol "${proto}" is not supported (use unix:// or tcp://)`);
}
