import fc from 'fast-check';
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  choleskyFactor,
  conjugateGradient,
  createDenseWorkspace,
  gram,
  matMul,
  matMulNT,
  symmetricEigen,
  wasmEngineAvailable,
  type DenseEngine,
} from '../../../src/attribution/linalg/index.js';
import { isProvenantError } from '../../../src/core/index.js';
import { randomMatrix, randomSpd as randomSpdBase } from './random-matrices.js';

const engines: DenseEngine[] = ['wasm', 'js'];

/** A Aᵀ/k + shift·I (k = n + 3): SPD with condition number controlled by `shift`. */
const randomSpd = (n: number, seed: number, shift = 0.1): Float64Array => randomSpdBase(n, seed, shift, 3);

function toMatrix(a: ArrayLike<number>, rows: number, cols: number): Matrix {
  return new Matrix(Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => a[i * cols + j]!)));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

describe('dense engines', () => {
  it('the WebAssembly SIMD engine is available in Node', () => {
    expect(wasmEngineAvailable()).toBe(true);
  });

  it('gemmNT equals the brute-force triple loop on both engines, for any shape and strides (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 3 }), fc.double({ min: -2, max: 2, noNaN: true }), fc.nat(), (m, n, k, pad, alpha, seed) => {
        const lda = k + pad, ldb = k + 2 * pad, ldc = n + pad;
        const A = randomMatrix(m, lda, seed);
        const B = randomMatrix(n, ldb, seed + 1);
        const C0 = randomMatrix(m, ldc, seed + 2);
        const expected = C0.slice();
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += A[i * lda + p]! * B[j * ldb + p]!;
          expected[i * ldc + j]! += alpha * s;
        }
        for (const engine of engines) {
          const ws = createDenseWorkspace(A.length + B.length + C0.length, engine);
          const a = ws.alloc(A.length), b = ws.alloc(B.length), c = ws.alloc(C0.length);
          ws.heap().set(A, a);
          ws.heap().set(B, b);
          ws.heap().set(C0, c);
          ws.gemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc);
          expect(maxAbsDiff(ws.heap().subarray(c, c + C0.length), expected)).toBeLessThan(1e-12);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('matrix products', () => {
  it('matMulNT, matMul and gram equal ml-matrix at sizes that cross the cache blocks (wasm and js)', () => {
    const m = 21, k = 260, n = 9;
    const A = randomMatrix(m, k, 1);
    const B = randomMatrix(n, k, 2);
    const Bkn = randomMatrix(k, n, 3);
    const w = Float64Array.from(randomMatrix(m, 1, 4), (v) => v); // signed weights are allowed
    const nt = toMatrix(A, m, k).mmul(toMatrix(B, n, k).transpose()).to1DArray();
    const nn = toMatrix(A, m, k).mmul(toMatrix(Bkn, k, n)).to1DArray();
    const g = toMatrix(A, m, k).transpose().mmul(Matrix.diag(Array.from(w))).mmul(toMatrix(A, m, k)).to1DArray();
    for (const engine of engines) {
      expect(maxAbsDiff(matMulNT(A, m, k, B, n, { engine }), nt)).toBeLessThan(1e-10);
      expect(maxAbsDiff(matMul(A, m, k, Bkn, n, { engine }), nn)).toBeLessThan(1e-10);
      const G = gram(A, m, k, w, { engine });
      expect(maxAbsDiff(G, g)).toBeLessThan(1e-10);
      let asymmetric = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) if (G[i * k + j] !== G[j * k + i]) asymmetric++;
      expect(asymmetric).toBe(0);
    }
  });

  it('rejects operands whose length does not match the shape, naming the operand', () => {
    expect(() => matMulNT([1, 2, 3], 2, 2, [1, 2, 3, 4], 2)).toThrow(/A has 3 entries/);
    expect(() => gram([1, 2, 3, 4], 2, 2, [1, NaN])).toThrow(/weight 1/);
  });
});

describe('Cholesky', () => {
  it('factor and solves equal ml-matrix for sizes around the block width, on both engines', () => {
    for (const n of [1, 2, 5, 127, 128, 129, 300]) {
      const A = randomSpd(n, n);
      const rhs = 7;
      const B = randomMatrix(rhs, n, n + 1);
      const ref = new CholeskyDecomposition(toMatrix(A, n, n));
      const X = ref.solve(toMatrix(B, rhs, n).transpose()).transpose().to1DArray();
      const Lref = ref.lowerTriangularMatrix.to1DArray();
      const scale = Math.max(...X.map(Math.abs));
      for (const engine of engines) {
        const f = choleskyFactor(A, n, { engine });
        expect(f.engine).toBe(engine);
        expect(maxAbsDiff(f.lower(), Lref)).toBeLessThan(1e-11);
        expect(maxAbsDiff(f.solveRows(B, rhs), X) / scale).toBeLessThan(1e-11);
        // forwardRows: ‖L⁻¹b‖² = bᵀA⁻¹b.
        const y = f.forwardRows(B, rhs);
        for (let r = 0; r < rhs; r++) {
          let yy = 0, bx = 0;
          for (let i = 0; i < n; i++) {
            yy += y[r * n + i]! ** 2;
            bx += B[r * n + i]! * X[r * n + i]!;
          }
          expect(yy).toBeCloseTo(bx, 8);
        }
      }
    }
  });

  it('log det equals 2 Σ log of ml-matrix\'s diagonal; damping adds λI', () => {
    const n = 40;
    const A = randomSpd(n, 9);
    const damped = A.slice();
    for (let i = 0; i < n; i++) damped[i * n + i]! += 0.5;
    const ref = new CholeskyDecomposition(toMatrix(damped, n, n)).lowerTriangularMatrix;
    let expected = 0;
    for (let i = 0; i < n; i++) expected += 2 * Math.log(ref.get(i, i));
    const f = choleskyFactor(A, n, { damping: 0.5 });
    expect(f.logDeterminant()).toBeCloseTo(expected, 10);
    expect(maxAbsDiff(f.lower(), ref.to1DArray())).toBeLessThan(1e-12);
  });

  it('wasm and js factors agree on random SPD matrices (fast-check), to rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 160 }), fc.nat(), fc.double({ min: 1e-4, max: 10, noNaN: true }), (n, seed, shift) => {
        const A = randomSpd(n, seed, shift);
        const a = choleskyFactor(A, n, { engine: 'wasm' }).lower();
        const b = choleskyFactor(A, n, { engine: 'js' }).lower();
        expect(maxAbsDiff(a, b)).toBeLessThan(1e-9 * Math.max(1, ...Array.from(b, Math.abs)));
      }),
      { numRuns: 15 },
    );
  });

  it('throws ATTRIBUTION_INPUT_INVALID naming the pivot for an indefinite or NaN matrix, and a shape error for a bad length', () => {
    for (const engine of engines) {
      try {
        choleskyFactor(Float64Array.from([1, 2, 2, 1]), 2, { engine });
        expect.unreachable();
      } catch (e) {
        expect(isProvenantError(e, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
        expect(String((e as Error).message)).toMatch(/pivot 1/);
      }
      const A = randomSpd(200, 3);
      A[150 * 200 + 150] = NaN;
      expect(() => choleskyFactor(A, 200, { engine })).toThrow(/pivot 150/);
    }
    expect(() => choleskyFactor([1, 2, 3], 2)).toThrow(/expected 2²/);
    expect(() => choleskyFactor([4], 1).solveRows([1, 2], 1)).toThrow(/expected 1 × 1/);
  });
});

