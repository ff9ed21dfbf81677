/**
 * Range and shape checks of attribution's plain-data helpers: each bad argument is a typed ProvenantError naming it,
 * never a silent wrong number (before these checks, `scoreColumn(s, nTest)` returned a column of `undefined`→NaN,
 * `sliceRows` past the end returned a short matrix claiming more rows, `concatRows` stacked a part whose data did not
 * match its row count, and `lissa` with a short V or depth 0 returned zeros).
 */
import { describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';
import { concatRows, explicitOperator, fitLissa, LISSA_DEFAULTS, lissa, scoreColumn, scoreMatrix, singleBlock, sliceRows, type FeatureMatrix } from '../../src/attribution/index.js';
import { isProvenantError, type ProvenantErrorCode } from '../../src/core/index.js';

function expectError(f: () => unknown, code: ProvenantErrorCode, message: RegExp): void {
  const error = thrown(f);
  expect(isProvenantError(error, code)).toBe(true);
  expect((error as Error).message).toMatch(message);
}
/** rows × dim with entry (r, c) = 10r + c, so any row can be checked by hand. */
const matrix = (rows: number, dim: number, blocks = singleBlock(dim)): FeatureMatrix => ({
  rows,
  dim,
  data: Float32Array.from({ length: rows * dim }, (_, k) => 10 * Math.floor(k / dim) + (k % dim)),
  blocks,
});

describe('scoreColumn', () => {
  const scores = scoreMatrix(new Float64Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]), 3, 2);
  it('returns column t (checked entry by entry) and refuses t outside [0, nTest), naming t', () => {
    expect(Array.from(scoreColumn(scores, 1))).toEqual([-0.2, 0.4, -0.6]);
    for (const t of [2, -1, 0.5, Number.NaN]) expectError(() => scoreColumn(scores, t), 'ATTRIBUTION_INPUT_INVALID', /scoreColumn: t = .* is not a test index in \[0, 2\)/);
  });
  it('refuses a matrix whose values do not hold nTrain × nTest scores', () => {
    expectError(() => scoreColumn({ values: new Float64Array(5), nTrain: 3, nTest: 2 }, 0), 'ATTRIBUTION_SHAPE_MISMATCH', /nTrain × nTest/);
  });
});

describe('sliceRows', () => {
  const m = matrix(4, 3);
  it('copies rows [start, end) without sharing memory', () => {
    const s = sliceRows(m, 1, 3);
    expect([s.rows, s.dim]).toEqual([2, 3]);
    expect(Array.from(s.data)).toEqual([10, 11, 12, 20, 21, 22]);
    s.data[0] = -1;
    expect(m.data[3]).toBe(10);
    expect(sliceRows(m, 4, 4).rows).toBe(0);
  });
  it('refuses bounds outside 0 ≤ start ≤ end ≤ rows, naming the argument', () => {
    expectError(() => sliceRows(m, 2, 5), 'ATTRIBUTION_INPUT_INVALID', /sliceRows: end = 5 is not an integer in \[2, 4\]/);
    expectError(() => sliceRows(m, -1, 2), 'ATTRIBUTION_INPUT_INVALID', /sliceRows: start = -1/);
    expectError(() => sliceRows(m, 3, 2), 'ATTRIBUTION_INPUT_INVALID', /sliceRows: end = 2 is not an integer in \[3, 4\]/);
    expectError(() => sliceRows(m, 0.5, 2), 'ATTRIBUTION_INPUT_INVALID', /sliceRows: start = 0.5/);
    expectError(() => sliceRows({ ...m, rows: 5 }, 0, 5), 'ATTRIBUTION_SHAPE_MISMATCH', /data length 12 is not rows × dim = 5 × 3/);
  });
});

