/**
 * Gradient-similarity attribution on the exact reference without the n × P per-example gradient matrix. For softmax
 * regression ∇ℓ_i = x̃_i ⊗ r_i (x̃_i = [x_i, 1], r_i = p_i − e_{y_i}; objective.ts), so
 *   ⟨∇ℓ_i, ∇ℓ_t⟩ = (x̃_iᵀ x̃_t) · (r_iᵀ r_t):
 * every inner product of two gradients is a product over D = d + 1 features times one over C classes, and the n × m
 * matrix of them is (X̃_A X̃_Bᵀ) ⊙ (R_A R_Bᵀ) — 1/C of the flops of G_A G_Bᵀ, in float64 on the dense kernel (../linalg).
 * On it, in closed form:
 *  - Grad-Dot and TracInCP (Pruthi et al. 2020, "Estimating training data influence by tracing gradient descent", Eq. 5):
 *    Σ_k η_k ⟨∇ℓ_i(θ_k), ∇ℓ_t(θ_k)⟩ = (X̃_A X̃_Bᵀ) ⊙ (Σ_k η_k R_A^k R_B^kᵀ) — x̃ does not change with θ, so K checkpoints
 *    cost one feature product and a product over K·C columns.
 *  - DataInf (Kwon et al. 2024, §3, Eq. 5; precondition/datainf.ts): with the training Gram K = G Gᵀ and S = G Qᵀ,
 *    τ = (1/λ)(S − K W S), W = diag(1/(n(λ + ‖g_i‖²))) — the Sherman–Morrison sum as two products; the self-influence
 *    τ(i, i) = (1/λ)(K_ii − Σ_j W_jj K_ij²) needs only K.
 *  - Damped empirical Fisher (precondition/gauss-newton.ts fitFisher): with F = (1/n) GᵀG, the Woodbury identity gives
 *    τ = G (F + λI)⁻¹ Qᵀ = n (K + nλI)⁻¹ S, an n × n Cholesky instead of a P × P one when n ≤ P.
 * The whole parameter vector (weights and bias) is one layer, as `fitDataInf` treats the blocks of one module.
 */
