/**
 * Strassen–Winograd on the product kernel against an independent, nearly exact brute force (compensated dot products:
 * TwoProduct by Dekker's split and TwoSum, Ogita, Rump & Oishi 2005, Alg. 5.3 "Dot2"), so the classic kernel's own
 * rounding error can be measured beside Strassen's. Strassen's error bound is normwise (Higham 2002, §23.2.2): the test
 * states max |Ĉ − C| ≤ 8 × the classic kernel's max error + 4u‖A‖_F‖B‖_F at up to three levels. Then the recursive
 * Cholesky and its solves with Strassen forced on small matrices (sizes no multiple of the blocks): residuals
 * ‖LLᵀ − A‖/‖A‖ and ‖Ax − b‖/(‖A‖‖x‖) on random and condition-10¹⁰ SPD matrices, within a small multiple of the classic
 * factorisation's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  choleskyFactor,
  createDenseWorkspace,
  gemmLowerStrassen,
  gemmStrassen,
  STRASSEN_DEFAULTS,
  type DenseEngine,
  type StrassenOptions,
} from '../../../src/attribution/linalg/index.js';
import { choleskyResidual, illConditioned, randomMatrix, randomSpd } from './random-matrices.js';

const U = 2 ** -53;
const engines: DenseEngine[] = ['wasm', 'js'];
const classicOnly: StrassenOptions = { ...STRASSEN_DEFAULTS, levels: 0 };

/** Σ_p x_p y_p to about twice the working precision (Dot2): the reference the classic and Strassen products are judged by. */
function dot2(x: Float64Array, xo: number, y: Float64Array, yo: number, k: number): number {
  const split = (a: number): [number, number] => {
    const c = 134217729 * a; // 2^27 + 1
    const hi = c - (c - a);
    return [hi, a - hi];
  };
  let s = 0, c = 0;
  for (let p = 0; p < k; p++) {
    const a = x[xo + p]!, b = y[yo + p]!;
    const prod = a * b;
    const [ah, al] = split(a), [bh, bl] = split(b);
    const perr = al * bl - (((prod - ah * bh) - al * bh) - ah * bl);
    const t = s + prod;
    const z = t - s;
    c += (s - (t - z)) + (prod - z) + perr;
    s = t;
  }
  return s + c;
}

/** C = A·Bᵀ (A m×k, B n×k) on the kernel with the given options, A and B read from a fresh workspace. */
function run(engine: DenseEngine, A: Float64Array, B: Float64Array, m: number, n: number, k: number, options: StrassenOptions, transposedB: boolean): Float64Array {
  const ws = createDenseWorkspace(m * k + n * k + m * n, engine);
  const a = ws.alloc(m * k), b = ws.alloc(n * k), c = ws.alloc(m * n);
  const h = ws.heap();
  h.set(A, a);
  if (transposedB) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) h[b + p * n + j] = B[j * k + p]!;
  else h.set(B, b);
  gemmStrassen(ws, m, n, k, 1, a, k, 1, b, transposedB ? 1 : k, transposedB ? n : 1, c, n, options);
  return ws.heap().slice(c, c + m * n);
}

const frob = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

