/**
 * Value, gradient, Hessian-vector product and explicit Hessian of the reference objective (see problem.ts):
 *   ∇J_R = (1/|R|) Σ_i x̃_i ⊗ (p_i − e_{y_i}) + λθ
 *   ∇²J_R = (1/|R|) Σ_i (x̃_i x̃_iᵀ) ⊗ (diag p_i − p_i p_iᵀ) + λI
 */
import { accumulateOuter, forwardRows } from './kernels.js';
import { probabilitiesOnRows } from './outputs.js';
import { createDenseWorkspace, gemmNTBlocked, gemmNTLower, type DenseEngine, type DenseWorkspace } from '../linalg/index.js';
import type { CurvatureOperator } from '../precondition/curvature-operator.js';
import { activeFeatures, assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';

export interface ConvexObjective {
  value: number;
  gradient: Float64Array;
  /** Softmax probabilities of the rows (|R| × C), reused by Hessian products at the same θ. */
  probabilities: Float64Array;
}

function l2(theta: Float64Array): number {
  let s = 0;
  for (let k = 0; k < theta.length; k++) s += theta[k]! * theta[k]!;
  return s;
}

/**
 * The regularised objective J_R(θ) = (1/|R|) Σ_{i∈R} ℓ_i(θ) + (λ/2)·‖θ‖² on rows R (default all), ℓ_i the
 * softmax cross-entropy in nats. θ is the Float64Array of length P = (d + 1)·C (row-major (d + 1) × C, bias last).
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when θ is not a Float64Array of length P;
 *   `ATTRIBUTION_INPUT_INVALID` for an empty `rows` or an index outside [0, n).
 * @example
 * ```ts
 * import { convexLogisticLoss, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexLogisticLoss(problem, theta);         // ≈ 0.1538 (nats, mean loss + λ/2·‖θ‖²)
 * convexLogisticLoss(problem, theta, [0, 1]); // ≈ 0.1444 on rows 0 and 1 only
 * ```
 */
export function convexLogisticLoss(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): number {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(R.length * problem.numClasses);
  return forwardRows(problem, theta, R, probs) / R.length + 0.5 * problem.lambda * l2(theta);
}

/**
 * J_R(θ) and its gradient ∇J_R = (1/|R|) Σ_i x̃_i ⊗ (p_i − e_{y_i}) + λθ in one pass, with the softmax probabilities
 * (|R| × C, row-major) for Hessian products at the same θ. `gradient` has length P.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexLogisticObjective, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * const { value, gradient, probabilities } = convexLogisticObjective(problem, theta);
 * // value ≈ 0.1538; gradient: Float64Array(6), ‖·‖ < 1e-15 at the optimum; probabilities: Float64Array(4 · 2)
 * ```
 */
export function convexLogisticObjective(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): ConvexObjective {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  return objectiveOnRows(problem, theta, R);
}

export function objectiveOnRows(problem: ConvexLogisticProblem, theta: Float64Array, R: Uint32Array): ConvexObjective {
  const C = problem.numClasses;
  const probabilities = new Float64Array(R.length * C);
  const lossSum = forwardRows(problem, theta, R, probabilities);
  const residual = probabilities.slice();
  for (let r = 0; r < R.length; r++) residual[r * C + problem.labels[R[r]!]!]! -= 1;
  const gradient = new Float64Array(theta.length);
  accumulateOuter(problem, R, residual, 1 / R.length, gradient);
  for (let k = 0; k < theta.length; k++) gradient[k]! += problem.lambda * theta[k]!;
  return { value: lossSum / R.length + 0.5 * problem.lambda * l2(theta), gradient, probabilities };
}

/** The exact Hessian of J_R at one θ as an operator: v ↦ ∇²J_R·v, and its diagonal (a Jacobi preconditioner). */
export interface ConvexHessianOperator {
  size: number;
  apply(v: Float64Array, out?: Float64Array): Float64Array;
  /** ∇²J_R·v for each of `rows` row vectors of V (rows × P) at once: two wide products per block of vectors. */
  applyRows(V: Float64Array, rows: number, out?: Float64Array): Float64Array;
  diagonal(): Float64Array;
}

/**
 * The Hessian operator at θ (matrix-free: two products with the rows per application, 2·n·(d + 1)·C multiply-adds,
 * on the dense kernel).
 *
 * @example
 * ```ts
 * import { convexHessianOperator, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const problem: ConvexLogisticProblem;
 * declare const theta: Float64Array;
 * declare const v: Float64Array;
 * const H = convexHessianOperator(problem, theta);
 * const Hv = H.apply(v);
 * ```
 */
export function convexHessianOperator(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): ConvexHessianOperator {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(R.length * problem.numClasses);
  forwardRows(problem, theta, R, probs);
  return hessianOperatorFromProbabilities(problem, R, probs);
}

export function hessianOperatorFromProbabilities(problem: ConvexLogisticProblem, R: Uint32Array, probs: Float64Array, engine?: DenseEngine): ConvexHessianOperator {
  const C = problem.numClasses;
  const P = parameterCount(problem);
  const { lambda, x, d } = problem;
  const nR = R.length;
  // X̃_R on the features nonzero on some row of R (the others add nothing to either product), held both ways round
  // (|R| × Da and Da × |R|) so each product of hessianProductRows reads its operands contiguously.
  const cols = activeFeatures(problem, R);
  const Da = cols.length;
  const ws = createDenseWorkspace(2 * nR * Da + hessianProductScratch(nR, Da, C, 1) + 8, engine);
  const xr = ws.alloc(nR * Da);
  const xrt = ws.alloc(Da * nR);
  writeAugmentedRows(ws.heap(), x, d, R, cols, xr, xrt);
  const product = (V: Float64Array, rows: number, out: Float64Array) => {
    // Vectors per pass: bounds the |R| × (rows·C) intermediates (~4 M values) while keeping the products wide.
    const chunk = Math.max(1, Math.floor(PRODUCT_VALUES / (nR * C)));
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const m = Math.min(chunk, rows - r0);
      hessianProductRows(ws, xr, xrt, cols, probs, nR, C, lambda, V.subarray(r0 * P, (r0 + m) * P), m, out.subarray(r0 * P, (r0 + m) * P));
    }
    return out;
  };
  return {
    size: P,
    apply: (v, out = new Float64Array(P)) => product(v, 1, out),
    applyRows: (V, rows, out = new Float64Array(rows * P)) => product(V, rows, out),
    diagonal() {
      const diag = new Float64Array(P);
      const { x, d } = problem;
      for (let r = 0; r < R.length; r++) {
        const xo = R[r]! * d;
        for (let c = 0; c < C; c++) {
          const pc = probs[r * C + c]!;
          const w = (pc * (1 - pc)) / R.length;
          for (let j = 0; j < d; j++) diag[j * C + c]! += w * x[xo + j]! * x[xo + j]!;
          diag[d * C + c]! += w;
        }
      }
      for (let k = 0; k < P; k++) diag[k]! += lambda;
      return diag;
    },
  };
}

