import { describe, expect, it } from 'vitest';
import { deriveSeed, featurize, perExampleGradients, projectionMatrix, selectParameters } from '../../src/attribution/index.js';
import { tf } from '../../src/finetune/index.js';
import { attachAdapter, kroneckerProject, maxAbs, randomData, tinyMlp } from './helpers.js';

describe('projection matrices', () => {
  it('are deterministic per seed and have the documented entry distributions (E[PPᵀ] = I)', () => {
    const d = 200, k = 400;
    for (const kind of ['gaussian', 'rademacher', 'sparse'] as const) {
      const P = projectionMatrix(kind, d, k, 5);
      expect(projectionMatrix(kind, d, k, 5)).toEqual(P);
      expect(maxAbs(projectionMatrix(kind, d, k, 6), P)).toBeGreaterThan(0);
      // Row norms² ≈ 1 (diagonal of PPᵀ), off-diagonal ≈ 0 within sampling error.
      let diag = 0, off = 0;
      for (let i = 0; i < d; i++) {
        let s = 0, t = 0;
        for (let c = 0; c < k; c++) {
          s += P[i * k + c]! ** 2;
          t += P[i * k + c]! * P[((i + 1) % d) * k + c]!;
        }
        diag += s / d;
        off += Math.abs(t) / d;
      }
      expect(Math.abs(diag - 1)).toBeLessThan(0.05);
      expect(off).toBeLessThan(4 / Math.sqrt(k));
      if (kind === 'rademacher') for (const v of P) expect(Math.abs(Math.abs(v) - 1 / Math.sqrt(k))).toBeLessThan(1e-7);
      if (kind === 'sparse') {
        const nz = P.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0) / P.length;
        expect(Math.abs(nz - 1 / 3)).toBeLessThan(0.01);
      }
    }
  });
});

describe('featurize', () => {
  function setup() {
    const model = tinyMlp(4, 6, [5], 3);
    for (const layer of model.linears.values()) attachAdapter(layer, 2, 40 + layer.inFeatures, 1.5);
    const { x, labels } = randomData(7, 6, 3, 21);
    const xt = tf.tensor2d(x, [7, 6]);
    const raw = perExampleGradients(model, xt, labels, { parameters: 'all' });
    xt.dispose();
    return { model, x, labels, raw };
  }

  it('unprojected features in batches of 3 equal the one-batch per-example gradients', () => {
    const { model, x, labels, raw } = setup();
    const f = featurize(model, { inputs: x, exampleShape: [6], labels }, { parameters: 'all', batchSize: 3 });
    expect(f.features.dim).toBe(raw.dim);
    expect(maxAbs(f.features.data, raw.data)).toBeLessThan(1e-6);
    expect(maxAbs(f.loss, raw.loss)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('dense projection equals raw gradients times the regenerated matrix (float64 loop)', () => {
    const { model, x, labels, raw } = setup();
    const k = 16;
    const f = featurize(model, { inputs: x, exampleShape: [6], labels }, { parameters: 'all', batchSize: 4, projection: { kind: 'gaussian', dim: k, seed: 9 } });
    const P = projectionMatrix('gaussian', raw.dim, k, 9);
    const expected = new Float64Array(7 * k);
    for (let i = 0; i < 7; i++) for (let p = 0; p < raw.dim; p++) for (let c = 0; c < k; c++) expected[i * k + c]! += raw.data[i * raw.dim + p]! * P[p * k + c]!;
    expect(maxAbs(f.features.data, expected)).toBeLessThan(1e-5);
    expect(f.info.projection).toEqual({ type: 'dense', kind: 'gaussian', dim: k, seed: 9 });
    model.dispose();
  });

  it('factorized projection equals the Kronecker (P_in ⊗ P_out) projection of the full gradient, block by block', () => {
    const { model, x, labels, raw } = setup();
    const kIn = 3, kOut = 2, seed = 13;
    const f = featurize(model, { inputs: x, exampleShape: [6], labels }, {
      parameters: 'all',
      batchSize: 5,
      factorizedProjection: { kind: 'rademacher', inDim: kIn, outDim: kOut, seed },
    });
    const entries = selectParameters(model, { parameters: 'all' });
    const expected = kroneckerProject(raw, 7, entries, model, { kind: 'rademacher', inDim: kIn, outDim: kOut, seed }, projectionMatrix, deriveSeed);
    expect(f.features.dim * 7).toBe(expected.length);
    expect(maxAbs(f.features.data, expected)).toBeLessThan(1e-5);
    expect(f.features.blocks.map((b) => b.name)).toEqual(entries.map((e) => e.name));
    model.dispose();
  });

  it('rejects mismatched inputs, both projections at once, and bad dims', () => {
    const model = tinyMlp(5, 6, [5], 3);
    const { x, labels } = randomData(4, 6, 3, 1);
    expect(() => featurize(model, { inputs: x.subarray(0, 10), exampleShape: [6], labels })).toThrow(/ATTRIBUTION_SHAPE_MISMATCH/);
    expect(() =>
      featurize(model, { inputs: x, exampleShape: [6], labels }, { projection: { kind: 'gaussian', dim: 2, seed: 1 }, factorizedProjection: { kind: 'gaussian', inDim: 2, outDim: 2, seed: 1 } }),
    ).toThrow(/ATTRIBUTION_INPUT_INVALID/);
    expect(() => featurize(model, { inputs: x, exampleShape: [6], labels }, { projection: { kind: 'gaussian', dim: 0, seed: 1 } })).toThrow(/ATTRIBUTION_INPUT_INVALID/);
    model.dispose();
  });
});

