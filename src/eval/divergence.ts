/**
 * Distribution drift between a base and a tuned model: Kullback–Leibler divergence KL(base‖tuned) and the
 * Jensen–Shannon divergence, in nats, on rows of class or next-token probabilities.
 *
 * Numerics (float64 throughout):
 * - Rows are copied to float64 and divided by their sum, so float32 rounding of a softmax (Σ = 1 ± 1e-7) cannot push
 *   KL below 0.
 * - KL is summed as Σ_k q_k·h(p_k/q_k) with h(r) = r ln r − r + 1 ≥ 0 — the same value as Σ p ln(p/q) when both rows
 *   sum to 1 (the added Σ(q − p) is 0), but every term is non-negative, and near r = 1 h is evaluated by its series
 *   d²/2 − d³/6 + d⁴/12 − … in d = (p − q)/q, so there is no cancellation: the computed KL is ≥ 0 always, 0 when the
 *   rows are equal, and > 0 when they differ (by more than the smoothing below can hide).
 * - KL(p‖q) is infinite when some q_k = 0 < p_k (a float32 softmax underflows to exactly 0 for very negative logits).
 *   Both rows are therefore mixed with the uniform distribution, x' = (1 − ε)x + ε/K, with ε = 1e-10 by default: the
 *   map is injective, so KL(p'‖q') is still 0 iff p = q, KL is bounded by ln(K/ε), and rows without zeros move by at
 *   most ~ε. Pass `epsilon: 0` for the exact value; a support mismatch then throws `EVAL_PROBABILITIES_INVALID`.
 * - JS(p, q) = ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2 (Lin 1991), needs no smoothing (m_k ≥ p_k/2), and lies in [0, ln 2].
 */
import { ProvenantError, resolve, type ParamField } from '../core/index.js';
import { bootstrapOptionsTable, checkedBootstrapOptions, intervalForColumn, runBootstrap } from './bootstrap.js';
import type { BootstrapOptions, BootstrapSummary, Estimate } from './bootstrap.js';
import { checkProbabilityRows, checkSameLength, normalizedRow } from './validate.js';
import type { ProbabilityRows } from './validate.js';
import { DEFAULT_SUM_TOLERANCE } from './validate.js';

/** Default mixing weight of the uniform distribution in KL. */
export const DEFAULT_KL_EPSILON = 1e-10;

/** h(r) = r ln r − r + 1 at r = 1 + d, without cancellation near d = 0. */
function hOfOnePlus(d: number): number {
  if (Math.abs(d) < 1e-2) {
    // h(1 + d) = Σ_{k≥2} (−d)^k / (k(k − 1)); 12 terms reach full double precision for |d| < 0.01.
    let term = d * d;
    let s = 0;
    for (let k = 2; k <= 13; k++) {
      s += term / (k * (k - 1));
      term *= -d;
    }
    return s;
  }
  const r = 1 + d;
  return r * Math.log(r) - r + 1;
}

/** One non-negative KL term q·h(p/q); Infinity when q = 0 < p. */
function klTerm(p: number, q: number): number {
  if (p === q) return 0;
  if (p === 0) return q;
  if (q === 0) return Infinity;
  return q * hOfOnePlus((p - q) / q);
}

/** KL of two float64 rows that already sum to 1. */
function klRows(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) s += klTerm(p[k]!, q[k]!);
  return s;
}

function smooth(row: Float64Array, epsilon: number): Float64Array {
  if (epsilon === 0) return row;
  const K = row.length;
  return row.map((x) => (1 - epsilon) * x + epsilon / K);
}

function jsRows(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) {
    const m = 0.5 * p[k]! + 0.5 * q[k]!;
    s += 0.5 * klTerm(p[k]!, m) + 0.5 * klTerm(q[k]!, m);
  }
  // Rounding cannot make the sum of non-negative terms exceed ln 2 by more than a few ulps; clamp to the bound.
  return Math.min(s, Math.LN2);
}

