/**
 * TRAK's ensemble estimator, streamed one model at a time (Park et al. 2023, "TRAK: Attributing Model Behavior at Scale",
 * Algorithm 1, the ensemble step after the per-model loop, without the optional soft-thresholding):
 *
 *   τ(z_t)_i = Q̄_ii · (1/M) Σ_m φ_m(z_t)ᵀ (Φ_mᵀ Φ_m + λ_m I)⁻¹ φ_m(z_i),   Q̄ = (1/M) Σ_m diag(1 − p_m,i)
 *
 * where model m (an independently trained model, or a checkpoint along one training run) gives the projected
 * margin-gradient features Φ_m (n × k) of the training rows and φ_m(z_t) of each query. {@link fitTrak} computes the same
 * numbers from features concatenated across models (M·k columns in memory at once); this accumulator keeps only one
 * model's features and one n × n_test sum, so 50 models at k = 2,048 cost 50 Gram matrices, not a 100k-wide matrix.
 * Products run on the float64 dense kernel (src/attribution/linalg), or with `precision: 'float32'` on the float32 kernel
 * (TRAK's own precision: its score computer forms XᵀX and the score products in float16/float32 and inverts in float32,
 * trak/score_computers.py); the Cholesky factor and its solves stay float64 either way.
 */
import { ProvenantError, resolve, type ParamTable } from '../core/index.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { validateFeatureMatrix } from './feature-matrix.js';
import { createGemmF32, type GemmF32 } from '../finetune/index.js';
import { choleskyFactor, gram, gramFloat32, matMulNT, matMulNTFloat32 } from './linalg/index.js';
import type { ScoreMatrix } from './quality/index.js';

/** One model's (or checkpoint's) projected margin-gradient features, training rows and queries under the same projection. */
export interface TrakEnsembleModel {
  /** n × k projected margin gradients of the training rows (featurize with target `margin` and a projection). */
  train: FeatureMatrix;
  /** n_test × k projected margin gradients of the queries, same projection. */
  test: FeatureMatrix;
  /** p_y of each training row under this model (`featurize`'s `labelProbability`): TRAK's Q_ii = 1 − p_y. */
  labelProbability: ArrayLike<number>;
}

export interface TrakEnsembleOptions {
  /**
   * Ridge λ_m added to Φ_mᵀΦ_m, each as a multiple of that Gram matrix's mean diagonal (tr/k), so one value fits every
   * model and projection width. Several values give several score matrices from the same Gram matrices (a λ path).
   * Default `[1e-6]` (round-off guard only: Algorithm 1 has no ridge).
   */
  relativeDamping?: readonly number[];
  /**
   * Working precision of the two large products (the n × k Gram matrix Φᵀ Φ and the n × k × n_test score product):
   * `'float64'` (default) or `'float32'`, TRAK's reference precision (Park et al. 2023, trak/score_computers.py: XᵀX and
   * the products in float16/float32): 2.2× faster per model at n = 5,000, k = 1,056, 500 queries on Node 20 (the
   * float64 Cholesky and solves remain; benchmarks/attribution-trak-speed.ts). Float32 sums carry a relative error of
   * ≈ 1e-7·√n in Φᵀ Φ, which the solve amplifies by up to tr(Φᵀ Φ)/λ: use it with a damping that is not tiny
   * (relativeDamping ≳ 1e-3; bench:attribution's MLP uses 0.3, where the scores move by ≈ 1e-7 relative).
   */
  precision?: 'float64' | 'float32';
}

export interface TrakModelScoresOptions extends TrakEnsembleOptions {
  /**
   * With `precision: 'float32'`: a float32 product workspace (`createGemmF32()`) kept across models, so its memory is grown
   * once, not per model; the caller disposes it. Default a fresh one per call.
   */
  gemm?: GemmF32;
}

/** One model's unweighted contribution, per damping: S_m = Φ_m (Φ_mᵀΦ_m + λI)⁻¹ φ_m(z_t) as n × n_test, and 1 − p_m. */
export interface TrakModelScores {
  nTrain: number;
  nTest: number;
  /** One n × n_test row-major matrix per entry of `relativeDamping`. */
  values: Float64Array[];
  /** The absolute λ used for each entry of `relativeDamping`. */
  damping: number[];
  /** 1 − p_y per training row (TRAK's Q diagonal for this model). */
  oneMinusP: Float64Array;
}

/** A running TRAK ensemble: add models one at a time, read the ensemble's scores at any point (e.g. after 1, 5, 10 … models). */
export interface TrakEnsemble {
  /** Models added so far (M). */
  readonly models: number;
  /** Featurized model → its contribution ({@link trakModelScores}) added to the sums. */
  add(model: TrakEnsembleModel): void;
  /** Adds an already computed contribution (when one model's scores feed several ensembles). */
  addScores(scores: TrakModelScores): void;
  /** The ensemble's n_train × n_test scores (SCORE_LAYOUT) at `relativeDamping[which]` (default the first). */
  scores(which?: number): ScoreMatrix;
}

