/**
 * Leave-one-out correlation: how well attribution scores predict the actual effect of removing one training row and
 * retraining (Koh & Liang 2017, §5.1, Fig. 2; dattri's "LOO correlation", Deng et al. 2024).
 *
 * The effect of removing row i on test point t is  e(i, t) = f_t(all rows) − f_t(all rows but i)  where f is the
 * "higher is better" output of the retrain function (negative loss or margin). With the sign convention of
 * score-matrix.ts (τ > 0: proponent, its removal hurts t), a faithful method has τ(i, t) ≈ c·e(i, t), c > 0.
 */
import { ProvenantError, createProgressReporter, resolve, sampleIndices, type ParamTable, type ProgressCallback, type Seed } from '../../core/index.js';
import { finiteMean, pearson, spearman } from './correlation.js';
import { assertIndices, assertScoreMatrix, type ScoreMatrix } from './score-matrix.js';
import { callRetrain, complementRows, type RetrainFunction } from './train-function.js';

/** Actual leave-one-out effects for some removed rows and some test points. */
export interface LooGroundTruth {
  nTrain: number;
  /** Training rows that were removed, one retrain each. */
  rows: Uint32Array;
  /** Test-point columns (of the score matrix) the effects refer to. */
  tests: Uint32Array;
  /** Row-major `rows.length × tests.length`: e(rows[r], tests[c]) = f(full) − f(without rows[r]). */
  effects: Float64Array;
  /** f on every test column for the model trained on all rows. */
  fullOutputs: Float64Array;
}

/** The options of {@link computeLooGroundTruth}: a misspelt name is refused with the nearest field, never ignored. */
export const LOO_GROUND_TRUTH_PARAMS: ParamTable = Object.freeze({
  name: 'computeLooGroundTruth',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'rows', default: null, meaning: 'Training rows to leave out one at a time (null: sampleRows rows drawn with seed).' },
    { name: 'sampleRows', default: 100, meaning: 'Rows drawn when rows is not given (at most nTrain).' },
    { name: 'tests', default: null, meaning: 'Test columns to record (null: all nTest).' },
    { name: 'seed', default: 0, meaning: 'Seed of the row draw.' },
  ],
  inputs: ['nTrain', 'nTest', 'train', 'onProgress'],
});

export interface ComputeLooGroundTruthOptions {
  nTrain: number;
  /** Number of test points the retrain function reports (the score matrix's nTest). */
  nTest: number;
  train: RetrainFunction;
  /** Rows to remove (one retrain each); default `sampleRows` rows drawn with `seed`. */
  rows?: ArrayLike<number>;
  /** How many rows to draw when `rows` is not given. Default 100 (or nTrain if smaller). */
  sampleRows?: number;
  /** Test columns to keep; default all. */
  tests?: ArrayLike<number>;
  seed?: Seed;
  onProgress?: ProgressCallback;
}

/**
 * Retrains once on all rows and once without each chosen row, and records the effects. Cost: `rows.length + 1` retrains.
 *
 * @example
 * ```ts
 * import { computeLooGroundTruth, looCorrelation, type ScoreMatrix } from 'provenant/attribution';
 * declare const scores: ScoreMatrix;
 * declare function retrainAndScore(trainRows: Uint32Array): Promise<Float64Array>; // one output per test point
 * const truth = await computeLooGroundTruth({ nTrain: 100, nTest: 5, train: retrainAndScore, sampleRows: 20, seed: 1 });
 * const { spearman } = looCorrelation(scores, truth);
 * ```
 */
export async function computeLooGroundTruth(options: ComputeLooGroundTruthOptions): Promise<LooGroundTruth> {
  resolve(LOO_GROUND_TRUTH_PARAMS, options);
  const { nTrain, nTest, train } = options;
  if (!Number.isInteger(nTrain) || nTrain < 2 || !Number.isInteger(nTest) || nTest < 1) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `computeLooGroundTruth needs nTrain ≥ 2 and nTest ≥ 1, got ${nTrain} and ${nTest}.`);
  }
  if (typeof train !== 'function') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'computeLooGroundTruth needs a train function.');
  const rows = options.rows
    ? Uint32Array.from(options.rows)
    : sampleIndices(nTrain, Math.min(options.sampleRows ?? 100, nTrain), options.seed ?? 0);
  assertIndices(rows, nTrain, 'rows');
  const tests = options.tests ? Uint32Array.from(options.tests) : Uint32Array.from({ length: nTest }, (_, t) => t);
  assertIndices(tests, nTest, 'tests');
  const progress = createProgressReporter('loo-retrain', rows.length + 1, options.onProgress);
  const full = await callRetrain(train, complementRows(nTrain, []), nTest);
  progress.tick(1);
  const effects = new Float64Array(rows.length * tests.length);
  for (let r = 0; r < rows.length; r++) {
    const out = await callRetrain(train, complementRows(nTrain, [rows[r]!]), nTest);
    for (let c = 0; c < tests.length; c++) effects[r * tests.length + c] = full[tests[c]!]! - out[tests[c]!]!;
    progress.tick(r + 2);
  }
  const fullOutputs = new Float64Array(tests.length);
  for (let c = 0; c < tests.length; c++) fullOutputs[c] = full[tests[c]!]!;
  return { nTrain, rows, tests, effects, fullOutputs };
}

