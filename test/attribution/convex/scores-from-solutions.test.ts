/**
 * convexScoresFromSolutions against the definition τ(i, t) = ∇ℓ_iᵀ V_t = Σ_{j,c} x̃_ij r_ic V_t[j, c], by plain loops:
 * softmax residuals (each row sums to zero, so the last class folds into the others and the product has C − 1 columns
 * per test point), residuals that do not sum to zero (all C columns), test-point counts across the 250-point chunk, and
 * both dense engines.
 */
import { describe, expect, it } from 'vitest';
import { convexExampleResiduals, convexScoresFromSolutions, createConvexLogisticProblem } from '../../../src/attribution/convex/index.js';
import { createRng } from '../../../src/core/index.js';

function bruteForce(x: Float64Array, n: number, d: number, C: number, r: Float64Array, V: Float64Array, q: number): Float64Array {
  const P = (d + 1) * C;
  const out = new Float64Array(n * q);
  for (let i = 0; i < n; i++) for (let t = 0; t < q; t++) {
    let s = 0;
    for (let j = 0; j <= d; j++) {
      const xij = j < d ? x[i * d + j]! : 1;
      for (let c = 0; c < C; c++) s += xij * r[i * C + c]! * V[t * P + j * C + c]!;
    }
    out[i * q + t] = s;
  }
  return out;
}

function relMax(a: Float64Array, b: Float64Array): number {
  let d = 0, m = 0;
  for (let k = 0; k < a.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    m = Math.max(m, Math.abs(b[k]!));
  }
  return d / m;
}

describe('convexScoresFromSolutions', () => {
  const n = 40, d = 7, C = 4, P = (d + 1) * C;
  const rng = createRng(3);
  const x = Float64Array.from({ length: n * d }, () => rng.nextNormal());
  const y = Array.from({ length: n }, () => rng.nextInt(C));
  const problem = createConvexLogisticProblem(x, y, { numClasses: C, lambda: 1e-2, d });
  const theta = Float64Array.from({ length: P }, () => 0.3 * rng.nextNormal());

  it('equals the per-pair definition for softmax residuals (folded to C − 1 columns) and for residuals not summing to zero, across the chunk, both engines', () => {
    const softmax = convexExampleResiduals(problem, theta);
    const rowSum = (r: Float64Array, i: number) => r.subarray(i * C, (i + 1) * C).reduce((s, v) => s + v, 0);
    expect(Math.max(...Array.from({ length: n }, (_, i) => Math.abs(rowSum(softmax, i))))).toBeLessThan(1e-15);
    const skewed = softmax.map((v, k) => v + (k % C === 0 ? 0.25 : 0)); // rows sum to 0.25: the fold would be wrong
    for (const q of [1, 251]) {
      const V = Float64Array.from({ length: q * P }, () => rng.nextNormal());
      for (const residuals of [softmax, skewed]) {
        const expected = bruteForce(x, n, d, C, residuals, V, q);
        for (const engine of ['wasm', 'js'] as const) {
          expect(relMax(convexScoresFromSolutions(problem, residuals, V, q, engine), expected)).toBeLessThan(1e-13);
        }
      }
    }
  });
});
