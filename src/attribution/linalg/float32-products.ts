/**
 * Float32 Gram matrices and A·Bᵀ products on the float32 WebAssembly kernel of src/finetune/gemm (≈ 2.5× the float64
 * kernel's GFLOP/s here: 26–29 vs 10–11 for a 5,000 × 1,056 Gram, 38–40 vs 10 for a 5,000 × 1,056 × 500 product on
 * Node 20, load ≈ 1.3), for estimators whose reference computes in float32 (or float16): TRAK's score computer forms
 * XᵀX and X·(XᵀX)⁻¹·X_targetᵀ in its working precision (Park et al. 2023; trak/score_computers.py) and only inverts in
 * float32. Sums are float32 (relative error ≈ 1e-7·√k per entry); results are returned as float64 for the float64
 * factorizations that follow.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import { createGemmF32, type GemmF32 } from '../../finetune/index.js';

/** Column panel width of the blocked lower-triangle Gram: 4–5 panels at k ≈ 1,000 (≈ 60 % of a full product's flops). */
export const GRAM_F32_PANEL = 256;

/** The options of the float32 products: a misspelt name is refused with the nearest field. */
const FLOAT32_PRODUCT_PARAMS: ParamTable = Object.freeze({
  name: 'float32Product',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [{ name: 'gemm', default: null, meaning: 'A float32 product workspace (createGemmF32()) kept across calls; null: a fresh one per call.', aliases: ['workspace'] }],
});

export interface Float32ProductOptions {
  /** A float32 product workspace to reuse across calls (e.g. one per ensemble); default a fresh one, disposed on return. */
  gemm?: GemmF32;
}

function withGemm<T>(options: Float32ProductOptions, body: (gemm: GemmF32) => T): T {
  if (options.gemm) return body(options.gemm);
  const gemm = createGemmF32();
  try {
    return body(gemm);
  } finally {
    gemm.dispose();
  }
}

function checkShape(name: string, data: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${name} has ${data.length} entries, expected ${rows} × ${cols}.`, { data: { name, entries: data.length, rows, cols } });
  }
}

/**
 * XᵀX of X (rows × cols, row-major float32) with float32 products: cols × cols as float64, symmetric. Only the lower
 * triangle is multiplied, in column panels of {@link GRAM_F32_PANEL}: panel I against columns 0 … end of I, read from
 * one transposed copy of X (each panel and each prefix is then contiguous), then mirrored.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when X does not have rows × cols entries; `BACKEND_UNAVAILABLE`
 *   without WebAssembly SIMD (see `gemmF32Available`).
 * @example
 * ```ts
 * import { gramFloat32 } from 'provenant/attribution';
 * gramFloat32(new Float32Array([1, 2, 3, 4]), 2, 2); // Float64Array [10, 14, 14, 20]
 * ```
 */
export function gramFloat32(X: Float32Array, rows: number, cols: number, options: Float32ProductOptions = {}): Float64Array {
  resolve(FLOAT32_PRODUCT_PARAMS, options);
  checkShape('X', X, rows, cols);
  const G = new Float64Array(cols * cols);
  if (rows === 0 || cols === 0) return G;
  const XT = new Float32Array(cols * rows);
  const t = 64;
  for (let i0 = 0; i0 < rows; i0 += t) {
    const i1 = Math.min(rows, i0 + t);
    for (let j0 = 0; j0 < cols; j0 += t) {
      const j1 = Math.min(cols, j0 + t);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) XT[j * rows + i] = X[i * cols + j]!;
    }
  }
  withGemm(options, (gemm) => {
    // Last panel first: its product is the largest, so a fresh workspace grows its memory once, not once per panel.
    for (let c0 = Math.floor((cols - 1) / GRAM_F32_PANEL) * GRAM_F32_PANEL; c0 >= 0; c0 -= GRAM_F32_PANEL) {
      const c1 = Math.min(cols, c0 + GRAM_F32_PANEL);
      // Rows c0…c1 of G, columns 0…c1: (X[:, c0:c1])ᵀ · X[:, 0:c1], both read from Xᵀ's contiguous rows.
      const C = gemm.product({ data: XT.subarray(c0 * rows, c1 * rows), rows: c1 - c0, cols: rows }, { data: XT.subarray(0, c1 * rows), rows: c1, cols: rows, transpose: true });
      for (let a = c0; a < c1; a++) {
        const from = (a - c0) * c1;
        for (let b = 0; b <= a; b++) G[a * cols + b] = C[from + b]!;
      }
    }
  });
  for (let a = 0; a < cols; a++) for (let b = a + 1; b < cols; b++) G[a * cols + b] = G[b * cols + a]!;
  return G;
}

/**
 * C = A·Bᵀ for A m×k and B n×k (row-major float32) with float32 products: m×n as float64.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for operands of the wrong length; `BACKEND_UNAVAILABLE` without
 *   WebAssembly SIMD.
 * @example
 * ```ts
 * import { matMulNTFloat32 } from 'provenant/attribution';
 * matMulNTFloat32(new Float32Array([1, 2, 3, 4]), 2, 2, new Float32Array([1, 0, 0, 1]), 2); // Float64Array [1, 2, 3, 4]
 * ```
 */
export function matMulNTFloat32(A: Float32Array, m: number, k: number, B: Float32Array, n: number, options: Float32ProductOptions = {}): Float64Array {
  resolve(FLOAT32_PRODUCT_PARAMS, options);
  checkShape('A', A, m, k);
  checkShape('B', B, n, k);
  if (m === 0 || n === 0) return new Float64Array(m * n);
  return withGemm(options, (gemm) => Float64Array.from(gemm.product({ data: A, rows: m, cols: k }, { data: B, rows: n, cols: k, transpose: true })));
}
