/**
 * The pluggable middle step: featurize → **precondition** → score. A preconditioner maps query features and training
 * features so that τ(i, t) = ⟨query(g_t), train(g_i)⟩ (see ../conventions.ts for the sign). For an influence function
 * query(g) = H⁻¹g and train(g) = g; for Grad-Cos both sides are normalised; TRAK rescales the training side by 1 − p.
 */
import type { FeatureMatrix } from '../feature-matrix.js';

export interface Preconditioner {
  /** e.g. `grad-dot`, `datainf`, `inverse-hessian`, `trak`. Recorded in audit records. */
  readonly method: string;
  /** The numbers that define it (damping, λ per layer, iterations …), for the audit record. */
  readonly params: Record<string, unknown>;
  /** The query side (test points), rows = queries. */
  query(features: FeatureMatrix): FeatureMatrix;
  /** The training side, applied once when an index or a dense score matrix is built. */
  train(features: FeatureMatrix): FeatureMatrix;
  /** Frees backend memory some preconditioners keep between queries (DataInf keeps the training gradients). Idempotent. */
  dispose?(): void;
}

export const identityTransform = (f: FeatureMatrix): FeatureMatrix => f;

/**
 * Row-wise map of a feature matrix through a float64 function, back to float32, keeping the blocks: `fn(row, out, i)`
 * reads row i (length dim) and writes its image into `out` (zeroed before each call). How preconditioners apply a
 * per-row transform (a solve, a normalisation) without their own loops.
 *
 * @example
 * ```ts
 * import { mapRows, type FeatureMatrix } from 'provenant/attribution';
 *
 * declare const test: FeatureMatrix;
 * const unit = mapRows(test, (row, out) => {
 *   const norm = Math.hypot(...row) || 1;
 *   for (let c = 0; c < row.length; c++) out[c] = row[c]! / norm;
 * }); // rows scaled to unit length (Grad-Cos's query side)
 * ```
 */
export function mapRows(features: FeatureMatrix, fn: (row: Float64Array, out: Float64Array, index: number) => void): FeatureMatrix {
  const { rows, dim } = features;
  const data = new Float32Array(rows * dim);
  const row = new Float64Array(dim);
  const out = new Float64Array(dim);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < dim; c++) row[c] = features.data[i * dim + c]!;
    out.fill(0);
    fn(row, out, i);
    for (let c = 0; c < dim; c++) data[i * dim + c] = out[c]!;
  }
  return { rows, dim, data, blocks: features.blocks.map((b) => ({ ...b })) };
}
