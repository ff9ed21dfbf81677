/**
 * Randomly projected per-example gradients of the convex reference, for any number of parameter vectors θ, without
 * forming a gradient. Each gradient is an outer product, ∇ℓ_i = x̃_i ⊗ r_i (x̃_i = [x_i, 1], r_i = ∂ℓ_i/∂z ∈ R^C; the
 * parameter index is j·C + c), so with the projection Π (P × k) split by class into Π_c ((d + 1) × k, rows j·C + c):
 *
 *   Πᵀ ∇ℓ_i = Σ_c r_ic · (Π_cᵀ x̃_i) = Σ_c r_ic · Y_c[i],   Y = X̃ · Π' (n × C·k, Π' = Π read as (d + 1) × C·k)
 *
 * Y depends on the data and the projection only: one n·(d + 1)·C·k product, then each θ costs n·C·k instead of the
 * n·P·k of projecting materialized gradients (k = 512, C = 10: 785× fewer multiply-adds per model). TRAK uses one
 * projector (one seed) for every model of its ensemble (Park et al. 2023, §3; trak's `TRAKer(proj_seed)`), which is what
 * makes Y shareable across models.
 */
import { ProvenantError } from '../../core/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { matMul } from '../linalg/index.js';
import { logitGradients, type GradientTarget } from '../per-example-gradients.js';
import { projectRow } from './kernels.js';
import { assertTheta, parameterCount, type ConvexLogisticProblem } from './problem.js';

/** Rows per block of the one-off product X̃ · Π' (bounds its workspace to ≈ 8·(1,024 + C·k)·(d + 1) bytes + the output block). */
const ROW_BLOCK = 1024;

export interface ConvexProjectedGradients {
  /** n × k projected gradients of `target`, float32. */
  features: FeatureMatrix;
  /** p_y of each row under θ (TRAK's Q_ii = 1 − p_y). */
  labelProbability: Float64Array;
}

export interface ConvexGradientProjector {
  readonly rows: number;
  /** Projected dimension k. */
  readonly dim: number;
  /**
   * Every row's projected gradient at θ. `target` `'loss'` (default): ∇ℓ_i, r_i = p_i − e_{y_i}; `'margin'`: the gradient of
   * TRAK's margin log(p_y / (1 − p_y)) (Park et al. 2023, Algorithm 1), r_i = e_{y_i} − q_i with q_c = p_c / (1 − p_y) for
   * c ≠ y, from the logits (`logitGradients`, as `featurize` computes it: no cancellation as p_y → 1). r is float32 there.
   */
  project(theta: Float64Array, options?: { target?: GradientTarget }): ConvexProjectedGradients;
}

/**
 * Precomputes Y = X̃ · Π' for `problem`'s rows (float64, n × C·k; 205 MB at n = 5,000, C = 10, k = 512) and returns a
 * projector whose `project(θ)` gives Πᵀ ∇ℓ_i of every row at θ in n·C·k multiply-adds, equal (to float64 rounding before
 * the float32 output) to `convexExampleGradients(problem, θ)` times the projection.
 *
 * @param projection P × k row-major (P = (d + 1)·C, the parameter order of `convexExampleGradients`), e.g.
 *   `projectionMatrix('gaussian', P, k, seed)`.
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when `projection` is not P × k (or k is not a positive integer), or
 *   θ has the wrong length; `ATTRIBUTION_INPUT_INVALID` for an unknown target.
 * @example
 * ```ts
 * import { createConvexGradientProjector, projectionMatrix, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const problem: ConvexLogisticProblem;
 * declare const thetas: Float64Array[]; // e.g. TRAK's models retrained on random halves
 * const P = (problem.d + 1) * problem.numClasses;
 * const projector = createConvexGradientProjector(problem, projectionMatrix('gaussian', P, 512, 5), 512);
 * const perModel = thetas.map((theta) => projector.project(theta, { target: 'margin' })); // { features, labelProbability }
 * ```
 */
export function createConvexGradientProjector(problem: ConvexLogisticProblem, projection: ArrayLike<number>, dim: number): ConvexGradientProjector {
  const P = parameterCount(problem);
  const { n, d, numClasses: C, x } = problem;
  if (!Number.isInteger(dim) || dim < 1 || projection.length !== P * dim) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `The projection has ${projection.length} entries; ${P} parameters × ${dim} dimensions need ${P * dim}.`, { data: { entries: projection.length, parameters: P, dim } });
  }
  const width = C * dim;
  const Y = new Float64Array(n * width);
  for (let r0 = 0; r0 < n; r0 += ROW_BLOCK) {
    const r1 = Math.min(n, r0 + ROW_BLOCK);
    const xt = new Float64Array((r1 - r0) * (d + 1));
    for (let i = r0; i < r1; i++) {
      xt.set(x.subarray(i * d, (i + 1) * d), (i - r0) * (d + 1));
      xt[(i - r0) * (d + 1) + d] = 1;
    }
    Y.set(matMul(xt, r1 - r0, d + 1, projection, width), r0 * width);
  }
  return {
    rows: n,
    dim,
    project(theta, options = {}) {
      const target = options.target ?? 'loss';
      if (target !== 'loss' && target !== 'margin') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown gradient target "${String(target)}".`, { data: { target: String(target) } });
      assertTheta(problem, theta);
      const logits = new Float64Array(n * C);
      for (let i = 0; i < n; i++) projectRow(problem, i, theta, logits.subarray(i * C, (i + 1) * C));
      // r_i = ∂(target)/∂z_i from the logits, as featurize's tfjs path computes it (the margin's 1 − p_y summed over the other classes).
      const { grad: r, labelProbability } = logitGradients(logits, C, problem.labels, target);
      const out = new Float32Array(n * dim);
      const acc = new Float64Array(dim);
      for (let i = 0; i < n; i++) {
        acc.fill(0);
        for (let c = 0; c < C; c++) {
          const w = r[i * C + c]!;
          if (w === 0) continue;
          const yc = i * width + c * dim;
          for (let a = 0; a < dim; a++) acc[a]! += w * Y[yc + a]!;
        }
        for (let a = 0; a < dim; a++) out[i * dim + a] = acc[a]!;
      }
      return { features: { rows: n, dim, data: out, blocks: [{ name: 'projected', module: 'linear', offset: 0, size: dim }] }, labelProbability };
    },
  };
}
