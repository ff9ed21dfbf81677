/**
 * Gauss–Newton curvature from per-example "pseudo-gradients", and the damped Fisher / Gauss–Newton preconditioner.
 *
 * For softmax cross-entropy the Hessian w.r.t. the logits is Λ_i = diag(p_i) − p_i p_iᵀ, and the generalised Gauss–Newton
 * matrix (Martens 2020, "New insights and perspectives on the natural gradient method", eq. 9) is
 *   G = (1/n) Σ_i J_iᵀ Λ_i J_i,   J_i = ∂z_i/∂θ.
 * With M_i = diag(√p_i) − p_i √p_iᵀ we have M_i M_iᵀ = Λ_i (because Σ_c p_c = 1), so G = (1/n) Σ_i Σ_c s_ic s_icᵀ with
 * s_ic = J_iᵀ M_i[:, c]: C pseudo-gradients per example, each one ordinary batched backward pass seeded with the logit
 * vector M_i[:, c]. They go through the same featurizer (and projection) as the gradients, so G lives in the same space.
 * For logistic regression G is the exact Hessian of the mean loss; for deeper models it is the PSD part of it.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import type { Model } from '../../finetune/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { createFeaturizer, type FeaturizeData, type FeaturizeOptions } from '../featurize.js';
import { gramMatrix } from './dense-linear-algebra.js';
import { choleskyFactor, type CholeskyFactor } from '../linalg/index.js';
import { mapRows, identityTransform, type Preconditioner } from './preconditioner.js';

/** Pseudo-gradients: `examples · rowsPerExample` rows; row i·C + c is s_ic. */
export interface CurvatureFeatures {
  features: FeatureMatrix;
  examples: number;
  rowsPerExample: number;
}

/**
 * The Gauss–Newton pseudo-gradients s_ic = J_iᵀ M_i[:, c] of every example, M_i = diag(√p_i) − p_i √p_iᵀ so that
 * M_i M_iᵀ = diag(p_i) − p_i p_iᵀ, the softmax cross-entropy Hessian in the logits (Martens 2020, "New insights and
 * perspectives on the natural gradient method", Eq. 9): C rows per example (row i·C + c), one batched backward pass per
 * class, through the same featurizer (and projection) as the gradients so G = (1/n) Σ s sᵀ lives in the same space.
 * Labels are not needed (Λ_i depends on p_i only). Pass the same featurize options as for the gradient features.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for invalid featurize options (see {@link createFeaturizer}).
 * @example
 * ```ts
 * import { curvatureMatrix, fitInverseHessian, gaussNewtonFeatures } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;      // MNIST logistic regression, 7850 parameters
 * declare const pixels: Float32Array; // n · 784
 * const gn = gaussNewtonFeatures(model, { inputs: pixels, exampleShape: [784] }); // (n · 10) × 7850 pseudo-gradients
 * const pre = fitInverseHessian(curvatureMatrix(gn, 1e-3), gn.features.dim);
 * ```
 */
export function gaussNewtonFeatures(model: Model, data: Omit<FeaturizeData, 'labels'> & { labels?: ArrayLike<number> }, options: FeaturizeOptions = {}): CurvatureFeatures {
  const exampleSize = data.exampleShape.reduce((a, b) => a * b, 1);
  const n = data.inputs.length / exampleSize;
  const labels = data.labels ?? new Int32Array(n);
  const featurizer = createFeaturizer(model, options);
  try {
    const perClass: FeatureMatrix[] = [];
    let classes = 0;
    for (let c = 0; ; c++) {
      const { features } = featurizer.runSeeded({ ...data, labels }, (logits, C) => {
        classes = C;
        const out = new Float32Array(logits.length);
        const rows = logits.length / C;
        const p = new Float64Array(C);
        for (let i = 0; i < rows; i++) {
          let max = -Infinity;
          for (let k = 0; k < C; k++) max = Math.max(max, logits[i * C + k]!);
          let sum = 0;
          for (let k = 0; k < C; k++) sum += p[k] = Math.exp(logits[i * C + k]! - max);
          for (let k = 0; k < C; k++) p[k]! /= sum;
          const sq = Math.sqrt(p[c]!);
          // Column c of M_i: √p_c e_c − p √p_c.
          for (let k = 0; k < C; k++) out[i * C + k] = (k === c ? sq : 0) - p[k]! * sq;
        }
        return out;
      });
      perClass.push(features);
      if (c + 1 >= classes) break;
    }
    const dim = featurizer.dim;
    const C = perClass.length;
    const data32 = new Float32Array(n * C * dim);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) data32.set(perClass[c]!.data.subarray(i * dim, (i + 1) * dim), (i * C + c) * dim);
    return { features: { rows: n * C, dim, data: data32, blocks: featurizer.blocks.map((b) => ({ ...b })) }, examples: n, rowsPerExample: C };
  } finally {
    featurizer.dispose();
  }
}

/**
 * The explicit d × d curvature G = (1/n) Σ_i Σ_c s_ic s_icᵀ + l2·I from Gauss–Newton pseudo-gradients (or the empirical
 * Fisher, one row per example), float64 row-major. For small models (d up to a few thousand: d² doubles). For logistic
 * regression with `l2` = the training objective's L2 coefficient it is the exact Hessian of the regularised mean loss.
 *
 * @example
 * ```ts
 * import { curvatureMatrix, type CurvatureFeatures } from 'provenant/attribution';
 *
 * declare const gn: CurvatureFeatures; // gaussNewtonFeatures(model, data)
 * const H = curvatureMatrix(gn, 1e-3); // Float64Array(d · d)
 * ```
 */
