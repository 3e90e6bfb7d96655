/**
 * A JSON string as Go's encoding/json writes it (json.Marshal with its default HTML escaping):
 * JSON.stringify's escapes, plus \u003c, \u003e, \u0026 for <, >, & and \u2028, \u2029 for the
 * JavaScript line terminators. Plugins that send a payload SPIRE's agent would send byte for byte
 * (aws_iid, k8s_psat) build it with this.
 *
 * A lone surrogate (a JavaScript string that is not valid UTF-16) comes out escaped as \udXXX, as
 * JSON.stringify writes it; Go's decoder reads that as U+FFFD, which is what Go's encoder writes
 * for text that is not valid UTF-8, so a Go reader sees the same string either way.
 */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
