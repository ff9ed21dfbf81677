/**
 * TRAK (Park et al. 2023, "TRAK: Attributing model behavior at scale", Algorithm 1): for each of M models (independently
 * trained models, or checkpoints), projected margin-gradient features Φ_m (n × k; featurize with target 'margin' and a
 * projection), then
 *   τ(z_t)_i = ( (1/M) Σ_m φ_m(z_t)ᵀ (Φ_mᵀ Φ_m)⁻¹ φ_m(z_i) ) · Q̄_ii,   Q̄ = (1/M) Σ_m diag(1 − p_m,i)
 * (Algorithm 1, lines 5–9, without the optional soft-thresholding). Query side: the per-model (Φ_mᵀΦ_m + λI)⁻¹φ_m(z_t)/M laid
 * side by side; training side: the per-model φ_m(z_i) side by side, scaled by Q̄_ii. Both sides must be concatenated in
 * model order with {@link trakFeatures}.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import { concatColumns, type FeatureMatrix } from '../feature-matrix.js';
import { columnSlice, gramMatrix } from './dense-linear-algebra.js';
import { choleskyFactor } from '../linalg/index.js';
import { mapRows, type Preconditioner } from './preconditioner.js';

export interface TrakModelFeatures {
  /** n × k projected margin gradients of the training rows under this model. */
  features: FeatureMatrix;
  /** p_y of each training row under this model (from `featurize`'s `labelProbability`). */
  labelProbability: ArrayLike<number>;
}

/** The options of {@link fitTrak}: a misspelt name is refused with the nearest field. */
export const TRAK_PARAMS: ParamTable = Object.freeze({
  name: 'fitTrak',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'damping', default: null, meaning: 'Ridge λ added to Φ_mᵀΦ_m (null: 1e-6 × its mean diagonal, a round-off guard).', aliases: ['lambda'] }],
});

export interface TrakOptions {
  /** Ridge λ added to Φ_mᵀΦ_m; default 1e-6 × its mean diagonal (guards round-off only). */
  damping?: number;
}

/**
 * Lays per-model features side by side, block names prefixed `model<m>/` — the layout {@link fitTrak}'s query and train
 * sides take (TRAK, Park et al. 2023, Algorithm 1: one projected feature matrix per model of the ensemble). Concatenate
 * training and query features in the same model order.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an empty list; `ATTRIBUTION_SHAPE_MISMATCH` when the row
 *   counts differ.
 * @example
 * ```ts
 * import { denseScores, fitTrak, trakFeatures, type Features } from 'provenant/attribution';
 *
 * declare const trainPerModel: Features[], testPerModel: Features[]; // featurize(…, { target: 'margin', projection }) per model
 * const pre = fitTrak(trainPerModel.map((f) => ({ features: f.features, labelProbability: f.labelProbability })));
 * const scores = denseScores(trakFeatures(trainPerModel.map((f) => f.features)), trakFeatures(testPerModel.map((f) => f.features)), pre);
 * ```
 */
export function trakFeatures(perModel: readonly FeatureMatrix[]): FeatureMatrix {
  return concatColumns(perModel, undefined, perModel.map((_, m) => `model${m}/`));
}

/**
 * Fits TRAK on an ensemble.
 *
 * @example
 * ```ts
 * import { denseScores, fitTrak, trakFeatures, type FeatureMatrix, type TrakModelFeatures } from 'provenant/attribution';
 * declare const models: readonly TrakModelFeatures[]; // one per independently trained model
 * declare const testPerModel: readonly FeatureMatrix[];
 * const pre = fitTrak(models);
 * const scores = denseScores(trakFeatures(models.map((m) => m.features)), trakFeatures(testPerModel), pre);
 * ```
 */
export function fitTrak(models: readonly TrakModelFeatures[], options: TrakOptions = {}): Preconditioner {
  resolve(TRAK_PARAMS, options);
  if (models.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'TRAK needs at least one model.');
  const n = models[0]!.features.rows;
  const M = models.length;
  const qBar = new Float64Array(n);
  const solvers = models.map((m, j) => {
    if (m.features.rows !== n || m.labelProbability.length !== n) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Model ${j} has ${m.features.rows} rows and ${m.labelProbability.length} probabilities; expected ${n}.`);
    }
    for (let i = 0; i < n; i++) qBar[i]! += (1 - m.labelProbability[i]!) / M;
    const k = m.features.dim;
    const G = gramMatrix(m.features);
    let trace = 0;
    for (let a = 0; a < k; a++) trace += G[a * k + a]!;
    const damping = options.damping ?? (1e-6 * trace) / k;
    return { k, damping, solver: choleskyFactor(G, k, { damping }) };
  });
  const widths = solvers.map((s) => s.k);
  const total = widths.reduce((a, b) => a + b, 0);
  const check = (f: FeatureMatrix, side: string) => {
    if (f.dim !== total) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `TRAK ${side} features have ${f.dim} columns; the ${M} models need ${total} (trakFeatures).`);
  };
  return {
    method: 'trak',
    params: { models: M, projectedDims: widths, damping: solvers.map((s) => s.damping) },
    query(q) {
      check(q, 'query');
      let offset = 0;
      const parts = solvers.map(({ k, solver }) => {
        const x = solver.solveRows(columnSlice(q, offset, k), q.rows);
        offset += k;
        return x;
      });
      return mapRows(q, (_row, out, i) => {
        let col = 0;
        solvers.forEach(({ k }, j) => {
          for (let c = 0; c < k; c++) out[col + c] = parts[j]![i * k + c]! / M;
          col += k;
        });
      });
    },
    train(f) {
      check(f, 'training');
      if (f.rows !== n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `TRAK was fitted on ${n} training rows, got ${f.rows}.`);
      return mapRows(f, (row, out, i) => {
        for (let c = 0; c < row.length; c++) out[c] = row[c]! * qBar[i]!;
      });
    },
  };
}
