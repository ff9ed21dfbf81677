/**
 * Initial values of the LoRA factors, computed in float64 on the CPU (ml-matrix's SVD; a Householder QR here because
 * ml-matrix's QR needs rows ≥ columns). Layouts are tfjs's: W [in, out], A [in, r], B [r, out], so the update is
 * x·(s·A·B). PEFT stores the transposes (lora_A.weight = Aᵀ [r, in], lora_B.weight = Bᵀ [out, r]).
 */
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '../../core/index.js';
import type { LoraInit } from './config.js';

export interface LoraFactors {
  /** [in, r], row-major. */
  A: Float32Array;
  /** [r, out], row-major. */
  B: Float32Array;
  /** PiSSA and OLoRA: the residual base kernel W − s·A·B [in, out] that replaces W. */
  residual?: Float32Array;
}

/**
 * Kaiming-uniform with a = √5 on a PyTorch weight of fan-in `fanIn` — PEFT's default for lora_A (`nn.init.kaiming_uniform_
 * (w, a=math.sqrt(5))`): gain √(2/(1+5)), bound gain·√3/√fanIn = 1/√fanIn.
 */
export function kaimingUniform(length: number, fanIn: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (2 * rng.nextDouble() - 1) * bound;
  return out;
}

/**
 * The initial factors for one module. `kernel` is W [in, out] row-major; `scale` is s (alpha/r or alpha/√r).
 *
 * PiSSA (Meng et al. 2024, eq. 2–3), in PEFT's form: W = U S Vᵀ (here in tfjs layout, so U is [in, ·]);
 * A = U_r·diag(√(S_r/s)), B = diag(√(S_r/s))·V_rᵀ, so s·A·B is the rank-r truncation and W_res = W − s·A·B.
 * OLoRA (Büyükakyüz 2024) in PEFT's form: PyTorch's weight Wᵀ [out, in] = Q·R; lora_B = Q_r, lora_A = R_r; here
 * A = R_rᵀ [in, r], B = Q_rᵀ [r, out], and W_res = W − s·A·B.
 * For both, the layer's output x·W_res + s·x·A·B equals x·W up to rounding at step 0.
 */
export function initialLoraFactors(
  kernel: Float32Array,
  inFeatures: number,
  outFeatures: number,
  r: number,
  scale: number,
  init: LoraInit,
  rng: Rng,
): LoraFactors {
  if (init === 'pissa') return pissa(kernel, inFeatures, outFeatures, r, scale);
  if (init === 'olora') return olora(kernel, inFeatures, outFeatures, r, scale);
  const A =
    init === 'gaussian'
      ? Float32Array.from({ length: inFeatures * r }, () => rng.nextNormal() / r)
      : kaimingUniform(inFeatures * r, inFeatures, rng);
  // init false: B random too (PyTorch's nn.Linear default for lora_B, fan-in r), so the adapter is not a no-op.
  const B = init === false ? kaimingUniform(r * outFeatures, r, rng) : new Float32Array(r * outFeatures);
  return { A, B };
}

function toMatrix(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

function residualOf(kernel: Float32Array, A: Float32Array, B: Float32Array, n: number, m: number, r: number, scale: number): Float32Array {
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += A[i * r + k]! * B[k * m + j]!;
      out[i * m + j] = kernel[i * m + j]! - scale * sum;
    }
  }
  return out;
}

function pissa(kernel: Float32Array, n: number, m: number, r: number, scale: number): LoraFactors {
  const svd = new SingularValueDecomposition(toMatrix(kernel, n, m), { autoTranspose: true });
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const S = svd.diagonal;
  const A = new Float32Array(n * r);
  const B = new Float32Array(r * m);
  for (let k = 0; k < r; k++) {
    // Beyond min(in, out) there are no more directions: those columns stay zero (a rank-deficient but valid adapter).
    const root = k < S.length ? Math.sqrt(S[k]! / scale) : 0;
    if (root === 0) continue;
    for (let i = 0; i < n; i++) A[i * r + k] = U.get(i, k) * root;
    for (let j = 0; j < m; j++) B[k * m + j] = root * V.get(j, k);
  }
  return { A, B, residual: residualOf(kernel, A, B, n, m, r, scale) };
}

