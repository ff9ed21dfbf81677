/**
 * BERT with padding: every higher-level path builds and passes the attention mask (makeBatch → loss, toEvalModel,
 * the Model contract's forward used by attribution featurization), each checked against computeLogits on the same row
 * unpadded; a hand-made padded batch without a mask is refused naming the row; computeLogits itself keeps transformers'
 * behaviour (no mask given → every position attends to every other, pads included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { isProvenantError } from '../../../src/core/index.js';
import { toEvalModel } from '../../../src/eval/index.js';
import { computeLogits, initBackend, loadPretrained, makeBatch, disposeBatch, taskLogits, tf, type PretrainedModel } from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, maxAbsDiff } from './fixtures.js';

const ROWS = [
  [2, 17, 40, 9, 88, 3],
  [2, 55, 3],
  [2, 101, 7, 3],
];
const T = 6;
const padded = ROWS.map((r) => [...r, ...new Array(T - r.length).fill(0)]);

let model: PretrainedModel;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  model = await loadPretrained(join(SHARED_FIXTURES, 'bert'));
});

const alone = (row: number[]) => computeLogits(model, { inputIds: [row] }).data;

describe('BERT padding masks', () => {
  it('computeLogits without a mask attends to the pads (as transformers does); with the mask each row equals the row alone', () => {
    const unmasked = computeLogits(model, { inputIds: padded }).data;
    const masked = computeLogits(model, { inputIds: padded, attentionMask: padded.map((r, b) => r.map((_, t) => (t < ROWS[b]!.length ? 1 : 0))) }).data;
    const C = 3;
    expect(maxAbsDiff(unmasked.subarray(C, 2 * C), alone(ROWS[1]!))).toBeGreaterThan(1e-3);
    ROWS.forEach((row, b) => expect(maxAbsDiff(masked.subarray(b * C, (b + 1) * C), alone(row))).toBeLessThan(1e-5));
  });

  it('the Model contract’s forward (per-example gradients, attribution featurization) derives the mask from pad_token_id', () => {
    const out = tf.tidy(() => model.forward(tf.tensor2d(padded, [3, T], 'int32')));
    const data = out.dataSync();
    out.dispose();
    ROWS.forEach((row, b) => expect(maxAbsDiff(data.subarray(b * 3, (b + 1) * 3), alone(row))).toBeLessThan(1e-5));
  });

  it('makeBatch builds the mask and the loss path uses it; a padded batch without one is refused naming the row', () => {
    const batch = makeBatch(model, 'classification', ROWS.map((input) => ({ input, label: 1 })), [0, 0, 0]);
    expect(Array.from(batch.attentionMask!)).toEqual(padded.flatMap((r, b) => r.map((_, t) => (t < ROWS[b]!.length ? 1 : 0))));
    const logits = tf.tidy(() => taskLogits(model, 'classification', batch.inputs, {}, batch).dataSync());
    ROWS.forEach((row, b) => expect(maxAbsDiff(logits.subarray(b * 3, (b + 1) * 3), alone(row))).toBeLessThan(1e-5));
    let caught: unknown;
    try {
      tf.tidy(() => {
        taskLogits(model, 'classification', batch.inputs, {}, { tokenTypeIds: batch.tokenTypeIds });
      });
    } catch (error) {
      caught = error;
    }
    expect(isProvenantError(caught) && caught.code === 'MODEL_CONFIG_INVALID').toBe(true);
    expect((caught as Error).message).toMatch(/row 1 .*padded.*no attention mask/);
    expect((caught as { data?: { rows?: number[] } }).data?.rows).toEqual([1, 2]);
    disposeBatch(batch);
  });

  it('toEvalModel batches padded rows with their mask: its probabilities equal softmax of each row alone', async () => {
    const view = toEvalModel(model, { batchSize: 3 });
    const probs = await view.predictProba!(ROWS);
    ROWS.forEach((row, b) => {
      const z = Array.from(alone(row));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      expect(maxAbsDiff(probs[b]!, e.map((v) => v / s))).toBeLessThan(1e-5);
    });
  });
});
