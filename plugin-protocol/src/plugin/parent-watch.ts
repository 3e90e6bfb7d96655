/**
 * A plugin must not outlive its host, even after `kill -9` of the host. SPIRE
 * sets a parent-death signal; Node cannot, so we also notice being re-parented
 * (our parent PID changes when the host dies) and stop.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
