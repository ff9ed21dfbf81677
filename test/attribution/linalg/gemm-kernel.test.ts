/**
 * The packed WebAssembly product kernel (scripts/gen-linalg-wasm.py) at its block edges: tiny block sizes make every
 * loop of the kernel (NC, KC, MC blocks, 4×4 tiles, edge tiles, the lower-triangle skip) run its partial cases on
 * matrices of a few dozen rows. Checked against brute-force triple loops and the JavaScript engine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choleskyFactor, createDenseWorkspace, gemmNTLower, type DenseEngine } from '../../../src/attribution/linalg/index.js';
import { randomMatrix } from './random-matrices.js';

describe('packed WebAssembly kernel', () => {
  it('C += α·A·Bᵀ through strides (either operand transposed), with and without the lower bound, equals the triple loop at any block sizes (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 23 }), n: fc.integer({ min: 1, max: 23 }), k: fc.integer({ min: 1, max: 19 }),
          transA: fc.boolean(), transB: fc.boolean(), lower: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
          mc: fc.constantFrom(4, 8, 12), kc: fc.integer({ min: 1, max: 7 }), nc: fc.constantFrom(4, 8, 20),
          alpha: fc.double({ min: -2, max: 2, noNaN: true }), seed: fc.nat(),
        }),
        ({ m, n, k, transA, transB, lower, mc, kc, nc, alpha, seed }) => {
          const ldc = n + 2;
          // A(i, p): row-major m×k, or stored as its k×m transpose; likewise B(j, p).
          const Araw = randomMatrix(m, k, seed), Braw = randomMatrix(n, k, seed + 1), C0 = randomMatrix(m + 1, ldc, seed + 2);
          const Aget = (i: number, p: number) => Araw[transA ? p * m + i : i * k + p]!;
          const Bget = (j: number, p: number) => Braw[transB ? p * n + j : j * k + p]!;
          for (const engine of ['wasm', 'js'] as DenseEngine[]) {
            const ws = createDenseWorkspace(Araw.length + Braw.length + C0.length, engine, { mc, kc, nc });
            const a = ws.alloc(Araw.length), b = ws.alloc(Braw.length), c = ws.alloc(C0.length);
            ws.heap().set(Araw, a);
            ws.heap().set(Braw, b);
            ws.heap().set(C0, c);
            ws.gemm(m, n, k, alpha, a, transA ? 1 : k, transA ? m : 1, b, transB ? 1 : k, transB ? n : 1, c, ldc, lower);
            const h = ws.heap();
            let touchedOutside = 0, worst = 0;
            for (let i = 0; i <= m; i++) for (let j = 0; j < ldc; j++) {
              const got = h[c + i * ldc + j]!;
              if (i === m || j >= n) {
                if (got !== C0[i * ldc + j]) touchedOutside++; // outside C: untouched
                continue;
              }
              if (lower !== undefined && j > i + lower) continue; // unspecified above the bound
              let s = 0;
              for (let p = 0; p < k; p++) s += Aget(i, p) * Bget(j, p);
              worst = Math.max(worst, Math.abs(got - (C0[i * ldc + j]! + alpha * s)));
            }
            expect(touchedOutside).toBe(0);
            expect(worst).toBeLessThan(1e-12);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('skips every 4×4 tile wholly above the diagonal under the lower bound (a SYRK update leaves them as they were)', () => {
    const m = 37, k = 9;
    const A = randomMatrix(m, k, 5);
    const ws = createDenseWorkspace(m * k + m * m, 'wasm', { mc: 8, kc: 4, nc: 12 });
    const a = ws.alloc(m * k), c = ws.alloc(m * m);
    ws.heap().set(A, a);
    gemmNTLower(ws, m, k, 1, a, k, a, k, c, m);
    const h = ws.heap();
    let skipped = 0, written = 0, wrong = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * A[j * k + p]!;
      if (j <= i && Math.abs(h[c + i * m + j]! - s) > 1e-12) wrong++;
      // Tile (I, J) of 4×4 lies wholly above the diagonal when its first column exceeds its last row.
      if (4 * Math.floor(j / 4) > 4 * Math.floor(i / 4) + 3) {
        skipped++;
        if (h[c + i * m + j] !== 0) written++;
      }
    }
    expect(wrong).toBe(0);
    expect(written).toBe(0);
    expect(skipped).toBeGreaterThan(500);
  });

  it('default blocks: products crossing the NC = 2048 column block, and the MC = 128 / KC = 256 blocks, equal the triple loop', () => {
    for (const [m, n, k] of [[9, 2053, 37], [133, 9, 261]] as const) {
      const A = randomMatrix(m, k, 7), B = randomMatrix(n, k, 8);
      const ws = createDenseWorkspace(m * k + n * k + m * n, 'wasm');
      const a = ws.alloc(m * k), b = ws.alloc(n * k), c = ws.alloc(m * n);
      ws.heap().set(A, a);
      ws.heap().set(B, b);
      ws.gemmNT(m, n, k, -0.5, a, k, b, k, c, n);
      const h = ws.heap();
      let worst = 0;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p]! * B[j * k + p]!;
        worst = Math.max(worst, Math.abs(h[c + i * n + j]! + 0.5 * s));
      }
      expect(worst).toBeLessThan(1e-11);
    }
  });
});

describe('Cholesky residual', () => {
  /** ‖L Lᵀ − A‖_F / ‖A‖_F by brute force. */
  function residual(A: Float64Array, L: Float64Array, n: number): number {
    let num = 0, den = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p <= j; p++) s += L[i * n + p]! * L[j * n + p]!;
      const w = i === j ? 1 : 2;
      num += w * (s - A[i * n + j]!) ** 2;
      den += w * A[i * n + j]! ** 2;
    }
    return Math.sqrt(num / den);
  }

  it('‖LLᵀ − A‖/‖A‖ is at rounding level on random SPD matrices whose size is no multiple of the blocks (1 … 197), both engines', () => {
    for (const n of [1, 3, 131, 197]) {
      const X = randomMatrix(n, n + 5, n);
      const A = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = i === j ? 0.05 : 0;
        for (let p = 0; p < n + 5; p++) s += (X[i * (n + 5) + p]! * X[j * (n + 5) + p]!) / (n + 5);
        A[i * n + j] = s;
      }
      for (const engine of ['wasm', 'js'] as DenseEngine[]) {
        const L = choleskyFactor(A, n, { engine }).lower();
        expect(residual(A, L, n)).toBeLessThan(1e-14);
        let upper = 0;
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (L[i * n + j] !== 0) upper++;
        expect(upper).toBe(0);
      }
    }
  });

  it('the empty matrix factors (n = 0): no entries, log det 0, solves of zero-length rows', () => {
    const f = choleskyFactor(new Float64Array(0), 0);
    expect(f.lower().length).toBe(0);
    expect(f.logDeterminant()).toBe(0);
    expect(f.solveRows(new Float64Array(0), 3).length).toBe(0);
  });

  it('1×1: L = √a, solve = b / a', () => {
    const f = choleskyFactor([6.25], 1);
    expect(f.lower()[0]).toBe(2.5);
    expect(f.solveRows([5, -12.5], 2)).toEqual(Float64Array.from([0.8, -2]));
  });
});
