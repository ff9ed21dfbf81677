/**
 * The float32 Gram matrix (blocked lower triangle in column panels, then mirrored) and A·Bᵀ product checked against
 * float64 triple loops over the same float32 inputs, at widths below, on and across the panel boundary.
 */
import { describe, expect, it } from 'vitest';
import { GRAM_F32_PANEL, gramFloat32, matMulNTFloat32 } from '../../../src/attribution/linalg/index.js';
import { createGemmF32 } from '../../../src/finetune/index.js';
import { maxRelativeDifference as relDiff } from './random-matrices.js';

function randomF32(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}


function bruteNT(A: Float32Array, m: number, k: number, B: Float32Array, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += A[i * k + p]! * B[j * k + p]!;
    C[i * n + j] = s;
  }
  return C;
}

/** XᵀX by a triple loop: the Gram as A·Bᵀ of Xᵀ with itself. */
function bruteGram(X: Float32Array, rows: number, cols: number): Float64Array {
  const XT = new Float32Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) XT[j * rows + i] = X[i * cols + j]!;
  return bruteNT(XT, cols, rows, XT, cols);
}

describe('float32 products (float32 WebAssembly kernel)', () => {
  it.each([
    [37, 5],
    [90, GRAM_F32_PANEL],
    [61, GRAM_F32_PANEL + 45],
    [20, 2 * GRAM_F32_PANEL + 3],
  ])('gramFloat32 of %i × %i equals the triple loop to float32 rounding, exactly symmetric', (rows, cols) => {
    const X = randomF32(rows * cols, rows * 1000 + cols);
    const G = gramFloat32(X, rows, cols);
    expect(G.length).toBe(cols * cols);
    expect(relDiff(G, bruteGram(X, rows, cols))).toBeLessThan(1e-6);
    for (let a = 0; a < cols; a++) for (let b = 0; b < a; b++) expect(G[a * cols + b]).toBe(G[b * cols + a]);
  });

  it('matMulNTFloat32 equals the triple loop, with a fresh and with a reused workspace', () => {
    const [m, k, n] = [43, 70, 29];
    const A = randomF32(m * k, 3);
    const B = randomF32(n * k, 4);
    const expected = bruteNT(A, m, k, B, n);
    expect(relDiff(matMulNTFloat32(A, m, k, B, n), expected)).toBeLessThan(1e-6);
    const gemm = createGemmF32();
    try {
      expect(relDiff(matMulNTFloat32(A, m, k, B, n, { gemm }), expected)).toBeLessThan(1e-6);
      expect(relDiff(gramFloat32(A, m, k, { gemm }), bruteGram(A, m, k))).toBeLessThan(1e-6);
    } finally {
      gemm.dispose();
    }
  });

  it('handles empty operands and refuses wrong lengths', () => {
    expect(Array.from(gramFloat32(new Float32Array(0), 0, 3))).toEqual(new Array(9).fill(0));
    expect(matMulNTFloat32(new Float32Array(0), 0, 4, new Float32Array(8), 2).length).toBe(0);
    expect(() => gramFloat32(new Float32Array(5), 2, 3)).toThrow(/X has 5 entries, expected 2 × 3/);
    expect(() => matMulNTFloat32(new Float32Array(6), 2, 3, new Float32Array(5), 2)).toThrow(/B has 5 entries/);
  });
});
