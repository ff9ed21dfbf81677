/**
 * Against PyTorch: test/fixtures/finetune/lora-golden.json holds a two-layer MLP with LoRA on both layers in PEFT's
 * layouts (lora_A (r, in), lora_B (out, r), scaling alpha/r), its logits, summed cross-entropy and the gradients of the
 * LoRA factors, and PEFT's PiSSA and OLoRA initialisations of the same kernels — all computed by torch in float64
 * (make-lora-golden.py beside it). The adapter is loaded through the PEFT file path, so key names and transpositions
 * are checked end to end.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { attachAdapter, createMlp, encodeSafetensors, loadAdapter, tf } from '../../../src/finetune/index.js';
import type { Model } from '../../../src/finetune/models/model.js';
import { logitsOf, matmul64, maxAbsDiff, values } from './helpers.js';

interface Layer { weight: number[]; bias: number[]; lora_A: number[]; lora_B: number[] }
interface Init { lora_A: number[]; lora_B: number[]; residual: number[] }
const golden = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/finetune/lora-golden.json', import.meta.url)), 'utf8')) as {
  sizes: { n: number; in: number; hidden: number; classes: number; r: number; alpha: number };
  x: number[];
  labels: number[];
  fc1: Layer;
  fc2: Layer;
  logits: number[];
  loss: number;
  grad: Record<string, number[]>;
  pissa: Record<'fc1' | 'fc2', Init>;
  olora: Record<'fc1' | 'fc2', Init>;
};
const { n, in: d, hidden: h, classes: c, r, alpha } = golden.sizes;
const dims = { fc1: [d, h], fc2: [h, c] } as const;

/** Row-major transpose of rows×cols. */
const T = (data: ArrayLike<number>, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, (_, k) => data[(k % rows) * cols + Math.floor(k / rows)]!);

function goldenBase(): Model {
  const model = createMlp({ inputSize: d, hiddenSizes: [h], numClasses: c, seed: 0 });
  for (const m of ['fc1', 'fc2'] as const) {
    const [inF, outF] = dims[m];
    const linear = model.linears.get(m)!;
    tf.tidy(() => {
      linear.kernel.assign(tf.tensor2d(T(golden[m].weight, outF, inF), [inF, outF]));
      linear.bias!.assign(tf.tensor1d(golden[m].bias));
    });
  }
  return model;
}

describe('LoRA against PyTorch (golden fixture)', () => {
  it('a PEFT-layout adapter gives torch’s logits, loss and factor gradients', () => {
    const model = goldenBase();
    const safetensors = encodeSafetensors({
      'base_model.model.fc1.lora_A.weight': { dtype: 'F32', shape: [r, d], data: Float32Array.from(golden.fc1.lora_A) },
      'base_model.model.fc1.lora_B.weight': { dtype: 'F32', shape: [h, r], data: Float32Array.from(golden.fc1.lora_B) },
      'base_model.model.fc2.lora_A.weight': { dtype: 'F32', shape: [r, h], data: Float32Array.from(golden.fc2.lora_A) },
      'base_model.model.fc2.lora_B.weight': { dtype: 'F32', shape: [c, r], data: Float32Array.from(golden.fc2.lora_B) },
    });
    const config = { peft_type: 'LORA', r, lora_alpha: alpha, lora_dropout: 0, target_modules: ['fc1', 'fc2'], bias: 'none' };
    loadAdapter(model, 'default', { config: config as never, safetensors });
    const x = tf.tensor2d(golden.x, [n, d]);
    expect(maxAbsDiff(logitsOf(model, x), golden.logits)).toBeLessThan(1e-5);

    const y = tf.oneHot(tf.tensor1d(golden.labels, 'int32'), c);
    const variables = (['fc1', 'fc2'] as const).flatMap((m) => {
      const w = model.linears.get(m)!.adapters.get('default')!;
      return [w.A, w.B];
    });
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(x), undefined, undefined, tf.Reduction.SUM) as tf.Scalar, variables);
    expect(value.dataSync()[0]).toBeCloseTo(golden.loss, 4);
    for (const m of ['fc1', 'fc2'] as const) {
      const [inF, outF] = dims[m];
      const w = model.linears.get(m)!.adapters.get('default')!;
      // tfjs keeps A [in, r] and B [r, out]: the transposes of torch's gradients.
      expect(maxAbsDiff(values(grads[w.A.name]!), T(golden.grad[`${m}.lora_A`]!, r, inF))).toBeLessThan(1e-4);
      expect(maxAbsDiff(values(grads[w.B.name]!), T(golden.grad[`${m}.lora_B`]!, outF, r))).toBeLessThan(1e-4);
    }
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
  });

  for (const init of ['pissa', 'olora'] as const) {
    it(`${init} initialisation matches PEFT's (tall and wide kernels)`, () => {
      const model = goldenBase();
      attachAdapter(model, 'p', { r, alpha, targetModules: ['fc1', 'fc2'], initLoraWeights: init }, { seed: 0 });
      const s = alpha / r;
      for (const m of ['fc1', 'fc2'] as const) {
        const [inF, outF] = dims[m];
        const linear = model.linears.get(m)!;
        const ref = golden[init][m];
        expect(maxAbsDiff(values(linear.kernel), T(ref.residual, outF, inF))).toBeLessThan(1e-5);
        const w = linear.adapters.get('p')!;
        // The update s·A·B (tfjs layout) against torch's s·(lora_B·lora_A)ᵀ — free of SVD sign choices.
        const ours = matmul64(values(w.A), values(w.B), inF, r, outF);
        const theirs = T(matmul64(ref.lora_B, ref.lora_A, outF, r, inF), outF, inF);
        expect(maxAbsDiff(ours.map((v) => s * v), Array.from(theirs, (v) => s * v))).toBeLessThan(1e-5);
        if (init === 'olora') {
          // Householder QR with LAPACK's sign convention: the factors themselves agree.
          expect(maxAbsDiff(values(w.A), T(ref.lora_A, r, inF))).toBeLessThan(1e-5);
          expect(maxAbsDiff(values(w.B), T(ref.lora_B, outF, r))).toBeLessThan(1e-5);
        }
      }
      model.dispose();
    });
  }
});