import { ProvenantError, resolve, type ParamField, type ParamTable } from '../../core/index.js';
import type { ScoreMatrix } from '../quality/score-matrix.js';
import { choleskyFactor, createDenseWorkspace, gemmNTBlocked, type DenseEngine, type DenseWorkspace } from '../linalg/index.js';
import { DATAINF_DEFAULTS } from '../precondition/datainf.js';
import { FISHER_DEFAULTS } from '../precondition/gauss-newton.js';
import { convexScoresFromSolutions } from './influence.js';
import { convexExampleGradients, convexExampleResiduals, kroneckerGram } from './objective.js';
import { assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';

/** Training rows per tile of an n × n kernel: bounds the tile × n intermediates (two of 512 × n doubles). */
const KERNEL_TILE = 512;

const ENGINE_FIELD: ParamField = { name: 'engine', default: null, meaning: 'Dense engine: wasm or js (null: wasm where available).' };
const methodTable = (name: string, fields: readonly ParamField[]): ParamTable => Object.freeze({ name, code: 'ATTRIBUTION_INPUT_INVALID', fields: [ENGINE_FIELD, ...fields] });

/** The options of {@link convexGradientDotScores}: a misspelt name is refused with the nearest field. */
export const CONVEX_GRADIENT_DOT_PARAMS: ParamTable = methodTable('convexGradientDot', [
  { name: 'weights', default: null, meaning: 'Weight η_k of each checkpoint (TracInCP\'s learning rates; null: 1 each).', aliases: ['learningRates'] },
]);
/** The options of {@link convexGradientDotSelfInfluence}. */
const CONVEX_GRADIENT_DOT_SELF_PARAMS: ParamTable = Object.freeze({ ...CONVEX_GRADIENT_DOT_PARAMS, fields: CONVEX_GRADIENT_DOT_PARAMS.fields.filter((f) => f.name === 'weights') });
/** The options of {@link convexDataInfScores} and {@link convexDataInfSelfInfluence}. */
export const CONVEX_DATAINF_PARAMS: ParamTable = methodTable('convexDataInf', [
  { name: 'lambda', default: null, meaning: 'λ (absolute; null: lambdaScale × mean squared gradient entry).', aliases: ['damping'] },
  { name: 'lambdaScale', default: DATAINF_DEFAULTS.lambdaScale, meaning: 'Multiplier of the mean squared gradient entry for the default λ.', aliases: ['lambda_scale'] },
]);
/** The options of {@link convexFisherScores}. */
export const CONVEX_FISHER_PARAMS: ParamTable = methodTable('convexFisher', [
  { name: 'damping', default: null, meaning: 'Absolute damping λ (null: relativeDamping × tr(F)/P).', aliases: ['lambda'] },
  { name: 'relativeDamping', default: FISHER_DEFAULTS.relativeDamping, meaning: 'λ as a multiple of the mean eigenvalue of F.', aliases: ['relative_damping'] },
  { name: 'route', default: null, meaning: 'kernel (Woodbury, n × n) or explicit (P × P) (null: the smaller factorisation).' },
]);

export interface ConvexGradientMethodOptions {
  /** Dense engine: 'wasm' (default where available) or 'js'. */
  engine?: DenseEngine;
}

/** A problem's factors in a workspace: X̃ (rows × D) and the residual columns R (rows × K), both row-major. */
interface Factors {
  rows: number;
  x: number;
  r: number;
  /** ‖x̃_i‖² per row. */
  xNorms: Float64Array;
}

function checkPair(train: ConvexLogisticProblem, test: ConvexLogisticProblem): void {
  if (test.d !== train.d || test.numClasses !== train.numClasses) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Test data has d = ${test.d}, C = ${test.numClasses}; the model has d = ${train.d}, C = ${train.numClasses}.`);
  }
}

/** θ or a list of checkpoints → a non-empty list, each checked against the problem. */
function checkpointsOf(problem: ConvexLogisticProblem, thetas: Float64Array | readonly Float64Array[]): readonly Float64Array[] {
  const list = thetas instanceof Float64Array ? [thetas] : thetas;
  if (list.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'At least one checkpoint θ is needed.');
  list.forEach((theta, k) => assertTheta(problem, theta, `checkpoint ${k}`));
  return list;
}

function weightsOf(count: number, weights: ArrayLike<number> | undefined): Float64Array {
  if (weights === undefined) return new Float64Array(count).fill(1);
  if (weights.length !== count) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${weights.length} checkpoint weights for ${count} checkpoints.`);
  const w = Float64Array.from(weights);
  const bad = w.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Checkpoint weight ${bad} is ${weights[bad]}, not a finite number.`, { data: { checkpoint: bad } });
  return w;
}

/**
 * X̃ and the residuals of every checkpoint (scaled by `scale[k]`, K = checkpoints·C columns) of `problem` into `ws`.
 */
function writeFactors(ws: DenseWorkspace, problem: ConvexLogisticProblem, thetas: readonly Float64Array[], scale: Float64Array): Factors {
  const { n, d, numClasses: C, x } = problem;
  const D = d + 1;
  const K = thetas.length * C;
  const xa = ws.alloc(n * D);
  const ra = ws.alloc(n * K);
  const xNorms = new Float64Array(n);
  const h = ws.heap();
  for (let i = 0; i < n; i++) {
    let s = 1;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      h[xa + i * D + j] = v;
      s += v * v;
    }
    h[xa + i * D + d] = 1;
    xNorms[i] = s;
  }
  thetas.forEach((theta, k) => {
    const res = convexExampleResiduals(problem, theta);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) h[ra + i * K + k * C + c] = scale[k]! * res[i * C + c]!;
  });
  return { rows: n, x: xa, r: ra, xNorms };
}

/**
 * out (m × b.rows, row-major at heap offset `out`) = (X̃_a X̃_bᵀ) ⊙ (R_a R_bᵀ) for rows [i0, i0 + m) of `a`: two products on
 * the dense kernel, then the Hadamard product. `scratch` holds m × b.rows values.
 */
function kernelTile(ws: DenseWorkspace, D: number, K: number, a: Factors, i0: number, m: number, b: Factors, out: number, scratch: number): void {
  const nb = b.rows;
  let h = ws.heap();
  h.fill(0, out, out + m * nb);
  h.fill(0, scratch, scratch + m * nb);
  gemmNTBlocked(ws, m, nb, D, 1, a.x + i0 * D, D, b.x, D, out, nb);
  gemmNTBlocked(ws, m, nb, K, 1, a.r + i0 * K, K, b.r, K, scratch, nb);
  h = ws.heap();
  for (let q = 0; q < m * nb; q++) h[out + q]! *= h[scratch + q]!;
}

export interface ConvexGradientDotOptions extends ConvexGradientMethodOptions {
  /** Weight η_k of each checkpoint (TracInCP's learning rates); default 1 each. */
  weights?: ArrayLike<number>;
}

/**
 * Grad-Dot (one θ) or TracInCP (checkpoints θ_1 … θ_K with weights η_k; Pruthi et al. 2020, Eq. 5) on the reference:
 * τ(i, t) = Σ_k η_k ∇ℓ_t(θ_k)ᵀ ∇ℓ_i(θ_k), nTrain × nTest row-major (../quality/score-matrix.ts), exact in float64 —
 * computed as (X̃ X̃_testᵀ) ⊙ (Σ_k η_k R^k R_test^kᵀ), never forming a gradient.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length, a test set of another d or C, or a
 *   `weights` of another length than the checkpoints; `ATTRIBUTION_INPUT_INVALID` for no checkpoint or a non-finite weight.
 * @example
 * ```ts
 * import { convexGradientDotScores, fitConvexLogistic, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const test: ConvexLogisticProblem;
 * const fit = fitConvexLogistic(train, { recordPath: true });
 * const gradDot = convexGradientDotScores(train, test, fit.theta); // ⟨∇ℓ_t, ∇ℓ_i⟩ at θ̂
 * const tracIn = convexGradientDotScores(train, test, fit.path!);  // summed over the Newton iterates
 * ```
 */
export function convexGradientDotScores(train: ConvexLogisticProblem, test: ConvexLogisticProblem, thetas: Float64Array | readonly Float64Array[], options: ConvexGradientDotOptions = {}): ScoreMatrix {
  resolve(CONVEX_GRADIENT_DOT_PARAMS, options);
  checkPair(train, test);
  const list = checkpointsOf(train, thetas);
  const eta = weightsOf(list.length, options.weights);
  const D = train.d + 1;
  const K = list.length * train.numClasses;
  const n = train.n, m = test.n;
  const ws = createDenseWorkspace((n + m) * (D + K) + 2 * n * m + 16, options.engine);
  const a = writeFactors(ws, train, list, eta);
  const b = writeFactors(ws, test, list, new Float64Array(list.length).fill(1));
  const out = ws.alloc(n * m);
  const scratch = ws.alloc(n * m);
  kernelTile(ws, D, K, a, 0, n, b, out, scratch);
  return { values: ws.heap().slice(out, out + n * m), nTrain: n, nTest: m };
}

/**
 * Σ_k η_k ‖∇ℓ_i(θ_k)‖² per row = ‖x̃_i‖² Σ_k η_k ‖r_i^k‖²: Grad-Dot's (one θ) or TracInCP's self-influence, the
 * mislabel-detection score of Pruthi et al. 2020 (§5.1); length n, exact in float64.
 *
 * @throws ProvenantError as {@link convexGradientDotScores}.
 * @example
 * ```ts
 * import { convexGradientDotSelfInfluence, fitConvexLogistic, mislabelAuc, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const noisy: ConvexLogisticProblem;
 * declare const flipped: Uint32Array;
 * const fit = fitConvexLogistic(noisy, { recordPath: true });
 * mislabelAuc(convexGradientDotSelfInfluence(noisy, fit.path!), flipped);
 * ```
 */
export function convexGradientDotSelfInfluence(problem: ConvexLogisticProblem, thetas: Float64Array | readonly Float64Array[], options: Pick<ConvexGradientDotOptions, 'weights'> = {}): Float64Array {
  resolve(CONVEX_GRADIENT_DOT_SELF_PARAMS, options);
  const list = checkpointsOf(problem, thetas);
  const eta = weightsOf(list.length, options.weights);
  const { n, d, numClasses: C, x } = problem;
  const out = new Float64Array(n);
  list.forEach((theta, k) => {
    const res = convexExampleResiduals(problem, theta);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += res[i * C + c]! ** 2;
      out[i]! += eta[k]! * s;
    }
  });
  for (let i = 0; i < n; i++) {
    let s = 1;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    out[i]! *= s;
  }
  return out;
}

export interface ConvexDataInfOptions extends ConvexGradientMethodOptions {
  /** λ (absolute), overriding the default `lambdaScale` · mean squared gradient entry. */
  lambda?: number;
  /** Multiplier of the mean squared gradient entry for the default λ; default {@link DATAINF_DEFAULTS}.lambdaScale. */
  lambdaScale?: number;
}

/** A score matrix with the damping λ that produced it (for the record). */
export interface ConvexDampedScores extends ScoreMatrix {
  lambda: number;
}

/** DataInf's λ: the option, or lambdaScale · (n P)⁻¹ Σ_i ‖g_i‖² (Kwon et al. 2024's code; precondition/datainf.ts). */
function dataInfLambda(problem: ConvexLogisticProblem, gradNorms: Float64Array, options: ConvexDataInfOptions): number {
  const scale = options.lambdaScale ?? DATAINF_DEFAULTS.lambdaScale;
  if (!(scale > 0)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `lambdaScale must be positive, got ${scale}.`);
  const total = gradNorms.reduce((s, v) => s + v, 0);
  const lambda = options.lambda ?? (scale * total) / (problem.n * parameterCount(problem));
  if (!(lambda > 0) || !Number.isFinite(lambda)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', options.lambda !== undefined
      ? `DataInf options.lambda must be a positive finite number, got ${options.lambda}.`
      : `DataInf λ is ${lambda}; the gradients may be all zero. Pass options.lambda.`);
  }
  return lambda;
}

/** ‖∇ℓ_i‖² = ‖x̃_i‖² ‖r_i‖² from the factors (one checkpoint, unscaled residuals at `f.r`). */
function gradientNorms(ws: DenseWorkspace, f: Factors, C: number): Float64Array {
  const h = ws.heap();
  return Float64Array.from(f.xNorms, (xn, i) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += h[f.r + i * C + c]! ** 2;
    return xn * s;
  });
}

/**
 * DataInf (Kwon et al. 2024, §3, Eq. 5) at θ on the reference, in closed form: τ(i, t) = q̃_tᵀ ∇ℓ_i with
 * q̃_t = (1/λ)(q_t − (1/n) Σ_j [∇ℓ_jᵀ q_t / (λ + ‖∇ℓ_j‖²)] ∇ℓ_j), i.e. τ = (1/λ)(S − K W S) with S the Grad-Dot matrix,
 * K = G Gᵀ the training Gram (both factored, see the file header) and W = diag(1/(n(λ + ‖∇ℓ_j‖²))). One layer (the whole θ);
 * λ defaults to 0.1 × the mean squared gradient entry, as `fitDataInf`. nTrain × nTest, float64; n²·(d + 1 + C + nTest)
 * multiply-adds, the n × n Gram in tiles of 512 rows.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length or a test set of another d or C;
 *   `ATTRIBUTION_INPUT_INVALID` for a non-positive `lambdaScale` or λ.
 * @example
 * ```ts
 * import { convexDataInfScores, fitConvexLogistic, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const test: ConvexLogisticProblem;
 * const scores = convexDataInfScores(train, fitConvexLogistic(train).theta, test); // scores.lambda: the damping used
 * ```
 */
export function convexDataInfScores(train: ConvexLogisticProblem, theta: Float64Array, test: ConvexLogisticProblem, options: ConvexDataInfOptions = {}): ConvexDampedScores {
  resolve(CONVEX_DATAINF_PARAMS, options);
  checkPair(train, test);
  assertTheta(train, theta);
  const D = train.d + 1;
  const C = train.numClasses;
  const n = train.n, m = test.n;
  const tile = Math.min(KERNEL_TILE, n);
  const ws = createDenseWorkspace((n + m) * (D + C) + 2 * n * m + 2 * tile * n + tile * m + 16, options.engine);
  const one = new Float64Array([1]);
  const a = writeFactors(ws, train, [theta], one);
  const b = writeFactors(ws, test, [theta], one);
  const norms = gradientNorms(ws, a, C);
  const lambda = dataInfLambda(train, norms, options);
  // S (n × m), then (W S)ᵀ (m × n) as the second operand of K·(W S).
  const s = ws.alloc(n * m);
  const wst = ws.alloc(m * n);
  const k = ws.alloc(tile * n);
  const scratch = ws.alloc(Math.max(tile * n, n * m));
  const kws = ws.alloc(tile * m);
  kernelTile(ws, D, C, a, 0, n, b, s, scratch);
  let h = ws.heap();
  for (let i = 0; i < n; i++) {
    const w = 1 / (n * (lambda + norms[i]!));
    for (let t = 0; t < m; t++) h[wst + t * n + i] = w * h[s + i * m + t]!;
  }
  const values = new Float64Array(n * m);
  for (let i0 = 0; i0 < n; i0 += tile) {
    const rows = Math.min(tile, n - i0);
    kernelTile(ws, D, C, a, i0, rows, a, k, scratch);
    h = ws.heap();
    h.fill(0, kws, kws + rows * m);
    gemmNTBlocked(ws, rows, m, n, 1, k, n, wst, n, kws, m);
    h = ws.heap();
    for (let q = 0; q < rows * m; q++) values[i0 * m + q] = (h[s + i0 * m + q]! - h[kws + q]!) / lambda;
  }
  return { values, nTrain: n, nTest: m, lambda };
}

/**
 * DataInf's self-influence τ(i, i) = (1/λ)(‖∇ℓ_i‖² − Σ_j W_jj (∇ℓ_iᵀ∇ℓ_j)²) of every row (the query is the row's own
 * gradient; {@link convexDataInfScores}'s closed form on the diagonal): only the Gram K, in tiles. Length n, float64.
 *
 * @throws ProvenantError as {@link convexDataInfScores}.
 * @example
 * ```ts
 * import { convexDataInfSelfInfluence, fitConvexLogistic, mislabelAuc, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const noisy: ConvexLogisticProblem;
 * declare const flipped: Uint32Array;
 * mislabelAuc(convexDataInfSelfInfluence(noisy, fitConvexLogistic(noisy).theta), flipped);
 * ```
 */
export function convexDataInfSelfInfluence(problem: ConvexLogisticProblem, theta: Float64Array, options: ConvexDataInfOptions = {}): Float64Array {
  resolve(CONVEX_DATAINF_PARAMS, options);
  assertTheta(problem, theta);
  const D = problem.d + 1;
  const C = problem.numClasses;
  const n = problem.n;
  const tile = Math.min(KERNEL_TILE, n);
  const ws = createDenseWorkspace(n * (D + C) + 2 * tile * n + 16, options.engine);
  const a = writeFactors(ws, problem, [theta], new Float64Array([1]));
  const norms = gradientNorms(ws, a, C);
  const lambda = dataInfLambda(problem, norms, options);
  const w = Float64Array.from(norms, (g) => 1 / (n * (lambda + g)));
  const k = ws.alloc(tile * n);
  const scratch = ws.alloc(tile * n);
  const out = new Float64Array(n);
  for (let i0 = 0; i0 < n; i0 += tile) {
    const rows = Math.min(tile, n - i0);
    kernelTile(ws, D, C, a, i0, rows, a, k, scratch);
    const h = ws.heap();
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += w[j]! * h[k + r * n + j]! ** 2;
      out[i0 + r] = (norms[i0 + r]! - s) / lambda;
    }
  }
  return out;
}

export interface ConvexFisherOptions extends ConvexGradientMethodOptions {
  /** Absolute damping λ. Default: `relativeDamping` · tr(F)/P. */
  damping?: number;
  /** Default {@link FISHER_DEFAULTS}.relativeDamping: λ = 0.1 × the mean eigenvalue of F, as `fitFisher`. */
  relativeDamping?: number;
  /**
   * 'kernel': τ = n (K + nλI)⁻¹ S by the Woodbury identity (n × n Cholesky); 'explicit': F + λI formed (P × P, block
   * Gram matrices) and factored. Default: 'kernel' when n ≤ P, else 'explicit' — the smaller factorisation.
   */
  route?: 'kernel' | 'explicit';
}

/** A score matrix with the Fisher damping and the route taken. */
export interface ConvexFisherScores extends ScoreMatrix {
  damping: number;
  route: 'kernel' | 'explicit';
}

/**
 * Influence through the damped empirical Fisher F = (1/n) Σ_i ∇ℓ_i ∇ℓ_iᵀ at θ (Koh & Liang 2017, Eq. 2 with H ≈ F + λI;
 * the preconditioner of precondition/gauss-newton.ts `fitFisher`): τ(i, t) = ∇ℓ_tᵀ (F + λI)⁻¹ ∇ℓ_i, λ = 0.1·tr(F)/P by
 * default. Exact in float64 by either route (see {@link ConvexFisherOptions}.route): the Woodbury identity
 * (λI + GᵀG/n)⁻¹ = (1/λ)(I − Gᵀ(nλI + GGᵀ)⁻¹G) gives τ = n (K + nλI)⁻¹ S with K = G Gᵀ and S the Grad-Dot matrix, both
 * factored (file header); or F as C(C+1)/2 weighted Gram blocks (r rᵀ has zero row sums, as the Hessian's weights do).
 * nTrain × nTest row-major.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length or a test set of another d or C;
 *   `ATTRIBUTION_INPUT_INVALID` for a damping that is not positive and finite, or an unknown route.
 * @example
 * ```ts
 * import { convexFisherScores, fitConvexLogistic, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const test: ConvexLogisticProblem;
 * const scores = convexFisherScores(train, fitConvexLogistic(train).theta, test); // scores.route: 'kernel' when n ≤ P
 * ```
 */
export function convexFisherScores(train: ConvexLogisticProblem, theta: Float64Array, test: ConvexLogisticProblem, options: ConvexFisherOptions = {}): ConvexFisherScores {
  resolve(CONVEX_FISHER_PARAMS, options);
  checkPair(train, test);
  assertTheta(train, theta);
  const D = train.d + 1;
  const C = train.numClasses;
  const P = parameterCount(train);
  const n = train.n, m = test.n;
  const route = options.route ?? (n <= P ? 'kernel' : 'explicit');
  if (route !== 'kernel' && route !== 'explicit') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Fisher route must be 'kernel' or 'explicit', got ${String(route)}.`);
  const residuals = convexExampleResiduals(train, theta);
  // tr(F) = (1/n) Σ_i ‖x̃_i‖² ‖r_i‖².
  let trace = 0;
  for (let i = 0; i < n; i++) {
    let xn = 1, rn = 0;
    for (let j = 0; j < train.d; j++) xn += train.x[i * train.d + j]! ** 2;
    for (let c = 0; c < C; c++) rn += residuals[i * C + c]! ** 2;
    trace += (xn * rn) / n;
  }
  const damping = options.damping ?? (options.relativeDamping ?? FISHER_DEFAULTS.relativeDamping) * (trace / P);
  if (!(damping > 0) || !Number.isFinite(damping)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Fisher damping must be positive and finite, got ${damping}.`);
  }
  if (route === 'explicit') {
    const R = resolveRows(train);
    const F = kroneckerGram(train, R, (r, c, c2) => (residuals[r * C + c]! * residuals[r * C + c2]!) / n, options.engine);
    const L = choleskyFactor(F, P, { damping, engine: options.engine });
    const values = convexScoresFromSolutions(train, residuals, L.solveRows(convexExampleGradients(test, theta), m), m, options.engine);
    return { values, nTrain: n, nTest: m, damping, route };
  }
  const tile = Math.min(KERNEL_TILE, n);
  const ws = createDenseWorkspace((n + m) * (D + C) + n * n + n * m + Math.max(tile * n, n * m) + 16, options.engine);
  const one = new Float64Array([1]);
  const a = writeFactors(ws, train, [theta], one);
  const b = writeFactors(ws, test, [theta], one);
  const k = ws.alloc(n * n);
  const scratch = ws.alloc(Math.max(tile * n, n * m));
  for (let i0 = 0; i0 < n; i0 += tile) kernelTile(ws, D, C, a, i0, Math.min(tile, n - i0), a, k + i0 * n, scratch);
  let h = ws.heap();
  for (let i = 0; i < n; i++) h[k + i * n + i]! += n * damping;
  const L = choleskyFactor(h.subarray(k, k + n * n), n, { engine: options.engine });
  const s = ws.alloc(n * m);
  kernelTile(ws, D, C, a, 0, n, b, s, scratch);
  h = ws.heap();
  // Columns of S are the right-hand sides: solve with Sᵀ's rows, then τ(i, t) = n · Y[t, i].
  const st = new Float64Array(m * n);
  for (let i = 0; i < n; i++) for (let t = 0; t < m; t++) st[t * n + i] = h[s + i * m + t]!;
  const y = L.solveRows(st, m);
  const values = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let t = 0; t < m; t++) values[i * m + t] = n * y[t * n + i]!;
  return { values, nTrain: n, nTest: m, damping, route };
}
