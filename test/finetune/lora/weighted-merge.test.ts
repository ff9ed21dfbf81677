import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addWeightedAdapter, attachAdapter, createMlp, getAdapterInfo, setActiveAdapter } from '../../../src/finetune/index.js';
import type { Model } from '../../../src/finetune/models/model.js';
import { logitsOf, matmul64, maxAbsDiff, randomInputs, values } from './helpers.js';

const mlp = (seed = 2) => createMlp({ inputSize: 7, hiddenSizes: [6], numClasses: 4, seed });

/** s·A·B of one adapter on one module, in float64. */
function delta(model: Model, adapter: string, module: string): Float64Array {
  const linear = model.linears.get(module)!;
  const lora = linear.adapters.get(adapter);
  if (!lora) return new Float64Array(linear.inFeatures * linear.outFeatures);
  const r = lora.A.shape[1]!;
  return matmul64(values(lora.A), values(lora.B), linear.inFeatures, r, linear.outFeatures).map((v) => v * lora.scale);
}

const frobenius = (m: ArrayLike<number>) => Math.sqrt(Array.from(m).reduce((s, v) => s + v * v, 0));

describe('addWeightedAdapter', () => {
  it("one adapter with weight 1 ('linear') is that adapter: same update, same logits (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.double({ min: 0.5, max: 16, noNaN: true }), fc.boolean(), fc.integer({ min: 0, max: 10_000 }), (r, alpha, useRslora, seed) => {
        const model = mlp(seed % 97);
        attachAdapter(model, 'a', { r, alpha, useRslora, initLoraWeights: false }, { seed });
        const x = randomInputs(5, 7, seed);
        const out = logitsOf(model, x);
        const report = addWeightedAdapter(model, { adapters: ['a'], weights: [1], name: 'w' });
        expect(report.modules.map((m) => m.rank)).toEqual([r, r]);
        for (const m of ['fc1', 'fc2']) {
          const d = delta(model, 'a', m);
          expect(maxAbsDiff(delta(model, 'w', m), d)).toBeLessThan(1e-5 * Math.max(1, frobenius(d)));
        }
        setActiveAdapter(model, 'w');
        expect(maxAbsDiff(logitsOf(model, x), out)).toBeLessThan(1e-4);
        x.dispose();
        model.dispose();
      }),
      { numRuns: 20 },
    );
  });

  it("'linear' is the exact weighted sum over the union of modules (rank Σ r_k)", () => {
    const model = mlp();
    attachAdapter(model, 'a', { r: 2, alpha: 3, targetModules: ['fc1'], initLoraWeights: false }, { seed: 1 });
    attachAdapter(model, 'b', { r: 3, alpha: 1, initLoraWeights: false }, { seed: 2 });
    addWeightedAdapter(model, { adapters: ['a', 'b'], weights: [0.5, -2], name: 'mix' });
    const info = getAdapterInfo(model, 'mix');
    expect(info.modules).toEqual(['fc1', 'fc2']);
    expect(info.config.rankPattern).toEqual({ fc1: 5 });
    expect(info.config.alphaPattern).toEqual({ fc1: 5 });
    for (const m of ['fc1', 'fc2']) {
      const expected = delta(model, 'a', m).map((v, i) => 0.5 * v - 2 * delta(model, 'b', m)[i]!);
      expect(maxAbsDiff(delta(model, 'mix', m), expected)).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it("'svd' re-truncates: exact at full rank, and at rank 1 no worse than keeping either source (Eckart–Young)", () => {
    const model = mlp(5);
    attachAdapter(model, 'a', { r: 2, alpha: 2, initLoraWeights: false }, { seed: 3 });
    attachAdapter(model, 'b', { r: 2, alpha: 4, initLoraWeights: false }, { seed: 4 });
    const target = (m: string) => delta(model, 'a', m).map((v, i) => v + 0.7 * delta(model, 'b', m)[i]!);
    addWeightedAdapter(model, { adapters: ['a', 'b'], weights: [1, 0.7], name: 'full', combination: 'svd', rank: 4 });
    for (const m of ['fc1', 'fc2']) expect(maxAbsDiff(delta(model, 'full', m), target(m))).toBeLessThan(1e-5);
    const report = addWeightedAdapter(model, { adapters: ['a', 'b'], weights: [1, 0.7], name: 'r1', combination: 'svd', rank: 1 });
    for (const { module: m, rank, relativeError } of report.modules) {
      expect(rank).toBe(1);
      const t = target(m);
      const err = frobenius(delta(model, 'r1', m).map((v, i) => v - t[i]!));
      expect(err / frobenius(t)).toBeCloseTo(relativeError, 4);
      // No rank-1 matrix is closer: try the best approximations t·v·vᵀ along 50 random unit directions v.
      const n = model.linears.get(m)!.inFeatures;
      const o = model.linears.get(m)!.outFeatures;
      for (let trial = 0; trial < 50; trial++) {
        const v = Array.from({ length: o }, (_, j) => Math.sin(trial * 12.9898 + j * 78.233) * 43758.5453 % 1);
        const norm = Math.hypot(...v);
        const unit = v.map((x) => x / norm);
        const tv = matmul64(t, unit, n, o, 1);
        const approx = matmul64(tv, unit, n, 1, o);
        expect(err).toBeLessThanOrEqual(frobenius(t.map((x, i) => x - approx[i]!)) + 1e-6);
      }
    }
    model.dispose();
  });

  it('refuses mismatched weights, unknown adapters and modules_to_save sources', () => {
    const model = mlp();
    attachAdapter(model, 'a', { targetModules: ['fc1'], modulesToSave: ['fc2'] }, { seed: 1 });
    expect(() => addWeightedAdapter(model, { adapters: ['a'], weights: [1, 2], name: 'x' })).toThrow(/one weight per adapter/);
    expect(() => addWeightedAdapter(model, { adapters: ['zz'], weights: [1], name: 'x' })).toThrow(expect.objectContaining({ code: 'ADAPTER_NOT_FOUND' }));
    expect(() => addWeightedAdapter(model, { adapters: ['a'], weights: [1], name: 'x' })).toThrow(expect.objectContaining({ code: 'LORA_CONFIG_INVALID' }));
    model.dispose();
  });
});
