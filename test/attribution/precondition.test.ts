import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  conjugateGradient,
  curvatureMatrix,
  curvatureOperator,
  explicitOperator,
  featurize,
  fitConjugateGradient,
  fitDataInf,
  fitFisher,
  fitInverseHessian,
  fitLissa,
  fitTrak,
  gaussNewtonFeatures,
  gradCos,
  lissa,
  tracInFeatures,
  trakFeatures,
  type FeatureMatrix,
} from '../../src/attribution/index.js';
import { isProvenantError } from '../../src/core/index.js';
import { tf } from '../../src/finetune/index.js';
import { maxAbs, randomData, tinyLr, tinyMlp } from './helpers.js';

function randomFeatures(rows: number, dim: number, seed: number, blocks?: { name: string; module: string; offset: number; size: number }[]): FeatureMatrix {
  const { x } = randomData(rows, dim, 2, seed);
  return { rows, dim, data: x, blocks: blocks ?? [{ name: 'f', module: 'f', offset: 0, size: dim }] };
}

const toMatrix = (a: ArrayLike<number>, rows: number, cols: number) => {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, a[r * cols + c]!);
  return m;
};

/** Random SPD matrix A = BᵀB/d + shift·I. */
function spd(d: number, seed: number, shift = 0.5): Float64Array {
  const { x } = randomData(d, d, 2, seed);
  const H = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[k * d + a]! * x[k * d + b]!;
    H[a * d + b] = s / d + (a === b ? shift : 0);
  }
  return H;
}

describe('Grad-Cos and TracInCP', () => {
  it('Grad-Cos rows have unit norm; TracInCP features give Σ_c η_c g_c·g_c′ (loop)', () => {
    const f = randomFeatures(4, 5, 1);
    const n = gradCos().query(f);
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += n.data[i * 5 + c]! ** 2;
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
    const a1 = randomFeatures(3, 4, 2), a2 = randomFeatures(3, 4, 3);
    const b1 = randomFeatures(2, 4, 4), b2 = randomFeatures(2, 4, 5);
    const eta = [0.5, 0.05];
    const A = tracInFeatures([a1, a2], eta), B = tracInFeatures([b1, b2], eta);
    for (let i = 0; i < 3; i++) for (let t = 0; t < 2; t++) {
      let ours = 0, ref = 0;
      for (let c = 0; c < A.dim; c++) ours += A.data[i * A.dim + c]! * B.data[t * B.dim + c]!;
      for (let c = 0; c < 4; c++) ref += eta[0]! * a1.data[i * 4 + c]! * b1.data[t * 4 + c]! + eta[1]! * a2.data[i * 4 + c]! * b2.data[t * 4 + c]!;
      expect(Math.abs(ours - ref)).toBeLessThan(1e-5);
    }
    expect(() => tracInFeatures([a1], [-1])).toThrow(/ATTRIBUTION_INPUT_INVALID/);
  });
});

describe('DataInf', () => {
  it('equals (1/n) Σ_i (g_i g_iᵀ + λ_l I)⁻¹ q per layer, with explicit inverses, and the default λ_l = 0.1·mean(g²)', () => {
    const blocks = [
      { name: 'a.w', module: 'a', offset: 0, size: 3 },
      { name: 'a.b', module: 'a', offset: 3, size: 1 },
      { name: 'b.w', module: 'b', offset: 4, size: 2 },
    ];
    const train = randomFeatures(6, 6, 7, blocks);
    const q = randomFeatures(3, 6, 8, blocks);
    const pre = fitDataInf(train);
    const got = pre.query(q);
    // The second query reuses the kept training gradients and gives the same numbers.
    expect(pre.query(q).data).toEqual(got.data);
    pre.dispose!();
    for (const [module, cols] of [['a', [0, 1, 2, 3]], ['b', [4, 5]]] as const) {
      const d = cols.length;
      let meanSq = 0;
      for (let i = 0; i < 6; i++) for (const c of cols) meanSq += train.data[i * 6 + c]! ** 2 / (6 * d);
      const lambda = 0.1 * meanSq;
      expect(Math.abs((pre.params.lambda as Record<string, number>)[module]! - lambda)).toBeLessThan(1e-9);
      let avg = Matrix.zeros(d, d);
      for (let i = 0; i < 6; i++) {
        const g = toMatrix(cols.map((c) => train.data[i * 6 + c]!), d, 1);
        avg = avg.add(inverse(g.mmul(g.transpose()).add(Matrix.eye(d).mul(lambda))).mul(1 / 6));
      }
      for (let t = 0; t < 3; t++) {
        const expected = avg.mmul(toMatrix(cols.map((c) => q.data[t * 6 + c]!), d, 1)).to1DArray();
        const ours = cols.map((c) => got.data[t * 6 + c]!);
        const scale = Math.max(...expected.map(Math.abs));
        expect(maxAbs(ours, expected) / scale).toBeLessThan(1e-4);
      }
    }
  });
});

