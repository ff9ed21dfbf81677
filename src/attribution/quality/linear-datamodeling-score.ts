/**
 * Linear datamodeling score (Park et al. 2023, "TRAK", §2.2 Def. 2.3; Ilyas et al. 2022, "Datamodels").
 *
 * Draw S subsets S_1..S_S of ⌊α·n⌋ training rows; retrain on each and record f_t(S_j), the "higher is better" output on
 * test point t (negative loss or margin). The attribution method predicts g_t(S_j) = Σ_{i∈S_j} τ(i, t). Then
 *   LDS(t) = Spearman( (g_t(S_j))_j , (f_t(S_j))_j ),   LDS = mean over test points.
 * With τ > 0 for proponents, rows whose presence helps t raise both g and f, so a good method scores near 1.
 */
import { ProvenantError, createProgressReporter, permutation, createRng, resolve, type ParamTable, type ProgressCallback, type Seed } from '../../core/index.js';
import { finiteMean, spearman } from './correlation.js';
import { assertIndices, assertScoreMatrix, type ScoreMatrix } from './score-matrix.js';
import { callRetrain, type RetrainFunction } from './train-function.js';

/** The options of {@link sampleLdsSubsets}: a misspelt name is refused with the nearest field, never ignored. */
export const LDS_SUBSET_PARAMS: ParamTable = Object.freeze({
  name: 'sampleLdsSubsets',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'fraction', default: 0.5, meaning: 'Fraction α of the training rows in each subset (TRAK and dattri use 0.5).', aliases: ['alpha'] },
    { name: 'count', default: 100, meaning: 'Number of subsets.', aliases: ['subsetCount', 'numSubsets'] },
    { name: 'seed', default: 0, meaning: 'Seed of the subset draws.' },
  ],
});

/** The options of {@link computeLdsGroundTruth}: {@link LDS_SUBSET_PARAMS} plus its inputs. */
export const LDS_GROUND_TRUTH_PARAMS: ParamTable = Object.freeze({
  ...LDS_SUBSET_PARAMS,
  name: 'computeLdsGroundTruth',
  inputs: ['nTrain', 'nTest', 'train', 'subsets', 'onProgress'],
});

export interface LdsSubsetOptions {
  /** Fraction α of the training rows in each subset. Default 0.5 (as TRAK and dattri). */
  fraction?: number;
  /** Number of subsets. Default 100. */
  count?: number;
  seed?: Seed;
}

/**
 * `count` subsets (default 100) of ⌊fraction·nTrain⌋ distinct rows each (default fraction 0.5, as TRAK and dattri),
 * ascending indices, drawn with `seed` — the subsets of the linear datamodeling score (Park et al. 2023, §2.2).
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for nTrain < 2, a fraction outside (0, 1), fewer than 2 subsets,
 *   or an empty subset.
 * @example
 * ```ts
 * import { sampleLdsSubsets } from 'provenant/attribution';
 *
 * const subsets = sampleLdsSubsets(5000, { count: 50, fraction: 0.5, seed: 0 }); // 50 × Uint32Array(2500), ascending
 * ```
 */
export function sampleLdsSubsets(nTrain: number, options: LdsSubsetOptions = {}): Uint32Array[] {
  resolve(LDS_SUBSET_PARAMS, options);
  const fraction = options.fraction ?? 0.5;
  const count = options.count ?? 100;
  if (!Number.isInteger(nTrain) || nTrain < 2) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LDS needs nTrain ≥ 2, got ${nTrain}.`);
  if (!(fraction > 0 && fraction < 1)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LDS subset fraction must be in (0, 1), got ${fraction}.`);
  if (!Number.isInteger(count) || count < 2) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LDS needs at least 2 subsets (a rank correlation over subsets), got ${count}.`);
  const size = Math.floor(fraction * nTrain);
  if (size < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `fraction ${fraction} of ${nTrain} rows is an empty subset.`);
  const rng = createRng(options.seed ?? 0);
  const subsets: Uint32Array[] = [];
  for (let j = 0; j < count; j++) subsets.push(permutation(nTrain, rng).slice(0, size).sort());
  return subsets;
}

/** The retraining half of LDS, kept apart so many methods can be scored against one (expensive) set of retrains. */
export interface LdsGroundTruth {
  nTrain: number;
  nTest: number;
  subsets: Uint32Array[];
  /** outputs[j][t] = f_t(S_j). */
  outputs: Float64Array[];
}

export interface ComputeLdsGroundTruthOptions extends LdsSubsetOptions {
  nTrain: number;
  nTest: number;
  train: RetrainFunction;
  /** Use these subsets instead of drawing them. */
  subsets?: Uint32Array[];
  onProgress?: ProgressCallback;
}

/**
 * Retrains on each subset through the caller's `train` function. Cost: `count` retrains.
 *
 * @example
 * ```ts
 * import { computeLdsGroundTruth, linearDatamodelingScore, type ScoreMatrix } from 'provenant/attribution';
 * declare const scores: ScoreMatrix;
 * declare function retrainAndScore(trainRows: Uint32Array): Promise<Float64Array>; // margin per test point
 * const truth = await computeLdsGroundTruth({ nTrain: scores.nTrain, nTest: scores.nTest, train: retrainAndScore, count: 100, fraction: 0.5, seed: 0 });
 * const { score } = linearDatamodelingScore(scores, truth); // mean Spearman over test points
 * ```
 */
export async function computeLdsGroundTruth(options: ComputeLdsGroundTruthOptions): Promise<LdsGroundTruth> {
  resolve(LDS_GROUND_TRUTH_PARAMS, options);
  const { nTrain, nTest, train } = options;
  if (typeof train !== 'function') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'computeLdsGroundTruth needs a train function.');
  if (!Number.isInteger(nTest) || nTest < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LDS needs nTest ≥ 1, got ${nTest}.`);
  const subsets = options.subsets ?? sampleLdsSubsets(nTrain, { fraction: options.fraction, count: options.count, seed: options.seed });
  subsets.forEach((s, j) => assertIndices(s, nTrain, `subsets[${j}]`));
  const progress = createProgressReporter('lds-retrain', subsets.length, options.onProgress);
  const outputs: Float64Array[] = [];
  for (let j = 0; j < subsets.length; j++) {
    outputs.push(await callRetrain(train, subsets[j]!, nTest));
    progress.tick(j + 1);
  }
  return { nTrain, nTest, subsets, outputs };
}

