/**
 * Language tasks on token ids (`dataset.tokenIds`), so a model loaded without a tokenizer (the shared Llama fixture) can
 * be evaluated. The perplexity is checked against two independent computations: a float64 log-softmax of the fixture's
 * PyTorch logits (transformers 4.47, `logits.json`), and transformers 5.18's own loss on the same ids
 * (`LlamaForCausalLM(input_ids=x, labels=x).loss · (len − 1)`, summed: 77.71676635742188 nats over 12 tokens).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { compareModels, evaluateTask, toEvalModel, type EvalTask, type FinetuneInput } from '../../src/eval/index.js';
import { attachAdapter, createCharTokenizer, initBackend, loadPretrained, tf, trainableVariables, type PretrainedModel } from '../../src/finetune/index.js';
import { readLogitsFixture } from '../finetune/hf/fixtures.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const LLAMA = join(FIXTURES, 'hf-shared/llama');
const TRANSFORMERS_5_18_TOTAL_NLL = 77.71676635742188;

const expectCode = async (fn: () => unknown, code: string, message: RegExp): Promise<void> => {
  try {
    await fn();
  } catch (e) {
    expect(isProvenantError(e, code as never), String(e)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
};

let llama: PretrainedModel;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  llama = await loadPretrained(LLAMA);
});

describe('language tasks on token ids', () => {
  it("perplexity of a tokenizer-less Llama on tokenIds equals the PyTorch logits' NLL and transformers' loss", async () => {
    expect(llama.tokenizer).toBeNull();
    const fixture = readLogitsFixture(join(LLAMA, 'logits.json'));
    const [B, T, V] = fixture.logits_shape as [number, number, number];
    // Each row's real tokens (the second row is right-padded in the fixture; causal logits of its real prefix ignore the pads).
    const sequences = fixture.input_ids.map((ids, b) => ids.filter((_, t) => fixture.attention_mask[b]![t] === 1));
    let referenceNll = 0;
    let referenceTokens = 0;
    for (let b = 0; b < B; b++) {
      const ids = sequences[b]!;
      for (let t = 0; t + 1 < ids.length; t++) {
        const row = fixture.logits.slice((b * T + t) * V, (b * T + t + 1) * V);
        const max = Math.max(...row);
        const logZ = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        referenceNll += logZ - row[ids[t + 1]!]!;
        referenceTokens++;
      }
    }
    expect(referenceTokens).toBe(12);
    expect(Math.abs(referenceNll - TRANSFORMERS_5_18_TOTAL_NLL)).toBeLessThan(1e-3); // the two references agree

    const tensorsBefore = tf.memory().numTensors;
    const view = toEvalModel(llama, { name: 'llama' });
    const scores = await view.scoreText!(sequences);
    expect(scores.map((s) => s.tokens)).toEqual([7, 5]);
    const task: EvalTask<FinetuneInput> = { name: 'ids', kind: 'retained', metric: 'perplexity', dataset: { tokenIds: sequences } };
    const result = await evaluateTask(view, task, { resamples: 50 });
    expect(result.n).toBe(2);
    expect(Math.abs(Math.log(result.value) - referenceNll / 12)).toBeLessThan(1e-5);
    expect(Math.abs(Math.log(result.value) - TRANSFORMERS_5_18_TOTAL_NLL / 12)).toBeLessThan(1e-4);
    // Windows shorter than a sequence still predict every token but the first exactly once (with less context).
    expect((await toEvalModel(llama, { maxTokens: 3 }).scoreText!(sequences)).map((s) => s.tokens)).toEqual([7, 5]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('compareModels runs base vs tuned on tokenIds; texts on a tokenizer-less model point to tokenIds', async () => {
    const model = await loadPretrained(LLAMA);
    attachAdapter(model, 'default', { r: 2, alpha: 4 }, { seed: 1 });
    for (const v of trainableVariables(model)) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 2)));
    const base = toEvalModel(model, { name: 'base', adapters: [] });
    const tuned = toEvalModel(model, { name: 'tuned', adapters: ['default'] });
    const tokenIds = [[1, 5, 9, 23, 42, 77, 100, 3], [2, 4, 6, 8, 10, 12], [7, 7, 8, 9]];
    const table = await compareModels(base, tuned, [{ name: 'ids', kind: 'retained', metric: 'perplexity', dataset: { tokenIds } }], { resamples: 50 });
    const row = table.rows[0]!;
    expect(row.n).toBe(3);
    const direct = await evaluateTask(base, { name: 'ids', kind: 'retained', metric: 'perplexity', dataset: { tokenIds } }, { resamples: 50 });
    expect(row.base.value).toBeCloseTo(direct.value, 10);
    expect(row.tuned.value).not.toBeCloseTo(row.base.value, 3); // the adapter is live in the tuned view
    expect(row.drift!.rows).toBe(7 + 5 + 3); // next-token drift over every predicted position
    await expectCode(
      () => compareModels(base, tuned, [{ name: 'txt', kind: 'retained', metric: 'perplexity', dataset: { texts: ['abc'] } }], { resamples: 10 }),
      'EVAL_INPUT_INVALID',
      /without a tokenizer, so pass token ids/,
    );
    model.dispose();
  });

  it('rejects malformed datasets, a tokenizer option on a Hugging Face model and bits per character without characters (EVAL_INPUT_INVALID)', async () => {
    const view = toEvalModel(llama);
    const bad: Array<[unknown, RegExp]> = [
      [{ texts: ['a'], tokenIds: [[1, 2]] }, /exactly one/],
      [{}, /exactly one/],
      [{ tokenIds: [] }, /non-empty array of token-id arrays/],
      [{ tokenIds: [[1, 2], []] }, /tokenIds\[1\] must be a non-empty/],
      [{ tokenIds: [[1, 2.5]] }, /tokenIds\[0\]\[1\] must be a token id/],
      [{ tokenIds: [[1, -1]] }, /tokenIds\[0\]\[1\] must be a token id/],
    ];
    for (const [dataset, message] of bad) {
      await expectCode(() => evaluateTask(view, { name: 't', kind: 'retained', metric: 'perplexity', dataset } as never), 'EVAL_INPUT_INVALID', message);
    }
    expect(() => toEvalModel(llama, { tokenizer: createCharTokenizer() })).toThrowError(/own tokenizer/);
    // Bits per character needs the characters the ids cover, which a model without a tokenizer cannot count.
    await expectCode(
      () => evaluateTask(view, { name: 'bpc', kind: 'retained', metric: 'bits-per-character', dataset: { tokenIds: [[1, 5, 9]] } }),
      'EVAL_INPUT_INVALID',
      /reports no characters for sequence 0 of task "bpc"/,
    );
  });

  it('a model with a tokenizer scores its texts and their token ids alike', async () => {
    const chat = await loadPretrained(join(FIXTURES, 'hf/tiny-chat'));
    const texts = ['Call me Ishmael.', 'The whale swam away from the ship.'];
    const view = toEvalModel(chat);
    const fromTexts = await view.scoreText!(texts);
    const fromIds = await view.scoreText!(texts.map((t) => chat.tokenizer!.encode(t)));
    expect(fromIds).toEqual(fromTexts);
    chat.dispose();
  });
});
