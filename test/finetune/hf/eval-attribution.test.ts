import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { perExampleGradients } from '../../../src/attribution/index.js';
import { compareModels, toEvalModel } from '../../../src/eval/index.js';
import { attachAdapter, computeLogits, initBackend, loadPretrained, tf, trainableVariables } from '../../../src/finetune/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('evaluation and attribution on Hugging Face models', () => {
  it('toEvalModel scores texts with the model tokenizer (nll equals a computeLogits reference) and compareModels runs base vs tuned', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'));
    const texts = ['Call me Ishmael.', 'The whale swam away from the ship.'];
    const tok = model.tokenizer!;
    const reference = texts.map((text) => {
      const ids = tok.encode(text);
      const { shape, data } = computeLogits(model, { inputIds: [ids.slice(0, -1)] });
      const V = shape[2]!;
      let nll = 0;
      for (let t = 0; t + 1 < ids.length; t++) {
        const row = Array.from(data.subarray(t * V, (t + 1) * V));
        const max = Math.max(...row);
        nll -= row[ids[t + 1]!]! - max - Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      }
      return { nll, tokens: ids.length - 1 };
    });
    attachAdapter(model, 'default', { r: 2, alpha: 4 }, { seed: 1 });
    for (const v of trainableVariables(model)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 2)));
    const base = toEvalModel(model, { name: 'base', adapters: [] });
    const tuned = toEvalModel(model, { name: 'tuned', adapters: ['default'] });
    const scores = await base.scoreText!(texts);
    scores.forEach((s, i) => {
      expect(s.tokens).toBe(reference[i]!.tokens);
      expect(Math.abs(s.nll - reference[i]!.nll)).toBeLessThan(1e-3);
    });
    const table = await compareModels(base, tuned, [{ name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts } }]);
    expect(JSON.stringify(table)).toContain('english');
    model.dispose();
  });

  it("per-example LoRA gradients of a GPT-2 classifier equal each example's own backward pass", async () => {
    const model = await loadPretrained(join(ROOT, 'gpt2-seqcls'));
    attachAdapter(model, 'default', { r: 2, alpha: 4, targetModules: ['c_attn'] }, { seed: 5 });
    for (const v of trainableVariables(model)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 6)));
    const ids = [[1, 5, 9, 23, 42], [2, 4, 6, 0, 0], [7, 8, 9, 10, 11]];
    const labels = [0, 2, 1];
    const inputs = tf.tensor2d(ids, [3, 5], 'int32');
    const { data, dim } = perExampleGradients(model, inputs, labels, { parameters: 'adapters' });
    const variables = trainableVariables(model).filter((v) => /lora/.test(v.name));
    for (let i = 0; i < 3; i++) {
      const x = tf.tensor2d([ids[i]!], [1, 5], 'int32');
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot([labels[i]!], 3), model.forward(x) as tf.Tensor2D) as tf.Scalar, variables);
      const brute = variables.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
      Object.values(grads).forEach((g) => g.dispose());
      x.dispose();
      expect(brute.length).toBe(dim);
      let worst = 0;
      for (let j = 0; j < dim; j++) worst = Math.max(worst, Math.abs(brute[j]! - data[i * dim + j]!));
      expect(worst).toBeLessThan(1e-4);
    }
    inputs.dispose();
    model.dispose();
  });
});