function checkPair(p: ArrayLike<number>, q: ArrayLike<number>, tolerance?: number): [Float64Array, Float64Array] {
  checkSameLength(p, q, 'p', 'q');
  checkProbabilityRows([p], 'p', { tolerance });
  checkProbabilityRows([q], 'q', { tolerance });
  return [normalizedRow(p), normalizedRow(q)];
}

function checkEpsilon(epsilon: number): void {
  if (!(epsilon >= 0 && epsilon < 1)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'epsilon must be in [0, 1).', { data: { epsilon } });
  }
}

function klOrThrow(p: Float64Array, q: Float64Array, epsilon: number, index?: number): number {
  const kl = klRows(smooth(p, epsilon), smooth(q, epsilon));
  if (!Number.isFinite(kl)) {
    throw new ProvenantError('EVAL_PROBABILITIES_INVALID', 'KL divergence is infinite: q is 0 where p is not.', {
      details: 'Pass epsilon > 0 (default 1e-10) to mix both distributions with a little of the uniform one.',
      data: index === undefined ? {} : { index },
    });
  }
  return kl;
}

/** Options of the divergences. */
export interface DivergenceOptions {
  /** Weight of the uniform distribution mixed into both rows before KL. Default 1e-10; 0 for the exact value. */
  epsilon?: number;
  /** Tolerance on |Σ row − 1|. Default 1e-4. */
  tolerance?: number;
}

/** The `epsilon` option of KL (shared with compareModels' options table). */
export const EPSILON_FIELD: ParamField = { name: 'epsilon', default: DEFAULT_KL_EPSILON, meaning: 'Weight of the uniform distribution mixed into both rows before KL (0: exact).', aliases: ['eps'] };
const TOLERANCE_FIELD: ParamField = { name: 'tolerance', default: DEFAULT_SUM_TOLERANCE, meaning: 'Tolerance on |Σ row − 1|.', aliases: ['tol', 'atol'] };
/** The options of {@link klDivergence}, {@link jensenShannonDivergence} and {@link distributionDrift}. */
const KL_DIVERGENCE_PARAMS = Object.freeze({ name: 'klDivergence', fields: [EPSILON_FIELD, TOLERANCE_FIELD] });
const JS_DIVERGENCE_PARAMS = Object.freeze({ name: 'jensenShannonDivergence', fields: [TOLERANCE_FIELD] });
const DRIFT_PARAMS = bootstrapOptionsTable('distributionDrift', [
  EPSILON_FIELD,
  TOLERANCE_FIELD,
  { name: 'groups', default: null, meaning: 'Group of each row, resampled whole; null: every row is its own group.', aliases: ['group', 'clusters'] },
]);

/**
 * KL(p‖q) = Σ_k p_k ln(p_k / q_k) in nats, stable in float64 (see the module note for ε).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { klDivergence } from 'provenant/eval';
 * klDivergence([0.5, 0.5], [0.9, 0.1], { epsilon: 0 }); // 0.5·ln(0.5/0.9) + 0.5·ln(0.5/0.1) ≈ 0.5108
 * ```
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>, options: DivergenceOptions = {}): number {
  resolve(KL_DIVERGENCE_PARAMS, options);
  const epsilon = options.epsilon ?? DEFAULT_KL_EPSILON;
  checkEpsilon(epsilon);
  const [a, b] = checkPair(p, q, options.tolerance);
  return klOrThrow(a, b, epsilon);
}

/**
 * Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, in nats (in [0, ln 2]; symmetric; finite).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { jensenShannonDivergence } from 'provenant/eval';
 * jensenShannonDivergence([1, 0], [0, 1]); // Math.LN2
 * ```
 */
export function jensenShannonDivergence(
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  options: Pick<DivergenceOptions, 'tolerance'> = {},
): number {
  resolve(JS_DIVERGENCE_PARAMS, options);
  const [a, b] = checkPair(p, q, options.tolerance);
  return jsRows(a, b);
}

/** Options of {@link distributionDrift}. */
export interface DriftOptions extends BootstrapOptions, DivergenceOptions {
  /**
   * Group of each row (e.g. the text a next-token row came from). When given, the bootstrap resamples whole groups
   * and the estimate is Σ divergences / Σ rows over the resampled groups; by default every row is its own group.
   */
  groups?: readonly number[];
}

