/** Test problems for the convex logistic-regression attribution, built from seeded Gaussians. */
import { createConvexLogisticProblem, type ConvexLogisticProblem } from '../../../src/attribution/convex/index.js';
import { createRng } from '../../../src/core/index.js';

/** Gaussian blobs, one centre per class, so the problem is learnable but not separable; λ on every parameter. */
export function blobs(n: number, d: number, C: number, seed: number, lambda: number): ConvexLogisticProblem {
  const rng = createRng(seed);
  const centres = Array.from({ length: C }, () => Array.from({ length: d }, () => 1.5 * rng.nextNormal()));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.nextInt(C);
    y.push(c);
    x.push(centres[c]!.map((m) => m + rng.nextNormal()));
  }
  return createConvexLogisticProblem(x, y, { numClasses: C, lambda });
}
