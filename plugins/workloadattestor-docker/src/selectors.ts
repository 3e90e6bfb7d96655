/**
 * Selector values from a container, in SPIRE's words (the host puts
 * "docker:" in front):
 *
 *   label:<key>:<value>          each container label (SPIRE's order is Go map order; ours is sorted by key)
 *   env:<NAME=value>             each entry of Config.Env, as Docker lists it
 *   image_id:<Config.Image>      the image as the container was created from it ("envoyproxy/envoy:v1.29.1")
 *   image_config_digest:<Id>     the image's content-addressed ID from image inspect ("sha256:…")
 */
import type { ContainerConfig } from "./docker-client.js";

export function configSelectorValues(config: ContainerConfig): string[] {
  const values: string[] = [];
  const labels = [...config.labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of labels) values.push(`label:${key}:${value}`);
  for (const entry of config.env) values.push(`env:${entry}`);
  if (config.image !== "") values.push(`image_id:${config.image}`);
  return values;
}

export function imageConfigDigestValue(imageId: string): string {
  return `image_config_digest:${imageId}`;
}