function olora(kernel: Float32Array, n: number, m: number, r: number, scale: number): LoraFactors {
  // Wᵀ [m, n] = Q [m, k] · R [k, n], k = min(m, n).
  const wt = new Float64Array(m * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) wt[j * n + i] = kernel[i * m + j]!;
  const { Q, R, k } = householderQr(wt, m, n);
  const A = new Float32Array(n * r);
  const B = new Float32Array(r * m);
  for (let c = 0; c < Math.min(r, k); c++) {
    for (let i = 0; i < n; i++) A[i * r + c] = R[c * n + i]!;
    for (let j = 0; j < m; j++) B[c * m + j] = Q[j * k + c]!;
  }
  return { A, B, residual: residualOf(kernel, A, B, n, m, r, scale) };
}

/**
 * Reduced QR of a row-major rows×cols matrix by Householder reflections, LAPACK's sign convention (the reflection sends
 * x to −sign(x₀)‖x‖e₁, as torch.linalg.qr does): Q [rows, k] with orthonormal columns, R [k, cols] upper-trapezoidal,
 * k = min(rows, cols), both row-major float64. OLoRA's initialisation (Büyükakyüz 2024) takes A and B from it, so the
 * sign convention must match PyTorch's for our adapters to equal PEFT's. The input is not modified.
 *
 * @example
 * ```ts
 * import { householderQr } from 'provenant/finetune';
 *
 * const { Q, R, k } = householderQr([3, 1, 4, 2], 2, 2); // [[3, 1], [4, 2]]
 * // Q ≈ [-0.6, 0.8, -0.8, -0.6], R ≈ [-5, -2.2, 0, -0.4], k = 2 (torch.linalg.qr gives the same signs)
 * ```
 */
export function householderQr(matrix: ArrayLike<number>, rows: number, cols: number): { Q: Float64Array; R: Float64Array; k: number } {
  const k = Math.min(rows, cols);
  const R = Float64Array.from(matrix as ArrayLike<number>);
  const reflectors: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(rows - j);
    let norm = 0;
    for (let i = j; i < rows; i++) {
      v[i - j] = R[i * cols + j]!;
      norm += v[i - j]! * v[i - j]!;
    }
    norm = Math.sqrt(norm);
    const alpha = v[0]! >= 0 ? -norm : norm;
    v[0]! -= alpha;
    let vNorm = 0;
    for (let i = 0; i < v.length; i++) vNorm += v[i]! * v[i]!;
    vNorm = Math.sqrt(vNorm);
    if (vNorm > 0) for (let i = 0; i < v.length; i++) v[i]! /= vNorm;
    reflectors.push(v);
    if (vNorm === 0) continue;
    for (let c = j; c < cols; c++) {
      let dot = 0;
      for (let i = j; i < rows; i++) dot += v[i - j]! * R[i * cols + c]!;
      for (let i = j; i < rows; i++) R[i * cols + c]! -= 2 * v[i - j]! * dot;
    }
  }
  const Q = new Float64Array(rows * k);
  for (let i = 0; i < k; i++) Q[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = reflectors[j]!;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = j; i < rows; i++) dot += v[i - j]! * Q[i * k + c]!;
      for (let i = j; i < rows; i++) Q[i * k + c]! -= 2 * v[i - j]! * dot;
    }
  }
  const reduced = new Float64Array(k * cols);
  for (let i = 0; i < k; i++) for (let c = i; c < cols; c++) reduced[i * cols + c] = R[i * cols + c]!;
  return { Q, R: reduced, k };
}
