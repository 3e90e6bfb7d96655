/**
 * CryptoKeyVersions waiting to be scheduled for destruction, first in first
 * out, bounded as SPIRE's channel is (120): a full queue refuses, and the
 * caller logs it rather than blocking a GenerateKey.
 */
export const destroyQueueCapacity = 120;

export class DestroyQueue {
  private readonly items: string[] = [];
  private waiter: (() => void) | undefined;

  constructor(readonly capacity = destroyQueueCapacity) {}

  get size(): number {
    return this.items.length;
  }

  /** Adds `name`; false when the queue is full. */
  offer(name: string): boolean {
    if (this.items.length >= this.capacity) return false;
    this.items.push(name);
    this.waiter?.();
    return true;
  }

  /** The next name, waiting for one; undefined once `signal` aborts. */
  async take(signal: AbortSignal): Promise<string | undefined> {
    while (this.items.length === 0) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiter = undefined;
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.waiter = wake;
        signal.addEventListener("abort", wake, { once: true });
      });
    }
    if (signal.aborted) return undefined;
    return this.items.shift();
  }
}
