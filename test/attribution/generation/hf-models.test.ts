/**
 * Generated-text attribution on Hugging Face checkpoints (issue 11 on the models of issue 10): the causal-LM per-example
 * gradients captured on a GPT-2 (fused Conv1D `c_attn`) and a Llama (grouped-query attention, RoPE) loaded by
 * `loadPretrained` equal one autograd pass per example through the model's own logits, and `attributeGeneration` runs on
 * them end to end (scores = dot products of independently featurized rows, exact fee split).
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attributeGeneration, buildSpanIndex, createGenerationIndex, featurizeCausal, inMemoryFeatureStore, type TextTokenizer } from '../../../src/attribution/generation/index.js';
import { loadPretrained, setBaseTrainable, tf, type PretrainedModel } from '../../../src/finetune/index.js';
import { attachAdapter, maxAbs } from '../helpers.js';

const FIXTURES = resolve(__dirname, '../../fixtures/hf-shared');
// Letters map to ids 1–26 of the fixtures' 128-token vocabulary.
const tokenizer: TextTokenizer = {
  encode: (text) => Array.from(text, (ch) => ch.charCodeAt(0) - 96),
  decode: (ids) => Array.from(ids, (id) => String.fromCharCode(96 + id)).join(''),
};
const texts = ['abcdefg', 'hgfedcb', 'aaabbbccc', 'kjihgfe', 'abcabcabc', 'lkjlkj'];
const rowIds = texts.map((_, i) => `r${i}`);
const contributors = ['alice', 'bob', 'alice', 'carol', 'bob', 'carol'];
const datanets = texts.map(() => 'dn');

const models: PretrainedModel[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

/** −Σ log p(ids[k] | ids[<k]) over k ≥ max(1, promptLength), from the model's own logits (plain tfjs ops). */
function referenceLoss(model: PretrainedModel, ids: number[], promptLength: number): tf.Scalar {
  const x = tf.tensor2d(ids.slice(0, -1), [1, ids.length - 1], 'int32');
  const logp = tf.logSoftmax(model.forward(x) as tf.Tensor2D);
  let total: tf.Tensor = tf.scalar(0);
  for (let k = Math.max(1, promptLength); k < ids.length; k++) total = total.sub(logp.slice([k - 1, ids[k]!], [1, 1]).sum());
  return total as tf.Scalar;
}

describe.each([
  ['gpt2', ['transformer.h.0.attn.c_attn', 'transformer.h.1.mlp.c_fc']],
  ['llama', ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']],
])('%s checkpoint', (arch, targets) => {
  it('per-example LoRA gradients of the completion loss equal autograd through the model; attributeGeneration runs', async () => {
    const model = await loadPretrained(`${FIXTURES}/${arch}`, { tokenizer: false } as never);
    models.push(model);
    targets.forEach((path, i) => attachAdapter(model.linears.get(path)!, 2, 301 + 10 * i, 2));
    setBaseTrainable(model, false);
    const examples = texts.map((t, i) => ({ ids: tokenizer.encode(t), promptLength: i % 3 }));
    const raw = featurizeCausal(model, examples, { projection: null, batchSize: 4 });
    const vars = targets.flatMap((p) => [model.linears.get(p)!.adapters.get('default')!.A, model.linears.get(p)!.adapters.get('default')!.B]);
    examples.forEach((ex, i) => {
      const { value, grads } = tf.variableGrads(() => referenceLoss(model, ex.ids, ex.promptLength), vars);
      const ref = vars.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
      expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(1e-4);
      expect(Math.abs(raw.loss[i]! * raw.tokens[i]! - value.dataSync()[0]!)).toBeLessThan(1e-3);
      expect(maxAbs(raw.features.data.subarray(i * raw.features.dim, (i + 1) * raw.features.dim), ref)).toBeLessThan(1e-4 * Math.max(1, ...ref.map(Math.abs)));
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    });

    const spec = { kind: 'gaussian' as const, inDim: 4, outDim: 4, seed: 3 };
    const rows = featurizeCausal(model, texts.map((t) => ({ ids: tokenizer.encode(t) })), { projection: spec });
    const store = inMemoryFeatureStore(model, rows, { rowIds, contributors, datanets });
    const spans = buildSpanIndex({ ids: texts.map((t) => tokenizer.encode(t)), rowIds, contributors, datanets });
    const index = createGenerationIndex(model, store, { spans });
    const before = tf.memory().numTensors;
    const r = attributeGeneration(model, 'kk', { index, tokenizer, completion: 'abcdefgh', topK: 3, spans: { minLength: 4 } });
    expect(tf.memory().numTensors).toBe(before);
    const q = featurizeCausal(model, [{ ids: tokenizer.encode('kkabcdefgh'), promptLength: 2 }], { projection: spec });
    const d = rows.features.dim;
    const s = texts.map((_, i) => q.features.data.slice(0, d).reduce((a, v, c) => a + v * rows.features.data[i * d + c]!, 0));
    const expectC: Record<string, number> = Object.create(null);
    s.forEach((v, i) => (expectC[contributors[i]!] = (expectC[contributors[i]!] ?? 0) + v));
    for (const k of Object.keys(expectC)) expect(r.contributorScores[k]).toBeCloseTo(expectC[k]!, 3);
    expect(r.spans!.some((x) => x.rows.some((y) => y.rowId === 'r0'))).toBe(true); // 'abcdefg' is row r0 verbatim
    const paid = Object.values(r.fee.contributorAmounts).reduce((a, b) => a + b, 0n);
    expect(r.fee.platformWei + r.fee.ownerWei + r.fee.stakersWei + paid + r.fee.unallocatedWei).toBe(r.fee.feeWei);
    index.dispose();
  });
});
