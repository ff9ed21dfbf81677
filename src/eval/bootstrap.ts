/**
 * Seeded nonparametric bootstrap over examples (Efron 1979; Efron & Tibshirani 1993, *An Introduction to the
 * Bootstrap*, ch. 13 for the percentile interval).
 *
 * A resample of n examples drawn with replacement is represented by its multiplicity vector w (w_i = how many times
 * example i was drawn, Σ w_i = n). Every metric here is written as a weighted statistic θ(w), so θ(1,…,1) is the point
 * estimate and θ(w*) a bootstrap replicate. This lets a metric precompute once (sort scores for AUROC, bin confidences
 * for ECE) and evaluate each replicate in O(n), and it makes the paired bootstrap exact: base and tuned see the same w*.
 *
 * Defaults: B = 1000 resamples, alpha = 0.05 (a 95 % interval), seed = 0. Percentile endpoints are the alpha/2 and
 * 1 − alpha/2 sample quantiles of the replicates with linear interpolation (Hyndman & Fan 1996 type 7, numpy's default).
 */
import { assertArgument, createRng, ProvenantError, resolve } from '../core/index.js';
import type { ParamField, ParamTable, Rng, Seed } from '../core/index.js';

/** Bootstrap settings. Every field has a documented default. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples B. Default 1000: percentile endpoints need ~1000 replicates to settle (Efron & Tibshirani §13.3). */
  resamples?: number;
  /** One minus the confidence level. Default 0.05 (a 95 % interval). */
  alpha?: number;
  /** Seed of the resampling stream. Default 0, so results are reproducible unless a caller asks otherwise. */
  seed?: Seed;
}

/** Default number of bootstrap resamples B. */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
/** Default alpha: 95 % intervals. */
export const DEFAULT_BOOTSTRAP_ALPHA = 0.05;
/** Default seed of the resampling stream. */
export const DEFAULT_BOOTSTRAP_SEED = 0;

/**
 * The option names of {@link BootstrapOptions} (one parameter mechanism, core/params.ts): every metric's options table
 * starts with these fields, so a typo (`resample`) is refused with the nearest name instead of silently running with
 * the default. Validation stays in {@link resolveBootstrapOptions}.
 */
export const BOOTSTRAP_FIELDS: readonly ParamField[] = Object.freeze([
  { name: 'resamples', default: DEFAULT_BOOTSTRAP_RESAMPLES, meaning: 'Number of bootstrap resamples B.', aliases: ['B', 'n_resamples', 'numResamples'] },
  { name: 'alpha', default: DEFAULT_BOOTSTRAP_ALPHA, meaning: 'One minus the confidence level of the percentile intervals.' },
  { name: 'seed', default: DEFAULT_BOOTSTRAP_SEED, meaning: 'Seed of the resampling stream.' },
]);

/**
 * The options table of a function whose options extend {@link BootstrapOptions}: the bootstrap fields, then `fields`;
 * `inputs` are accepted option names that are data or callbacks, not parameters.
 *
 * @example
 * ```ts
 * import { bootstrapOptionsTable } from 'provenant/eval';
 * import { resolve } from 'provenant';
 * const table = bootstrapOptionsTable('auroc', [{ name: 'positiveClass', default: 1, meaning: 'The positive class.' }]);
 * resolve(table, { resample: 10 }); // throws INVALID_ARGUMENT: unknown option "resample" (did you mean "resamples"?)
 * ```
 */
export function bootstrapOptionsTable(name: string, fields: readonly ParamField[] = [], inputs: readonly string[] = []): ParamTable {
  return Object.freeze({ name, fields: [...BOOTSTRAP_FIELDS, ...fields], inputs });
}

/** The options of the bootstrap primitives ({@link runBootstrap}, {@link bootstrapEstimate}, `pairedBootstrap`). */
export const BOOTSTRAP_PARAMS: ParamTable = bootstrapOptionsTable('bootstrap');

/**
 * Refuses option names `table` does not know (with the nearest name), then the bootstrap settings: what a metric passes
 * on to the bootstrap primitives, never its own options (which those would refuse).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name (see {@link resolveBootstrapOptions} for the rest)
 * @example
 * ```ts
 * import { BOOTSTRAP_PARAMS, checkedBootstrapOptions } from 'provenant/eval';
 * checkedBootstrapOptions(BOOTSTRAP_PARAMS, { resamples: 500 }); // { resamples: 500, alpha: 0.05, seed: 0 }
 * ```
 */
