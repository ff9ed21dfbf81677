import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  chooseConvexSolver,
  convexExampleGradients,
  convexInfluenceScores,
  convexLogisticHessian,
  convexSelfInfluence,
  fitConvexLogistic,
  type ConvexLogisticProblem,
} from '../../../src/attribution/convex/index.js';
import { blobs as blobProblem } from './blobs.js';

const blobs = (n: number, d: number, C: number, seed: number, lambda = 0.05): ConvexLogisticProblem => blobProblem(n, d, C, seed, lambda);

describe('chooseConvexSolver', () => {
  const mnist = { d: 784, numClasses: 10, trainingRows: 5000 };

  it('factorises when the queries amortise it, and says so with both estimates', () => {
    const c = chooseConvexSolver({ ...mnist, queries: 500 });
    expect(c.solver).toBe('explicit');
    expect(c.reason).toMatch(/500 queries amortise/);
    expect(c.estimatedCost.explicit).toBeLessThan(c.estimatedCost.cg);
    expect(c.parameters).toBe(7850);
    // The closed form of the cost model, computed here independently.
    const D = 785, C = 10, P = 7850, n = 5000;
    expect(c.estimatedCost.explicit).toBeCloseTo(55 * D * D * n + P ** 3 / 3 + 500 * 2 * P * P, -3);
    expect(c.estimatedCost.cg).toBeCloseTo(500 * c.cgIterations * 4 * n * D * C * c.kernelSpeedup, -3);
    expect(JSON.parse(JSON.stringify(c))).toEqual(c); // plain data for the audit record
  });

  it('takes CG for a single query, when the Hessian exceeds the memory budget, or when forced', () => {
    expect(chooseConvexSolver({ ...mnist, queries: 1 }).solver).toBe('cg');
    const tight = chooseConvexSolver({ ...mnist, queries: 500 }, { maxExplicitBytes: 1e6 });
    expect(tight.solver).toBe('cg');
    expect(tight.reason).toMatch(/budget/);
    const forced = chooseConvexSolver({ ...mnist, queries: 1 }, { solver: 'explicit' });
    expect(forced.solver).toBe('explicit');
    expect(forced.reason).toMatch(/forced/);
  });

  it('rejects non-positive cost parameters', () => {
    expect(() => chooseConvexSolver({ ...mnist, queries: 3 }, { cgIterations: 0 })).toThrow(/positive/);
  });
});

describe('convex influence through either route', () => {
  const train = blobs(120, 5, 3, 21);
  const test = blobs(4, 5, 3, 22);
  const fit = fitConvexLogistic(train, { tolerance: 1e-12 });

  it('records the route taken; explicit and CG scores agree', () => {
    const explicit = convexInfluenceScores(train, fit.theta, test, { solver: 'explicit' });
    const cg = convexInfluenceScores(train, fit.theta, test, { solver: 'cg', cgTolerance: 1e-13 });
    expect(explicit.solver.solver).toBe('explicit');
    expect(cg.solver.solver).toBe('cg');
    expect(cg.solver.cgIterationsUsed).toBeGreaterThan(0);
    for (let k = 0; k < explicit.values.length; k++) expect(cg.values[k]).toBeCloseTo(explicit.values[k]!, 11);
  });

  it('self-influence equals gᵢᵀH⁻¹gᵢ by ml-matrix, by the explicit route and by CG (a memory budget too small for H)', () => {
    const P = (train.d + 1) * train.numClasses;
    const H = convexLogisticHessian(train, fit.theta);
    const G = convexExampleGradients(train, fit.theta);
    const chol = new CholeskyDecomposition(new Matrix(Array.from({ length: P }, (_, i) => Array.from(H.subarray(i * P, (i + 1) * P)))));
    const X = chol.solve(new Matrix(Array.from({ length: P }, (_, a) => Array.from({ length: train.n }, (_, i) => G[i * P + a]!))));
    const expected = Array.from({ length: train.n }, (_, i) => {
      let s = 0;
      for (let a = 0; a < P; a++) s += G[i * P + a]! * X.get(a, i);
      return s;
    });
    const explicit = convexSelfInfluence(train, fit.theta);
    const viaCg = convexSelfInfluence(train, fit.theta, { maxExplicitBytes: 8, cgTolerance: 1e-13 });
    for (let i = 0; i < train.n; i++) {
      expect(explicit[i]).toBeCloseTo(expected[i]!, 10);
      expect(viaCg[i]).toBeCloseTo(expected[i]!, 10);
    }
  });
});

describe('chooseConvexSolver input checks', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };
  it('refuses an unknown forced solver and NaN or negative counts, naming them, instead of comparing meaningless costs', () => {
    const shape = { d: 784, numClasses: 10, trainingRows: 5000, queries: 500 };
    expect(() => chooseConvexSolver(shape, { solver: 'lu' as never })).toThrow(/'explicit' or 'cg', got "lu"/);
    expect(code(() => chooseConvexSolver(shape, { solver: 'lu' as never }))).toBe('ATTRIBUTION_INPUT_INVALID');
    expect(() => chooseConvexSolver({ ...shape, queries: Number.NaN })).toThrow(/queries must be an integer ≥ 1, got NaN/);
    expect(() => chooseConvexSolver({ ...shape, d: -5 })).toThrow(/d must be an integer ≥ 1, got -5/);
    expect(() => chooseConvexSolver({ ...shape, numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2/);
    expect(chooseConvexSolver(shape, { solver: 'cg' }).solver).toBe('cg');
  });
  it('says what a theta that is not a Float64Array is', () => {
    const train = blobs(30, 3, 3, 4);
    const theta = Array.from(fitConvexLogistic(train).theta);
    expect(() => convexSelfInfluence(train, theta as unknown as Float64Array)).toThrow(/got an Array of 12/);
  });
});