describe('conjugate gradient', () => {
  const n = 30;
  const A = randomSpd(n, 11, 0.5);
  const op = {
    dim: n,
    apply(V: Float64Array, rows: number) {
      const out = new Float64Array(rows * n);
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j]! * V[r * n + j]!;
        out[r * n + i] = s;
      }
      return out;
    },
  };

  it('solves several right-hand sides (one zero) like ml-matrix, with and without Jacobi, and from a warm start', () => {
    const B = randomMatrix(3, n, 12);
    B.fill(0, n, 2 * n);
    const X = new CholeskyDecomposition(toMatrix(A, n, n)).solve(toMatrix(B, 3, n).transpose()).transpose().to1DArray();
    const diagonal = Float64Array.from({ length: n }, (_, i) => A[i * n + i]!);
    for (const options of [{}, { diagonal }]) {
      const cg = conjugateGradient(op, B, 3, { tolerance: 1e-12, ...options });
      expect(cg.converged).toBe(true);
      expect(cg.relativeResidual).toBeLessThan(1e-11);
      expect(maxAbsDiff(cg.x, X)).toBeLessThan(1e-9);
    }
    const warm = conjugateGradient(op, B, 3, { tolerance: 1e-12, x0: X });
    expect(warm.iterations).toBeLessThanOrEqual(1);
  });

  it('reports non-convergence (or returns it when asked) and non-positive curvature', () => {
    const B = randomMatrix(1, n, 13);
    expect(() => conjugateGradient(op, B, 1, { maxIterations: 2, tolerance: 1e-12 })).toThrow(/did not reach/);
    const loose = conjugateGradient(op, B, 1, { maxIterations: 2, tolerance: 1e-12, throwIfNotConverged: false });
    expect(loose.converged).toBe(false);
    const negative = { dim: 2, apply: (V: Float64Array) => V.map((v) => -v) };
    try {
      conjugateGradient(negative, [1, 1], 1);
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
    }
  });
});