const DEFAULT_DAMPING = [1e-6] as const;

/** The options of {@link createTrakEnsemble} and {@link trakModelScores}: a misspelt name is refused with the nearest field. */
export const TRAK_ENSEMBLE_PARAMS: ParamTable = Object.freeze({
  name: 'trakEnsemble',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'relativeDamping', default: DEFAULT_DAMPING, meaning: 'Ridge λ_m as multiples of each Gram matrix\'s mean diagonal; several values give a λ path.', aliases: ['damping', 'relative_damping'] },
    { name: 'precision', default: 'float64', meaning: 'Working precision of the Gram and score products: float64 or float32 (TRAK\'s reference).' },
    { name: 'gemm', default: null, meaning: 'trakModelScores with float32: a product workspace kept across models (null: a fresh one per call).' },
  ],
});

function checkPrecision(value: unknown): 'float64' | 'float32' {
  const precision = value ?? 'float64';
  if (precision !== 'float64' && precision !== 'float32') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `precision must be 'float64' or 'float32', got ${String(precision)}.`, { data: { precision: String(precision) } });
  return precision;
}

function checkDampings(values: readonly number[]): void {
  if (values.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'relativeDamping needs at least one value.');
  values.forEach((v, j) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `relativeDamping[${j}] must be finite and ≥ 0, got ${v}.`, { data: { index: j, value: v } });
  });
}

/**
 * One model's TRAK contribution before averaging: for each damping, S = Φ (ΦᵀΦ + λI)⁻¹ φ(z_t) (n × n_test, float64),
 * and the Q diagonal 1 − p_y. Cost: one Gram matrix (n·k²), then per damping one Cholesky (k³/3), n_test solves and one
 * n × k × n_test product.
 *
 * Throws `ATTRIBUTION_SHAPE_MISMATCH` when the train and test widths differ or the probabilities do not match the rows,
 * `ATTRIBUTION_INPUT_INVALID` for a bad damping or precision or a probability outside [0, 1] (naming the row), and
 * `BACKEND_UNAVAILABLE` for `precision: 'float32'` where WebAssembly SIMD is missing (`gemmF32Available()` tells).
 *
 * @example
 * ```ts
 * import { trakModelScores, type TrakEnsembleModel } from 'provenant/attribution';
 * declare const model: TrakEnsembleModel;
 * const s = trakModelScores(model, { relativeDamping: [1e-6, 1e-2] });
 * // s.values[1][i * s.nTest + t]: row i's unweighted score for query t at λ = 1e-2 · tr(ΦᵀΦ)/k
 * ```
 */
