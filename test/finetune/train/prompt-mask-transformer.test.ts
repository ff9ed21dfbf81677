/**
 * `promptLength` on the zoo transformer (the shipped base model's kind): prompt tokens are left out of the causal-LM loss
 * exactly as for Hugging Face models. The expected loss is a cross-entropy computed here, example by example, from the
 * model's unpadded next-token logits over the completion positions only.
 */
import { describe, expect, it } from 'vitest';
import { createTransformer, disposeBatch, makeBatch, taskLoss, tf, type TrainingExample } from '../../../src/finetune/index.js';

const model = () => createTransformer({ vocabSize: 16, maxSeqLen: 8, dModel: 8, nHeads: 2, nLayers: 1, mlpHidden: 16, seed: 5 });

/** Mean −log p(token t | tokens < t) over t ≥ max(1, promptLength), each example run alone (no padding, no batch code). */
function referenceLoss(m: ReturnType<typeof model>, examples: TrainingExample[]): number {
  let sum = 0;
  let count = 0;
  for (const e of examples) {
    const ids = Array.from(e.input);
    const logits = tf.tidy(() => m.forwardLm(tf.tensor2d([ids.slice(0, -1)], [1, ids.length - 1], 'int32')).dataSync() as Float32Array);
    const V = logits.length / (ids.length - 1);
    for (let t = 1; t < ids.length; t++) {
      if (t < (e.promptLength ?? 0)) continue;
      const row = Array.from(logits.subarray((t - 1) * V, t * V));
      const max = Math.max(...row);
      const z = row.reduce((acc, x) => acc + Math.exp(x - max), 0);
      sum += -(row[ids[t]!]! - max - Math.log(z));
      count++;
    }
  }
  return sum / count;
}

describe('zoo transformer causal LM with promptLength', () => {
  it('makeBatch masks the prompt: [5,6,7,8,9] with promptLength 3 scores only the targets 8 and 9', () => {
    const m = model();
    const batch = makeBatch(m, 'causal-lm', [{ input: [5, 6, 7, 8, 9], promptLength: 3 }], [0]);
    expect(Array.from(batch.targets.dataSync())).toEqual([6, 7, 8, 9]);
    expect(batch.lossMask).toBeDefined();
    expect(Array.from(batch.lossMask!.dataSync())).toEqual([0, 0, 1, 1]);
    disposeBatch(batch);
    m.dispose();
  });

  it('the loss equals a hand-computed cross-entropy over the completion positions only (padding and prompts left out)', () => {
    const m = model();
    const examples: TrainingExample[] = [
      { input: [5, 6, 7, 8, 9], promptLength: 3 },
      { input: [1, 2, 3], promptLength: 0 },
      { input: [4, 11, 12, 13, 14, 15], promptLength: 5 },
    ];
    const batch = makeBatch(m, 'causal-lm', examples, [0, 0, 0]);
    const loss = tf.tidy(() => taskLoss(m, 'causal-lm', batch).dataSync()[0]!);
    const expected = referenceLoss(m, examples);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5);
    // The prompt-blind mean differs, so the check can tell the two apart.
    expect(Math.abs(expected - referenceLoss(m, examples.map((e) => ({ input: e.input }))))).toBeGreaterThan(1e-3);
    disposeBatch(batch);
    m.dispose();
  });

  it('refuses a promptLength that is not a non-negative integer', () => {
    const m = model();
    for (const promptLength of [-1, 1.5, Number.NaN]) {
      expect(() => makeBatch(m, 'causal-lm', [{ input: [1, 2, 3], promptLength }], [0])).toThrow(/promptLength must be a non-negative integer/);
    }
    m.dispose();
  });
});
