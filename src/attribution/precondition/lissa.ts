/**
 * LiSSA inverse-Hessian-vector products (Agarwal, Bullins & Hazan 2017, "Second-order stochastic optimization for machine
 * learning in linear time", Alg. 1; as used for influence by Koh & Liang 2017, §3): the truncated Neumann series
 *   h_0 = v,  h_j = v + (I − H_j / s) h_{j−1},  H⁻¹ v ≈ h_J / s,
 * with H_j an unbiased mini-batch estimate of H (+ damping) and s > λ_max(H) so the series converges. Repeats average
 * independent recursions to cut the variance.
 */
import { ProvenantError, createRng, describeValue, resolve, type ParamTable } from '../../core/index.js';
import { largestEigenvalue, type CurvatureOperator } from './curvature-operator.js';
import { mapRows, identityTransform, type Preconditioner } from './preconditioner.js';

/** Defaults of LiSSA, each with its reason: the one table both {@link lissa} and {@link fitLissa} read. */
export const LISSA_DEFAULTS = Object.freeze({
  /** Recursion depth J: the error of h_J/s shrinks as (1 − λ_min/s)^J; 1,000 is the order Koh & Liang (2017) ran. */
  depth: 1000,
  /** Independent recursions averaged: one is exact for the full (deterministic) operator. */
  repeats: 1,
  /** Damping λ added to H: none, the operator already carries its own (l2, damping). */
  damping: 0,
  /** s = 1.5·(λ_max + λ): above the largest eigenvalue with margin for the 30-step power-iteration estimate. */
  scaleOverLargestEigenvalue: 1.5,
  seed: 0,
});

export interface LissaOptions {
  /** Recursion depth J, a positive integer; default {@link LISSA_DEFAULTS}. */
  depth?: number;
  /** Independent recursions averaged, a positive integer; default 1. */
  repeats?: number;
  /** Scale s > 0; must exceed λ_max(H + λI). Default 1.5 × (λ_max + λ) by 30 steps of power iteration on the full operator. */
  scale?: number;
  /** Examples per stochastic H_j, a positive integer; default: the full operator (deterministic; no `sample` needed). */
  batchSize?: number;
  /** Damping λ ≥ 0 added to H (H + λI); default 0. */
  damping?: number;
  seed?: number;
}

/** Every LiSSA option resolved: defaults filled in, each checked, the scale estimated when not given. */
/** The options of {@link lissa} and {@link fitLissa}: a misspelt name is refused with the nearest field, never ignored. */
export const LISSA_PARAMS: ParamTable = Object.freeze({
  name: 'lissa',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'depth', default: LISSA_DEFAULTS.depth, meaning: 'Recursion depth J.' },
    { name: 'repeats', default: LISSA_DEFAULTS.repeats, meaning: 'Independent recursions averaged.' },
    { name: 'scale', default: null, meaning: 'Scale s > λ_max(H + λI) (null: 1.5 × (λ_max + λ) by power iteration).' },
    { name: 'batchSize', default: null, meaning: 'Examples per stochastic H_j (null: the full operator).', aliases: ['batch_size'] },
    { name: 'damping', default: LISSA_DEFAULTS.damping, meaning: 'Damping λ ≥ 0 added to H.' },
    { name: 'seed', default: LISSA_DEFAULTS.seed, meaning: 'Seed of the sampled batches.' },
  ],
});

interface ResolvedLissa {
  depth: number;
  repeats: number;
  damping: number;
  scale: number;
  batchSize: number | undefined;
  seed: number;
}

/**
 * Fills in {@link LISSA_DEFAULTS} and checks every option's domain, gathering all bad fields into one error; estimates
 * the scale (power iteration) only when none is given and the rest is valid.
 */
function resolveLissa(op: CurvatureOperator, options: LissaOptions): ResolvedLissa {
  resolve(LISSA_PARAMS, options);
  const d = LISSA_DEFAULTS;
  const o = { depth: options.depth ?? d.depth, repeats: options.repeats ?? d.repeats, damping: options.damping ?? d.damping, seed: options.seed ?? d.seed };
  const positiveInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
  // [field, holds, what it must be]: every bad field is reported at once.
  const checks: [string, boolean, string][] = [
    ['depth', positiveInteger(o.depth), 'a positive integer'],
    ['repeats', positiveInteger(o.repeats), 'a positive integer'],
    ['damping', Number.isFinite(o.damping) && o.damping >= 0, 'a finite number ≥ 0'],
    ['seed', Number.isFinite(o.seed), 'a finite number'],
    ['scale', options.scale === undefined || (Number.isFinite(options.scale) && options.scale > 0), 'a finite number > 0 (above λ_max)'],
    ['batchSize', options.batchSize === undefined || positiveInteger(options.batchSize), 'a positive integer'],
  ];
  const bad = checks.filter(([, ok]) => !ok).map(([field, , what]) => `${field} must be ${what}, got ${describeValue((options as Record<string, unknown>)[field] ?? (o as Record<string, unknown>)[field])}`);
  if (options.batchSize !== undefined && !op.sample) bad.push('batchSize: this curvature operator cannot sample mini-batches; omit batchSize');
  if (bad.length > 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Invalid LiSSA options: ${bad.join('; ')}.`, { metaMessages: bad, data: { problems: bad } });
  }
  const scale = options.scale ?? d.scaleOverLargestEigenvalue * (largestEigenvalue(op) + o.damping);
  // An estimated scale can still be unusable (an operator returning NaN, or a zero operator): say so here, not as a divergence.
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LiSSA scale must be positive, got ${scale}.`);
  return { ...o, scale, batchSize: options.batchSize };
}

