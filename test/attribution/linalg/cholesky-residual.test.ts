/**
 * The blocked Cholesky and its triangular solves checked by independent brute force, at sizes on and off every block
 * boundary (diagonal-block recursion, block columns, solve chunks): the relative residual ‖LLᵀ − A‖_F / ‖A‖_F by a
 * triple loop, L lower-triangular with a positive diagonal, forward/backward solves against plain substitution loops,
 * and an ill-conditioned matrix (condition 10¹⁰), where the factor stays backward stable even though solves lose digits.
 */
import { describe, expect, it } from 'vitest';
import { choleskyFactor, type DenseEngine } from '../../../src/attribution/linalg/index.js';
import { randomMatrix, randomSpd as randomSpdBase } from './random-matrices.js';

const engines: DenseEngine[] = ['wasm', 'js'];

/** X Xᵀ / k + shift·I (k = n + 2). */
const randomSpd = (n: number, seed: number, shift = 0.05): Float64Array => randomSpdBase(n, seed, shift, 2);

/** Q diag(d) Qᵀ with Q from modified Gram–Schmidt on a random matrix and d log-spaced from 1 down to 1/cond. */
function illConditioned(n: number, cond: number, seed: number): Float64Array {
  const Q = randomMatrix(n, n, seed); // columns orthonormalised in place (column j: Q[i * n + j])
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += Q[i * n + j]! * Q[i * n + p]!;
      for (let i = 0; i < n; i++) Q[i * n + j]! -= dot * Q[i * n + p]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += Q[i * n + j]! ** 2;
    for (let i = 0; i < n; i++) Q[i * n + j]! /= Math.sqrt(norm);
  }
  const d = Float64Array.from({ length: n }, (_, j) => cond ** (-j / Math.max(1, n - 1)));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Q[i * n + j]! * d[j]! * Q[k * n + j]!;
    A[i * n + k] = A[k * n + i] = s;
  }
  return A;
}

/** ‖L Lᵀ − A‖_F / ‖A‖_F, and whether L is lower-triangular with a positive diagonal. */
function residual(L: Float64Array, A: Float64Array, n: number): { rel: number; lowerOk: boolean } {
  let num = 0, den = 0, lowerOk = true;
  for (let i = 0; i < n; i++) {
    if (!(L[i * n + i]! > 0)) lowerOk = false;
    for (let j = i + 1; j < n; j++) if (L[i * n + j] !== 0) lowerOk = false;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k <= Math.min(i, j); k++) s += L[i * n + k]! * L[j * n + k]!;
      num += (s - A[i * n + j]!) ** 2;
      den += A[i * n + j]! ** 2;
    }
  }
  return { rel: Math.sqrt(num / Math.max(den, Number.MIN_VALUE)), lowerOk };
}

/** Each row b ↦ L⁻¹ b (and then ↦ L⁻ᵀ L⁻¹ b when `backward`) by plain substitution. */
function substitute(L: Float64Array, n: number, B: Float64Array, rows: number, backward: boolean): Float64Array {
  const X = B.slice();
  for (let r = 0; r < rows; r++) {
    const x = X.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) {
      let s = x[i]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * x[k]!;
      x[i] = s / L[i * n + i]!;
    }
    if (!backward) continue;
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
      x[i] = s / L[i * n + i]!;
    }
  }
  return X;
}

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  let d = 0, s = 0;
  for (let k = 0; k < a.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - b[k]!));
    s = Math.max(s, Math.abs(b[k]!));
  }
  return d / Math.max(s, Number.MIN_VALUE);
}

describe('Cholesky against brute force', () => {
  it('‖LLᵀ − A‖/‖A‖ ≈ machine precision at sizes on and off the block boundaries, both engines', () => {
    for (const n of [1, 2, 3, 17, 63, 64, 65, 191, 255, 256, 257, 300, 530]) {
      const A = randomSpd(n, 100 + n);
      for (const engine of engines) {
        const { rel, lowerOk } = residual(choleskyFactor(A, n, { engine }).lower(), A, n);
        expect(lowerOk, `n = ${n} ${engine}`).toBe(true);
        expect(rel, `n = ${n} ${engine}`).toBeLessThan(1e-14);
      }
    }
  });

  it('n = 0 gives an empty factor whose solves return empty rows and log det 0', () => {
    for (const engine of engines) {
      const f = choleskyFactor(new Float64Array(0), 0, { engine });
      expect(f.lower()).toHaveLength(0);
      expect(f.logDeterminant()).toBe(0);
      expect(f.solveRows(new Float64Array(0), 3)).toHaveLength(0);
      expect(f.forwardRows(new Float64Array(0), 0)).toHaveLength(0);
    }
  });

  it('n = 1: L = √a and the solve is b / a', () => {
    for (const engine of engines) {
      const f = choleskyFactor([6.25], 1, { engine });
      expect(f.lower()[0]).toBe(2.5);
      expect(Array.from(f.solveRows([5, -2.5], 2))).toEqual([0.8, -0.4]);
    }
  });

  it('stays backward stable on a matrix of condition number 10¹⁰ (residual, and ‖A x − b‖ small relative to ‖A‖‖x‖)', () => {
    const n = 150;
    const A = illConditioned(n, 1e10, 7);
    const B = randomMatrix(3, n, 8);
    for (const engine of engines) {
      const f = choleskyFactor(A, n, { engine });
      expect(residual(f.lower(), A, n).rel).toBeLessThan(1e-14);
      const X = f.solveRows(B, 3);
      for (let r = 0; r < 3; r++) {
        let num = 0, xNorm = 0, aNorm = 0;
        for (let i = 0; i < n; i++) {
          let s = -B[r * n + i]!;
          for (let j = 0; j < n; j++) {
            s += A[i * n + j]! * X[r * n + j]!;
            aNorm += A[i * n + j]! ** 2;
          }
          num += s * s;
          xNorm += X[r * n + i]! ** 2;
        }
        expect(Math.sqrt(num) / (Math.sqrt(aNorm) * Math.sqrt(xNorm))).toBeLessThan(1e-13);
      }
    }
  });

  it('forwardRows and solveRows equal substitution loops on L, for row counts across the solve chunk', () => {
    for (const [n, rows] of [[300, 37], [70, 600], [257, 1]] as const) {
      const A = randomSpd(n, n + 1);
      const B = randomMatrix(rows, n, n + 2);
      for (const engine of engines) {
        const f = choleskyFactor(A, n, { engine });
        const L = f.lower();
        expect(maxRelDiff(f.forwardRows(B, rows), substitute(L, n, B, rows, false)), `forward n = ${n} ${engine}`).toBeLessThan(1e-12);
        expect(maxRelDiff(f.solveRows(B, rows), substitute(L, n, B, rows, true)), `solve n = ${n} ${engine}`).toBeLessThan(1e-11);
      }
    }
  });
});
