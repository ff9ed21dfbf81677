/**
 * Verbatim span tracing (infini-gram, Liu et al. 2024, §3; OLMoTrace, Liu et al. 2025, §2): a suffix array over the
 * tokenized training rows finds, for a generated completion, every *maximal* span of at least `minLength` tokens that
 * occurs verbatim in the training rows — with its count, the rows holding it and their contributors.
 *
 * Layout: the rows' tokens, each shifted by 2, one after another with the separator 1 after each row and the sentinel 0 at
 * the end; a match never crosses a row because no completion contains the separator. For each completion position i the
 * longest match L_i is found by narrowing the suffix-array interval one token at a time (two binary searches per token);
 * span [i, i + L_i) is maximal — not inside a longer matching span — iff L_i ≥ minLength and L_i ≥ L_{i−1}, since a
 * suffix of a match is a match (L_i ≥ L_{i−1} − 1) and so the spans' ends never move left.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import { suffixArray } from './suffix-array.js';

/** Defaults of span tracing, with their reasons. */
export const SPAN_TRACE_DEFAULTS = Object.freeze({
  /** Shortest span reported, in tokens. 8 characters of the character tokenizer is about one and a half English words;
   * OLMoTrace uses spans that are long and rare in subword tokens — raise this for BPE tokenizers. */
  minLength: 8,
  /** Occurrences enumerated per span (rows, contributors); the count is always exact. */
  maxOccurrences: 1000,
});

/** The suffix-array index over tokenized rows. Plain typed arrays (serialisable as they are). */
export interface SpanIndex {
  /** Shifted tokens (+2), row separators (1) and the final sentinel (0). */
  readonly text: Uint16Array | Int32Array;
  readonly suffixArray: Int32Array;
  /** Position in `text` of each row's first token (ascending). */
  readonly rowStarts: Int32Array;
  readonly rowIds: readonly string[];
  readonly contributors: readonly string[];
  /** Datanet of each row (for per-Datanet counts); `default` when not given. */
  readonly datanets: readonly string[];
  /** Total tokens indexed (separators and sentinel excluded). */
  readonly tokens: number;
  /** Bytes held by the index's arrays (text, suffix array, row starts). */
  readonly bytes: number;
  /** Wall-clock milliseconds to build. */
  readonly buildMs: number;
}

export interface SpanIndexRows {
  /** Token ids of each row (what the model was trained on). */
  ids: readonly ArrayLike<number>[];
  rowIds: readonly string[];
  contributors: readonly string[];
  datanets?: readonly string[];
}

/** The fields of {@link SpanIndexRows}: a misspelt name (or a tracing option such as `minLength`) is refused, never ignored. */
const SPAN_INDEX_ROWS: ParamTable = Object.freeze({
  name: 'buildSpanIndex',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'ids', default: null, required: true, meaning: 'Token ids of each row.' },
    { name: 'rowIds', default: null, required: true, meaning: 'Id of each row.', aliases: ['row_ids'] },
    { name: 'contributors', default: null, required: true, meaning: 'Contributor of each row.' },
    { name: 'datanets', default: null, meaning: 'Datanet of each row (null: default).' },
  ],
});

/**
 * Builds the span index (SA-IS, linear time). Span lengths are options of {@link traceSpans}, not of the index.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for a missing or unknown field of `rows` (with the nearest name) or
 *   a token that is not a non-negative integer; `ATTRIBUTION_SHAPE_MISMATCH` when the fields do not have one entry per row.
 *
 * @example
 * ```ts
 * import { buildSpanIndex, traceSpans } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant/finetune';
 * declare const rows: readonly string[];
 * declare const rowIds: readonly string[];
 * declare const contributors: readonly string[];
 * declare const answer: string;
 * const tok = createCharTokenizer();
 * const index = buildSpanIndex({ ids: rows.map((r) => tok.encode(r)), rowIds, contributors });
 * const { spans } = traceSpans(index, tok.encode(answer), { minLength: 12 });
 * ```
 */
export function buildSpanIndex(rows: SpanIndexRows): SpanIndex {
  resolve(SPAN_INDEX_ROWS, rows);
  const started = performance.now();
  const n = rows.ids.length;
  if (rows.rowIds.length !== n || rows.contributors.length !== n || (rows.datanets && rows.datanets.length !== n)) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `buildSpanIndex: ${n} rows but ${rows.rowIds.length} row ids, ${rows.contributors.length} contributors${rows.datanets ? `, ${rows.datanets.length} datanets` : ''}.`);
  }
  let total = 1;
  let maxToken = 0;
  rows.ids.forEach((ids, r) => {
    total += ids.length + 1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id > 0x7ffffff0) {
        throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `buildSpanIndex: row ${r} (${rows.rowIds[r]}) has token ${id} at ${i}, not a token id.`, { data: { row: rows.rowIds[r] } });
      }
      if (id > maxToken) maxToken = id;
    }
  });
  const s = new Int32Array(total);
  const rowStarts = new Int32Array(n);
  let at = 0;
  rows.ids.forEach((ids, r) => {
    rowStarts[r] = at;
    for (let i = 0; i < ids.length; i++) s[at++] = ids[i]! + 2;
    s[at++] = 1;
  });
  s[at] = 0;
  const alphabet = maxToken + 3;
  const sa = suffixArray(s, alphabet);
  const text = alphabet <= 0x10000 ? Uint16Array.from(s) : s;
  const tokens = total - 1 - n;
  return {
    text,
    suffixArray: sa,
    rowStarts,
    rowIds: [...rows.rowIds],
    contributors: [...rows.contributors],
    datanets: rows.datanets ? [...rows.datanets] : rows.rowIds.map(() => 'default'),
    tokens,
    bytes: text.byteLength + sa.byteLength + rowStarts.byteLength,
    buildMs: performance.now() - started,
  };
}