/**
 * H⁻¹ applied to each row of V (rows × dim, row-major) by LiSSA (Agarwal, Bullins & Hazan 2017, Alg. 1; as used for
 * influence by Koh & Liang 2017, §3): the truncated Neumann series h_j = v + (I − (H_j + λI)/s) h_{j−1},
 * (H + λI)⁻¹v ≈ h_J / s, averaged over `repeats` recursions. Defaults ({@link LISSA_DEFAULTS}): depth 1,000, one
 * repeat, the full operator (deterministic), s = 1.5·(λ_max + λ) by power iteration, seed 0.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when V does not hold rows × dim values; `ATTRIBUTION_INPUT_INVALID`
 *   for `rows` that is not a non-negative integer, and for every option outside its domain, listed together (depth,
 *   repeats, batchSize not positive integers; damping negative or not finite; scale not positive; `batchSize` with an
 *   operator that cannot sample); `ATTRIBUTION_NOT_CONVERGED` when the recursion diverges (scale below λ_max).
 * @example
 * ```ts
 * import { explicitOperator, lissa } from 'provenant/attribution';
 *
 * const op = explicitOperator([2, 0, 0, 4], 2);
 * lissa(op, [1, 1, 2, 0], 2, { depth: 200 }); // Float64Array ≈ [0.5, 0.25, 1, 0] (two right-hand sides)
 * ```
 */
export function lissa(op: CurvatureOperator, V: ArrayLike<number>, rows: number, options: LissaOptions = {}): Float64Array {
  const d = op.dim;
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LiSSA: rows must be a non-negative integer, got ${describeValue(rows)}.`, { data: { argument: 'rows' } });
  }
  if (V?.length !== rows * d) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `LiSSA: V holds ${V?.length} values, expected rows × dim = ${rows} × ${d}.`, { data: { argument: 'V', length: V?.length, rows, dim: d } });
  }
  const { depth, repeats, damping, scale, batchSize, seed } = resolveLissa(op, options);
  const rng = createRng(seed);
  const v = Float64Array.from(V as ArrayLike<number>);
  let vNorm = 0;
  for (const x of v) vNorm += x * x;
  vNorm = Math.sqrt(vNorm);
  const result = new Float64Array(rows * d);
  for (let rep = 0; rep < repeats; rep++) {
    let h = Float64Array.from(v);
    for (let j = 0; j < depth; j++) {
      const Hh = batchSize !== undefined ? op.sample!(h, rows, batchSize, rng) : op.apply(h, rows);
      const next = new Float64Array(rows * d);
      let norm = 0;
      for (let k = 0; k < next.length; k++) {
        next[k] = v[k]! + h[k]! - (Hh[k]! + damping * h[k]!) / scale;
        norm += next[k]! ** 2;
      }
      if (!Number.isFinite(norm) || Math.sqrt(norm) > 1e6 * (vNorm + 1e-300) * depth) {
        throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `LiSSA diverged at step ${j} (scale ${scale}).`, {
          details: 'Raise `scale` above the largest eigenvalue of the curvature (or let it be estimated), or add damping.',
          data: { step: j, scale },
        });
      }
      h = next;
    }
    for (let k = 0; k < result.length; k++) result[k]! += h[k]! / scale / repeats;
  }
  return result;
}

/**
 * The LiSSA preconditioner: query(g_t) ≈ (H + λI)⁻¹ g_t. The options are checked (and the scale estimated) here, once,
 * not at the first query; `params` records every resolved value.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for options outside their domain, as {@link lissa}.
 * @example
 * ```ts
 * import { curvatureOperator, fitLissa, type CurvatureFeatures } from 'provenant/attribution';
 * declare const gn: CurvatureFeatures;
 * declare const l2: number;
 * const pre = fitLissa(curvatureOperator(gn, { l2 }), { depth: 500, repeats: 2, batchSize: 64, seed: 1 });
 * ```
 */
export function fitLissa(op: CurvatureOperator, options: LissaOptions = {}): Preconditioner {
  const resolved = resolveLissa(op, options);
  return {
    method: 'lissa',
    params: { depth: resolved.depth, repeats: resolved.repeats, scale: resolved.scale, batchSize: resolved.batchSize ?? null, damping: resolved.damping, seed: resolved.seed },
    query(q) {
      if (q.dim !== op.dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, the operator ${op.dim}.`);
      const x = lissa(op, q.data, q.rows, resolved);
      return mapRows(q, (_row, out, i) => out.set(x.subarray(i * q.dim, (i + 1) * q.dim)));
    },
    train: identityTransform,
    dispose: () => op.dispose?.(), // the operator keeps S, Sᵀ on the backend after its first product
  };
}