export interface LooCorrelationResult {
  /** Mean over test points of Pearson's r across the removed rows (dattri's per-test-point convention). */
  pearson: number;
  /** Mean over test points of Spearman's ρ across the removed rows. */
  spearman: number;
  /** Pearson's r over all (row, test) pairs pooled. */
  pooledPearson: number;
  /** Spearman's ρ over all (row, test) pairs pooled. */
  pooledSpearman: number;
  perTestPearson: Float64Array;
  perTestSpearman: Float64Array;
  /** Test points whose correlation was defined (non-constant scores and effects) and so entered the means. */
  testsUsed: number;
}

/**
 * Correlation between attribution scores and actual leave-one-out effects e(i, t) = f_t(all rows) − f_t(all but i)
 * (Koh & Liang 2017, §5.1, Fig. 2; dattri's "LOO correlation", Deng et al. 2024): per test point, Pearson's r and
 * Spearman's ρ across the removed rows, averaged over the test points where both series vary (`testsUsed`), plus the
 * same over all (row, test) pairs pooled. With τ > 0 for proponents a faithful method scores near 1.
 *
 * @param scores nTrain × nTest score matrix (see score-matrix.ts); only the entries at (truth.rows, truth.tests) are read.
 * @param truth from `computeLooGroundTruth`, or built by the caller in the same layout.
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when `truth` is for another nTrain, has fewer than 2 rows or
 *   no test, or an effects array of the wrong length; `ATTRIBUTION_INPUT_INVALID` for an index out of range or a
 *   malformed score matrix.
 * @example
 * ```ts
 * import { computeLooGroundTruth, looCorrelation, type RetrainFunction, type ScoreMatrix } from 'provenant/attribution';
 *
 * declare const scores: ScoreMatrix;   // 100 × 5, e.g. convexInfluenceScores(…)
 * declare const train: RetrainFunction; // retrains on the given rows, returns −loss per test point
 * const truth = await computeLooGroundTruth({ nTrain: 100, nTest: 5, train, sampleRows: 20, seed: 1 });
 * const { pearson, spearman, testsUsed } = looCorrelation(scores, truth); // e.g. 0.97, 0.95, 5
 * ```
 */
export function looCorrelation(scores: ScoreMatrix, truth: LooGroundTruth): LooCorrelationResult {
  assertScoreMatrix(scores);
  if (truth.nTrain !== scores.nTrain) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `The LOO ground truth is for ${truth.nTrain} training rows, the scores for ${scores.nTrain}.`);
  }
  const R = truth.rows.length;
  const C = truth.tests.length;
  if (R < 2 || C < 1 || truth.effects.length !== R * C) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', 'LOO ground truth needs ≥ 2 removed rows, ≥ 1 test point and rows × tests effects.', {
      metaMessages: [`rows: ${R}`, `tests: ${C}`, `effects: ${truth.effects.length}`],
    });
  }
  assertIndices(truth.rows, scores.nTrain, 'truth.rows');
  assertIndices(truth.tests, scores.nTest, 'truth.tests');
  const perTestPearson = new Float64Array(C);
  const perTestSpearman = new Float64Array(C);
  const predicted = new Float64Array(R * C);
  const actual = new Float64Array(R * C);
  const x = new Float64Array(R);
  const y = new Float64Array(R);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < R; r++) {
      x[r] = scores.values[truth.rows[r]! * scores.nTest + truth.tests[c]!]!;
      y[r] = truth.effects[r * C + c]!;
      predicted[c * R + r] = x[r]!;
      actual[c * R + r] = y[r]!;
    }
    perTestPearson[c] = pearson(x, y);
    perTestSpearman[c] = spearman(x, y);
  }
  const p = finiteMean(perTestPearson);
  const s = finiteMean(perTestSpearman);
  return {
    pearson: p.mean,
    spearman: s.mean,
    pooledPearson: pearson(predicted, actual),
    pooledSpearman: spearman(predicted, actual),
    perTestPearson,
    perTestSpearman,
    testsUsed: Math.min(p.count, s.count),
  };
}
