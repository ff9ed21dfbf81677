/**
 * Forgetting guards on Hugging Face causal LMs loaded by `loadPretrained` (tiny-chat: a Llama with a tied head and its own
 * BPE tokenizer, made by transformers). Each guard's loss term is checked against an independent computation from
 * `computeLogits`, one unpadded sequence at a time, with a hand-written cross-entropy / KL in float64.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import {
  attachAdapter,
  computeLogits,
  createKlToBaseGuard,
  createReplayGuard,
  disableAdapters,
  estimateDiagonalFisher,
  initBackend,
  klToBaseValue,
  loadPretrained,
  replaySchedule,
  setActiveAdapters,
  tf,
  train,
  trainableVariables,
  type PretrainedModel,
  type TrainingExample,
} from '../../../src/finetune/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');
const GENERAL = [
  'The cat sat on the mat and looked at the door.',
  'Rain fell all night over the quiet town.',
  'She opened the window to let the morning in.',
  'Numbers like 42 and 7 are easy to remember.',
  'A short line.',
];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** log-softmax of one logits row, in float64. */
function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i]! - max);
  const lse = max + Math.log(z);
  return Float64Array.from(row, (x) => x - lse);
}

/** Per next-token position of one unpadded sequence: log-probabilities [n − 1][V] from computeLogits. */
function positionLogProbs(model: PretrainedModel, ids: readonly number[]): Float64Array[] {
  const { shape, data } = computeLogits(model, { inputIds: [ids.slice(0, -1)] });
  const V = shape[2]!;
  return Array.from({ length: ids.length - 1 }, (_, t) => logSoftmax(data.subarray(t * V, (t + 1) * V)));
}

/** Σ −log p(next token) and the number of predicted tokens, over the given sequences. */
function summedNll(model: PretrainedModel, sequences: readonly (readonly number[])[]): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const ids of sequences) {
    positionLogProbs(model, ids).forEach((logp, t) => {
      sum -= logp[ids[t + 1]!]!;
      count += 1;
    });
  }
  return { sum, count };
}

async function tunedChat(): Promise<PretrainedModel> {
  const model = await loadPretrained(join(ROOT, 'tiny-chat'));
  attachAdapter(model, 'default', { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, { seed: 5 });
  // Nonzero B so the tuned model differs from the base.
  for (const v of trainableVariables(model)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 13)));
  return model;
}

