/**
 * E-mail → readable text, through `postal-mime` (a maintained RFC 5322 / MIME parser): RFC 2047 encoded words (adjacent
 * words joined *before* decoding, so a UTF-8 character split across two words survives), multipart bodies,
 * quoted-printable and base64 parts in their declared charset, `message/rfc822` parts. We only add what the corpus needs
 * around it: the mbox "From " line is dropped, a header block of raw 8-bit bytes that is not UTF-8 is read as
 * windows-1252 (what mail clients do with legacy unlabelled headers; decoded by iconv-lite), and HTML-only messages are
 * reduced to text.
 *
 * Give it the message's bytes: decoding a Latin-1 file as UTF-8 before parsing destroys every accented letter.
 */
import iconv from 'iconv-lite';
import PostalMime, { decodeWords } from 'postal-mime';
import { decodeCharset, firstInvalidUtf8 } from './charset.js';

/**
 * The labels WHATWG maps to windows-1252 (`latin1`, `iso-8859-1`, `us-ascii`, …). Node 20's TextDecoder, which
 * postal-mime uses, decodes these as ISO-8859-1, so bytes 0x80–0x9F (curly quotes, €, dashes) come out as C1 control
 * characters. We map those code points through iconv-lite's windows-1252 table — exactly what a conforming decoder
 * returns, and a no-op on a runtime that is already right.
 */
const WINDOWS_1252_LABEL = String.raw`(?:ansi_x3\.4-1968|ascii|cp1252|cp819|csisolatin1|ibm819|iso-8859-1|iso-ir-100|iso8859-1|iso88591|iso_8859-1(?::1987)?|l1|latin1|us-ascii|windows-1252|x-cp1252)`;
const CHARSET_1252 = new RegExp(String.raw`charset\s*=\s*["']?${WINDOWS_1252_LABEL}["';\s]`, 'i');
const WORD_1252 = new RegExp(String.raw`=\?${WINDOWS_1252_LABEL}(?:\*[^?]*)?\?`, 'i');
const C1_AS_1252 = new Map<string, string>();
for (let b = 0x80; b <= 0x9f; b++) {
  const mapped = iconv.decode(Buffer.from([b]), 'windows-1252');
  if (mapped !== '\uFFFD') C1_AS_1252.set(String.fromCharCode(b), mapped);
}
const repairWindows1252 = (text: string): string => text.replace(/[\u0080-\u009f]/g, (c) => C1_AS_1252.get(c) ?? c);

export interface ParsedEmail {
  /** Unfolded headers, names as written, values with encoded words decoded. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** The raw header block (after the mbox "From " line), unchanged except for line endings. */
  readonly rawHeaders: string;
  readonly subject: string;
  /** The readable body: decoded text parts joined by blank lines (HTML stripped when there is no plain part). */
  readonly body: string;
}

/** Decodes bytes in a charset (UTF-8 strict, legacy charsets by iconv-lite); throws `DATANET_ENCODING_INVALID`. */
export const decodeBytes = (bytes: Uint8Array, charset: string | undefined): string => decodeCharset(bytes, charset ?? 'utf-8');

/**
 * Quoted-printable (RFC 2045 §6.7): soft breaks `=\n` vanish, `=XX` runs are bytes decoded in the part's charset
 * (default UTF-8, strict).
 *
 * @throws ProvenantError `DATANET_ENCODING_INVALID` when a run of bytes is not valid in `charset`, or the charset is
 *   unknown.
 * @example
 * ```ts
 * import { decodeQuotedPrintable } from 'provenant/datanet';
 *
 * decodeQuotedPrintable('caf=C3=A9 au=\nlait');      // 'café aulait'
 * decodeQuotedPrintable('caf=E9', 'iso-8859-1');      // 'café'
 * ```
 */
export function decodeQuotedPrintable(text: string, charset?: string): string {
  return text.replace(/=[ \t]*\r?\n/g, '').replace(/(?:=[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(3 * i + 1, 3 * i + 3), 16);
    return decodeBytes(bytes, charset);
  });
}

/**
 * RFC 2047 encoded words in a header value (postal-mime's decoder): adjacent words are joined before decoding, as the
 * RFC requires, so a UTF-8 character split across two words survives.
 *
 * @example
 * ```ts
 * import { decodeEncodedWords } from 'provenant/datanet';
 *
 * decodeEncodedWords('=?UTF-8?B?Q2Fmw6k=?= offer'); // 'Café offer'
 * ```
 */
export const decodeEncodedWords = (value: string): string => decodeWords(value);

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®', middot: '·' };

