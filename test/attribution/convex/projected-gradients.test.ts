/**
 * The convex projector (Πᵀ∇ℓ_i from the precomputed X̃·Π', never forming a gradient) against brute force: every
 * per-example gradient materialized by `convexExampleGradients` and projected by a plain triple loop; the margin target
 * against −∇ℓ_i / (1 − p_y) (TRAK's margin gradient, Park et al. 2023), with 1 − p_y summed over the other classes.
 */
import { describe, expect, it } from 'vitest';
import { convexExampleGradients, convexProbabilities, createConvexGradientProjector, createConvexLogisticProblem } from '../../../src/attribution/convex/index.js';
import { projectionMatrix } from '../../../src/attribution/index.js';
import { createRng } from '../../../src/core/index.js';
import { maxRelativeDifference as relDiff } from '../linalg/random-matrices.js';

const n = 37;
const d = 6;
const C = 4;
const k = 9;
const P = (d + 1) * C;
const rng = createRng(11);
const x = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.nextNormal()));
const labels = Array.from({ length: n }, (_, i) => i % C);
const problem = createConvexLogisticProblem(x, labels, { numClasses: C, lambda: 1e-2 });
const thetas = [0, 1].map(() => Float64Array.from({ length: P }, () => 0.7 * rng.nextNormal()));
const projection = projectionMatrix('gaussian', P, k, 5);

function bruteForce(theta: Float64Array, target: 'loss' | 'margin'): Float64Array {
  const g = convexExampleGradients(problem, theta);
  const p = convexProbabilities(problem, theta);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let rest = 0;
    for (let c = 0; c < C; c++) if (c !== labels[i]) rest += p[i * C + c]!;
    const s = target === 'loss' ? 1 : -1 / rest;
    for (let a = 0; a < k; a++) {
      let acc = 0;
      for (let q = 0; q < P; q++) acc += g[i * P + q]! * projection[q * k + a]!;
      out[i * k + a] = s * acc;
    }
  }
  return out;
}


describe('createConvexGradientProjector (projected outer-product gradients)', () => {
  const projector = createConvexGradientProjector(problem, projection, k);

  it.each(['loss', 'margin'] as const)('equals the materialized %s gradients times the projection, for every θ', (target) => {
    for (const theta of thetas) {
      const { features, labelProbability } = projector.project(theta, { target });
      expect([features.rows, features.dim]).toEqual([n, k]);
      // float32 output and float32 logit gradients (as featurize's): agreement to float32 rounding.
      expect(relDiff(features.data, bruteForce(theta, target))).toBeLessThan(2e-6);
      const p = convexProbabilities(problem, theta);
      expect(relDiff(labelProbability, Float64Array.from(labels, (y, i) => p[i * C + y]!))).toBeLessThan(1e-12);
    }
  });

  it('refuses a projection of the wrong shape, a bad θ and an unknown target', () => {
    expect(() => createConvexGradientProjector(problem, projection.subarray(1), k)).toThrow(/28 parameters × 9 dimensions need 252/);
    expect(() => projector.project(new Float64Array(3))).toThrow(/parameters, got 3/);
    expect(() => projector.project(thetas[0]!, { target: 'logit' as 'loss' })).toThrow(/Unknown gradient target "logit"/);
  });
});
