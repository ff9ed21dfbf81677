/**
 * The blocked Cholesky and its triangular solves checked by independent brute force, at sizes on and off every block
 * boundary (diagonal-block recursion, block columns, solve chunks): the relative residual ‖LLᵀ − A‖_F / ‖A‖_F by a
 * triple loop, L lower-triangular with a positive diagonal, forward/backward solves against plain substitution loops,
 * and an ill-conditioned matrix (condition 10¹⁰), where the factor stays backward stable even though solves lose digits.
 */
import { describe, expect, it } from 'vitest';
import { choleskyFactor, type DenseEngine } from '../../../src/attribution/linalg/index.js';
import { choleskyResidual as residual, illConditioned, randomMatrix, randomSpd as randomSpdBase } from './random-matrices.js';
import { maxRelativeDifference as maxRelDiff } from './random-matrices.js';

const engines: DenseEngine[] = ['wasm', 'js'];

/** X Xᵀ / k + shift·I (k = n + 2). */
const randomSpd = (n: number, seed: number, shift = 0.05): Float64Array => randomSpdBase(n, seed, shift, 2);

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