/**
 * Crude but predictable HTML-to-text for HTML-only e-mails: drops scripts, styles, `<head>` and comments, turns block
 * tags into line breaks and other tags into spaces, and decodes numeric and common named entities. Whitespace is left
 * as it falls (the e-mail parser tidies it afterwards).
 *
 * @example
 * ```ts
 * import { htmlToText } from 'provenant/datanet';
 *
 * htmlToText('<p>Win&nbsp;<b>$1000</b></p><script>track()</script>'); // '\nWin  $1000   '
 * ```
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return Object.hasOwn(ENTITIES, e.toLowerCase()) ? ENTITIES[e.toLowerCase()]! : m;
    });
}

/** Tidies decoded text: no trailing spaces, at most one blank line in a row, no leading/trailing blank lines. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Index just past the header block's terminating blank line (CRLF or LF), or -1. */
function headerEnd(bytes: Uint8Array): { end: number; bodyStart: number } {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return { end: i, bodyStart: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { end: i, bodyStart: i + 3 };
  }
  return { end: -1, bodyStart: -1 };
}

/**
 * Parses a raw e-mail (with or without a leading mbox "From " line). Pass bytes when you have them; a string is taken
 * as already-decoded text (its UTF-8 encoding is parsed).
 *
 * @example
 * ```ts
 * import { parseEmail } from 'provenant/datanet';
 * (await parseEmail('Subject: =?UTF-8?Q?Caf=C3?=\n =?UTF-8?Q?=A9_au_lait?=\n\nHello')).subject; // 'Café au lait'
 * ```
 */
export async function parseEmail(raw: string | Uint8Array): Promise<ParsedEmail> {
  let bytes: Uint8Array = typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'utf8')) : raw;
  if (bytes.length >= 5 && Buffer.from(bytes.subarray(0, 5)).toString('latin1') === 'From ') {
    const nl = bytes.indexOf(0x0a);
    bytes = nl < 0 ? new Uint8Array(0) : bytes.subarray(nl + 1);
  }
  let { end } = headerEnd(bytes);
  const looksLikeHeaders = /^[\w-]+:/.test(Buffer.from(bytes.subarray(0, 200)).toString('latin1'));
  if (end < 0 && looksLikeHeaders) end = bytes.length;
  let headerBytes = end < 0 ? new Uint8Array(0) : bytes.subarray(0, end);
  if (firstInvalidUtf8(headerBytes) >= 0) {
    // Raw 8-bit header bytes are not UTF-8: read them as windows-1252 (the legacy default) and hand UTF-8 to the parser.
    const fixed = Buffer.from(decodeCharset(headerBytes, 'windows-1252'), 'utf8');
    const rest = bytes.subarray(headerBytes.length);
    bytes = new Uint8Array(Buffer.concat([fixed, rest]));
    headerBytes = new Uint8Array(fixed);
  }
  const rawHeaders = Buffer.from(headerBytes).toString('utf8').replace(/\r\n?/g, '\n');
  if (!looksLikeHeaders) {
    // A message without a header block is all body (postal-mime would read its first line as a header).
    const utf8 = firstInvalidUtf8(bytes) < 0;
    return { headers: [], rawHeaders: '', subject: '', body: tidyText(decodeCharset(bytes, utf8 ? 'utf-8' : 'windows-1252')) };
  }
  let email = await PostalMime.parse(bytes);
  const declared = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
  if (!/charset\s*=/i.test(declared) && /^\s*(text\/|$)/i.test(declared) && firstInvalidUtf8(bytes.subarray(headerBytes.length)) >= 0) {
    // A single text part with no declared charset whose bytes are not UTF-8 (legacy 8-bit mail): postal-mime would read
    // it as UTF-8 and turn every such byte into U+FFFD. Declare windows-1252 — the legacy default — and parse again.
    const type = declared.trim() === '' ? 'text/plain' : declared.trim();
    const rest = Buffer.from(bytes.subarray(headerBytes.length));
    const headerText = Buffer.from(headerBytes).toString('utf8').replace(/^content-type:.*(?:\r?\n[ \t].*)*\r?\n?/gim, '');
    const fixedHeader = `${headerText.replace(/\s*$/, '')}\nContent-Type: ${type}; charset=windows-1252`;
    bytes = new Uint8Array(Buffer.concat([Buffer.from(fixedHeader, 'utf8'), rest]));
    email = await PostalMime.parse(bytes);
  }
  // Unfolded values keep the folding whitespace (RFC 5322 §2.2.3); a folding tab reads as one space.
  const headerValue = (value: string): string => {
    const decoded = decodeWords(value).replace(/[\r\n]+/g, '').replace(/\t+/g, ' ').trim();
    return WORD_1252.test(value) ? repairWindows1252(decoded) : decoded;
  };
  const headers = email.headers.map((h) => [h.originalKey, headerValue(h.value)] as const);
  const subjectHeader = email.headers.find((h) => h.key === 'subject');
  let body = email.text !== undefined && email.text.trim() !== '' ? email.text : email.html !== undefined ? htmlToText(email.html) : (email.text ?? '');
  if (CHARSET_1252.test(Buffer.from(bytes).toString('latin1'))) body = repairWindows1252(body);
  return { headers, rawHeaders, subject: subjectHeader ? headerValue(subjectHeader.value) : '', body: tidyText(body) };
}