/** Mean KL(base‖tuned) and JS over probe rows, with intervals. */
export interface DriftResult {
  /** Number of probability rows compared. */
  rows: number;
  /** Number of resampling units (groups, or rows). */
  units: number;
  unit: 'nats';
  epsilon: number;
  /** Mean over rows of KL(base_i‖tuned_i). */
  kl: Estimate;
  /** Mean over rows of JS(base_i, tuned_i). */
  js: Estimate;
  /** Largest per-row KL, to spot a single exploded row. */
  maxKl: number;
  bootstrap: BootstrapSummary;
}

/**
 * Drift between two models' output distributions on the same probe rows: mean KL(base‖tuned) and mean JS, each with a
 * seeded percentile bootstrap interval.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { distributionDrift } from 'provenant/eval';
 * const drift = distributionDrift([[0.7, 0.3], [0.2, 0.8]], [[0.6, 0.4], [0.2, 0.8]], { resamples: 200 });
 * // drift.kl.value === klDivergence([0.7, 0.3], [0.6, 0.4]) / 2
 * ```
 */
export function distributionDrift(base: ProbabilityRows, tuned: ProbabilityRows, options: DriftOptions = {}): DriftResult {
  const bootstrap = checkedBootstrapOptions(DRIFT_PARAMS, options);
  const epsilon = options.epsilon ?? DEFAULT_KL_EPSILON;
  checkEpsilon(epsilon);
  checkSameLength(base, tuned, 'base', 'tuned');
  const K = checkProbabilityRows(base, 'base', { tolerance: options.tolerance });
  checkProbabilityRows(tuned, 'tuned', { tolerance: options.tolerance, width: K });
  const n = base.length;
  const kl = new Float64Array(n);
  const js = new Float64Array(n);
  let maxKl = 0;
  for (let i = 0; i < n; i++) {
    const p = normalizedRow(base[i]!);
    const q = normalizedRow(tuned[i]!);
    kl[i] = klOrThrow(p, q, epsilon, i);
    js[i] = jsRows(p, q);
    if (kl[i]! > maxKl) maxKl = kl[i]!;
  }
  // Collapse rows into resampling units: per unit, Σ KL, Σ JS and the row count.
  let unitOf: Int32Array;
  let units: number;
  if (options.groups) {
    checkSameLength(base, options.groups, 'base', 'groups');
    const ids = new Map<number, number>();
    unitOf = Int32Array.from(options.groups, (g) => {
      let u = ids.get(g);
      if (u === undefined) ids.set(g, (u = ids.size));
      return u;
    });
    units = ids.size;
  } else {
    unitOf = Int32Array.from({ length: n }, (_, i) => i);
    units = n;
  }
  const sKl = new Float64Array(units);
  const sJs = new Float64Array(units);
  const count = new Float64Array(units);
  for (let i = 0; i < n; i++) {
    sKl[unitOf[i]!]! += kl[i]!;
    sJs[unitOf[i]!]! += js[i]!;
    count[unitOf[i]!]! += 1;
  }
  const { point, replicates, settings } = runBootstrap(
    units,
    2,
    (w, out) => {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let u = 0; u < units; u++) {
        a += w[u]! * sKl[u]!;
        b += w[u]! * sJs[u]!;
        c += w[u]! * count[u]!;
      }
      out[0] = c > 0 ? a / c : NaN;
      out[1] = c > 0 ? b / c : NaN;
    },
    bootstrap,
  );
  const klCi = intervalForColumn(replicates, 2, 0, settings.alpha, 'KL divergence');
  const jsCi = intervalForColumn(replicates, 2, 1, settings.alpha, 'JS divergence');
  return {
    rows: n,
    units,
    unit: 'nats',
    epsilon,
    kl: { value: point[0]!, ci: klCi.ci },
    js: { value: point[1]!, ci: jsCi.ci },
    maxKl,
    bootstrap: { method: 'percentile', ...settings, skipped: Math.max(klCi.skipped, jsCi.skipped) },
  };
}