describe('Gauss–Newton curvature', () => {
  it('logistic regression: pseudo-gradient curvature equals the closed-form Hessian (1/n) Σ (diag p − ppᵀ) ⊗ x̃x̃ᵀ', () => {
    const din = 3, C = 3, n = 5;
    const model = tinyLr(3, din, C);
    const { x } = randomData(n, din, C, 17);
    const gn = gaussNewtonFeatures(model, { inputs: x, exampleShape: [din] });
    expect(gn.rowsPerExample).toBe(C);
    const H = curvatureMatrix(gn, 0.01);
    const W = model.weights.get('linear.weight')!.dataSync();
    const b = model.weights.get('linear.bias')!.dataSync();
    const P = din * C + C;
    // Parameter index of W[j, c] is j·C + c, of b[c] is din·C + c; x̃ = [x, 1].
    const idx = (j: number, c: number) => (j < din ? j * C + c : din * C + c);
    const ref = new Float64Array(P * P);
    for (let i = 0; i < n; i++) {
      const xt = [...x.subarray(i * din, (i + 1) * din), 1];
      const z = Array.from({ length: C }, (_, c) => xt.slice(0, din).reduce((s, v, j) => s + v * W[j * C + c]!, 0) + b[c]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const p = e.map((v) => v / e.reduce((s, u) => s + u, 0));
      for (let j = 0; j <= din; j++) for (let k = 0; k <= din; k++) for (let c = 0; c < C; c++) for (let c2 = 0; c2 < C; c2++) {
        ref[idx(j, c) * P + idx(k, c2)]! += (((c === c2 ? p[c]! : 0) - p[c]! * p[c2]!) * xt[j]! * xt[k]!) / n;
      }
    }
    for (let a = 0; a < P; a++) ref[a * P + a]! += 0.01;
    expect(maxAbs(H, ref)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('MLP: equals (1/n) Σ J_iᵀ Λ_i J_i with J_i from one autograd pass per logit per example', () => {
    const model = tinyMlp(5, 4, [3], 3);
    const n = 4;
    const { x } = randomData(n, 4, 3, 19);
    const gn = gaussNewtonFeatures(model, { inputs: x, exampleShape: [4] });
    const H = curvatureMatrix(gn);
    const vars = [...model.weights.values()];
    const P = vars.reduce((a, v) => a + v.size, 0);
    const ref = new Float64Array(P * P);
    for (let i = 0; i < n; i++) {
      const xi = tf.tensor2d(x.slice(i * 4, i * 4 + 4), [1, 4]);
      const z = tf.tidy(() => model.forward(xi).dataSync());
      const m = Math.max(...z);
      const e = Array.from(z, (v) => Math.exp(v - m));
      const p = e.map((v) => v / e.reduce((s, u) => s + u, 0));
      const J: number[][] = [];
      for (let c = 0; c < 3; c++) {
        const { value, grads } = tf.variableGrads(() => model.forward(xi).slice([0, c], [1, 1]).sum() as tf.Scalar, vars);
        J.push(vars.flatMap((v) => Array.from(grads[v.name]!.dataSync())));
        tf.dispose([value, Object.values(grads)]);
      }
      for (let a = 0; a < P; a++) for (let bb = 0; bb < P; bb++) {
        let s = 0;
        for (let c = 0; c < 3; c++) for (let c2 = 0; c2 < 3; c2++) s += J[c]![a]! * ((c === c2 ? p[c]! : 0) - p[c]! * p[c2]!) * J[c2]![bb]!;
        ref[a * P + bb]! += s / n;
      }
      xi.dispose();
    }
    expect(maxAbs(H, ref)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('inverse-Hessian preconditioners', () => {
  const d = 6;
  const H = spd(d, 23);
  const Hinv = inverse(toMatrix(H, d, d));
  const q = randomFeatures(3, d, 29);
  const expected = Hinv.mmul(toMatrix(q.data, 3, d).transpose()).transpose().to1DArray();

  it('explicit (Cholesky) equals the ml-matrix inverse; damping adds λI', () => {
    expect(maxAbs(fitInverseHessian(H, d).query(q).data, expected)).toBeLessThan(1e-5);
    const damped = inverse(toMatrix(H, d, d).add(Matrix.eye(d).mul(0.3)));
    const expDamped = damped.mmul(toMatrix(q.data, 3, d).transpose()).transpose().to1DArray();
    expect(maxAbs(fitInverseHessian(H, d, { damping: 0.3 }).query(q).data, expDamped)).toBeLessThan(1e-5);
    const notPd = new Float64Array(d * d);
    expect(() => fitInverseHessian(notPd, d)).toThrow(/ATTRIBUTION_INPUT_INVALID/);
  });

  it('conjugate gradient equals the explicit inverse, and reports non-convergence with a typed error', () => {
    const pre = fitConjugateGradient(explicitOperator(H, d), { tolerance: 1e-10 });
    expect(maxAbs(pre.query(q).data, expected)).toBeLessThan(1e-5);
    let error: unknown;
    try {
      conjugateGradient(explicitOperator(H, d), q.data, 3, { maxIterations: 1, tolerance: 1e-12 });
    } catch (e) {
      error = e;
    }
    expect(isProvenantError(error, 'ATTRIBUTION_NOT_CONVERGED')).toBe(true);
  });

  it('LiSSA (full operator) converges to the explicit inverse; a scale below λ_max diverges with a typed error', () => {
    const x = lissa(explicitOperator(H, d), q.data, 3, { depth: 400 });
    expect(maxAbs(x, expected)).toBeLessThan(1e-4);
    let error: unknown;
    try {
      lissa(explicitOperator(H, d), q.data, 3, { depth: 2000, scale: 0.1 });
    } catch (e) {
      error = e;
    }
    expect(isProvenantError(error, 'ATTRIBUTION_NOT_CONVERGED')).toBe(true);
  });

  it('matrix-free Fisher operator: CG and stochastic LiSSA agree with the damped Cholesky Fisher', () => {
    const train = randomFeatures(40, 5, 31);
    const queries = randomFeatures(2, 5, 37);
    const fisher = fitFisher(train, { damping: 0.2 });
    const ref = fisher.query(queries).data;
    const op = curvatureOperator({ features: train, examples: 40, rowsPerExample: 1 }, { damping: 0.2 });
    expect(maxAbs(fitConjugateGradient(op, { tolerance: 1e-9 }).query(queries).data, ref)).toBeLessThan(1e-4);
    const stochastic = fitLissa(op, { depth: 300, repeats: 8, batchSize: 10, seed: 3 }).query(queries).data;
    const norm = Math.max(...Array.from(ref, Math.abs));
    expect(maxAbs(stochastic, ref) / norm).toBeLessThan(0.15);
    op.dispose!();
  });
});

describe('Fisher and TRAK', () => {
  it('Fisher: (F + λI)⁻¹ q with F = (1/n) ΣggT and the default λ = 0.1·tr(F)/d (explicit inverse)', () => {
    const train = randomFeatures(10, 4, 41);
    const q = randomFeatures(2, 4, 43);
    const G = toMatrix(train.data, 10, 4);
    const F = G.transpose().mmul(G).mul(1 / 10);
    const lambda = (0.1 * F.trace()) / 4;
    const ref = inverse(F.add(Matrix.eye(4).mul(lambda))).mmul(toMatrix(q.data, 2, 4).transpose()).transpose().to1DArray();
    const pre = fitFisher(train);
    expect(Math.abs((pre.params.damping as number) - lambda)).toBeLessThan(1e-9);
    expect(maxAbs(pre.query(q).data, ref)).toBeLessThan(1e-5);
  });

  it('TRAK with two models equals (1/M) Σ_m φ_mᵀ(Φ_mᵀΦ_m)⁻¹φ_m,i · mean_m(1 − p_m,i) (explicit inverses)', () => {
    const n = 8, k = 3, m = 2;
    const phis = [randomFeatures(n, k, 51), randomFeatures(n, k, 52)];
    const tests = [randomFeatures(m, k, 53), randomFeatures(m, k, 54)];
    const probs = [Float32Array.from({ length: n }, (_, i) => 0.1 + 0.1 * (i % 5)), Float32Array.from({ length: n }, (_, i) => 0.9 - 0.05 * i)];
    const pre = fitTrak(phis.map((features, j) => ({ features, labelProbability: probs[j]! })), { damping: 0 });
    const q = pre.query(trakFeatures(tests));
    const tr = pre.train(trakFeatures(phis));
    for (let t = 0; t < m; t++) for (let i = 0; i < n; i++) {
      let ours = 0;
      for (let c = 0; c < q.dim; c++) ours += q.data[t * q.dim + c]! * tr.data[i * tr.dim + c]!;
      let ref = 0;
      for (let j = 0; j < 2; j++) {
        const Phi = toMatrix(phis[j]!.data, n, k);
        const inv = inverse(Phi.transpose().mmul(Phi));
        const v = inv.mmul(toMatrix(tests[j]!.data.subarray(t * k, (t + 1) * k), k, 1));
        ref += v.to1DArray().reduce((s, val, c) => s + val * phis[j]!.data[i * k + c]!, 0) / 2;
      }
      ref *= ((1 - probs[0]![i]!) + (1 - probs[1]![i]!)) / 2;
      expect(Math.abs(ours - ref)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref)));
    }
    expect(() => pre.query(tests[0]!)).toThrow(/ATTRIBUTION_SHAPE_MISMATCH/);
  });

  it('margin-target features feed TRAK end to end on a tiny model', () => {
    const model = tinyLr(8, 4, 3);
    const { x, labels } = randomData(12, 4, 3, 61);
    const f = featurize(model, { inputs: x, exampleShape: [4], labels }, { target: 'margin', projection: { kind: 'gaussian', dim: 6, seed: 1 } });
    const pre = fitTrak([{ features: f.features, labelProbability: f.labelProbability }]);
    const out = pre.query(trakFeatures([f.features]));
    expect(out.rows).toBe(12);
    expect(out.data.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});