export function checkedBootstrapOptions(table: ParamTable, options: object): Required<BootstrapOptions> {
  resolve(table, options);
  return resolveBootstrapOptions(options as BootstrapOptions);
}

/** A two-sided confidence interval; `level` = 1 − alpha. */
export interface ConfidenceInterval {
  lower: number;
  upper: number;
  level: number;
}

/** A point estimate with its interval. */
export interface Estimate {
  value: number;
  ci: ConfidenceInterval;
}

/** How an interval was produced, for the audit record. */
export interface BootstrapSummary {
  method: 'percentile';
  resamples: number;
  alpha: number;
  seed: Seed;
  /** Replicates in which the statistic was undefined (e.g. a resample with one class only, for AUROC) and so left out. */
  skipped: number;
}

/**
 * The resolved settings: defaults filled in (B = 1000 resamples, alpha = 0.05, seed = 0), validated.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming `resamples` (not an integer ≥ 1) or `alpha` (outside (0, 1)).
 *
 * @example
 * ```ts
 * import { resolveBootstrapOptions } from 'provenant/eval';
 *
 * resolveBootstrapOptions({ resamples: 500 }); // { resamples: 500, alpha: 0.05, seed: 0 }
 * ```
 */
export function resolveBootstrapOptions(options: BootstrapOptions = {}): Required<BootstrapOptions> {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const alpha = options.alpha ?? DEFAULT_BOOTSTRAP_ALPHA;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  assertArgument(Number.isInteger(resamples) && resamples >= 1, 'resamples', 'must be an integer ≥ 1', resamples);
  assertArgument(alpha > 0 && alpha < 1, 'alpha', 'must be in (0, 1)', alpha);
  return { resamples, alpha, seed };
}

/** Fills `weights` with the multiplicities of n draws with replacement from 0..n−1 (a multinomial(n; 1/n…) vector). */
export function drawResampleWeights(rng: Rng, weights: Float64Array): void {
  const n = weights.length;
  weights.fill(0);
  for (let i = 0; i < n; i++) weights[rng.nextInt(n)]! += 1;
}

/**
 * Sample quantile of ascending-sorted values, linear interpolation between order statistics (Hyndman & Fan 1996 type 7,
 * numpy's default): with h = (m − 1)·q, x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎). `q` in [0, 1]; NaN for an empty input.
 * The input is not checked for order.
 *
 * @example
 * ```ts
 * import { quantileSorted } from 'provenant/eval';
 *
 * quantileSorted([1, 2, 3, 4], 0.5); // 2.5
 * quantileSorted([1, 2, 3, 4], 0.25); // 1.75
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  if (m === 1) return sorted[0]!;
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(m - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Percentile interval from bootstrap replicates (Efron & Tibshirani 1993 §13.3): the alpha/2 and 1 − alpha/2 type-7
 * sample quantiles of the replicates, `level` = 1 − alpha. NaN replicates must already be removed (`replicateColumn`);
 * the input is copied, not sorted in place.
 *
 * @example
 * ```ts
 * import { percentileInterval } from 'provenant/eval';
 *
 * percentileInterval([3, 1, 2, 5, 4], 0.5); // { lower: 2, upper: 4, level: 0.5 }
 * ```
 */
export function percentileInterval(replicates: ArrayLike<number>, alpha: number): ConfidenceInterval {
  const sorted = Float64Array.from(replicates).sort();
  return { lower: quantileSorted(sorted, alpha / 2), upper: quantileSorted(sorted, 1 - alpha / 2), level: 1 - alpha };
}

/**
 * Runs B replicates of a vector statistic. `statistic(w, out)` writes `dims` values into `out` for multiplicity
 * vector `w`; NaN means "undefined on this resample". Returns the point values (w = 1) and the replicates, B × dims,
 * row-major. The point values must be finite or NaN only where the caller allows it. Each replicate draws multiplicities
 * w* ~ Multinomial(n; 1/n, …, 1/n) from the seeded stream (Efron 1979), so the same seed gives the same replicates;
 * `out` is pre-filled with NaN before each replicate (the point call gets zeros).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for `n` not an integer ≥ 1, invalid bootstrap options, or an unknown option
 *   name (with the nearest one, e.g. `resample` → `resamples`).
 *
 * @example
 * ```ts
 * import { runBootstrap } from 'provenant/eval';
 *
 * const correct = [1, 0, 1, 1];
 * const { point, replicates } = runBootstrap(correct.length, 1, (w, out) => {
 *   let hits = 0, total = 0;
 *   for (let i = 0; i < w.length; i++) { hits += w[i]! * correct[i]!; total += w[i]!; }
 *   out[0] = hits / total; // accuracy on the resample
 * }, { resamples: 200, seed: 3 });
 * // point: Float64Array [0.75]; replicates: Float64Array(200), B × dims row-major
 * ```
 */
