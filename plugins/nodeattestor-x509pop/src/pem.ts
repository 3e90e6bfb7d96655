/**
 * PEM blocks as Go's encoding/pem finds them: "-----BEGIN <type>-----", optional headers, a
 * base64 body and the matching END line; text between blocks and malformed blocks are skipped.
 */

export interface PemBlock {
  readonly type: string;
  readonly bytes: Buffer;
  /** The block's full text, BEGIN to END. */
  readonly text: string;
}

const blockPattern = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function pemBlocks(input: Buffer | string): PemBlock[] {
  const text = typeof input === "string" ? input : input.toString("latin1");
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(blockPattern)) {
    let body = m[2]!;
    const headerEnd = /^([^\r\n]*:[^\r\n]*\r?\n)+\r?\n/.exec(body);
    if (headerEnd) body = body.slice(headerEnd[0].length);
    const compact = body.replace(/[\r\n\t ]/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) continue;
    blocks.push({ type: m[1]!, bytes: Buffer.from(compact, "base64"), text: m[0] });
  }
  return blocks;
}