export interface LdsResult {
  /** Mean over test points of the per-test Spearman ρ. */
  score: number;
  perTest: Float64Array;
  /** Test points with a defined correlation (non-constant predictions and outputs), the ones averaged. */
  testsUsed: number;
}

/**
 * The linear datamodeling score (Park et al. 2023, "TRAK", §2.2 Def. 2.3; Ilyas et al. 2022, "Datamodels"): for each
 * test point t, Spearman's ρ between the predicted g_t(S_j) = Σ_{i∈S_j} τ(i, t) and the retrained output f_t(S_j) over
 * the subsets S_j; `score` is the mean over the test points where both series vary (`testsUsed`).
 *
 * @param scores nTrain × nTest (see score-matrix.ts), τ > 0 for proponents.
 * @param truth from `computeLdsGroundTruth` (same nTrain and nTest).
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when the truth and the scores disagree on nTrain × nTest or the
 *   truth has fewer than 2 subsets or outputs of the wrong length; `ATTRIBUTION_INPUT_INVALID` for a repeated or
 *   out-of-range row in a subset, or a non-finite output.
 * @example
 * ```ts
 * import { computeLdsGroundTruth, linearDatamodelingScore, type RetrainFunction, type ScoreMatrix } from 'provenant/attribution';
 *
 * declare const scores: ScoreMatrix;   // 5000 × 500
 * declare const train: RetrainFunction;
 * const truth = await computeLdsGroundTruth({ nTrain: 5000, nTest: 500, train, count: 100, fraction: 0.5, seed: 0 });
 * const { score, testsUsed } = linearDatamodelingScore(scores, truth); // score in [−1, 1], e.g. 0.8
 * ```
 */
export function linearDatamodelingScore(scores: ScoreMatrix, truth: LdsGroundTruth): LdsResult {
  assertScoreMatrix(scores);
  if (truth.nTrain !== scores.nTrain || truth.nTest !== scores.nTest) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', 'The LDS ground truth and the scores disagree on nTrain × nTest.', {
      metaMessages: [`scores: ${scores.nTrain} × ${scores.nTest}`, `truth: ${truth.nTrain} × ${truth.nTest}`],
    });
  }
  const S = truth.subsets.length;
  if (S < 2 || truth.outputs.length !== S || truth.outputs.some((o) => o.length !== scores.nTest)) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', 'LDS ground truth needs ≥ 2 subsets, each with one output per test point.');
  }
  // A row listed twice would count its score twice in Σ_{i∈S} τ(i, t) while the retrained model saw it once.
  truth.subsets.forEach((s, j) => assertIndices(s, truth.nTrain, `truth.subsets[${j}]`));
  truth.outputs.forEach((o, j) => {
    const t = Array.prototype.findIndex.call(o, (x: number) => !Number.isFinite(x));
    if (t >= 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `truth.outputs[${j}][${t}] is ${o[t]} (retrained output of subset ${j} on test ${t}).`, { data: { subset: j, test: t } });
  });
  const { values, nTest } = scores;
  // predicted[j * nTest + t] = Σ_{i∈S_j} τ(i, t): one pass over each subset's rows of the matrix.
  const predicted = new Float64Array(S * nTest);
  for (let j = 0; j < S; j++) {
    const row = predicted.subarray(j * nTest, (j + 1) * nTest);
    const subset = truth.subsets[j]!;
    for (let k = 0; k < subset.length; k++) {
      const base = subset[k]! * nTest;
      for (let t = 0; t < nTest; t++) row[t]! += values[base + t]!;
    }
  }
  const perTest = new Float64Array(nTest);
  const g = new Float64Array(S);
  const f = new Float64Array(S);
  for (let t = 0; t < nTest; t++) {
    for (let j = 0; j < S; j++) {
      g[j] = predicted[j * nTest + t]!;
      f[j] = truth.outputs[j]![t]!;
    }
    perTest[t] = spearman(g, f);
  }
  const { mean, count } = finiteMean(perTest);
  return { score: mean, perTest, testsUsed: count };
}