describe('forgetting guards on Hugging Face causal LMs', () => {
  it('replay: the guard adds weight × the mean next-token loss of its scheduled general-text batch (tokenized by the model’s tokenizer, padded batch)', async () => {
    const model = await tunedChat();
    const sequences: TrainingExample[] = GENERAL.map((t) => ({ input: model.tokenizer!.encode(t) }));
    expect(new Set(sequences.map((s) => s.input.length)).size).toBeGreaterThan(1); // the replay batches need padding
    const options = { sequences, weight: 0.5, batchSize: 3, seed: 9 };
    const guard = createReplayGuard(options);
    const schedule = replaySchedule(options, 2);
    for (const step of [0, 1]) {
      const value = tf.tidy(() => guard({ model, task: 'causal-lm', step, batch: undefined as never })!.dataSync()[0]!);
      const { sum, count } = summedNll(model, schedule[step]!.map((i) => Array.from(sequences[i]!.input)));
      expect(Math.abs(value - (0.5 * sum) / count)).toBeLessThan(1e-4);
    }
    guard.dispose();

    // Through train(): the first step's logged loss is the task loss plus the replay term (fresh guard: same schedule).
    const domain: TrainingExample[] = [{ input: model.tokenizer!.encode('Hello there, friend.') }, { input: model.tokenizer!.encode('Good night.') }];
    const expected = (() => {
      const task = summedNll(model, domain.map((e) => Array.from(e.input)));
      const replay = summedNll(model, schedule[0]!.map((i) => Array.from(sequences[i]!.input)));
      return task.sum / task.count + (0.5 * replay.sum) / replay.count;
    })();
    const fresh = createReplayGuard(options);
    const result = await train(model, { task: 'causal-lm', train: domain, seed: 1, batchSize: 2, maxSteps: 1, learningRate: 1e-3, extraLoss: fresh });
    expect(Math.abs(result.log[0]!.loss - expected)).toBeLessThan(1e-4);
    fresh.dispose();
    model.dispose();
  });

  it('replay refuses a Hugging Face model without a language-modelling head, with a typed error naming its class', async () => {
    const model = await loadPretrained(join(ROOT, 'llama-seqcls'));
    const guard = createReplayGuard({ sequences: [{ input: [1, 2, 3, 4] }], batchSize: 1 });
    let caught: unknown;
    try {
      tf.tidy(() => {
        guard({ model, task: 'classification', step: 0, batch: undefined as never });
      });
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught) && caught.code === 'TRAINING_CONFIG_INVALID').toBe(true);
    expect(String((caught as Error).message)).toMatch(/ForSequenceClassification has none/);
    guard.dispose();
    model.dispose();
  });

  it('kl-to-base: mean KL(base ‖ tuned) over the real next-token positions of a padded probe batch equals the per-sequence computation', async () => {
    const model = await tunedChat();
    const probe: TrainingExample[] = GENERAL.slice(0, 3).map((t) => ({ input: model.tokenizer!.encode(t) }));
    const guard = createKlToBaseGuard(model, { probe, task: 'causal-lm', strength: 2 });
    const value = klToBaseValue(guard, model);
    disableAdapters(model);
    const base = probe.map((e) => positionLogProbs(model, Array.from(e.input)));
    setActiveAdapters(model, ['default']);
    const tuned = probe.map((e) => positionLogProbs(model, Array.from(e.input)));
    let sum = 0;
    let rows = 0;
    base.forEach((positions, s) =>
      positions.forEach((logp, t) => {
        const logq = tuned[s]![t]!;
        for (let k = 0; k < logp.length; k++) sum += Math.exp(logp[k]!) * (logp[k]! - logq[k]!);
        rows += 1;
      }),
    );
    expect(sum / rows).toBeGreaterThan(1e-4); // the adapter moved the distributions
    expect(Math.abs(value - sum / rows)).toBeLessThan(1e-5 + 1e-3 * (sum / rows));
    guard.dispose();
    model.dispose();
  });

  it('ewc: the diagonal Fisher of a Hugging Face causal LM is the mean squared per-example gradient, and estimating it leaves no tensor behind', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'));
    const examples: TrainingExample[] = GENERAL.slice(0, 2).map((t) => ({ input: model.tokenizer!.encode(t) }));
    const module = 'model.layers.1.mlp.down_proj';
    // The first pass fills the model's cache of frozen-kernel transposes (here the tied head's, freed by model.dispose).
    estimateDiagonalFisher(model, examples, 'causal-lm', { method: 'empirical', modules: [module] });
    const before = tf.memory().numTensors;
    const fisher = estimateDiagonalFisher(model, examples, 'causal-lm', { method: 'empirical', modules: [module] });
    expect(tf.memory().numTensors).toBe(before);
    // Independent: central finite differences of Σ −log p over each example for two kernel entries.
    const kernel = model.linears.get(module)!.kernel;
    const values = Float32Array.from(kernel.dataSync() as Float32Array);
    const got = fisher.modules.get(module)!.values;
    const eps = 1e-2;
    for (const i of [3, 777]) {
      let expected = 0;
      for (const e of examples) {
        const at = (delta: number) => {
          const copy = Float32Array.from(values);
          copy[i]! += delta;
          tf.tidy(() => kernel.assign(tf.tensor(copy, kernel.shape)));
          return summedNll(model, [Array.from(e.input)]).sum;
        };
        const g = (at(eps) - at(-eps)) / (2 * eps);
        expected += (g * g) / examples.length;
      }
      tf.tidy(() => kernel.assign(tf.tensor(values, kernel.shape)));
      expect(Math.abs(got[i]! - expected)).toBeLessThan(2e-3 * Math.max(1, expected));
    }
    model.dispose();
  });
});