export function curvatureMatrix(curvature: CurvatureFeatures, l2 = 0): Float64Array {
  const d = curvature.features.dim;
  const H = gramMatrix(curvature.features);
  const inv = 1 / curvature.examples;
  for (let k = 0; k < H.length; k++) H[k]! *= inv;
  for (let a = 0; a < d; a++) H[a * d + a]! += l2;
  return H;
}

/** The options of {@link fitInverseHessian}: a misspelt name is refused with the nearest field. */
export const INVERSE_HESSIAN_PARAMS: ParamTable = Object.freeze({
  name: 'fitInverseHessian',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'damping', default: 0, meaning: 'Added to the diagonal before factorising (Tikhonov damping).', aliases: ['lambda'] }],
});

export interface InverseHessianOptions {
  /** Added to the diagonal before factorising (Tikhonov damping); default 0. */
  damping?: number;
}

/**
 * Influence functions with an explicit inverse (Koh & Liang 2017, eq. 2): query(g_t) = (H + λI)⁻¹ g_t, solved by a
 * float64 Cholesky factorisation (../linalg). `hessian` is d×d row-major: e.g. {@link curvatureMatrix} with the training
 * objective's L2 coefficient (exact for logistic regression), or any Hessian the caller computed.
 *
 * @example
 * ```ts
 * import { curvatureMatrix, fitInverseHessian, gaussNewtonFeatures, type FeaturizeData } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const data: FeaturizeData;
 * const G = gaussNewtonFeatures(model, data);
 * const H = curvatureMatrix(G, 1e-3);
 * const pre = fitInverseHessian(H, G.features.dim);
 * ```
 */
export function fitInverseHessian(hessian: ArrayLike<number>, dim: number, options: InverseHessianOptions = {}): Preconditioner {
  resolve(INVERSE_HESSIAN_PARAMS, options);
  const damping = options.damping ?? 0;
  if (!(damping >= 0)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `damping must be ≥ 0, got ${damping}.`);
  const solver = choleskyFactor(hessian, dim, { damping });
  return {
    method: 'inverse-hessian',
    params: { damping, dim },
    query: (q) => solveRows(solver, q),
    train: identityTransform,
  };
}

/** Defaults of the damped Fisher, with their reason: the one table {@link fitFisher} and the convex closed form read. */
export const FISHER_DEFAULTS = Object.freeze({
  /** λ = 0.1 × the mean eigenvalue tr(F)/d of F, so the damping has the scale of the curvature. */
  relativeDamping: 0.1,
});

/** The options of {@link fitFisher}: a misspelt name is refused with the nearest field. */
export const FIT_FISHER_PARAMS: ParamTable = Object.freeze({
  name: 'fitFisher',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'damping', default: null, meaning: 'Absolute damping λ (null: relativeDamping × tr(F)/d).', aliases: ['lambda'] },
    { name: 'relativeDamping', default: FISHER_DEFAULTS.relativeDamping, meaning: 'λ as a multiple of the mean eigenvalue tr(F)/d of F.', aliases: ['relative_damping'] },
  ],
});

export interface FisherOptions {
  /** Absolute damping λ. Default: `relativeDamping` · tr(F)/d. */
  damping?: number;
  /** Default {@link FISHER_DEFAULTS}.relativeDamping: λ = 0.1 × the mean eigenvalue of F. */
  relativeDamping?: number;
}

/**
 * Damped empirical Fisher (or Gauss–Newton) in feature space: query(g_t) = (F + λI)⁻¹ g_t with F = (1/n) Σ_i g_i g_iᵀ
 * over the (projected) training features, or over Gauss–Newton pseudo-gradients when `curvature` is given. Float64,
 * Cholesky (../linalg). This is the preconditioner of TRAK-style projected influence (Park et al. 2023, eq. 15 with the
 * Gauss–Newton approximation) and of EK-FAC-free "projected influence" (Choe et al. 2024, LoGra §3.3).
 *
 * @example
 * ```ts
 * import { fitFisher, gaussNewtonFeatures, type FeatureMatrix, type FeaturizeData, type FeaturizeOptions } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const trainFeatures: FeatureMatrix;
 * declare const model: Model;
 * declare const data: FeaturizeData;
 * declare const opts: FeaturizeOptions;
 * const pre = fitFisher(trainFeatures);                         // empirical Fisher, λ = 0.1·tr(F)/d
 * const pre2 = fitFisher(gaussNewtonFeatures(model, data, opts)); // Gauss–Newton in the same projected space
 * ```
 */
export function fitFisher(source: FeatureMatrix | CurvatureFeatures, options: FisherOptions = {}): Preconditioner {
  resolve(FIT_FISHER_PARAMS, options);
  const curvature: CurvatureFeatures = 'features' in source ? source : { features: source, examples: source.rows, rowsPerExample: 1 };
  const d = curvature.features.dim;
  const F = curvatureMatrix(curvature, 0);
  let trace = 0;
  for (let a = 0; a < d; a++) trace += F[a * d + a]!;
  const damping = options.damping ?? (options.relativeDamping ?? FISHER_DEFAULTS.relativeDamping) * (trace / d);
  if (!(damping > 0) || !Number.isFinite(damping)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Fisher damping must be positive and finite, got ${damping}.`);
  }
  const solver = choleskyFactor(F, d, { damping });
  return {
    method: 'features' in source ? 'gauss-newton' : 'fisher',
    params: { damping, dim: d },
    query: (q) => solveRows(solver, q),
    train: identityTransform,
  };
}

export function solveRows(solver: CholeskyFactor, q: FeatureMatrix): FeatureMatrix {
  if (q.dim !== solver.n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Query features have ${q.dim} columns, the curvature ${solver.n}.`);
  const x = solver.solveRows(q.data, q.rows);
  return mapRows(q, (_row, out, i) => out.set(x.subarray(i * q.dim, (i + 1) * q.dim)));
}
