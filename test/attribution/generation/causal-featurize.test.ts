import { describe, expect, it } from 'vitest';
import { deriveSeed, projectionMatrix } from '../../../src/attribution/index.js';
import { causalWindows, createCausalFeaturizer, featurizeCausal } from '../../../src/attribution/generation/index.js';
import { createTransformer, setBaseTrainable, tf, type TransformerModel } from '../../../src/finetune/index.js';
import { attachAdapter, maxAbs, randomizeWeights } from '../helpers.js';

const C = 6;
function tinyLm(): TransformerModel {
  const model = createTransformer({ vocabSize: 13, dModel: 8, nHeads: 2, nLayers: 2, maxSeqLen: C, seed: 5 });
  randomizeWeights(model, 9, 0.4);
  attachAdapter(model.linears.get('blocks.0.attn.q_proj')!, 2, 201, 2);
  attachAdapter(model.linears.get('blocks.1.attn.v_proj')!, 3, 203, 0.5);
  attachAdapter(model.linears.get('blocks.1.mlp.fc_in')!, 2, 207, 1);
  setBaseTrainable(model, false);
  return model;
}

/** −Σ log p(ids[k] | window) over the given (window start, first scored target, last scored target), plain tfjs ops. */
function referenceLoss(model: TransformerModel, ids: number[], pieces: [number, number, number][]): tf.Scalar {
  let total: tf.Tensor = tf.scalar(0);
  for (const [start, first, last] of pieces) {
    const end = Math.min(start + C, ids.length - 1);
    const x = tf.tensor2d(ids.slice(start, end), [1, end - start], 'int32');
    const logp = tf.logSoftmax(model.forwardLm(x));
    for (let k = first; k <= last; k++) total = total.sub(logp.slice([k - 1 - start, ids[k]!], [1, 1]).sum());
  }
  return total as tf.Scalar;
}

// Examples: short ones with prompts, and one of 10 tokens over a context of 6 (windows [0, 6) then [3, 9), stride 3).
const examples = [
  { ids: [3, 7, 1, 9, 4], promptLength: 2, pieces: [[0, 2, 4]] as [number, number, number][] },
  { ids: [5, 5, 9, 12, 2, 4, 8], promptLength: 0, pieces: [[0, 1, 6]] as [number, number, number][] },
  { ids: [8, 6, 11, 2, 10, 3, 1, 7, 12, 4], promptLength: 3, pieces: [[0, 3, 6], [3, 7, 9]] as [number, number, number][] },
  { ids: [2, 9, 4], promptLength: 1, pieces: [[0, 1, 2]] as [number, number, number][] },
];

describe('causal-LM featurization (LoGra factorized projection)', () => {
  it('cuts long sequences into strided windows that score each completion token once', () => {
    const w = causalWindows([{ ids: examples[2]!.ids, promptLength: 3 }], C, 3);
    expect(w.map((x) => Array.from(x.input))).toEqual([[8, 6, 11, 2, 10, 3], [2, 10, 3, 1, 7, 12]]);
    expect(w.map((x) => Array.from(x.targets))).toEqual([[-1, -1, 2, 10, 3, 1], [-1, -1, -1, 7, 12, 4]]);
  });

  it('raw per-example gradients equal one autograd pass per example; projected ones equal P_inᵀ·G·P_out', () => {
    const model = tinyLm();
    const raw = featurizeCausal(model, examples, { projection: null, batchSize: 2, stride: 3 });
    const spec = { kind: 'gaussian' as const, inDim: 3, outDim: 2, seed: 17 };
    const projected = featurizeCausal(model, examples, { projection: spec, batchSize: 3, stride: 3 });
    const entries = raw.info.parameters;
    expect(entries).toEqual([
      'blocks.0.attn.q_proj.lora_A.default',
      'blocks.0.attn.q_proj.lora_B.default',
      'blocks.1.attn.v_proj.lora_A.default',
      'blocks.1.attn.v_proj.lora_B.default',
      'blocks.1.mlp.fc_in.lora_A.default',
      'blocks.1.mlp.fc_in.lora_B.default',
    ]);
    const vars = [...model.linears.values()].flatMap((l) => (l.adapters.get('default') ? [l.adapters.get('default')!.A, l.adapters.get('default')!.B] : []));
    examples.forEach((ex, i) => {
      const { value, grads } = tf.variableGrads(() => referenceLoss(model, ex.ids, ex.pieces), vars);
      expect(Math.abs(raw.loss[i]! * raw.tokens[i]! - value.dataSync()[0]!)).toBeLessThan(1e-4);
      const full = vars.map((v) => ({ shape: v.shape as [number, number], data: Float64Array.from(grads[v.name]!.dataSync()) }));
      const ref = full.flatMap((g) => Array.from(g.data));
      expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(1e-3);
      expect(maxAbs(raw.features.data.subarray(i * raw.features.dim, (i + 1) * raw.features.dim), ref)).toBeLessThan(2e-5);
      // Explicit projection of the full gradient: P_inᵀ G P_out, a side kept whole when it is no wider than k.
      const expected: number[] = [];
      full.forEach((g, j) => {
        const [p, q] = g.shape;
        const name = entries[j]!;
        const pIn = p > spec.inDim ? projectionMatrix('gaussian', p, spec.inDim, deriveSeed(spec.seed, `${name}/in`)) : null;
        const pOut = q > spec.outDim ? projectionMatrix('gaussian', q, spec.outDim, deriveSeed(spec.seed, `${name}/out`)) : null;
        const ki = pIn ? spec.inDim : p, ko = pOut ? spec.outDim : q;
        for (let a = 0; a < ki; a++) {
          for (let b = 0; b < ko; b++) {
            let s = 0;
            for (let x = 0; x < p; x++) {
              const left = pIn ? pIn[x * ki + a]! : x === a ? 1 : 0;
              if (left === 0) continue;
              for (let y = 0; y < q; y++) s += left * g.data[x * q + y]! * (pOut ? pOut[y * ko + b]! : y === b ? 1 : 0);
            }
            expected.push(s);
          }
        }
      });
      expect(expected.length).toBe(projected.features.dim);
      expect(maxAbs(projected.features.data.subarray(i * projected.features.dim, (i + 1) * projected.features.dim), expected)).toBeLessThan(2e-5);
      tf.dispose([value, Object.values(grads)]);
    });
    model.dispose();
  });

  it('keeps the tensor count flat over repeated runs and rejects a bad prompt length by example', () => {
    const model = tinyLm();
    const f = createCausalFeaturizer(model, { projection: { kind: 'rademacher', inDim: 4, outDim: 4, seed: 1 } });
    f.run(examples);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) f.run(examples);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => f.run([{ ids: [1, 2], promptLength: 5 }])).toThrow(/Example 0: promptLength 5/);
    f.dispose();
    model.dispose();
  });
});
