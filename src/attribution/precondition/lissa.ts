/**
 * LiSSA inverse-Hessian-vector products (Agarwal, Bullins & Hazan 2017, "Second-order stochastic optimization for machine
 * learning in linear time", Alg. 1; as used for influence by Koh & Liang 2017, §3): the truncated Neumann series
 *   h_0 = v,  h_j = v + (I − H_j / s) h_{j−1},  H⁻¹ v ≈ h_J / s,
 * with H_j an unbiased mini-batch estimate of H (+ damping) and s > λ_max(H) so the series converges. Repeats average
 * independent recursions to cut the variance.
 */
import { ProvenantError, createRng } from '../../core/index.js';
import { largestEigenvalue, type CurvatureOperator } from './curvature-operator.js';
import { mapRows, identityTransform, type Preconditioner } from './preconditioner.js';

export interface LissaOptions {
  /** Recursion depth J; default 1,000. */
  depth?: number;
  /** Independent recursions averaged; default 1. */
  repeats?: number;
  /** Scale s; must exceed λ_max(H). Default 1.5 × λ_max by 30 steps of power iteration on the full operator. */
  scale?: number;
  /** Examples per stochastic H_j; default: the full operator (deterministic; no `sample` needed). */
  batchSize?: number;
  /** Damping added to H (H + λI); default 0. */
  damping?: number;
  seed?: number;
}

/**
 * H⁻¹ applied to each row of V (rows × dim, row-major) by LiSSA (Agarwal, Bullins & Hazan 2017, Alg. 1; as used for
 * influence by Koh & Liang 2017, §3): the truncated Neumann series h_j = v + (I − (H_j + λI)/s) h_{j−1},
 * (H + λI)⁻¹v ≈ h_J / s, averaged over `repeats` recursions. Defaults: depth 1,000, one repeat, the full operator
 * (deterministic), s = 1.5·(λ_max + λ) by power iteration, seed 0.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for a scale that is not positive, or `batchSize` with an operator
 *   that cannot sample; `ATTRIBUTION_NOT_CONVERGED` when the recursion diverges (scale below λ_max).
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
  const depth = options.depth ?? 1000;
  const repeats = options.repeats ?? 1;
  const damping = options.damping ?? 0;
  const rng = createRng(options.seed ?? 0);
  const scale = options.scale ?? 1.5 * (largestEigenvalue(op) + damping);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `LiSSA scale must be positive, got ${scale}.`);
  if (options.batchSize !== undefined && !op.sample) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'This curvature operator cannot sample mini-batches; omit batchSize.');
  }
  const v = Float64Array.from(V as ArrayLike<number>);
  let vNorm = 0;
  for (const x of v) vNorm += x * x;
  vNorm = Math.sqrt(vNorm);
  const result = new Float64Array(rows * d);
  for (let rep = 0; rep < repeats; rep++) {
    let h = Float64Array.from(v);
    for (let j = 0; j < depth; j++) {
      const Hh = options.batchSize !== undefined ? op.sample!(h, rows, options.batchSize, rng) : op.apply(h, rows);
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
 * The LiSSA preconditioner: query(g_t) ≈ (H + λI)⁻¹ g_t.
 *
 * @example
 * ```ts
 * import { curvatureOperator, fitLissa, type CurvatureFeatures } from 'provenant/attribution';
 * declare const gn: CurvatureFeatures;
 * declare const l2: number;
 * const pre = fitLissa(curvatureOperator(gn, { l2 }), { depth: 500, repeats: 2, batchSize: 64, seed: 1 });
 * ```
 */
export function fitLissa(op: CurvatureOperator, options: LissaOptions = {}): Preconditioner {
  const scale = options.scale ?? 1.5 * (largestEigenvalue(op) + (options.damping ?? 0));
  const resolved = { ...options, scale };
  return {
    method: 'lissa',
    params: { depth: options.depth ?? 1000, repeats: options.repeats ?? 1, scale, batchSize: options.batchSize ?? null, damping: options.damping ?? 0, seed: options.seed ?? 0 },
    query(q) {
      if (q.dim !== op.dim) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, the operator ${op.dim}.`);
      const x = lissa(op, q.data, q.rows, resolved);
      return mapRows(q, (_row, out, i) => out.set(x.subarray(i * q.dim, (i + 1) * q.dim)));
    },
    train: identityTransform,
    dispose: () => op.dispose?.(), // the operator keeps S, Sᵀ on the backend after its first product
  };
}
