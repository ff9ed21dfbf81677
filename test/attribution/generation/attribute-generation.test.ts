import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAttributionIndex, readFeatureStore, writeFeatureStore } from '../../../src/attribution/index.js';
import {
  attributeGeneration,
  buildSpanIndex,
  createGenerationIndex,
  featurizeCausal,
  inMemoryFeatureStore,
  type TextTokenizer,
} from '../../../src/attribution/generation/index.js';
import { createTransformer, setBaseTrainable, tf } from '../../../src/finetune/index.js';
import { attachAdapter, randomizeWeights } from '../helpers.js';

// Letters a–l are ids 1–12; 0 is padding.
const tokenizer: TextTokenizer & { padId: number } = {
  padId: 0,
  encode: (text) => Array.from(text, (ch) => ch.charCodeAt(0) - 96),
  decode: (ids) => Array.from(ids, (id) => String.fromCharCode(96 + id)).join(''),
};
const model = createTransformer({ vocabSize: 13, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 7 });
randomizeWeights(model, 3, 0.5);
attachAdapter(model.linears.get('blocks.0.attn.q_proj')!, 2, 31, 2);
attachAdapter(model.linears.get('blocks.0.attn.v_proj')!, 2, 37, 2);
setBaseTrainable(model, false);
afterAll(() => model.dispose());

const texts = ['abcdefg', 'hgfedcb', 'aaabbbccc', 'kjihgfe', 'abcabcabc', 'lkjlkj', 'gfedcba', 'abcdkkkk'];
const rowIds = texts.map((_, i) => `r${i}`);
const contributors = ['alice', 'bob', 'alice', '__proto__', 'bob', 'carol', '__proto__', 'carol'];
const datanets = ['dn1', 'dn1', 'dn2', 'dn2', 'dn1', 'dn2', 'dn1', 'dn2'];
const spec = { kind: 'gaussian' as const, inDim: 4, outDim: 4, seed: 11 };
const rows = featurizeCausal(model, texts.map((t) => ({ ids: tokenizer.encode(t) })), { projection: spec });
const store = inMemoryFeatureStore(model, rows, { rowIds, contributors, datanets });
const spans = buildSpanIndex({ ids: texts.map((t) => tokenizer.encode(t)), rowIds, contributors, datanets });

