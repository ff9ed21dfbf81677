/**
 * `toEvalModel` evaluates a model at the sequence length it was trained at — its own context, not a fixed 64 — and views
 * Hugging Face models (kind gpt2/llama/bert, `logits` + tokenizer) through their own head (issue 10, item 6).
 * The Hugging Face view is checked on a stand-in with the same surface whose outputs are computed independently here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { toEvalModel } from '../../src/eval/index.js';
import { addClassificationHead, createCharTokenizer, createTransformer, initBackend, tf, type Model } from '../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const V = 7;
const C = 3;
/** Fixed tables of the stand-in: next-token logits W[id] + P[position], class scores E[id] summed over real tokens. */
const W = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => Math.sin(1 + i * V + j)));
const P = Array.from({ length: 64 }, (_, t) => Array.from({ length: V }, (_, j) => 0.1 * Math.cos(t + j)));
const E = Array.from({ length: V }, (_, i) => Array.from({ length: C }, (_, c) => Math.cos(2 + i * C + c)));
const encode = (text: string): number[] => [...text].map((ch) => ch.charCodeAt(0) % (V - 1)) .map((id) => id + 1);

/** A model with the surface of a loadPretrained model; `calls` records each batch's shape. */
function standIn(task: 'causal-lm' | 'sequence-classification', padTokenId: number | null, calls: number[][] = []): Model {
  return {
    kind: 'llama' as never,
    config: { task, maxPositions: 12, padTokenId, numLabels: C },
    linears: new Map(),
    weights: new Map(),
    tokenizer: { encode, decode: (ids: readonly number[]) => ids.map((i) => String.fromCharCode(96 + i)).join('') },
    forward: () => {
      throw new Error('not used');
    },
    dispose: () => undefined,
    logits({ inputIds, attentionMask }: { inputIds: tf.Tensor; attentionMask?: ArrayLike<number> | null }) {
      const [B, T] = inputIds.shape as [number, number];
      calls.push([B, T]);
      const ids = inputIds.dataSync();
      if (task === 'causal-lm') {
        const out = new Float32Array(B * T * V);
        for (let i = 0; i < B * T; i++) for (let j = 0; j < V; j++) out[i * V + j] = W[ids[i]!]![j]! + P[i % T]![j]!;
        return tf.tensor2d(out, [B * T, V]);
      }
      const out = new Float32Array(B * C);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (!attentionMask || attentionMask[b * T + t]) for (let c = 0; c < C; c++) out[b * C + c]! += E[ids[b * T + t]!]![c]!;
      return tf.tensor2d(out, [B, C]);
    },
  } as unknown as Model;
}

const logSoftmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
};

describe('toEvalModel: the context is the model\'s own', () => {
  it('accepts a transformer\'s full maxSeqLen (256 here), refuses one more, and names the limit', async () => {
    const model = createTransformer({ vocabSize: 98, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 256, seed: 1 });
    addClassificationHead(model, 2, { seed: 1 });
    const view = toEvalModel(model, { maxTokens: 256 });
    const long = 'x'.repeat(300);
    const [row] = await view.predictProba!([long]);
    expect(row!.length).toBe(2);
    // Truncated to 256 tokens: the same as the first 256 characters.
    expect(Array.from((await view.predictProba!([long.slice(0, 256)]))[0]!)).toEqual(Array.from(row!));
    const tokens = createCharTokenizer().encode(long).length;
    expect(tokens).toBeGreaterThan(256);
    let caught: unknown;
    try {
      toEvalModel(model, { maxTokens: 257 });
    } catch (e) {
      caught = e;
    }
    expect(isProvenantError(caught) && caught.code === 'EVAL_INPUT_INVALID' && /\[1, 256\].*maxSeqLen/.test(caught.message)).toBe(true);
    model.dispose();
  });
});

describe('toEvalModel: a Hugging Face model', () => {
  it('scoreText sums −log p of every token after the first, in windows of maxTokens + 1, and measures characters by decoding', async () => {
    const calls: number[][] = [];
    const texts = ['the whale, the whale!', 'ab', 'q'];
    const view = toEvalModel(standIn('causal-lm', 0, calls), { maxTokens: 5 });
    const scores = await view.scoreText!(texts);
    texts.forEach((text, i) => {
      const ids = encode(text);
      let nll = 0;
      // Independent loop: token k (k ≥ 1) predicted from the window starting at 5·⌊(k−1)/5⌋, at position (k−1) mod 5.
      for (let k = 1; k < ids.length; k++) nll -= logSoftmax(W[ids[k - 1]!]!.map((w, j) => w + P[(k - 1) % 5]![j]!))[ids[k]!]!;
      expect(scores[i]!.tokens).toBe(Math.max(0, ids.length - 1));
      expect(scores[i]!.nll).toBeCloseTo(nll, 4);
      expect(scores[i]!.characters).toBe(Math.max(0, ids.length - 1));
    });
    expect(Math.max(...calls.map(([, T]) => T!))).toBe(5);
    const next = await view.nextTokenProba!(['ab']);
    expect(next[0]!.length).toBe(1);
    expect(Array.from(next[0]![0]!).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
  });

  it('predictProba pads rows with the pad token and masks them (a row alone = a row in a batch); no pad token: one row per pass', async () => {
    const inputs = ['abcdefgh', 'xy', 'a much longer text than twelve tokens'];
    const expected = inputs.map((text) => {
      const z = Array.from({ length: C }, (_, c) => encode(text).slice(0, 12).reduce((a, id) => a + E[id]![c]!, 0));
      return logSoftmax(z).map(Math.exp);
    });
    for (const pad of [0, null]) {
      const calls: number[][] = [];
      const rows = await toEvalModel(standIn('sequence-classification', pad, calls)).predictProba!(inputs);
      rows.forEach((row, i) => expected[i]!.forEach((p, c) => expect(row[c]!).toBeCloseTo(p, 6)));
      expect(calls.map(([B]) => B)).toEqual(pad === null ? [1, 1, 1] : [3]);
    }
    let caught: unknown;
    try {
      toEvalModel(standIn('sequence-classification', 0), { maxTokens: 13 });
    } catch (e) {
      caught = e;
    }
    expect(isProvenantError(caught) && /maxPositions/.test(caught.message)).toBe(true);
  });
});
