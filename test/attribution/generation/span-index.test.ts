import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSpanIndex, suffixArray, traceSpans } from '../../../src/attribution/generation/index.js';

/** Suffix array by sorting every suffix with a plain comparison. */
function naiveSuffixArray(s: number[]): number[] {
  const cmp = (a: number, b: number) => {
    while (a < s.length && b < s.length) {
      if (s[a] !== s[b]) return s[a]! - s[b]!;
      a++;
      b++;
    }
    return (s.length - a) - (s.length - b);
  };
  return s.map((_, i) => i).sort(cmp);
}

/** Occurrences of `needle` in each row, by scanning. */
function occurrences(rows: number[][], needle: number[]): number[] {
  return rows.map((row) => {
    let c = 0;
    for (let p = 0; p + needle.length <= row.length; p++) if (needle.every((x, k) => row[p + k] === x)) c++;
    return c;
  });
}

describe('SA-IS suffix array', () => {
  it('equals sorting every suffix (fast-check, small alphabets force deep recursion)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }).chain((k) => fc.tuple(fc.constant(k), fc.array(fc.integer({ min: 1, max: k - 1 }), { maxLength: 200 }))), ([k, body]) => {
        const s = [...body, 0];
        expect(Array.from(suffixArray(Int32Array.from(s), k))).toEqual(naiveSuffixArray(s));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a text without its final sentinel', () => {
    expect(() => suffixArray(Int32Array.from([1, 2, 1]), 3)).toThrow(/sentinel/);
  });
});

describe('verbatim span tracing', () => {
  it('finds exactly the maximal spans, counts and rows a brute-force search finds (fast-check)', () => {
    const rowsArb = fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(rowsArb, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 25 }), fc.integer({ min: 1, max: 5 }), (rows, completion, minLength) => {
        const index = buildSpanIndex({ ids: rows, rowIds: rows.map((_, i) => `r${i}`), contributors: rows.map((_, i) => `c${i % 3}`) });
        const trace = traceSpans(index, completion, { minLength });
        // Brute force: the longest match at each position, then the spans no longer span contains.
        const longest = completion.map((_, i) => {
          let L = 0;
          while (i + L < completion.length && occurrences(rows, completion.slice(i, i + L + 1)).some((c) => c > 0)) L++;
          return L;
        });
        expect(Array.from(trace.longestMatch)).toEqual(longest);
        const expected = [];
        for (let i = 0; i < completion.length; i++) {
          const L = longest[i]!;
          if (L < minLength) continue;
          const contained = longest.some((Lj, j) => j !== i && j <= i && j + Lj >= i + L && (j < i || Lj > L));
          if (contained) continue;
          const occ = occurrences(rows, completion.slice(i, i + L));
          const hit = occ.flatMap((c, r) => (c > 0 ? [{ rowId: `r${r}`, occurrences: c }] : []));
          expected.push({ start: i, length: L, count: occ.reduce((a, b) => a + b, 0), rows: hit });
        }
        expect(trace.spans.map((s) => ({ start: s.start, length: s.length, count: s.count, rows: s.rows.map((r) => ({ rowId: r.rowId, occurrences: r.occurrences })) }))).toEqual(expected);
        for (const s of trace.spans) {
          const byContributor: Record<string, number> = {};
          for (const r of s.rows) byContributor[r.contributor] = (byContributor[r.contributor] ?? 0) + r.occurrences;
          expect({ ...s.contributors }).toEqual(byContributor);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never matches across a row boundary, and reports size and build time', () => {
    const index = buildSpanIndex({ ids: [[1, 2, 3], [4, 5, 6]], rowIds: ['a', 'b'], contributors: ['x', 'y'] });
    expect(traceSpans(index, [2, 3, 4, 5], { minLength: 3 }).spans).toEqual([]);
    const { spans } = traceSpans(index, [9, 4, 5, 6, 9], { minLength: 3 });
    expect(spans.map((s) => [s.start, s.length, s.rows[0]!.rowId, s.rows[0]!.contributor])).toEqual([[1, 3, 'b', 'y']]);
    expect(index.bytes).toBe(index.text.byteLength + index.suffixArray.byteLength + index.rowStarts.byteLength);
    expect(index.tokens).toBe(6);
  });

  it('rejects mismatched metadata and bad tokens, naming the row', () => {
    expect(() => buildSpanIndex({ ids: [[1]], rowIds: [], contributors: ['x'] })).toThrow(/1 rows but 0 row ids/);
    expect(() => buildSpanIndex({ ids: [[1, -4]], rowIds: ['bad-row'], contributors: ['x'] })).toThrow(/bad-row/);
  });
});