describe('attributeGeneration', () => {
  it('scores, shares and per-token figures equal an independent featurization and dot products', () => {
    const index = createGenerationIndex(model, store, { spans });
    const prompt = 'kk', completion = 'abcdefgh';
    const r = attributeGeneration(model, prompt, { index, tokenizer, completion, topK: 3, perToken: true, excludeRows: ['r4'], spans: { minLength: 4 } });
    const q = featurizeCausal(model, [{ ids: tokenizer.encode(prompt + completion), promptLength: 2 }], { projection: spec });
    const d = rows.features.dim;
    const s = texts.map((_, i) => {
      let v = 0;
      for (let c = 0; c < d; c++) v += q.features.data[c]! * rows.features.data[i * d + c]!;
      return v;
    });
    const order = s.map((v, i) => [v, i] as const).filter(([v]) => v > 0).sort((a, b) => b[0] - a[0]).slice(0, 3);
    expect(r.proponents.map((p) => p.rowId)).toEqual(order.map(([, i]) => `r${i}`));
    r.proponents.forEach((p, k) => expect(p.score).toBeCloseTo(order[k]![0], 4));
    const expectC: Record<string, number> = Object.create(null);
    const expectD: Record<string, number> = Object.create(null);
    s.forEach((v, i) => {
      if (i === 4) return; // excluded
      expectC[contributors[i]!] = (expectC[contributors[i]!] ?? 0) + v;
      expectD[datanets[i]!] = (expectD[datanets[i]!] ?? 0) + v;
    });
    for (const k of Object.keys(expectC)) expect(r.contributorScores[k]).toBeCloseTo(expectC[k]!, 4);
    for (const k of Object.keys(expectD)) expect(r.datanetScores[k]).toBeCloseTo(expectD[k]!, 4);
    expect(Object.keys(r.contributorScores).sort()).toEqual(['__proto__', 'alice', 'bob', 'carol']);
    // The answer's loss is the sum of its tokens' losses, so its gradient — and every score — is the sum over tokens.
    expect(r.perToken).toHaveLength(completion.length);
    for (const k of Object.keys(expectC)) expect(r.perToken!.reduce((a, t) => a + t.contributorScores[k]!, 0)).toBeCloseTo(r.contributorScores[k]!, 4);
    expect(r.perToken!.reduce((a, t) => a + t.loss, 0)).toBeCloseTo(-r.logLikelihood, 4);
    // 'abcdefg' is row r0 verbatim (and 'abcd' starts r7).
    expect(r.spans!.map((x) => [x.start, x.length, x.rows.map((y) => y.rowId)])).toEqual([[0, 7, ['r0']]]);
    // The fee: bob's excluded row r4 is not counted; the split is exact.
    const paid = Object.values(r.fee.contributorAmounts).reduce((a, b) => a + b, 0n);
    expect(r.fee.platformWei + r.fee.ownerWei + r.fee.stakersWei + paid + r.fee.unallocatedWei).toBe(r.fee.feeWei);
    for (const [k, v] of Object.entries(r.contributorScores)) if (v <= 0) expect(r.fee.contributorAmounts[k]).toBe(0n);
    expect(r.method).toMatchObject({ influence: 'grad-dot', reduction: 'sum', topK: 3, generation: 'given', excludedRows: ['r4'], spans: { minLength: 4 } });
    index.dispose();
  });

  it('generates greedily like a plain argmax loop when no completion is given', () => {
    const index = createGenerationIndex(model, store);
    const r = attributeGeneration(model, 'abc', { index, tokenizer, generation: { maxNewTokens: 5 } });
    const ids = tokenizer.encode('abc');
    for (let k = 0; k < 5; k++) {
      const logits = tf.tidy(() => model.forwardLm(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync() as Float32Array);
      const last = Array.from(logits.slice((ids.length - 1) * 13, ids.length * 13));
      last[0] = -Infinity; // padding is never generated
      ids.push(last.indexOf(Math.max(...last)));
    }
    expect(r.completion).toBe(tokenizer.decode(ids.slice(3)));
    expect(r.spans).toBeNull();
    index.dispose();
  });

  it('returns an unpaid result with its reason when no contributor has positive influence, and leaks no tensors', () => {
    const index = createGenerationIndex(model, store, { spans });
    const run = () => attributeGeneration(model, 'ab', { index, tokenizer, completion: 'cdef', excludeRows: rowIds });
    run();
    const before = tf.memory().numTensors;
    const r = run();
    run();
    expect(tf.memory().numTensors).toBe(before);
    expect(r.fee.paid).toBe(false);
    expect(r.fee.reason).toBe('no-positive-influence');
    expect(r.fee.unallocatedWei).toBe(r.fee.contributorsWei);
    expect(r.contributorShares).toBeNull();
    expect(() => attributeGeneration(model, 'ab', { index, tokenizer, completion: 'c', excludeRows: ['nope'] })).toThrow(/nope/);
    index.dispose();
  });

  it('a causal-LM store is refused by the classification index (it would be scored silently wrong)', () => {
    expect(() => createAttributionIndex(model, store)).toThrow(expect.objectContaining({ code: 'ATTRIBUTION_FEATURE_STORE_INVALID', message: expect.stringMatching(/attributeGeneration/) }));
  });

  it('round-trips causal features through the on-disk feature store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genattr-'));
    try {
      await writeFeatureStore(dir, rows, { model, rowIds, contributors, versions: datanets, labels: rows.tokens });
      const read = await readFeatureStore(dir, { model });
      const index = createGenerationIndex(model, read);
      const fromDisk = attributeGeneration(model, 'kk', { index, tokenizer, completion: 'abcdefgh', topK: 3 });
      const inMemory = createGenerationIndex(model, store);
      const fromMemory = attributeGeneration(model, 'kk', { index: inMemory, tokenizer, completion: 'abcdefgh', topK: 3 });
      expect(fromDisk.proponents).toEqual(fromMemory.proponents);
      expect({ ...fromDisk.datanetScores }).toEqual({ ...fromMemory.datanetScores });
      index.dispose();
      inMemory.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses features computed with another model', () => {
    const other = createTransformer({ vocabSize: 13, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 8 });
    attachAdapter(other.linears.get('blocks.0.attn.q_proj')!, 2, 31, 2);
    attachAdapter(other.linears.get('blocks.0.attn.v_proj')!, 2, 37, 2);
    expect(() => createGenerationIndex(other, store)).toThrow(/different model/);
    other.dispose();
  });
});
