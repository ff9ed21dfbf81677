/**
 * gramMatrix over a column range: the values against a brute-force double loop, and every out-of-range `offset` / `size`
 * (or a weights array of the wrong length) refused with a typed error naming the argument, instead of reading the next
 * row's columns.
 */
import { describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';
import { gramMatrix, singleBlock, type FeatureMatrix } from '../../src/attribution/index.js';
import { createRng, isProvenantError } from '../../src/core/index.js';

function features(rows: number, dim: number, seed: number): FeatureMatrix {
  const rng = createRng(seed);
  return { rows, dim, data: Float32Array.from({ length: rows * dim }, () => rng.nextNormal()), blocks: singleBlock(dim) };
}

describe('gramMatrix column range', () => {
  it('equals Σ_i w_i g_i g_iᵀ over columns [offset, offset + size), by brute force', () => {
    const F = features(7, 9, 1);
    const w = [0.5, 1, 2, 0, 3, 1.5, 0.25];
    const offset = 3, size = 5;
    const G = gramMatrix(F, w, offset, size);
    let worst = 0;
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) {
      let s = 0;
      for (let i = 0; i < F.rows; i++) s += w[i]! * F.data[i * F.dim + offset + a]! * F.data[i * F.dim + offset + b]!;
      worst = Math.max(worst, Math.abs(G[a * size + b]! - s));
    }
    expect(worst).toBeLessThan(1e-12);
    expect(gramMatrix(F, undefined, 9, 0)).toHaveLength(0); // an empty range at the end is allowed
  });

  it('refuses an offset or size outside the matrix, naming the argument', () => {
    const F = features(4, 6, 2);
    const cases: Array<[number, number, 'offset' | 'size']> = [
      [-1, 2, 'offset'],
      [7, 0, 'offset'],
      [1.5, 2, 'offset'],
      [Number.NaN, 2, 'offset'],
      [0, -1, 'size'],
      [0, 2.5, 'size'],
      [4, 3, 'size'], // 4 + 3 > 6: would read the next row's first column
      [0, 7, 'size'],
    ];
    for (const [offset, size, argument] of cases) {
      const e = thrown(() => gramMatrix(F, undefined, offset, size));
      expect(isProvenantError(e, 'ATTRIBUTION_INPUT_INVALID'), `offset ${offset}, size ${size}`).toBe(true);
      expect((e as Error).message).toContain(`${argument} = ${argument === 'offset' ? offset : size}`);
      expect((e as { data?: { argument?: string } }).data?.argument).toBe(argument);
    }
  });

  it('refuses weights that are not one per row, naming weights', () => {
    const e = thrown(() => gramMatrix(features(4, 3, 3), [1, 1, 1]));
    expect(isProvenantError(e, 'ATTRIBUTION_SHAPE_MISMATCH')).toBe(true);
    expect((e as Error).message).toMatch(/weights has 3 entries, expected 4 × 1/);
  });
});
