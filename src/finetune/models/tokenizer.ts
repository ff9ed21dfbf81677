/**
 * The character-level tokenizer of the tiny transformer.
 *
 * Vocabulary (98 ids, fixed forever: a checkpoint's embedding rows are indexed by it):
 *   0 `<pad>`  — right padding; never a prediction target, ignored by pooling.
 *   1 `<unk>`  — any character left after normalisation that is not below.
 *   2 `\n`     — newline.
 *   3…97       — printable ASCII 0x20 (space) … 0x7E (`~`), in code-point order: id = code − 29.
 *
 * Why characters, not bytes or BPE: a 98-row embedding keeps the shipped model at a few hundred kB, every English text maps
 * onto it after a small normalisation, and no merges table has to be trained, versioned and shipped. The price is longer
 * sequences per word, which the tiny model's context (64–128 positions) accepts.
 *
 * Normalisation (`normalizeText`): Unicode NFKD, combining marks dropped (é → e), typographic quotes and dashes mapped to
 * ASCII (‘’ → ', “” → ", – — → -, … → ...), tabs and other spaces → one space, `\r\n` and `\r` → `\n`.
 */
import { ProvenantError } from '../../core/index.js';

export const PAD_ID = 0;
export const UNK_ID = 1;
export const NEWLINE_ID = 2;
const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;
const PRINTABLE_OFFSET = 3 - FIRST_PRINTABLE;

/** The vocabulary, index = token id. */
export const CHAR_VOCABULARY: readonly string[] = Object.freeze([
  '<pad>',
  '<unk>',
  '\n',
  ...Array.from({ length: LAST_PRINTABLE - FIRST_PRINTABLE + 1 }, (_, i) => String.fromCharCode(FIRST_PRINTABLE + i)),
]);

export const CHAR_VOCAB_SIZE = CHAR_VOCABULARY.length;

const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\t': ' ',
  '\u00d7': 'x',
};

/** The single-character replacements of `normalizeText` (typographic → ASCII), for the tokenizer.json export. */
export function normalizationReplacements(): Record<string, string> {
  return { ...REPLACEMENTS };
}

/**
 * Maps text onto the character vocabulary's alphabet as far as possible (see the module comment): CRLF/CR → LF, NFKD
 * with combining marks dropped (é → e), typographic punctuation → ASCII (curly quotes, dashes, … → `...`, × → x), and
 * every whitespace but a newline → one space. Characters still outside the vocabulary are left as they are (the tokenizer
 * maps them to `<unk>`).
 *
 * @example
 * ```ts
 * import { normalizeText } from 'provenant/finetune';
 *
 * normalizeText('“Café” — naïve…\tok'); // '"Cafe" - naive... ok'
 * ```
 */
export function normalizeText(text: string): string {
  const decomposed = text.replace(/\r\n?/g, '\n').normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let out = '';
  for (const ch of decomposed) {
    const replacement = REPLACEMENTS[ch];
    if (replacement !== undefined) out += replacement;
    else if (/\s/.test(ch) && ch !== '\n') out += ' ';
    else out += ch;
  }
  return out;
}

export interface CharTokenizer {
  readonly kind: 'char';
  readonly vocabulary: readonly string[];
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  /** Text → ids (normalised first). No padding, no special tokens. */
  encode(text: string): number[];
  /** Ids → text; `<pad>` is dropped, `<unk>` becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /**
   * Texts → a right-padded (or truncated) id matrix [texts.length, length], row-major, for `tf.tensor2d(ids, shape, 'int32')`.
   * `lengths` holds each row's unpadded length.
   */
  encodeBatch(texts: readonly string[], length: number): { ids: Int32Array; shape: [number, number]; lengths: number[] };
}

function idOf(ch: string): number {
  if (ch === '\n') return NEWLINE_ID;
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code >= FIRST_PRINTABLE && code <= LAST_PRINTABLE ? code + PRINTABLE_OFFSET : UNK_ID;
}

/**
 * The printable-ASCII character tokenizer (98 ids; see the module comment for the table).
 *
 * @example
 * ```ts
 * import { createCharTokenizer } from 'provenant/finetune';
 * const tok = createCharTokenizer();
 * tok.encode('Hi!');              // [43, 76, 4]
 * tok.decode(tok.encode('naïve')); // 'naive'
 * ```
 */
export function createCharTokenizer(): CharTokenizer {
  const encode = (text: string): number[] => {
    const ids: number[] = [];
    for (const ch of normalizeText(text)) ids.push(idOf(ch));
    return ids;
  };
  return {
    kind: 'char',
    vocabulary: CHAR_VOCABULARY,
    vocabSize: CHAR_VOCAB_SIZE,
    padId: PAD_ID,
    unkId: UNK_ID,
    encode,
    decode(ids) {
      let out = '';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (!Number.isInteger(id) || id < 0 || id >= CHAR_VOCAB_SIZE) {
          throw new ProvenantError('INVALID_ARGUMENT', `Token id ${id} at position ${i} is outside the vocabulary [0, ${CHAR_VOCAB_SIZE}).`);
        }
        if (id === PAD_ID) continue;
        out += id === UNK_ID ? '\ufffd' : CHAR_VOCABULARY[id];
      }
      return out;
    },
    encodeBatch(texts, length) {
      if (!Number.isInteger(length) || length < 1) {
        throw new ProvenantError('INVALID_ARGUMENT', `encodeBatch needs a positive integer length, got ${length}.`);
      }
      const ids = new Int32Array(texts.length * length);
      const lengths: number[] = [];
      texts.forEach((text, row) => {
        const encoded = encode(text);
        const n = Math.min(encoded.length, length);
        for (let j = 0; j < n; j++) ids[row * length + j] = encoded[j]!;
        lengths.push(n);
      });
      return { ids, shape: [texts.length, length], lengths };
    },
  };
}
