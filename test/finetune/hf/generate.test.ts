import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeLogits, generateTokens, initBackend, loadPretrained, tf, type PretrainedModel } from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, maxAbsDiff } from './fixtures.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Greedy decoding by brute force: the whole sequence re-run every step, no cache, no padding. */
function greedyWithoutCache(model: PretrainedModel, prompt: number[], steps: number): number[] {
  const seq = [...prompt];
  for (let i = 0; i < steps; i++) {
    const { shape, data } = computeLogits(model, { inputIds: [seq] });
    const V = shape[2]!;
    const row = data.subarray((seq.length - 1) * V, seq.length * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

describe('padding and generation on causal models', () => {
  for (const arch of ['gpt2', 'llama']) {
    it(`${arch}: left padding with mask-derived positions equals the unpadded row; plain forward numbers positions 0..T−1`, async () => {
      const model = await loadPretrained(join(SHARED_FIXTURES, arch));
      const row = [5, 9, 23, 42, 77];
      const alone = computeLogits(model, { inputIds: [row] });
      const V = alone.shape[2]!;
      const padded = [0, 0, ...row];
      const mask = [0, 0, 1, 1, 1, 1, 1];
      const withPositions = computeLogits(model, { inputIds: [padded], attentionMask: [mask], positionIds: [[1, 1, 0, 1, 2, 3, 4]] });
      const real = (i: number) => Math.floor(i / V) >= 2;
      expect(maxAbsDiff(withPositions.data.subarray(2 * V), alone.data)).toBeLessThan(1e-5);
      // Without positionIds the real tokens sit at positions 2..6, as in transformers' forward pass. GPT-2's learned
      // absolute positions then give different numbers; RoPE scores depend only on position differences, so Llama's agree.
      const plain = computeLogits(model, { inputIds: [padded], attentionMask: [mask] });
      if (arch === 'gpt2') expect(maxAbsDiff(plain.data, withPositions.data, real)).toBeGreaterThan(1e-4);
      else expect(maxAbsDiff(plain.data, withPositions.data, real)).toBeLessThan(1e-4);
      model.dispose();
    });

    it(`${arch}: greedy generation with the KV cache equals re-running the whole sequence; batched left-padded prompts equal single ones`, async () => {
      const model = await loadPretrained(join(SHARED_FIXTURES, arch));
      const prompts = [[1, 5, 9, 23, 42], [7, 3]];
      const before = tf.memory().numTensors;
      const batched = generateTokens(model, prompts, { maxNewTokens: 6, stopTokens: [] });
      expect(tf.memory().numTensors).toBe(before);
      for (let b = 0; b < prompts.length; b++) {
        const single = generateTokens(model, [prompts[b]!], { maxNewTokens: 6, stopTokens: [] });
        expect(single.tokens[0]).toEqual(greedyWithoutCache(model, prompts[b]!, 6));
        expect(batched.tokens[b]).toEqual(single.tokens[0]);
      }
      // Sampling is seeded: same seed, same tokens; top-k 1 is greedy.
      const a = generateTokens(model, prompts, { maxNewTokens: 5, temperature: 0.9, topK: 20, topP: 0.9, seed: 3, stopTokens: [] });
      const b = generateTokens(model, prompts, { maxNewTokens: 5, temperature: 0.9, topK: 20, topP: 0.9, seed: 3, stopTokens: [] });
      expect(a.tokens).toEqual(b.tokens);
      expect(generateTokens(model, prompts, { maxNewTokens: 5, temperature: 1.3, topK: 1, seed: 9, stopTokens: [] }).tokens).toEqual(
        generateTokens(model, prompts, { maxNewTokens: 5, stopTokens: [] }).tokens,
      );
      // A stop token ends its row.
      const first = batched.tokens[0]![0]!;
      const stopped = generateTokens(model, [prompts[0]!], { maxNewTokens: 6, stopTokens: [first] });
      expect(stopped.tokens[0]).toEqual([first]);
      expect(stopped.finishReasons[0]).toBe('stop');
      model.dispose();
    });
  }
});
