/**
 * The https_web profile's certificate from files (SPIRE's DiskCertManager):
 * PEM certificate chain and key, loaded at start (a failure stops the
 * server), then checked every file_sync_interval and reloaded when either
 * file's modification time changed. A reload that fails keeps the old pair.
 */
import { stat, readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import type { Logger } from "@signet/host-common";
import type { Clock } from "../ca/clock.js";
import type { ServingCertFile } from "./config.js";

export interface ServingIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export class ServingCertFiles {
  private identity?: ServingIdentity;
  private certModified = 0;
  private keyModified = 0;
  private readonly stopping = new AbortController();
  private watching?: Promise<void>;

  constructor(
    private readonly files: ServingCertFile,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Loads the pair; throws "failed to load certificate: …". */
  async load(): Promise<void> {
    try {
      const [cert, key] = await Promise.all([stat(this.files.certFilePath), stat(this.files.keyFilePath)]);
      this.identity = await this.read();
      this.certModified = cert.mtimeMs;
      this.keyModified = key.mtimeMs;
    } catch (err) {
      throw new Error(`failed to load certificate: ${(err as Error).message}`);
    }
  }

  current(): ServingIdentity {
    if (!this.identity) throw new Error("serving certificate not loaded");
    return this.identity;
  }

  /** Starts the file watch loop. */
  watch(): void {
    this.watching ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.watching;
  }

  /** One check of the files (the loop's body; tests call it directly). */
  async sync(): Promise<void> {
    let certModified: number;
    let keyModified: number;
    try {
      [certModified, keyModified] = await Promise.all([
        stat(this.files.certFilePath).then((s) => s.mtimeMs),
        stat(this.files.keyFilePath).then((s) => s.mtimeMs),
      ]);
    } catch (err) {
      this.log.error("Failed to get file info", { error: (err as Error).message });
      return;
    }
    if (certModified === this.certModified && keyModified === this.keyModified) return;
    this.log.info("File change detected, reloading certificate and key...");
    try {
      this.identity = await this.read();
      this.certModified = certModified;
      this.keyModified = keyModified;
      this.log.info("Loaded provided certificate with success");
    } catch (err) {
      this.log.error("Failed to load certificate", { error: (err as Error).message });
    }
  }

  private async loop(): Promise<void> {
    this.log.info("Started watching certificate files", { interval_ms: this.files.fileSyncIntervalMs });
    const stop = this.stopping.signal;
    for (;;) {
      await this.clock.sleep(this.files.fileSyncIntervalMs, stop);
      if (stop.aborted) break;
      await this.sync();
    }
    this.log.info("Stopping file watcher");
  }

  private async read(): Promise<ServingIdentity> {
    const [certPem, keyPem] = await Promise.all([readFile(this.files.certFilePath, "utf8"), readFile(this.files.keyFilePath, "utf8")]);
    // Throws when the files hold no certificate, no key, or a key that is not the certificate's.
    createSecureContext({ cert: certPem, key: keyPem });
    return { certPem, keyPem };
  }
}