export function runBootstrap(
  n: number,
  dims: number,
  statistic: (weights: Float64Array, out: Float64Array) => void,
  options: BootstrapOptions = {},
): { point: Float64Array; replicates: Float64Array; settings: Required<BootstrapOptions> } {
  const settings = checkedBootstrapOptions(BOOTSTRAP_PARAMS, options);
  assertArgument(Number.isInteger(n) && n >= 1, 'n', 'must be an integer ≥ 1', n);
  const weights = new Float64Array(n).fill(1);
  const point = new Float64Array(dims);
  statistic(weights, point);
  const rng = createRng(settings.seed);
  const replicates = new Float64Array(settings.resamples * dims);
  const out = new Float64Array(dims);
  for (let b = 0; b < settings.resamples; b++) {
    drawResampleWeights(rng, weights);
    out.fill(NaN);
    statistic(weights, out);
    replicates.set(out, b * dims);
  }
  return { point, replicates, settings };
}

/** Column `d` of a B × dims replicate matrix with NaN replicates removed, and how many were removed. */
export function replicateColumn(replicates: Float64Array, dims: number, d: number): { values: Float64Array; skipped: number } {
  const B = replicates.length / dims;
  const values = new Float64Array(B);
  let m = 0;
  for (let b = 0; b < B; b++) {
    const v = replicates[b * dims + d]!;
    if (!Number.isNaN(v)) values[m++] = v;
  }
  return { values: values.subarray(0, m), skipped: B - m };
}

/**
 * Percentile interval for component `d`, refusing when more than half of the replicates were undefined: an interval
 * from the few resamples where the statistic happened to exist would be a silently wrong number.
 */
export function intervalForColumn(
  replicates: Float64Array,
  dims: number,
  d: number,
  alpha: number,
  what: string,
): { ci: ConfidenceInterval; skipped: number } {
  const { values, skipped } = replicateColumn(replicates, dims, d);
  const B = replicates.length / dims;
  if (values.length === 0 || skipped > B / 2) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `Too few examples to bootstrap ${what}.`, {
      details:
        'The statistic was undefined on most bootstrap resamples (for example, a class that appears only once or twice ' +
        'vanishes from most resamples). Evaluate on more examples of every class.',
      metaMessages: [`undefined on ${skipped} of ${B} resamples`],
      data: { skipped, resamples: B },
    });
  }
  return { ci: percentileInterval(values, alpha), skipped };
}

/**
 * A point estimate and percentile bootstrap interval for a weighted statistic θ(w) over n examples.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { bootstrapEstimate } from 'provenant/eval';
 * const x = [1, 0, 1, 1, 0, 1];
 * const mean = bootstrapEstimate(x.length, (w) => {
 *   let s = 0, t = 0;
 *   for (let i = 0; i < w.length; i++) { s += w[i]! * x[i]!; t += w[i]!; }
 *   return s / t;
 * }, { resamples: 2000, seed: 7 });
 * // mean.value === 4 / 6; mean.ci.lower < mean.value < mean.ci.upper
 * ```
 */
export function bootstrapEstimate(
  n: number,
  statistic: (weights: Float64Array) => number,
  options: BootstrapOptions = {},
): Estimate & { bootstrap: BootstrapSummary } {
  const { point, replicates, settings } = runBootstrap(n, 1, (w, out) => { out[0] = statistic(w); }, options);
  if (!Number.isFinite(point[0]!)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'The statistic is not finite on the full sample.', {
      metaMessages: [`value: ${point[0]}`],
    });
  }
  const { ci, skipped } = intervalForColumn(replicates, 1, 0, settings.alpha, 'the statistic');
  return { value: point[0]!, ci, bootstrap: { method: 'percentile', ...settings, skipped } };
}
