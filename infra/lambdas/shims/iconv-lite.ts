/**
 * Stands in for `iconv-lite` in the Lambda bundles (esbuild alias, infra/lib/functions.ts). mysql2
 * decodes and encodes with Node's own Buffer for every encoding Node knows (utf8, latin1, ascii,
 * ucs2, …: mysql2 lib/parsers/string.js) and asks iconv-lite only for the others: 480 KiB of code pages
 * (cp1251, gbk, sjis, …) and CESU-8, which mysql2 uses for the server version in every handshake
 * (lib/packets/handshake.js) and for utf8mb3 columns. The catalog connects with `charset: 'utf8mb4'`
 * (tools/src/catalog/connect.ts), so the server sends text columns as utf8mb4 and binary ones as
 * `binary`, both Buffer encodings. This file decodes CESU-8 itself and refuses any other encoding by
 * name instead of decoding it wrongly.
 */
import { StringDecoder } from 'node:string_decoder';

type Coder<In, Out> = { write(input: In): Out; end(): Out | undefined };

function refuse(encoding: string): never {
  throw new Error(
    `the ${encoding} character set needs iconv-lite, which the Lambda bundles leave out ` +
      "(the catalog reads with charset utf8mb4); run this database's discovery with the offload CLI",
  );
}

const isCesu8 = (encoding: string) => encoding.toLowerCase().replace(/[^a-z0-9]/g, '') === 'cesu8';

/**
 * CESU-8: UTF-8 whose supplementary characters are two 3-byte surrogates. Without a 0xED lead byte there
 * are no surrogates and it is plain UTF-8; otherwise each 1–3-byte sequence is one UTF-16 code unit.
 * Whole buffers only: mysql2 writes each value once, then ends.
 */
function decodeCesu8(b: Buffer): string {
  if (!b.includes(0xed)) return b.toString('utf8');
  const units: number[] = [];
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      units.push(c);
      i += 1;
    } else if (c >= 0xc0 && c < 0xe0 && i + 1 < b.length) {
      units.push(((c & 0x1f) << 6) | (b[i + 1]! & 0x3f));
      i += 2;
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) {
      units.push(((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f));
      i += 3;
    } else {
      units.push(0xfffd);
      i += 1;
    }
  }
  let out = '';
  for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
  return out;
}

function encodeCesu8(s: string): Buffer {
  if (!/[\uD800-\uDFFF]/.test(s)) return Buffer.from(s, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(bytes);
}

export function getDecoder(encoding: string): Coder<Buffer, string> {
  if (isCesu8(encoding)) return { write: decodeCesu8, end: () => undefined };
  if (!Buffer.isEncoding(encoding)) refuse(encoding);
  const decoder = new StringDecoder(encoding);
  return { write: (b) => decoder.write(b), end: () => decoder.end() || undefined };
}

export function getEncoder(encoding: string): Coder<string, Buffer> {
  if (isCesu8(encoding)) return { write: encodeCesu8, end: () => undefined };
  if (!Buffer.isEncoding(encoding)) refuse(encoding);
  return { write: (s) => Buffer.from(s, encoding), end: () => undefined };
}