/** Values of the |R| × (rows·C) intermediates one pass of a batched Hessian product may hold (bounds its scratch). */
const PRODUCT_VALUES = 4_000_000;

/** Scratch elements {@link hessianProductRows} allocates for `rows` vectors over `nb` rows. */
function hessianProductScratch(nb: number, D: number, C: number, rows: number): number {
  const K = rows * C;
  return K * D + 2 * nb * K + D * K + 16;
}

/** Columns `cols` of x̃ = [x, 1] (index d: the bias) of rows R into the heap as |R| × Da (at `xr`) and Da × |R| (at `xrt`). */
function writeAugmentedRows(h: Float64Array, x: Float64Array, d: number, R: ArrayLike<number>, cols: Uint32Array, xr: number, xrt: number): void {
  const Da = cols.length;
  const nR = R.length;
  for (let r = 0; r < nR; r++) {
    const xo = R[r]! * d;
    for (let ja = 0; ja < Da; ja++) {
      const j = cols[ja]!;
      const v = j === d ? 1 : x[xo + j]!;
      h[xr + r * Da + ja] = v;
      h[xrt + ja * nR + r] = v;
    }
  }
}

/**
 * out = (H_B + λI)·v for `rows` vectors v (rows × P) at once, H_B = (1/nb) Σ_{i∈B} x̃_i x̃_iᵀ ⊗ (diag p_i − p_i p_iᵀ) over
 * the nb rows whose x̃ — on the columns `cols` only, every other feature being zero on these rows — sit in the heap at `xb`
 * (nb × Da) and `xbt` (Da × nb), probabilities `probs` (nb × C). Two products on the dense kernel for all vectors
 * together — U = X̃_B V (nb × rows·C), then X̃_Bᵀ A (Da × rows·C) — so a block of queries costs two wide GEMMs instead of
 * two narrow ones per vector, and skipped columns cost nothing. Scratch is released before returning.
 */