/** One maximal verbatim span of a completion. */
export interface TracedSpan {
  /** Token offset in the completion and length in tokens: completion tokens [start, start + length). */
  start: number;
  length: number;
  /** Occurrences in the training rows (exact). */
  count: number;
  /** Rows holding it (each once), first `maxOccurrences` occurrences, in row order. */
  rows: { index: number; rowId: string; contributor: string; datanet: string; occurrences: number }[];
  /** Occurrences per contributor (over the enumerated occurrences). */
  contributors: Record<string, number>;
  /** True when `count` > `maxOccurrences` and the rows are a prefix. */
  truncated: boolean;
}

export interface TraceSpansOptions {
  /** Shortest span in tokens; default 8. */
  minLength?: number;
  /** Occurrences enumerated per span; default 1,000. */
  maxOccurrences?: number;
}

export interface SpanTrace {
  spans: TracedSpan[];
  /** Longest match starting at each completion position (0: the token never occurs). */
  longestMatch: Int32Array;
  /** Completion tokens covered by at least one reported span. */
  coveredTokens: number;
  minLength: number;
}

/** The options of {@link traceSpans} (and `attributeGeneration`'s `spans`): a misspelt name is refused with the nearest field. */
export const TRACE_SPANS_PARAMS: ParamTable = Object.freeze({
  name: 'traceSpans',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'minLength', default: SPAN_TRACE_DEFAULTS.minLength, meaning: 'Shortest span reported, in tokens.', aliases: ['min_length'] },
    { name: 'maxOccurrences', default: SPAN_TRACE_DEFAULTS.maxOccurrences, meaning: 'Occurrences enumerated per span (the count is always exact).', aliases: ['max_occurrences'] },
  ],
});

/**
 * Every maximal span of ≥ `minLength` completion tokens found verbatim in the indexed rows (see the module comment).
 * Cost: O(m · L · log N) for m completion tokens, longest match L and N indexed tokens.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link TRACE_SPANS_PARAMS}) or a `minLength` / `maxOccurrences` that is not a positive integer.
 * @example
 * ```ts
 * import { traceSpans, type SpanIndex } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant/finetune';
 * declare const index: SpanIndex;
 * declare const answer: string;
 * const { spans } = traceSpans(index, createCharTokenizer().encode(answer));
 * spans[0].rows[0].contributor; // who wrote the row the answer copies
 * ```
 */
export function traceSpans(index: SpanIndex, completion: ArrayLike<number>, options: TraceSpansOptions = {}): SpanTrace {
  resolve(TRACE_SPANS_PARAMS, options);
  const minLength = options.minLength ?? SPAN_TRACE_DEFAULTS.minLength;
  const maxOccurrences = options.maxOccurrences ?? SPAN_TRACE_DEFAULTS.maxOccurrences;
  if (!Number.isInteger(minLength) || minLength < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `minLength must be a positive integer, got ${minLength}.`);
  if (!Number.isInteger(maxOccurrences) || maxOccurrences < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `maxOccurrences must be a positive integer, got ${maxOccurrences}.`);
  const m = completion.length;
  const q = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const id = completion[i]!;
    if (!Number.isInteger(id) || id < 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Completion token ${i} is ${id}, not a token id.`);
    q[i] = id + 2;
  }
  const { text, suffixArray: sa } = index;
  const N = sa.length;
  const longestMatch = new Int32Array(m);
  const intervals: [number, number][] = [];
  for (let i = 0; i < m; i++) {
    let lo = 0;
    let hi = N;
    let len = 0;
    while (i + len < m) {
      const x = q[i + len]!;
      // Within [lo, hi) every suffix starts with q[i, i+len); their symbols at offset len are sorted.
      let a = lo, b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (text[sa[mid]! + len]! < x) a = mid + 1;
        else b = mid;
      }
      let c = a, d = hi;
      while (c < d) {
        const mid = (c + d) >>> 1;
        if (text[sa[mid]! + len]! <= x) c = mid + 1;
        else d = mid;
      }
      if (a === c) break;
      lo = a;
      hi = c;
      len++;
    }
    longestMatch[i] = len;
    intervals.push([lo, hi]);
  }
  const spans: TracedSpan[] = [];
  const covered = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    const len = longestMatch[i]!;
    if (len < minLength || (i > 0 && len < longestMatch[i - 1]!)) continue;
    const [lo, hi] = intervals[i]!;
    const count = hi - lo;
    const positions = Array.from(sa.subarray(lo, Math.min(hi, lo + maxOccurrences))).sort((x, y) => x - y);
    const byRow = new Map<number, number>();
    for (const p of positions) {
      const r = rowOf(index.rowStarts, p);
      byRow.set(r, (byRow.get(r) ?? 0) + 1);
    }
    const contributors: Record<string, number> = Object.create(null) as Record<string, number>;
    const rows = [...byRow].map(([r, occurrences]) => {
      const contributor = index.contributors[r]!;
      contributors[contributor] = (contributors[contributor] ?? 0) + occurrences;
      return { index: r, rowId: index.rowIds[r]!, contributor, datanet: index.datanets[r]!, occurrences };
    });
    spans.push({ start: i, length: len, count, rows, contributors, truncated: count > maxOccurrences });
    covered.fill(1, i, i + len);
  }
  return { spans, longestMatch, coveredTokens: covered.reduce((a, b) => a + b, 0), minLength };
}

/** The row holding text position p: the last row start ≤ p. */
function rowOf(rowStarts: Int32Array, p: number): number {
  let lo = 0, hi = rowStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (rowStarts[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
