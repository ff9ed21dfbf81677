import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachAdapter,
  computeLogits,
  disposeBatch,
  initBackend,
  loadAdapter,
  loadPretrained,
  makeBatch,
  readAdapterLabels,
  saveAdapter,
  prepareCausalLmExamples,
  prepareClassificationExamples,
  taskLoss,
  tf,
  train,
  trainableVariables,
  type TrainingExample,
} from '../../../src/finetune/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Mean −log p(target) over the completion tokens, from computeLogits row by row (no padding, no batch code). */
function referenceLoss(model: Awaited<ReturnType<typeof loadPretrained>>, examples: TrainingExample[]): number {
  let sum = 0;
  let count = 0;
  for (const e of examples) {
    const ids = Array.from(e.input);
    const { shape, data } = computeLogits(model, { inputIds: [ids.slice(0, -1)] });
    const V = shape[2]!;
    for (let t = 0; t + 1 < ids.length; t++) {
      if (t + 1 < (e.promptLength ?? 0)) continue;
      const row = data.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += -(row[ids[t + 1]!]! - max - Math.log(z));
      count++;
    }
  }
  return sum / count;
}

describe('training Hugging Face models', () => {
  it('causal LM: the batch loss covers completion tokens only (padding and prompts left out), and its LoRA gradient matches finite differences', async () => {
    const model = await loadPretrained(join(ROOT, 'mistral'));
    attachAdapter(model, 'default', { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 3 });
    // Give B nonzero values so gradients reach A too.
    for (const v of trainableVariables(model)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 11)));
    const examples: TrainingExample[] = [
      { input: [1, 5, 9, 23, 42, 77, 100, 3], promptLength: 3 },
      { input: [2, 4, 6, 8, 10], promptLength: 0 },
      { input: [7, 8, 9, 10, 11, 12], promptLength: 5 },
    ];
    const batch = makeBatch(model, 'causal-lm', examples, [0, 0, 0]);
    const loss = tf.tidy(() => taskLoss(model, 'causal-lm', batch).dataSync()[0]!);
    expect(Math.abs(loss - referenceLoss(model, examples))).toBeLessThan(1e-4);

    const variables = trainableVariables(model);
    const { grads } = tf.variableGrads(() => taskLoss(model, 'causal-lm', batch), variables);
    const eps = 1e-2;
    for (const v of [variables[0]!, variables[3]!, variables[variables.length - 1]!]) {
      const g = grads[v.name]!.dataSync();
      const values = Float32Array.from(v.dataSync());
      for (const i of [0, Math.floor(values.length / 2)]) {
        const at = (delta: number) => {
          const copy = Float32Array.from(values);
          copy[i]! += delta;
          tf.tidy(() => v.assign(tf.tensor(copy, v.shape)));
          return tf.tidy(() => taskLoss(model, 'causal-lm', batch).dataSync()[0]!);
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
        expect(Math.abs(fd - g[i]!), `${v.name}[${i}]: fd ${fd}, grad ${g[i]}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
      }
    }
    Object.values(grads).forEach((g) => g.dispose());
    disposeBatch(batch);
    model.dispose();
  });

  it('causal LM fine-tuning from text rows through the tokenizer lowers the completion loss; the base stays frozen', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'));
    const rows = ['Call me Ishmael.', 'The whale is white.', 'The sea is deep.', 'Ahab hunts the whale.'].map((input) => ({ input }));
    const examples = prepareCausalLmExamples(model, rows, { promptOf: () => 'Say: ' });
    expect(examples.every((e) => e.promptLength! > 0 && e.input[e.input.length - 1] === model.tokenizer!.eosTokenId)).toBe(true);
    const baseWeight = Float32Array.from(model.weights.get('model.layers.0.self_attn.q_proj.weight')!.dataSync());
    attachAdapter(model, 'default', { r: 4, alpha: 8 }, { seed: 1 });
    const before = referenceLoss(model, examples);
    const result = await train(model, { task: 'causal-lm', train: examples, seed: 2, epochs: 8, batchSize: 4, learningRate: 1e-2 });
    const after = referenceLoss(model, examples);
    expect(result.steps).toBe(8);
    expect(after).toBeLessThan(before - 0.1);
    expect(Float32Array.from(model.weights.get('model.layers.0.self_attn.q_proj.weight')!.dataSync())).toEqual(baseWeight);
    model.dispose();
  });

  it('sequence classification: a new score head on a causal checkpoint, examples and label map from rows, trains to fit', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'), { numLabels: 2, seed: 4 });
    expect(model.config.className).toBe('LlamaForSequenceClassification');
    expect(model.initializedTensors).toEqual(['score.weight']);
    expect(model.ignoredTensors).toEqual([]); // tiny-chat ties its head to the embedding: no lm_head.weight to leave out
    const rows = [
      { input: 'the whale is white', label: 'whale' },
      { input: 'a great white whale', label: 'whale' },
      { input: 'the sea is calm today', label: 'sea' },
      { input: 'deep blue sea water', label: 'sea' },
    ];
    const { examples, labelMap } = prepareClassificationExamples(model, rows);
    expect(labelMap.labels).toEqual(['sea', 'whale']);
    attachAdapter(model, 'default', { r: 4, alpha: 8, modulesToSave: ['score'] }, { seed: 1 });
    await train(model, { task: 'classification', train: examples, seed: 2, epochs: 15, batchSize: 4, learningRate: 2e-2 });
    const batch = makeBatch(model, 'classification', examples, [0, 0, 0, 0]);
    const predicted = tf.tidy(() => Array.from(model.logits({ inputIds: batch.inputs, attentionMask: batch.attentionMask }).argMax(1).dataSync()));
    expect(predicted).toEqual(examples.map((e) => e.label));
    disposeBatch(batch);
    // The label map travels with the adapter, and a fresh base with the saved adapter predicts the same classes.
    const files = saveAdapter(model, 'default', { labels: labelMap.labels });
    expect(readAdapterLabels(files)).toEqual(['sea', 'whale']);
    expect(files.config.task_type).toBe('SEQ_CLS');
    const fresh = await loadPretrained(join(ROOT, 'tiny-chat'), { numLabels: 2, seed: 99 });
    loadAdapter(fresh, 'default', files);
    const again = makeBatch(fresh, 'classification', examples, [0, 0, 0, 0]);
    expect(tf.tidy(() => Array.from(fresh.logits({ inputIds: again.inputs, attentionMask: again.attentionMask }).argMax(1).dataSync()))).toEqual(predicted);
    disposeBatch(again);
    fresh.dispose();
    model.dispose();
  });

  it('prepareClassificationExamples refuses a label count the head cannot hold', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'), { numLabels: 3 });
    expect(() => prepareClassificationExamples(model, [{ input: 'a', label: 'x' }, { input: 'b', label: 'y' }])).toThrow(/2 labels but the model's head has 3/);
    model.dispose();
    expect(JSON.parse(readFileSync(join(ROOT, 'tiny-chat', 'config.json'), 'utf8')).architectures).toEqual(['LlamaForCausalLM']);
  });
});