function hessianProductRows(ws: DenseWorkspace, xb: number, xbt: number, cols: Uint32Array, probs: Float64Array, nb: number, C: number, lambda: number, V: Float64Array, rows: number, out: Float64Array): void {
  const P = rows > 0 ? V.length / rows : 0;
  const D = cols.length;
  const K = rows * C;
  const mark = ws.mark();
  const vt = ws.alloc(K * D);
  const u = ws.alloc(nb * K);
  const at = ws.alloc(K * nb);
  const o = ws.alloc(D * K);
  let h = ws.heap();
  for (let r = 0; r < rows; r++) for (let ja = 0; ja < D; ja++) for (let c = 0; c < C; c++) h[vt + (r * C + c) * D + ja] = V[r * P + cols[ja]! * C + c]!;
  gemmNTBlocked(ws, nb, K, D, 1, xb, D, vt, D, u, K);
  h = ws.heap();
  for (let i = 0; i < nb; i++) {
    for (let r = 0; r < rows; r++) {
      // (diag p − p pᵀ) u = p ⊙ (u − pᵀu), with the 1/nb of the mean.
      const ur = u + i * K + r * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += probs[i * C + c]! * h[ur + c]!;
      for (let c = 0; c < C; c++) h[at + (r * C + c) * nb + i] = (probs[i * C + c]! * (h[ur + c]! - s)) / nb;
    }
  }
  gemmNTBlocked(ws, D, K, nb, 1, xbt, nb, at, nb, o, K);
  h = ws.heap();
  // Skipped features: H_B is zero there, only λv remains.
  for (let k = 0; k < rows * P; k++) out[k] = lambda * V[k]!;
  for (let r = 0; r < rows; r++) for (let ja = 0; ja < D; ja++) for (let c = 0; c < C; c++) {
    const k = r * P + cols[ja]! * C + c;
    out[k] = h[o + ja * K + r * C + c]! + out[k]!;
  }
  ws.release(mark);
}

/**
 * The exact Hessian of J_R at θ as a {@link CurvatureOperator} for the iterative solvers (conjugate gradient, LiSSA):
 * `apply` multiplies a block of vectors by H on the dense kernel (two wide products per block, float64: `precision`
 * 1e-12), and `sample` gives LiSSA's unbiased mini-batch estimate (Agarwal, Bullins & Hazan 2017, Alg. 1)
 * H_B = (1/b) Σ_{i∈B} x̃_i x̃_iᵀ ⊗ (diag p_i − p_i p_iᵀ) + λI over `batchSize` rows of R drawn with replacement by
 * `rng.nextInt(|R|)`. Probabilities at θ are computed once; X̃_R is held in one workspace (2·|R|·(d + 1) doubles).
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexCurvatureOperator, convexExampleGradients, lissa, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const theta: Float64Array;
 * declare const queries: Float64Array; // q × P test gradients
 * declare const q: number;
 * const op = convexCurvatureOperator(train, theta);
 * const solved = lissa(op, queries, q, { depth: 1000, batchSize: 100, seed: 1 }); // q × P ≈ H⁻¹ ∇ℓ_t
 * ```
 */