describe('concatRows', () => {
  const blocks = [
    { name: 'w', module: 'fc', offset: 0, size: 2 },
    { name: 'b', module: 'fc', offset: 2, size: 1 },
  ];
  it('stacks parts of one layout row-wise', () => {
    const all = concatRows([matrix(2, 3, blocks), matrix(1, 3, blocks)]);
    expect([all.rows, all.dim]).toEqual([3, 3]);
    expect(Array.from(all.data)).toEqual([0, 1, 2, 10, 11, 12, 0, 1, 2]);
    expect(all.blocks).toEqual(blocks);
  });
  it('refuses a part whose data is not rows × width, naming the part', () => {
    const short = { ...matrix(2, 3, blocks), rows: 3 };
    expectError(() => concatRows([matrix(2, 3, blocks), short]), 'ATTRIBUTION_SHAPE_MISMATCH', /concatRows: part 1: data length 6 is not rows × dim = 3 × 3/);
  });
  it('refuses a part of another width or other column blocks, naming the part and block', () => {
    expectError(() => concatRows([matrix(2, 3, blocks), matrix(2, 4)]), 'ATTRIBUTION_SHAPE_MISMATCH', /part 1 has width 4, part 0 width 3/);
    const renamed = blocks.map((b, i) => (i === 1 ? { ...b, name: 'other.bias' } : b));
    expectError(() => concatRows([matrix(2, 3, blocks), matrix(2, 3, renamed)]), 'ATTRIBUTION_SHAPE_MISMATCH', /part 1's column blocks differ from part 0's at block 1/);
    expectError(() => concatRows([matrix(2, 3, blocks), matrix(2, 3)]), 'ATTRIBUTION_SHAPE_MISMATCH', /at block 0/);
  });
});

describe('lissa', () => {
  // H = diag(2, 4): H⁻¹ v is v / (2, 4) in closed form.
  const op = explicitOperator([2, 0, 0, 4], 2);
  it('converges to the closed form with valid options', () => {
    const x = lissa(op, [1, 1, 2, 0], 2, { depth: 200 });
    expect(Array.from(x, (v) => +v.toFixed(6))).toEqual([0.5, 0.25, 1, 0]);
  });
  it('refuses V whose length is not rows × dim, and rows that is not a count', () => {
    expectError(() => lissa(op, [1, 1, 2], 2), 'ATTRIBUTION_SHAPE_MISMATCH', /V holds 3 values, expected rows × dim = 2 × 2/);
    expectError(() => lissa(op, [1, 1, 2, 0, 5, 5], 2), 'ATTRIBUTION_SHAPE_MISMATCH', /V holds 6 values/);
    expectError(() => lissa(op, [1, 1], -1), 'ATTRIBUTION_INPUT_INVALID', /rows must be a non-negative integer/);
  });
  it('refuses depth, repeats, damping, scale and batchSize outside their domains, all in one error', () => {
    const error = thrown(() => lissa(op, [1, 1], 1, { depth: 0, repeats: 1.5, damping: -1, scale: Number.POSITIVE_INFINITY }));
    expect(isProvenantError(error, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
    const message = (error as Error).message;
    for (const field of ['depth must be a positive integer, got 0', 'repeats must be a positive integer, got 1.5', 'damping must be a finite number ≥ 0, got -1', 'scale must be a finite number > 0']) {
      expect(message).toContain(field);
    }
    expectError(() => lissa(op, [1, 1], 1, { damping: Number.NaN }), 'ATTRIBUTION_INPUT_INVALID', /damping must be a finite number ≥ 0, got NaN/);
    expectError(() => lissa(op, [1, 1], 1, { batchSize: 4 }), 'ATTRIBUTION_INPUT_INVALID', /cannot sample mini-batches/);
  });
  it('fitLissa checks its options when fitted and records the resolved values from the one defaults table', () => {
    expectError(() => fitLissa(op, { depth: -3 }), 'ATTRIBUTION_INPUT_INVALID', /depth must be a positive integer, got -3/);
    const pre = fitLissa(op, { scale: 6 });
    expect(pre.params).toEqual({ depth: LISSA_DEFAULTS.depth, repeats: LISSA_DEFAULTS.repeats, scale: 6, batchSize: null, damping: LISSA_DEFAULTS.damping, seed: LISSA_DEFAULTS.seed });
  });
});
