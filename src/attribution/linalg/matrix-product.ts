/**
 * Dense float64 matrix products on the product kernel (dense-workspace.ts): A·Bᵀ, A·B and the weighted Gram XᵀWX.
 * Row-major throughout. Each call copies its operands into one workspace (O(mk + nk + mn), small beside the 2mnk
 * flops) so the WebAssembly engine can reach them.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import { createDenseWorkspace, gemmNTBlocked, gemmNTLower, type DenseEngine } from './dense-workspace.js';

/** The options of the matrix products: a misspelt name is refused with the nearest field. */
const MATRIX_PRODUCT_PARAMS: ParamTable = Object.freeze({ name: 'matrixProduct', code: 'ATTRIBUTION_INPUT_INVALID', fields: [{ name: 'engine', default: null, meaning: 'wasm (WebAssembly SIMD, where available and within 4 GiB) or js (null: wasm where available).' }] });

export interface MatrixProductOptions {
  /** 'wasm' (WebAssembly SIMD, default where available and within 4 GiB) or 'js'. */
  engine?: DenseEngine;
}

function checkShape(name: string, data: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${name} has ${data.length} entries, expected ${rows} × ${cols}.`, { data: { name, entries: data.length, rows, cols } });
  }
}

function put(h: Float64Array, at: number, data: ArrayLike<number>): void {
  if (data instanceof Float64Array) h.set(data, at);
  else for (let k = 0; k < data.length; k++) h[at + k] = data[k]!;
}

/**
 * C = A·Bᵀ for A m×k and B n×k (both row-major, so each row of C is a row of A dotted with every row of B): m×n.
 *
 * @example
 * ```ts
 * import { matMulNT } from 'provenant/attribution';
 * matMulNT([1, 2, 3, 4], 2, 2, [1, 0, 0, 1], 2); // [1, 2, 3, 4]
 * ```
 */
export function matMulNT(A: ArrayLike<number>, m: number, k: number, B: ArrayLike<number>, n: number, options: MatrixProductOptions = {}): Float64Array {
  resolve(MATRIX_PRODUCT_PARAMS, options);
  checkShape('A', A, m, k);
  checkShape('B', B, n, k);
  return productNT(A, m, k, n, (h, at) => put(h, at, B), options);
}

/** A·Bᵀ on one workspace, with B (n×k) written by `writeB` at its offset: the body both products share. */
function productNT(A: ArrayLike<number>, m: number, k: number, n: number, writeB: (h: Float64Array, at: number) => void, options: MatrixProductOptions): Float64Array {
  const ws = createDenseWorkspace(m * k + n * k + m * n + 8, options.engine);
  const a = ws.alloc(m * k);
  const b = ws.alloc(n * k);
  const c = ws.alloc(m * n);
  const h = ws.heap();
  put(h, a, A);
  writeB(h, b);
  gemmNTBlocked(ws, m, n, k, 1, a, k, b, k, c, n);
  return ws.heap().slice(c, c + m * n);
}

/** Bᵀ of a k×n row-major matrix, into h at `at` (n×k), in cache-sized tiles. */
function transposeInto(h: Float64Array, at: number, B: ArrayLike<number>, k: number, n: number, scale?: ArrayLike<number>): void {
  const t = 64;
  for (let p0 = 0; p0 < k; p0 += t) {
    for (let j0 = 0; j0 < n; j0 += t) {
      const p1 = Math.min(k, p0 + t);
      const j1 = Math.min(n, j0 + t);
      for (let p = p0; p < p1; p++) {
        const w = scale ? scale[p]! : 1;
        for (let j = j0; j < j1; j++) h[at + j * k + p] = B[p * n + j]! * w;
      }
    }
  }
}

/**
 * C = A·B for A m×k and B k×n (row-major): m×n.
 *
 * @example
 * ```ts
 * import { matMul } from 'provenant/attribution';
 * matMul([1, 2, 3, 4], 2, 2, [0, 1, 1, 0], 2); // [2, 1, 4, 3]
 * ```
 */
export function matMul(A: ArrayLike<number>, m: number, k: number, B: ArrayLike<number>, n: number, options: MatrixProductOptions = {}): Float64Array {
  resolve(MATRIX_PRODUCT_PARAMS, options);
  checkShape('A', A, m, k);
  checkShape('B', B, k, n);
  return productNT(A, m, k, n, (h, at) => transposeInto(h, at, B, k, n), options);
}

/**
 * The weighted Gram matrix XᵀWX = Σ_i w_i x_i x_iᵀ of the rows of X (rows × cols, row-major), cols × cols, symmetric.
 * Only the lower triangle is computed (half the flops of a general product), then mirrored. Weights default to 1 and may
 * be negative (e.g. the −p pᵀ part of a softmax Hessian).
 *
 * @example
 * ```ts
 * import { gram } from 'provenant/attribution';
 * gram([1, 2, 3, 4], 2, 2); // [10, 14, 14, 20]
 * ```
 */
export function gram(X: ArrayLike<number>, rows: number, cols: number, weights?: ArrayLike<number>, options: MatrixProductOptions = {}): Float64Array {
  resolve(MATRIX_PRODUCT_PARAMS, options);
  checkShape('X', X, rows, cols);
  if (weights) {
    checkShape('weights', weights, rows, 1);
    for (let i = 0; i < rows; i++) {
      if (!Number.isFinite(weights[i]!)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Gram weight ${i} is ${weights[i]}.`, { data: { row: i } });
    }
  }
  const ws = createDenseWorkspace(2 * rows * cols + cols * cols + 8, options.engine);
  const xt = ws.alloc(cols * rows);
  const xw = weights ? ws.alloc(cols * rows) : xt;
  const g = ws.alloc(cols * cols);
  const h = ws.heap();
  transposeInto(h, xt, X, rows, cols);
  if (weights) transposeInto(h, xw, X, rows, cols, weights);
  // Lower triangle only (the part above it is discarded below).
  gemmNTLower(ws, cols, rows, 1, xw, rows, xt, rows, g, cols);
  const out = ws.heap().slice(g, g + cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i + 1; j < cols; j++) out[i * cols + j] = out[j * cols + i]!;
  return out;
}