export function convexCurvatureOperator(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>, engine?: DenseEngine): CurvatureOperator {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const C = problem.numClasses;
  const probs = probabilitiesOnRows(problem, theta, R);
  const full = hessianOperatorFromProbabilities(problem, R, probs, engine);
  const P = parameterCount(problem);
  const D = problem.d + 1;
  // The sampler's own workspace: the batch's x̃ both ways round, refilled per draw, and the product's scratch.
  let sampler: { ws: DenseWorkspace; capacity: number } | undefined;
  return {
    dim: P,
    precision: 1e-12,
    apply: (V, count) => full.applyRows(V, count),
    sample(V, count, batchSize, rng) {
      const b = batchSize;
      const need = 2 * b * D + hessianProductScratch(b, D, C, count) + 8;
      if (!sampler || sampler.capacity < need) sampler = { ws: createDenseWorkspace(need, engine), capacity: need };
      const { ws } = sampler;
      const mark = ws.mark();
      const batch = new Uint32Array(b);
      for (let j = 0; j < b; j++) batch[j] = rng.nextInt(R.length);
      const rowsOfBatch = Uint32Array.from(batch, (j) => R[j]!);
      // Only the features some drawn row has (a batch of 100 MNIST digits leaves most border pixels out).
      const cols = activeFeatures(problem, rowsOfBatch);
      const xb = ws.alloc(b * cols.length);
      const xbt = ws.alloc(cols.length * b);
      writeAugmentedRows(ws.heap(), problem.x, problem.d, rowsOfBatch, cols, xb, xbt);
      const pb = new Float64Array(b * C);
      for (let j = 0; j < b; j++) pb.set(probs.subarray(batch[j]! * C, (batch[j]! + 1) * C), j * C);
      const out = new Float64Array(count * P);
      hessianProductRows(ws, xb, xbt, cols, pb, b, C, problem.lambda, V, count, out);
      ws.release(mark);
      return out;
    },
  };
}

/**
 * The explicit P × P Hessian (row-major): blocks H_{cc'} = x̃ᵀ diag(A_{cc'}) x̃ of the augmented features, with
 * A_{cc'} = p_c(δ_{cc'} − p_{c'})/|R| per row. The C(C−1)/2 off-diagonal blocks are weighted Gram matrices (lower half
 * on the blocked float64 kernel, ../linalg, (d + 1)²·|R| flops each); the C diagonal blocks cost no product: since
 * Σ_{c'} p_{c'} = 1, p_c(1 − p_c) = Σ_{c'≠c} p_c p_{c'}, so H_{cc} = −Σ_{c'≠c} H_{cc'} (sums of positive-weight Gram
 * matrices: no cancellation). ~1.4·10¹¹ flops at raw-pixel MNIST (d = 784, C = 10, |R| = 5,000). Memory P² doubles.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexLogisticHessian, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * const H = convexLogisticHessian(problem, theta); // Float64Array(36): 6 × 6, row-major, H[i·6 + j] = ∂²J/∂θ_i∂θ_j
 * ```
 */
export function convexLogisticHessian(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  return hessianFromProbabilities(problem, R, probabilitiesOnRows(problem, theta, R));
}

/**
 * {@link convexLogisticHessian} from softmax probabilities already computed for the rows R (|R| × C), on the chosen
 * dense engine: the Hessian build of an influence pipeline that already has p (e.g. bench:kernels).
 *
 * @example
 * ```ts
 * import { convexHessianFromProbabilities, convexProbabilities, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const problem: ConvexLogisticProblem;
 * declare const theta: Float64Array;
 * const rows = Uint32Array.from({ length: problem.n }, (_, i) => i);
 * const H = convexHessianFromProbabilities(problem, rows, convexProbabilities(problem, theta, rows)); // P × P, row-major
 * ```
 */
