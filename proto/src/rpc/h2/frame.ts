/**
 * gRPC's length-prefixed messages on an HTTP/2 stream: one flag byte
 * (compressed or not), a 32-bit big-endian length, then the message bytes.
 * A message may arrive split over DATA frames, and one chunk may hold the
 * end of one message and the start of the next.
 */

/** The five-byte prefix, then the message: one buffer, ready to write. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Why a stream's bytes are not gRPC messages we can read; `tooLarge` when only the size limit was broken. */
export class FrameError extends Error {
  override readonly name = "FrameError";

  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/**
 * Cuts a stream's DATA into messages. Compressed messages are refused: we
 * never offer an encoding (no `grpc-accept-encoding`), so a peer that sends
 * one is not speaking to us.
 */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the message begun in `pending` needs in all (prefix included), once its prefix is in. */
  private needed = 0;

  constructor(private readonly maxMessageBytes = Number.POSITIVE_INFINITY) {}

  /** The messages completed by `chunk`, in order (often none or one). */
  push(chunk: Buffer): Buffer[] {
    if (this.pendingBytes > 0) {
      // Gather until the message begun earlier is whole; joining on every chunk would copy a big message over and over.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.needed === 0 && this.pendingBytes >= 5) this.needed = 5 + this.checkedLength(Buffer.concat(this.pending, 5), 0);
      if (this.needed === 0 || this.pendingBytes < this.needed) return [];
      chunk = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = 0;
    }
    const out: Buffer[] = [];
    let at = 0;
    while (chunk.length - at >= 5) {
      const length = this.checkedLength(chunk, at);
      if (chunk.length - at - 5 < length) {
        this.needed = 5 + length;
        break;
      }
      // A copy only when the chunk holds more than this message: a slice would pin the whole chunk.
      out.push(at === 0 && length + 5 === chunk.length ? chunk.subarray(5) : Buffer.from(chunk.subarray(at + 5, at + 5 + length)));
      at += 5 + length;
    }
    if (at < chunk.length) {
      this.pending.push(at === 0 ? chunk : chunk.subarray(at));
      this.pendingBytes = chunk.length - at;
    }
    return out;
  }

  /** Bytes of a message begun but not finished: a stream that ends here was cut short. */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  /** The length in the prefix at `at`, after checking the flag and the limit. */
  private checkedLength(buf: Buffer, at: number): number {
    const flag = buf[at];
    if (flag !== 0) throw new FrameError(flag === 1 ? "received a compressed message, but no compression was negotiated" : `invalid message flag ${flag}`);
    const length = buf.readUInt32BE(at + 1);
    // Checked from the prefix, before any of the body is kept.
    if (length > this.maxMessageBytes) throw new FrameError(`Received message larger than max (${length} vs. ${this.maxMessageBytes})`, true);
    return length;
  }
}
