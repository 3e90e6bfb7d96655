/**
 * PEM blocks as Go's encoding/pem finds them: text outside blocks is
 * skipped, each block's base64 body is decoded strictly. Headers
 * (Proc-Type, …) are not supported: an encrypted key is refused.
 */
export interface PemBlock {
  readonly type: string;
  readonly der: Buffer;
}

const block = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every block in `text`, in order; throws on a body that is not base64 or carries headers. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(block)) {
    const type = m[1]!;
    const body = m[2]!;
    if (body.includes(":")) throw new Error(`PEM block ${out.length + 1} (${JSON.stringify(type)}) has headers; encrypted keys are not supported`);
    const b64 = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new Error(`PEM block ${out.length + 1} (${JSON.stringify(type)}) is not valid base64`);
    }
    out.push({ type, der: Buffer.from(b64, "base64") });
  }
  return out;
}