export function hessianFromProbabilities(problem: ConvexLogisticProblem, R: Uint32Array, probs: Float64Array, engine?: DenseEngine): Float64Array {
  const C = problem.numClasses;
  const n = R.length;
  // A_i = (diag p_i − p_i p_iᵀ)/|R|: off the diagonal −p_c p_c'/|R|, and its rows sum to zero (Σ_c' p_c' = 1).
  const H = kroneckerGram(problem, R, (r, c, c2) => -(probs[r * C + c]! * probs[r * C + c2]!) / n, engine);
  const P = parameterCount(problem);
  for (let k = 0; k < P; k++) H[k * P + k]! += problem.lambda;
  return H;
}

/**
 * Σ_{r} (x̃_r x̃_rᵀ) ⊗ A_r for symmetric C × C coefficient matrices A_r whose rows sum to zero (the softmax Hessian's
 * diag p − p pᵀ, the empirical Fisher's r rᵀ with r = p − e_y), P × P row-major in the θ layout. `offDiagonal(r, c, c')`
 * gives A_r[c][c'] for c < c'. The C(C−1)/2 off-diagonal blocks are weighted Gram matrices x̃ᵀ diag(A[c][c']) x̃ (lower
 * half on the blocked float64 kernel, (d + 1)²·|R| flops each); the C diagonal blocks cost no product, since zero row sums
 * give A[c][c] = −Σ_{c'≠c} A[c][c'].
 */
export function kroneckerGram(problem: ConvexLogisticProblem, R: Uint32Array, offDiagonal: (r: number, c: number, c2: number) => number, engine?: DenseEngine): Float64Array {
  const { x, d, numClasses: C } = problem;
  const D = d + 1;
  const P = D * C;
  const n = R.length;
  const H = new Float64Array(P * P);
  // x̃ᵀ and its weighted copy (D × |R| each), one Gram (D × D), and the C diagonal blocks' sums (lower halves).
  const ws = createDenseWorkspace(2 * D * n + (C + 1) * D * D + 16, engine);
  const xt = ws.alloc(D * n);
  const xw = ws.alloc(D * n);
  const g = ws.alloc(D * D);
  const diag = ws.alloc(C * D * D);
  {
    const h = ws.heap();
    // x̃ᵀ (D × |R|): the Gram's operands run along the rows, which the kernel wants contiguous.
    for (let r = 0; r < n; r++) {
      const xo = R[r]! * d;
      for (let j = 0; j < D - 1; j++) h[xt + j * n + r] = x[xo + j]!;
      h[xt + d * n + r] = 1;
    }
  }
  const w = new Float64Array(n);
  for (let c = 0; c < C; c++) {
    for (let c2 = c + 1; c2 < C; c2++) {
      for (let r = 0; r < n; r++) w[r] = offDiagonal(r, c, c2);
      // G = x̃ᵀ diag(A[c][c']) x̃, lower triangle only (SYRK-style: tiles above the diagonal are skipped).
      weightedGramLower(ws, D, n, xt, xw, w, g);
      const h = ws.heap();
      const dc = diag + c * D * D, dc2 = diag + c2 * D * D;
      for (let j = 0; j < D; j++) {
        for (let k = 0; k <= j; k++) {
          const v = h[g + j * D + k]!;
          h[dc + j * D + k]! -= v;
          h[dc2 + j * D + k]! -= v;
        }
      }
      mirrorLower(h, g, D);
      // Rows (j, c) and (j, c') of the result, written along the row (stride C): [(j,c),(k,c')] = [(j,c'),(k,c)] = G[j,k].
      for (let j = 0; j < D; j++) {
        const rowH = (j * C + c) * P + c2, rowH2 = (j * C + c2) * P + c, gj = g + j * D;
        for (let k = 0; k < D; k++) {
          const v = h[gj + k]!;
          H[rowH + k * C] = v;
          H[rowH2 + k * C] = v;
        }
      }
    }
  }
  const h = ws.heap();
  for (let c = 0; c < C; c++) {
    const dc = diag + c * D * D;
    mirrorLower(h, dc, D);
    for (let j = 0; j < D; j++) {
      const rowH = (j * C + c) * P + c, gj = dc + j * D;
      for (let k = 0; k < D; k++) H[rowH + k * C] = h[gj + k]!;
    }
  }
  return H;
}

