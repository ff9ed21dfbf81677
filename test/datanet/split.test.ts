import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion } from '../../src/core/index.js';
import { createDatanet, splitIndices } from './helpers.js';

const fractions = fc
  .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 }))
  .map(([a, b, c]) => ({ train: a / (a + b + c), validation: b / (a + b + c), test: c / (a + b + c) }));
const problem = fc.integer({ min: 0, max: 60 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    strata: fc.array(fc.constantFrom('ham', 'spam', 'x'), { minLength: n, maxLength: n }),
    groups: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { minLength: n, maxLength: n }),
    fractions,
    seed: fc.integer({ min: 0, max: 1e6 }),
    stratify: fc.boolean(),
    group: fc.boolean(),
  }),
);

describe('splitIndices', () => {
  it('parts are disjoint, ascending and cover 0..n-1, with and without stratify/group', () => {
    fc.assert(
      fc.property(problem, ({ n, strata, groups, fractions, seed, stratify, group }) => {
        const split = splitIndices({ n, seed, fractions, strata: stratify ? strata : undefined, groups: group ? groups : undefined });
        const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
        for (const part of [split.train, split.validation, split.test]) expect(part).toEqual([...part].sort((a, b) => a - b));
        // A zero fraction gets nothing.
        if (fractions.validation === 0) expect(split.validation).toEqual([]);
        if (fractions.test === 0) expect(split.test).toEqual([]);
        if (group) {
          // Every group lies in exactly one part.
          const partOf = new Map<string, number>();
          [split.train, split.validation, split.test].forEach((part, p) =>
            part.forEach((i) => {
              expect(partOf.get(groups[i]!) ?? p).toBe(p);
              partOf.set(groups[i]!, p);
            }),
          );
        } else {
          // Exact sizes: largest-remainder apportionment of n.
          expect([split.train.length, split.validation.length, split.test.length]).toEqual(apportion(n, [fractions.train, fractions.validation, fractions.test]));
        }
        // Deterministic in the seed.
        expect(splitIndices({ n, seed, fractions, strata: stratify ? strata : undefined, groups: group ? groups : undefined })).toEqual(split);
      }),
      { numRuns: 300 },
    );
  });

  it('stratified parts hold each stratum within one row of its exact share (f·n_stratum)', () => {
    fc.assert(
      fc.property(problem, ({ n, strata, fractions, seed }) => {
        const split = splitIndices({ n, seed, fractions, strata });
        const f = [fractions.train, fractions.validation, fractions.test];
        for (const stratum of new Set(strata)) {
          const size = strata.filter((s) => s === stratum).length;
          [split.train, split.validation, split.test].forEach((part, p) => {
            const count = part.filter((i) => strata[i] === stratum).length;
            expect(Math.abs(count - f[p]! * size)).toBeLessThan(1 + 1e-9);
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('differs between seeds (a 100-row split is not the same permutation twice)', () => {
    const a = splitIndices({ n: 100, seed: 1, fractions: { train: 0.5, test: 0.5 } });
    const b = splitIndices({ n: 100, seed: 2, fractions: { train: 0.5, test: 0.5 } });
    expect(a.train).not.toEqual(b.train);
  });

  it('rejects fractions that do not sum to 1 or are negative', () => {
    for (const f of [{ train: 0.5 }, { train: 1.2, test: -0.2 }, { train: Number.NaN }]) {
      expect(() => splitIndices({ n: 3, seed: 0, fractions: f })).toThrow(expect.objectContaining({ code: 'DATANET_SPLIT_INVALID' }));
    }
  });
});

describe('snapshot.split', () => {
  const datanet = createDatanet({ name: 's', schema: { input: 'vector', vectorLength: 1, labels: [0, 1] } });
  for (let c = 0; c < 8; c++) {
    datanet.addContribution({ contributor: `c${c}`, licence: 'L', source: 's', timestamp: 0, rows: Array.from({ length: 10 + c * 3 }, (_, i) => ({ input: [c * 1000 + i], label: i % 3 === 0 ? 1 : 0 })) });
  }
  const snapshot = datanet.snapshot();

  it('returns rows matching the indices, keeps contributors whole, and names the split by a digest', () => {
    const split = snapshot.split({ seed: 3, fractions: { train: 0.7, validation: 0.15, test: 0.15 }, groupBy: 'contributor', stratifyBy: 'label' });
    for (const part of [split.train, split.validation, split.test]) part.indices.forEach((i, k) => expect(part.rows[k]).toBe(snapshot.rows[i]));
    const owners = [split.train, split.validation, split.test].map((p) => new Set(p.rows.map((r) => r.contributor)));
    expect([...owners[0]!].some((c) => owners[1]!.has(c) || owners[2]!.has(c))).toBe(false);
    expect(split.train.indices.length + split.validation.indices.length + split.test.indices.length).toBe(snapshot.size);
    expect(split.digest).toBe(snapshot.split({ seed: 3, fractions: { train: 0.7, validation: 0.15, test: 0.15 }, groupBy: 'contributor', stratifyBy: 'label' }).digest);
    expect(split.digest).not.toBe(snapshot.split({ seed: 4, fractions: { train: 0.7, validation: 0.15, test: 0.15 }, groupBy: 'contributor', stratifyBy: 'label' }).digest);
  });

  it('splitBy follows an explicit rule and names it in the digest', () => {
    const late = new Set(['c5', 'c6', 'c7']);
    const split = snapshot.splitBy((row) => (late.has(row.contributor) ? 'test' : 'train'), { rule: 'test = contributors c5–c7' });
    expect(split.test.rows.every((r) => late.has(r.contributor))).toBe(true);
    expect(split.train.rows.some((r) => late.has(r.contributor))).toBe(false);
    const expectedTest = snapshot.rows.filter((r) => late.has(r.contributor)).length;
    expect([split.test.indices.length, split.train.indices.length + split.test.indices.length]).toEqual([expectedTest, snapshot.size]);
    expect(split.fractions.test).toBeCloseTo(expectedTest / snapshot.size, 12);
    const renamed = snapshot.splitBy((row) => (late.has(row.contributor) ? 'test' : 'train'), { rule: 'another description' });
    expect(renamed.digest).not.toBe(split.digest);
    expect(() => snapshot.splitBy(() => 'holdout' as never, { rule: 'x' })).toThrow(expect.objectContaining({ code: 'DATANET_SPLIT_INVALID' }));
  });

  it('rejects unknown stratify/group keys', () => {
    expect(() => snapshot.split({ seed: 0, fractions: { train: 1 }, stratifyBy: 'colour' as never })).toThrow(expect.objectContaining({ code: 'DATANET_SPLIT_INVALID' }));
    expect(() => snapshot.split({ seed: 0, fractions: { train: 1 }, groupBy: 'licence' as never })).toThrow(expect.objectContaining({ code: 'DATANET_SPLIT_INVALID' }));
  });
});
