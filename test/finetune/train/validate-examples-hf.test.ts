/**
 * `train()` checks examples against Hugging Face models too (loadPretrained): a label ≥ the head's num_labels and a
 * token id ≥ vocab_size are refused with TRAINING_EXAMPLE_INVALID naming source and index, before any weight moves.
 * The limits are read here from the fixtures' config.json, independently of the code under test.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../../src/core/index.js';
import { attachAdapter, exampleLimits, initBackend, loadPretrained, train, trainableVariables, type Model, type TrainingExample } from '../../../src/finetune/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');
const configOf = (name: string) => JSON.parse(readFileSync(join(ROOT, name, 'config.json'), 'utf8')) as { vocab_size: number; id2label?: Record<string, string> };

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

async function refused(model: Model, options: Parameters<typeof train>[1]): Promise<ProvenantError> {
  // The LoRA factors (and saved head) are what a step would move; the base weights are listed too.
  const watched = [...trainableVariables(model), ...model.weights.values()];
  const before = watched.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const error = await train(model, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isProvenantError(error, 'TRAINING_EXAMPLE_INVALID'), String(error)).toBe(true);
  expect(trainableVariables(model).length).toBeGreaterThan(0);
  watched.forEach((v, k) => expect(v.dataSync()).toEqual(before[k]));
  return error as ProvenantError;
}

describe('train() refuses examples a Hugging Face model cannot take', () => {
  it('sequence classification (llama-seqcls): label = num_labels and token id = vocab_size', async () => {
    const { vocab_size: vocab, id2label } = configOf('llama-seqcls');
    const numLabels = Object.keys(id2label!).length; // 3
    const model = await loadPretrained(join(ROOT, 'llama-seqcls'));
    expect(exampleLimits(model)).toEqual({ numClasses: numLabels, vocabSize: vocab, inputSize: undefined });
    attachAdapter(model, 'default', { r: 2, alpha: 4, modulesToSave: ['score'] }, { seed: 1 });
    const good = (): TrainingExample[] => Array.from({ length: 6 }, (_, i) => ({ input: [1, 5 + i, 9, 12], label: i % numLabels }));

    const badLabel = good();
    badLabel[4] = { input: [1, 2, 3], label: numLabels };
    const e1 = await refused(model, { task: 'classification', train: badLabel, seed: 1, batchSize: 3 });
    expect(e1.data).toEqual({ source: 'train', example: 4 });
    expect(e1.message).toContain(`label ${numLabels} is not a class index in [0, ${numLabels})`);

    const badId = good();
    badId[2] = { input: [1, vocab, 3], label: 0 };
    const e2 = await refused(model, { task: 'classification', train: [{ name: 'main', examples: good() }, { name: 'extra', examples: badId }], seed: 1, batchSize: 3 });
    expect(e2.data).toEqual({ source: 'extra', example: 2 });
    expect(e2.message).toContain(`token 1 is ${vocab}, not an id in [0, ${vocab})`);
    model.dispose();
  });

  it('causal LM (llama): token id = vocab_size and a fractional id; a label is not required', async () => {
    const { vocab_size: vocab } = configOf('llama-f16');
    const model = await loadPretrained(join(ROOT, 'llama-f16'));
    expect(exampleLimits(model)).toEqual({ numClasses: undefined, vocabSize: vocab, inputSize: undefined });
    attachAdapter(model, 'default', { r: 2, alpha: 4 }, { seed: 1 });
    for (const [id, shown] of [[vocab, String(vocab)], [vocab + 1000, String(vocab + 1000)], [2.5, '2.5']] as const) {
      const examples: TrainingExample[] = Array.from({ length: 5 }, (_, i) => ({ input: [1, 4 + i, 8, 9], promptLength: 1 }));
      examples[3] = { input: [1, 4, 8, id], promptLength: 1 };
      const error = await refused(model, { task: 'causal-lm', train: examples, validation: examples.slice(0, 2), seed: 1, batchSize: 2 });
      expect(error.data).toEqual({ source: 'train', example: 3 });
      expect(error.message).toContain(`token 3 is ${shown}, not an id in [0, ${vocab})`);
    }
    model.dispose();
  });
});
