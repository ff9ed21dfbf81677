/**
 * A small RFC 5322 / MIME e-mail parser: enough to turn the SpamAssassin corpus into readable text. It unfolds
 * headers, decodes RFC 2047 encoded words (`=?iso-8859-1?Q?…?=`), walks multipart bodies, decodes quoted-printable
 * and base64 text parts in their declared charset, and strips HTML when a message has no plain-text part.
 * Attachments (non-text parts) are skipped. It is not a full MIME implementation and does not try to be.
 */

export interface ParsedEmail {
  /** Unfolded headers, names as written, values with encoded words decoded. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** The raw header block (after the mbox "From " line), unchanged. */
  readonly rawHeaders: string;
  readonly subject: string;
  /** The readable body: decoded text parts joined by blank lines (HTML stripped when there is no plain part). */
  readonly body: string;
}

interface Part {
  headers: [string, string][];
  body: string;
}

function splitHeaderBlock(text: string): { headerBlock: string; body: string } {
  const end = text.indexOf('\n\n');
  if (end < 0) return /^[\w-]+:/.test(text) ? { headerBlock: text, body: '' } : { headerBlock: '', body: text };
  return { headerBlock: text.slice(0, end), body: text.slice(end + 2) };
}

function parseHeaders(block: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of block.split('\n')) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

const header = (headers: readonly (readonly [string, string])[], name: string): string | undefined =>
  headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** `text/plain; charset="iso-8859-1"` → { type: 'text/plain', params: { charset: 'iso-8859-1' } } */
function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [type, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq > 0) params[piece.slice(0, eq).trim().toLowerCase()] = piece.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1');
  }
  return { type: (type ?? '').trim().toLowerCase() || 'text/plain', params };
}

/** Decodes bytes in a charset, falling back to Latin-1 for labels this runtime does not know. */
export function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  try {
    return new TextDecoder(label === 'us-ascii' || label === 'ascii' ? 'windows-1252' : label).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Quoted-printable (RFC 2045 §6.7): soft breaks `=\n` vanish, `=XX` runs are bytes in the part's charset. */
export function decodeQuotedPrintable(text: string, charset?: string): string {
  return text.replace(/=[ \t]*\n/g, '').replace(/(?:=[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(3 * i + 1, 3 * i + 3), 16);
    return decodeBytes(bytes, charset);
  });
}

/** Base64 (RFC 2045 §6.8; non-alphabet characters such as line breaks ignored), decoded in the part's charset. */
export function decodeBase64(text: string, charset?: string): string {
  const clean = text.replace(/[^A-Za-z0-9+/=]/g, '');
  return decodeBytes(new Uint8Array(Buffer.from(clean, 'base64')), charset);
}

/** RFC 2047 encoded words; whitespace between adjacent encoded words is dropped, as the RFC says. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, charset: string, encoding: string, text: string) => {
      const cs = charset.split('*')[0];
      if (encoding.toUpperCase() === 'B') return decodeBase64(text, cs);
      return decodeQuotedPrintable(text.replace(/_/g, ' '), cs);
    });
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®', middot: '·' };

/** Crude but predictable HTML-to-text: drops scripts, styles and comments, turns block tags into line breaks, decodes entities. */
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
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

function decodeLeaf(part: Part): { type: string; text: string } | null {
  const { type, params } = parseContentType(header(part.headers, 'content-type'));
  if (!type.startsWith('text/')) return null;
  if (/attachment/i.test(header(part.headers, 'content-disposition') ?? '')) return null;
  const encoding = (header(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  let text: string;
  if (encoding === 'quoted-printable') text = decodeQuotedPrintable(part.body, params.charset);
  else if (encoding === 'base64') text = decodeBase64(part.body, params.charset);
  else text = part.body;
  return { type, text: type === 'text/html' ? htmlToText(text) : text };
}

function collectText(part: Part, depth: number, out: { type: string; text: string }[]): void {
  const { type, params } = parseContentType(header(part.headers, 'content-type'));
  if (type.startsWith('multipart/') && params.boundary && depth < 8) {
    const delimiter = `--${params.boundary}`;
    const pieces = part.body.split('\n');
    let current: string[] | null = null;
    const bodies: string[] = [];
    for (const line of pieces) {
      const trimmed = line.trimEnd();
      if (trimmed === delimiter || trimmed === `${delimiter}--`) {
        if (current) bodies.push(current.join('\n'));
        current = trimmed === delimiter ? [] : null;
        if (trimmed !== delimiter) break;
      } else if (current) current.push(line);
    }
    if (current) bodies.push(current.join('\n'));
    const children: { type: string; text: string }[] = [];
    for (const body of bodies) {
      const { headerBlock, body: childBody } = splitHeaderBlock(body);
      collectText({ headers: parseHeaders(headerBlock), body: childBody }, depth + 1, children);
    }
    // multipart/alternative carries one message several ways: keep the plain version when there is one.
    if (type === 'multipart/alternative' && children.some((c) => c.type === 'text/plain')) out.push(...children.filter((c) => c.type === 'text/plain'));
    else out.push(...children);
    return;
  }
  const leaf = decodeLeaf(part);
  if (leaf) out.push(leaf);
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

/**
 * Parses a raw e-mail (with or without a leading mbox "From " line).
 *
 * @example
 * parseEmail('Subject: =?iso-8859-1?Q?Caf=E9?=\n\nHello').subject; // 'Café'
 */
export function parseEmail(raw: string): ParsedEmail {
  let text = raw.replace(/\r\n?/g, '\n');
  if (text.startsWith('From ')) {
    const nl = text.indexOf('\n');
    text = nl < 0 ? '' : text.slice(nl + 1);
  }
  const { headerBlock, body } = splitHeaderBlock(text);
  const headers = parseHeaders(headerBlock).map(([n, v]) => [n, decodeEncodedWords(v)] as [string, string]);
  const parts: { type: string; text: string }[] = [];
  collectText({ headers, body }, 0, parts);
  const plain = parts.filter((p) => p.type !== 'text/html');
  const chosen = plain.length > 0 ? plain : parts;
  return {
    headers,
    rawHeaders: headerBlock,
    subject: header(headers, 'subject') ?? '',
    body: tidyText(chosen.map((p) => p.text).join('\n\n')),
  };
}