export function trakModelScores(model: TrakEnsembleModel, options: TrakModelScoresOptions = {}): TrakModelScores {
  resolve(TRAK_ENSEMBLE_PARAMS, options);
  const dampings = options.relativeDamping ?? DEFAULT_DAMPING;
  checkDampings(dampings);
  const { train, test, labelProbability } = model;
  validateFeatureMatrix(train, 'TRAK training features');
  validateFeatureMatrix(test, 'TRAK query features');
  const n = train.rows;
  const k = train.dim;
  if (test.dim !== k) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `TRAK query features have ${test.dim} columns, the training features ${k}: both need the same projection.`, { data: { train: k, test: test.dim } });
  if (labelProbability.length !== n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `TRAK got ${labelProbability.length} label probabilities for ${n} training rows.`, { data: { rows: n, probabilities: labelProbability.length } });
  const oneMinusP = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = labelProbability[i]!;
    if (!(p >= 0 && p <= 1)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Label probability of training row ${i} is ${p}; expected a value in [0, 1].`, { data: { row: i, value: p } });
    oneMinusP[i] = 1 - p;
  }
  const precision = checkPrecision(options.precision);
  // One float32 workspace for the Gram matrix and every score product of this model (its memory is reused between them).
  if (precision === 'float64') return scoresWith(train, test, oneMinusP, dampings, null);
  if (options.gemm) return scoresWith(train, test, oneMinusP, dampings, options.gemm);
  const gemm = createGemmF32();
  try {
    return scoresWith(train, test, oneMinusP, dampings, gemm);
  } finally {
    gemm.dispose();
  }
}

function scoresWith(train: FeatureMatrix, test: FeatureMatrix, oneMinusP: Float64Array, dampings: readonly number[], gemm: GemmF32 | null): TrakModelScores {
  const n = train.rows;
  const k = train.dim;
  const G = gemm ? gramFloat32(train.data, n, k, { gemm }) : gram(train.data, n, k);
  let trace = 0;
  for (let a = 0; a < k; a++) trace += G[a * k + a]!;
  const meanDiagonal = trace / k;
  const damping: number[] = [];
  const values = dampings.map((rel) => {
    // A zero Gram (all-zero features) with zero damping is singular: fall back to the round-off guard, never divide by 0.
    const lambda = rel * meanDiagonal > 0 ? rel * meanDiagonal : 1e-12 * Math.max(1, meanDiagonal);
    damping.push(lambda);
    const V = choleskyFactor(G, k, { damping: lambda }).solveRows(test.data, test.rows);
    return gemm ? matMulNTFloat32(train.data, n, k, Float32Array.from(V), test.rows, { gemm }) : matMulNT(train.data, n, k, V, test.rows);
  });
  return { nTrain: n, nTest: test.rows, values, damping, oneMinusP };
}

/**
 * A streaming TRAK ensemble (Park et al. 2023, Algorithm 1, ensemble step): sums each model's Φ_m (Φ_mᵀΦ_m + λI)⁻¹ φ_m(z_t) and
 * 1 − p_m, and returns Q̄ · (1/M) Σ_m … on request. Memory: one n × n_test float64 sum per damping, whatever M is.
 *
 * Throws `ATTRIBUTION_SHAPE_MISMATCH` when a model's rows or queries differ from the first model's, and
 * `ATTRIBUTION_INPUT_INVALID` when scores are read before any model was added or `which` is not a damping index.
 *
 * @example
 * ```ts
 * import { createTrakEnsemble, type TrakEnsembleModel } from 'provenant/attribution';
 * declare const models: TrakEnsembleModel[]; // one per independently trained model or checkpoint
 * const ensemble = createTrakEnsemble({ relativeDamping: [1e-6] });
 * for (const m of models) ensemble.add(m);
 * const { values, nTrain, nTest } = ensemble.scores(); // values[i * nTest + t] = τ(train i, query t)
 * ```
 */
export function createTrakEnsemble(options: TrakEnsembleOptions = {}): TrakEnsemble {
  resolve(TRAK_ENSEMBLE_PARAMS, options);
  const dampings = [...(options.relativeDamping ?? DEFAULT_DAMPING)];
  checkDampings(dampings);
  const precision = checkPrecision(options.precision);
  let gemm: GemmF32 | null = null;
  let sums: Float64Array[] | null = null;
  let qSum: Float64Array | null = null;
  let nTrain = 0;
  let nTest = 0;
  let count = 0;
  const addScores = (s: TrakModelScores) => {
    if (s.values.length !== dampings.length) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Model scores carry ${s.values.length} dampings; the ensemble has ${dampings.length}.`);
    if (sums === null) {
      nTrain = s.nTrain;
      nTest = s.nTest;
      sums = dampings.map(() => new Float64Array(nTrain * nTest));
      qSum = new Float64Array(nTrain);
    } else if (s.nTrain !== nTrain || s.nTest !== nTest) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Model ${count} has ${s.nTrain} training rows × ${s.nTest} queries; the ensemble has ${nTrain} × ${nTest}.`, { data: { model: count } });
    }
    s.values.forEach((v, j) => {
      if (v.length !== nTrain * nTest) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Model ${count}'s score matrix ${j} has ${v.length} values, expected ${nTrain * nTest}.`);
      const sum = sums![j]!;
      for (let q = 0; q < v.length; q++) sum[q]! += v[q]!;
    });
    for (let i = 0; i < nTrain; i++) qSum![i]! += s.oneMinusP[i]!;
    count++;
  };
  return {
    get models() {
      return count;
    },
    add(model) {
      // One float32 workspace for every model added (grown once, freed with the ensemble).
      if (precision === 'float32') gemm ??= createGemmF32();
      addScores(trakModelScores(model, { relativeDamping: dampings, precision, gemm: gemm ?? undefined }));
    },
    addScores,
    scores(which = 0) {
      if (sums === null || qSum === null) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The TRAK ensemble has no models yet: add at least one before reading scores.');
      if (!Number.isInteger(which) || which < 0 || which >= dampings.length) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Damping index ${which} is not one of 0…${dampings.length - 1}.`);
      const sum = sums[which]!;
      const out = new Float64Array(nTrain * nTest);
      const M2 = count * count;
      for (let i = 0; i < nTrain; i++) {
        const w = qSum[i]! / M2;
        for (let t = 0; t < nTest; t++) out[i * nTest + t] = sum[i * nTest + t]! * w;
      }
      return { values: out, nTrain, nTest };
    },
  };
}
