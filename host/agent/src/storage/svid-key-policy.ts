/**
 * What the configured KeyManager means for the agent's own SVID key.
 *
 * SPIRE keeps that key inside the KeyManager ("agent-svid-A"/"-B") and signs
 * TLS handshakes through it. Node's TLS stack signs handshakes itself, so
 * signet-agent holds the key in its own process whatever the KeyManager; the
 * KeyManager's name only says whether the key may be written to data_dir:
 *
 *   disk     kept in data_dir (PKCS#8, mode 0600), so a restart reuses the SVID
 *   memory   never written; a restart attests again (SPIRE's memory KeyManager)
 *   other    treated as memory, with a warning: a KeyManager such as a TPM or
 *            cloud-KMS one is started but never holds the key, and its user
 *            must hear that rather than assume the key is where they put it.
 */
export interface SvidKeyPolicy {
  /** Whether the agent SVID key is written to data_dir. */
  readonly persist: boolean;
  /** Set when the configured KeyManager will not hold the key; to be logged at start. */
  readonly warning?: string;
}

export function svidKeyPolicy(keyManagerName: string): SvidKeyPolicy {
  if (keyManagerName === "disk") return { persist: true };
  if (keyManagerName === "memory") return { persist: false };
  return {
    persist: false,
    warning:
      `KeyManager "${keyManagerName}" does not hold the agent SVID key: Node's TLS stack signs handshakes in the agent process, ` +
      `so the key is generated and kept there and never written to disk (as with "memory"; a restart attests again)`,
  };
}