/**
 * G = X̃ᵀ diag(w) X̃ (D × D, lower triangle only, at heap offset `g`) over n rows, X̃ stored transposed (D × n at `xt`);
 * `xw` is D × n scratch for the weighted copy. The product runs on the workspace's kernel (`gemmNTLower`).
 */
export function weightedGramLower(ws: DenseWorkspace, D: number, n: number, xt: number, xw: number, w: Float64Array, g: number): void {
  const h = ws.heap();
  for (let j = 0; j < D; j++) {
    const row = j * n;
    for (let r = 0; r < n; r++) h[xw + row + r] = h[xt + row + r]! * w[r]!;
  }
  h.fill(0, g, g + D * D);
  gemmNTLower(ws, D, n, 1, xw, n, xt, n, g, D);
}

/** Copies the lower triangle of the D×D matrix at `g` onto its upper triangle, in cache-sized tiles. */
function mirrorLower(h: Float64Array, g: number, D: number): void {
  const t = 32;
  for (let i0 = 0; i0 < D; i0 += t) {
    for (let j0 = 0; j0 <= i0; j0 += t) {
      const i1 = Math.min(D, i0 + t), j1 = Math.min(D, j0 + t);
      for (let i = i0; i < i1; i++) for (let j = j0; j < Math.min(j1, i); j++) h[g + j * D + i] = h[g + i * D + j]!;
    }
  }
}

/**
 * Per-example gradients of the loss (no regulariser): row r of the result (|R| × P, row-major) is
 * ∇ℓ_{R[r]} = x̃ ⊗ (p − e_y), in the θ layout. P·|R| doubles: keep |R| or P modest, or use
 * `convexExampleResiduals` and the outer-product structure.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexExampleGradients, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexExampleGradients(problem, theta, [0]); // Float64Array(6) ≈ [0, 0, -0.0669, 0.0669, -0.0669, 0.0669] (x̃ = [0, 1, 1])
 * ```
 */
export function convexExampleGradients(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const residuals = convexExampleResiduals(problem, theta, R);
  const { x, d, numClasses: C } = problem;
  const P = parameterCount(problem);
  const out = new Float64Array(R.length * P);
  for (let r = 0; r < R.length; r++) {
    const go = r * P;
    const xo = R[r]! * d;
    for (let j = 0; j < d; j++) for (let c = 0; c < C; c++) out[go + j * C + c] = x[xo + j]! * residuals[r * C + c]!;
    for (let c = 0; c < C; c++) out[go + d * C + c] = residuals[r * C + c]!;
  }
  return out;
}

/**
 * The residuals p_i − e_{y_i} for rows R (|R| × C, row-major): with x̃_i, the whole per-example gradient
 * (∇ℓ_i = x̃_i ⊗ (p_i − e_{y_i})), in C instead of P numbers per row.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`.
 * @example
 * ```ts
 * import { convexExampleResiduals, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * convexExampleResiduals(problem, theta, [0]); // Float64Array(2) ≈ [-0.0669, 0.0669] (label 0: p₀ − 1, p₁)
 * ```
 */
export function convexExampleResiduals(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const C = problem.numClasses;
  const probs = probabilitiesOnRows(problem, theta, R);
  for (let r = 0; r < R.length; r++) probs[r * C + problem.labels[R[r]!]!]! -= 1;
  return probs;
}
