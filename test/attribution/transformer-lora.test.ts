import { describe, expect, it } from 'vitest';
import {
  attributeQuery,
  createAttributionIndex,
  denseScores,
  deriveSeed,
  featureModelHash,
  featurize,
  projectionMatrix,
  selectParameters,
  type FeatureStore,
} from '../../src/attribution/index.js';
import { createTransformer, setBaseTrainable, tf } from '../../src/finetune/index.js';
import { attachAdapter, kroneckerProject, maxAbs, referenceObjective } from './helpers.js';

describe('LoRA featurizer on the tiny transformer (sum over positions)', () => {
  it('per-example A/B and saved-classifier gradients equal one autograd backward pass per sequence', () => {
    const T = 5, n = 4, C = 3;
    const model = createTransformer({ vocabSize: 20, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: T, numClasses: C, seed: 3 });
    attachAdapter(model.linears.get('blocks.0.attn.q_proj')!, 2, 101, 2);
    attachAdapter(model.linears.get('blocks.0.attn.v_proj')!, 2, 103, 2);
    setBaseTrainable(model, false);
    const classifier = model.linears.get('classifier')!;
    classifier.kernel.trainable = true;
    classifier.bias!.trainable = true;
    // Right-padded sequences (pad id 0) of different lengths.
    const ids = Int32Array.from([3, 7, 1, 0, 0, 5, 5, 9, 12, 2, 4, 0, 0, 0, 0, 8, 6, 19, 11, 0]);
    const labels = Int32Array.from([0, 2, 1, 2]);
    const entries = selectParameters(model);
    expect(entries.map((e) => e.name)).toEqual([
      'blocks.0.attn.q_proj.lora_A.default',
      'blocks.0.attn.q_proj.lora_B.default',
      'blocks.0.attn.v_proj.lora_A.default',
      'blocks.0.attn.v_proj.lora_B.default',
      'classifier.weight',
      'classifier.bias',
    ]);
    const f = featurize(model, { inputs: ids, exampleShape: [T], labels }, { batchSize: 3 });
    for (let i = 0; i < n; i++) {
      const xi = tf.tensor2d(ids.slice(i * T, (i + 1) * T), [1, T], 'int32');
      const vars = entries.map((e) => e.variable);
      const { value, grads } = tf.variableGrads(() => referenceObjective(model.forward(xi), labels.slice(i, i + 1), C, 'loss'), vars);
      const ref = vars.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
      expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(1e-3);
      expect(maxAbs(f.features.data.subarray(i * f.features.dim, (i + 1) * f.features.dim), ref)).toBeLessThan(1e-5);
      tf.dispose([xi, value, Object.values(grads)]);
    }
    // Factorized projection with T = 5 rows per sequence: projecting each side before the product over positions equals
    // the Kronecker projection of the full (position-summed) gradient.
    const spec = { kind: 'gaussian' as const, inDim: 3, outDim: 2, seed: 17 };
    const fp = featurize(model, { inputs: ids, exampleShape: [T], labels }, { batchSize: 2, factorizedProjection: spec });
    const expected = kroneckerProject(f.features, n, entries, model, spec, projectionMatrix, deriveSeed);
    expect(maxAbs(fp.features.data, expected)).toBeLessThan(1e-5);

    // attributeQuery on token ids: an in-memory store of the factorized features, one int32 query.
    const store: FeatureStore = {
      manifest: {
        format: 'provenant.feature-store.v1',
        modelHash: featureModelHash(model),
        snapshotRoot: null,
        info: fp.info,
        rows: n,
        dim: fp.features.dim,
        blocks: fp.features.blocks,
        dtype: 'float32',
        byteOrder: 'little-endian',
        shards: [],
        rowIds: ['a', 'b', 'c', 'd'],
        contributors: ['x', 'y', 'x', 'y'],
        labels: Array.from(labels),
      },
      features: fp.features,
      loss: fp.loss,
      labelProbability: fp.labelProbability,
    };
    const index = createAttributionIndex(model, store);
    const query = Int32Array.from([4, 4, 13, 0, 0]);
    const r = attributeQuery(model, query, { index, topK: 4 });
    const qf = featurize(model, { inputs: query, exampleShape: [T], labels: [r.prediction.label] }, { factorizedProjection: spec });
    const ref = denseScores(fp.features, qf.features);
    const sums = { x: ref.values[0]! + ref.values[2]!, y: ref.values[1]! + ref.values[3]! };
    expect(Math.abs(r.contributorScores.x! - sums.x)).toBeLessThan(1e-5 * Math.max(1, Math.abs(sums.x)));
    expect(Math.abs(r.contributorScores.y! - sums.y)).toBeLessThan(1e-5 * Math.max(1, Math.abs(sums.y)));
    expect(r.proponents.length + r.opponents.length).toBe(4 - Array.from(ref.values).filter((v) => v === 0).length);
    index.dispose();
    model.dispose();
  });
});
