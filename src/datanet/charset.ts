/**
 * Bytes → text in a named charset, refusing rather than guessing. UTF-8 is decoded strictly (a `fatal` TextDecoder):
 * a byte sequence that is not UTF-8 is an error, never a silent U+FFFD that would then be hashed and deduplicated as if
 * it were the contributor's text (two different Latin-1 rows `caf\xE9`, `caf\xE8` would otherwise both become
 * `caf\uFFFD` and merge). Legacy charsets (windows-1252, ISO-8859-*, KOI8, Shift_JIS, …) go through `iconv-lite`, which
 * implements each table exactly (WHATWG's TextDecoder maps the label `latin1` to windows-1252).
 */
import iconv from 'iconv-lite';
import { ProvenantError } from '../core/index.js';

const UTF8 = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True when `charset` names UTF-8. */
export const isUtf8Label = (charset: string | undefined): boolean => charset === undefined || UTF8.has(charset.trim().toLowerCase());

/**
 * True when this library can decode `charset`: UTF-8, anything iconv-lite knows (windows-1252, ISO-8859-*, KOI8-R,
 * Shift_JIS, …), or anything the runtime's `TextDecoder` knows. Labels are matched case-insensitively.
 *
 * @example
 * ```ts
 * import { charsetSupported } from 'provenant/datanet';
 *
 * charsetSupported('windows-1252'); // true
 * charsetSupported('x-unknown');    // false
 * ```
 */
export function charsetSupported(charset: string): boolean {
  if (isUtf8Label(charset) || iconv.encodingExists(charset)) return true;
  try {
    new TextDecoder(charset);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes `bytes` in `charset` (default UTF-8). UTF-8 is strict: invalid or truncated sequences throw
 * `DATANET_ENCODING_INVALID` with `data.byteOffset` of the first bad byte. An unknown charset label throws the same code.
 * A leading byte-order mark is kept (callers that want it gone strip it, so that they can say they did).
 *
 * @example
 * ```ts
 * import { decodeCharset } from 'provenant/datanet';
 * decodeCharset(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), 'latin1'); // 'café'
 * decodeCharset(new Uint8Array([0x63, 0x61, 0x66, 0xe9])); // throws DATANET_ENCODING_INVALID (byteOffset 3)
 * ```
 */
export function decodeCharset(bytes: Uint8Array, charset?: string): string {
  if (isUtf8Label(charset)) {
    try {
      return strictUtf8.decode(bytes);
    } catch (cause) {
      const byteOffset = firstInvalidUtf8(bytes);
      throw new ProvenantError('DATANET_ENCODING_INVALID', `Bytes are not valid UTF-8 (first bad byte at offset ${byteOffset}).`, {
        cause,
        data: { byteOffset, charset: 'utf-8' },
        details: 'Pass the real encoding (e.g. { encoding: "latin1" } or "windows-1252") if the source is not UTF-8.',
      });
    }
  }
  const label = charset!.trim().toLowerCase();
  if (iconv.encodingExists(label)) return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), label, { stripBOM: false });
  try {
    return new TextDecoder(label, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    const known = charsetSupported(label);
    throw new ProvenantError('DATANET_ENCODING_INVALID', known ? `Bytes are not valid ${label}.` : `Unknown charset "${charset}".`, {
      cause,
      data: { charset },
    });
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) (need = 1), (min = 0x80);
    else if (b >= 0xe0 && b <= 0xef) (need = 2), (min = 0x800);
    else if (b >= 0xf0 && b <= 0xf4) (need = 3), (min = 0x10000);
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
