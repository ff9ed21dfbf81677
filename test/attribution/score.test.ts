import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateByContributor,
  aggregateByVersion,
  aggregateScores,
  argsortDescending,
  contributorShares,
  createScoreIndex,
  denseScores,
  fitDataInf,
  fitFisher,
  fitTrak,
  gradCos,
  gradDot,
  selfInfluence,
  TopK,
  trakFeatures,
  type FeatureMatrix,
  type Preconditioner,
} from '../../src/attribution/index.js';
import { randomData } from './helpers.js';

function features(rows: number, dim: number, seed: number): FeatureMatrix {
  return { rows, dim, data: randomData(rows, dim, 2, seed).x, blocks: [{ name: 'f', module: 'f', offset: 0, size: dim }] };
}

/** τ by a float64 loop over the preconditioner's two sides. */
function bruteScores(train: FeatureMatrix, test: FeatureMatrix, pre: Preconditioner): Float64Array {
  const q = pre.query(test);
  const t = pre.train(train);
  const out = new Float64Array(train.rows * test.rows);
  for (let i = 0; i < train.rows; i++) for (let j = 0; j < test.rows; j++) {
    let s = 0;
    for (let c = 0; c < train.dim; c++) s += q.data[j * q.dim + c]! * t.data[i * t.dim + c]!;
    out[i * test.rows + j] = s;
  }
  return out;
}

describe('tiled scoring', () => {
  const train = features(23, 5, 1);
  const test = features(4, 5, 2);
  const pres: [string, Preconditioner][] = [
    ['grad-dot', gradDot()],
    ['grad-cos', gradCos()],
    ['fisher', fitFisher(train)],
    ['datainf', fitDataInf(train)],
    ['trak', fitTrak([{ features: train, labelProbability: Float32Array.from({ length: 23 }, (_, i) => (i % 7) / 7) }])],
  ];
  for (const [name, pre] of pres) {
    it(`dense scores (${name}) in tiles of 4 equal the float64 loop, in the n_train × n_test layout`, () => {
      const ours = name === 'trak' ? denseScores(trakFeatures([train]), trakFeatures([test]), pre, { tileRows: 4 }) : denseScores(train, test, pre, { tileRows: 4 });
      expect(ours.nTrain).toBe(23);
      expect(ours.nTest).toBe(4);
      const ref = bruteScores(train, test, pre);
      for (let k = 0; k < ref.length; k++) expect(Math.abs(ours.values[k]! - ref[k]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[k]!)));
    });
  }

  it('top-k and group sums stream over tiles and equal sorting / summing the dense matrix', () => {
    const index = createScoreIndex(train, { tileRows: 5 });
    const groupOf = Int32Array.from({ length: 23 }, (_, i) => i % 3);
    const { topK, groups } = index.query(test, 4, groupOf, 3);
    const ref = bruteScores(train, test, gradDot());
    for (let t = 0; t < 4; t++) {
      const col = Array.from({ length: 23 }, (_, i) => ({ index: i, score: ref[i * 4 + t]! }));
      const pro = col.filter((r) => r.score > 0).sort((a, b) => b.score - a.score).slice(0, 4).map((r) => r.index);
      const opp = col.filter((r) => r.score < 0).sort((a, b) => a.score - b.score).slice(0, 4).map((r) => r.index);
      expect(topK[t]!.proponents.map((r) => r.index)).toEqual(pro);
      expect(topK[t]!.opponents.map((r) => r.index)).toEqual(opp);
      for (let g = 0; g < 3; g++) {
        const sum = col.filter((r) => r.index % 3 === g).reduce((a, r) => a + r.score, 0);
        const pos = col.filter((r) => r.index % 3 === g).reduce((a, r) => a + Math.max(0, r.score), 0);
        expect(Math.abs(groups!.sums[t * 3 + g]! - sum)).toBeLessThan(1e-4);
        expect(Math.abs(groups!.positiveSums[t * 3 + g]! - pos)).toBeLessThan(1e-4);
      }
    }
    expect(Array.from(groups!.counts)).toEqual([8, 8, 7]);
    expect(() => index.dense(features(2, 6, 3))).toThrow(/ATTRIBUTION_SHAPE_MISMATCH/);
    index.dispose();
  });

  it('self-influence equals the diagonal of the train × train scores', () => {
    for (const [name, pre] of pres) {
      const f = name === 'trak' ? trakFeatures([train]) : train;
      const diag = selfInfluence(f, pre, { tileRows: 6 });
      const full = bruteScores(f, f, pre);
      for (let i = 0; i < 23; i++) expect(Math.abs(diag[i]! - full[i * 23 + i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(full[i * 23 + i]!)));
    }
    expect(argsortDescending([1, 3, 3, 2])).toEqual([1, 2, 3, 0]);
  });
});

describe('TopK', () => {
  it('property: equals a full sort with ties to the smaller index, for largest and smallest', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), fc.integer({ min: 0, max: 10 }), (values, k) => {
        for (const sign of [1, -1] as const) {
          const top = new TopK(k, sign);
          values.forEach((v, i) => top.push(i, v));
          const ref = values.map((score, index) => ({ index, score })).sort((a, b) => sign * (b.score - a.score) || a.index - b.index).slice(0, k);
          expect(top.result()).toEqual(ref);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('aggregation', () => {
  it('sum, mean and positive-sum by contributor and by version match hand computation', () => {
    const scores = [0.5, -0.1, 0.2, -0.4, 0.0];
    const who = ['alice', 'bob', 'alice', 'bob', 'carol'];
    expect(aggregateByContributor(scores, who, 'sum').values).toEqual({ alice: 0.7, bob: -0.5, carol: 0 });
    expect(aggregateByContributor(scores, who, 'mean').values).toEqual({ alice: 0.35, bob: -0.25, carol: 0 });
    expect(aggregateByContributor(scores, who, 'positive-sum').values).toEqual({ alice: 0.7, bob: 0, carol: 0 });
    expect(aggregateByVersion(scores, [1, 1, 2, 2, 2], 'sum').values).toEqual({ '1': 0.4, '2': -0.2 });
    expect(aggregateScores(scores, who).counts).toEqual({ alice: 2, bob: 2, carol: 1 });
    expect(contributorShares({ a: 3, b: 1, c: -2, d: 0 })).toEqual({ a: 0.75, b: 0.25, c: -0.5, d: 0 });
    expect(() => contributorShares({ a: -1 })).toThrow(/REWARD_SPLIT_INVALID/);
    expect(() => aggregateScores([Number.NaN], ['a'])).toThrow(/ATTRIBUTION_INPUT_INVALID/);
    expect(() => aggregateScores([1, 2], ['a'])).toThrow(/ATTRIBUTION_SHAPE_MISMATCH/);
  });
});