describe('symmetric eigen-decomposition', () => {
  it('equals ml-matrix\'s eigenvalues; A v = λ v and VᵀV = I (random, repeated and zero eigenvalues)', () => {
    const cases: Array<[Float64Array, number]> = [[randomSpd(1, 1), 1], [Float64Array.from([2, 1, 1, 2]), 2], [randomSpd(37, 2, 0), 37]];
    // A rank-deficient matrix with a repeated eigenvalue: a projector onto 3 of 8 coordinates, rotated.
    const n = 8;
    const G = toMatrix(randomMatrix(n, n, 4), n, n);
    const sym = G.transpose().mmul(Matrix.diag([1, 1, 1, 0, 0, 0, 0, 0])).mmul(G); // rank 3: five zero eigenvalues
    cases.push([Float64Array.from(sym.to1DArray()), n]);
    for (const [A, m] of cases) {
      const { values, vectors } = symmetricEigen(A, m);
      const ref = [...new EigenvalueDecomposition(toMatrix(A, m, m), { assumeSymmetric: true }).realEigenvalues].sort((a, b) => a - b);
      const scale = Math.max(1, ...ref.map(Math.abs));
      for (let k = 0; k < m; k++) expect(Math.abs(values[k]! - ref[k]!) / scale).toBeLessThan(1e-12);
      let residual = 0, orthogonality = 0;
      for (let k = 0; k < m; k++) {
        for (let i = 0; i < m; i++) {
          let av = 0;
          for (let j = 0; j < m; j++) av += A[i * m + j]! * vectors[k * m + j]!;
          residual = Math.max(residual, Math.abs(av - values[k]! * vectors[k * m + i]!) / scale);
        }
        for (let l = 0; l < m; l++) {
          let dot = 0;
          for (let j = 0; j < m; j++) dot += vectors[k * m + j]! * vectors[l * m + j]!;
          orthogonality = Math.max(orthogonality, Math.abs(dot - (k === l ? 1 : 0)));
        }
      }
      expect(residual).toBeLessThan(1e-11);
      expect(orthogonality).toBeLessThan(1e-12);
    }
  });

  it('rejects a bad length and a non-finite entry', () => {
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/expected 2²/);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/\(1, 0\)/);
  });
});