describe('Strassen–Winograd product', () => {
  it('equals a compensated brute force within 8 × the classic kernel\'s error (+ 4u‖A‖‖B‖), odd shapes, B either way, 1–3 levels (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...engines),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (m, n, k, levels, engine, transposedB, seed) => {
          const A = randomMatrix(m, k, seed), B = randomMatrix(n, k, seed + 1);
          const exact = new Float64Array(m * n);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) exact[i * n + j] = dot2(A, i * k, B, j * k, k);
          const err = (C: Float64Array) => C.reduce((e, v, q) => Math.max(e, Math.abs(v - exact[q]!)), 0);
          const classic = err(run(engine, A, B, m, n, k, classicOnly, transposedB));
          const strassen = err(run(engine, A, B, m, n, k, { crossoverDepth: 4, crossoverSide: 4, levels }, transposedB));
          expect(strassen).toBeLessThanOrEqual(8 * classic + 4 * U * frob(A) * frob(B));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('at the defaults a product below the crossover is the classic kernel bit for bit; above it, Strassen stays within the bound', () => {
    const m = 70, n = 50, k = 60;
    const A = randomMatrix(m, k, 1), B = randomMatrix(n, k, 2);
    expect(STRASSEN_DEFAULTS.crossoverDepth).toBeGreaterThan(90);
    expect(run('wasm', A, B, m, n, k, STRASSEN_DEFAULTS, false)).toEqual(run('wasm', A, B, m, n, k, classicOnly, false));
    // 2 levels on 301 × 257 × 263: every dimension odd at the top.
    const [M, N, K] = [301, 257, 263];
    const A2 = randomMatrix(M, K, 3), B2 = randomMatrix(N, K, 4);
    const exact = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) exact[i * N + j] = dot2(A2, i * K, B2, j * K, K);
    const err = (C: Float64Array) => C.reduce((e, v, q) => Math.max(e, Math.abs(v - exact[q]!)), 0);
    const classic = err(run('wasm', A2, B2, M, N, K, classicOnly, false));
    const strassen = err(run('wasm', A2, B2, M, N, K, { crossoverDepth: 64, crossoverSide: 64, levels: 2 }, false));
    expect(strassen).toBeGreaterThan(0);
    expect(strassen).toBeLessThanOrEqual(8 * classic + 4 * U * frob(A2) * frob(B2));
  });

  it('the lower-triangle form (SYRK-style update, off-diagonal block by Strassen) equals the brute force on and below the diagonal', () => {
    for (const engine of engines) {
      for (const [m, k] of [[77, 50], [130, 33], [9, 9]] as const) {
        const A = randomMatrix(m, k, m), B = randomMatrix(m, k, m + 1);
        const ws = createDenseWorkspace(2 * m * k + m * m, engine);
        const a = ws.alloc(m * k), b = ws.alloc(m * k), c = ws.alloc(m * m);
        ws.heap().set(A, a);
        ws.heap().set(B, b);
        gemmLowerStrassen(ws, m, k, -0.5, a, k, b, k, c, m, { crossoverDepth: 8, crossoverSide: 8, levels: 2 });
        const C = ws.heap().slice(c, c + m * m);
        let worst = 0;
        for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) worst = Math.max(worst, Math.abs(C[i * m + j]! + 0.5 * dot2(A, i * k, B, j * k, k)));
        expect(worst).toBeLessThan(64 * U * frob(A) * frob(B));
      }
    }
  });
});

describe('recursive Cholesky with Strassen–Winograd updates', () => {
  const forced: StrassenOptions = { crossoverDepth: 64, crossoverSide: 64, levels: 2 };

  /** max over rows of ‖A x − b‖ / (‖A‖_F ‖x‖). */
  function solveResidual(A: Float64Array, n: number, X: Float64Array, B: Float64Array, rows: number): number {
    let aNorm = 0;
    for (let q = 0; q < n * n; q++) aNorm += A[q]! ** 2;
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      let num = 0, xNorm = 0;
      for (let i = 0; i < n; i++) {
        let s = -B[r * n + i]!;
        for (let j = 0; j < n; j++) s += A[i * n + j]! * X[r * n + j]!;
        num += s * s;
        xNorm += X[r * n + i]! ** 2;
      }
      worst = Math.max(worst, Math.sqrt(num / (aNorm * xNorm)));
    }
    return worst;
  }

  it('‖LLᵀ − A‖/‖A‖ and solve residuals at rounding level, within 8 × the classic factor\'s, sizes off the blocks, random and condition 10¹⁰', () => {
    const cases: Array<[string, number, Float64Array]> = [
      ['random', 777, randomSpd(777, 11, 0.05, 2)],
      ['random', 601, randomSpd(601, 12, 1e-3, 2)],
      ['cond 1e10', 389, illConditioned(389, 1e10, 13)],
    ];
    for (const engine of engines) {
      for (const [, n, A] of cases) {
        const B = randomMatrix(5, n, n);
        const f = choleskyFactor(A, n, { engine, strassen: forced });
        const g = choleskyFactor(A, n, { engine, strassen: classicOnly });
        // The Strassen path ran (the factors differ in the last bits) …
        expect(f.lower()).not.toEqual(g.lower());
        const rs = choleskyResidual(f.lower(), A, n), rc = choleskyResidual(g.lower(), A, n);
        expect(rs.lowerOk).toBe(true);
        expect(rs.rel).toBeLessThan(1e-14);
        expect(rs.rel).toBeLessThanOrEqual(8 * rc.rel);
        const ss = solveResidual(A, n, f.solveRows(B, 5), B, 5), sc = solveResidual(A, n, g.solveRows(B, 5), B, 5);
        expect(ss).toBeLessThan(1e-13);
        expect(ss).toBeLessThanOrEqual(8 * sc + 1e-16);
      }
    }
  });
});
