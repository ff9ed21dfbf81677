import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/index.js';
import { createTransformer, initBackend, loadModelState, tf, type TransformerConfig } from '../../src/finetune/index.js';
import { growWeights } from '../../scripts/grow-base-model.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const small: TransformerConfig = { vocabSize: 98, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 8, mlpHidden: 32, seed: 1 };

/** A source model with every weight random (biases and LayerNorms too), so no growth rule passes by accident of zeros. */
function randomSource() {
  const model = createTransformer(small);
  const rng = createRng(7);
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, v] of model.weights) tensors[name] = { dtype: 'F32', shape: [...v.shape], data: Float32Array.from({ length: v.size }, () => (rng.nextFloat() - 0.5) * 0.6) };
  loadModelState(model, tensors);
  return model;
}

const logits = (model: ReturnType<typeof createTransformer>, ids: number[]) =>
  tf.tidy(() => Float32Array.from(model.forwardLm(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync()));

describe('growWeights (the warm start of scripts/pretrain.ts --init-from)', () => {
  it('a deeper, wider-MLP, longer-context model computes the source logits on the source positions', () => {
    const source = randomSource();
    const grown = createTransformer({ ...small, nLayers: 2, maxSeqLen: 16, mlpHidden: 48, seed: 2 });
    const { tensors, notes } = growWeights(grown.weights, source.weights, small.nLayers);
    loadModelState(grown, tensors);
    const ids = [5, 17, 40, 3, 77, 12, 60, 9];
    const [a, b] = [logits(source, ids), logits(grown, ids)];
    expect(b.length).toBe(a.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-5);
    // Over the full longer context, the first 8 positions are still the source's (causal attention).
    const long = logits(grown, [...ids, 30, 31, 32, 33, 34, 35, 36, 37]);
    for (let i = 0; i < a.length; i++) expect(Math.abs(long[i]! - a[i]!)).toBeLessThan(1e-5);
    // Positions 8–15 start as positions 0–7 (tiled); the new hidden units have random inputs and zero outputs.
    const pos = tensors['embed_positions.weight']!.data;
    expect(Array.from(pos.subarray(8 * 16, 9 * 16))).toEqual(Array.from(pos.subarray(0, 16)));
    const fcIn = tensors['blocks.0.mlp.fc_in.weight']!;
    const fcOut = tensors['blocks.0.mlp.fc_out.weight']!;
    expect(fcIn.shape).toEqual([16, 48]);
    let newInputs = 0;
    for (let r = 0; r < 16; r++) for (let c = 32; c < 48; c++) newInputs += Math.abs(fcIn.data[r * 48 + c]!);
    expect(newInputs).toBeGreaterThan(0);
    expect(fcOut.data.subarray(32 * 16).every((x) => x === 0)).toBe(true);
    expect(tensors['blocks.1.attn.o_proj.weight']!.data.every((x) => x === 0)).toBe(true);
    expect(notes.some((n) => n.startsWith('blocks.0.mlp.fc_in.weight: [16,32] widened to [16,48]'))).toBe(true);
    source.dispose();
    grown.dispose();
  });

  it('the new hidden units are live: once their output rows move, the function changes', () => {
    const source = randomSource();
    const grown = createTransformer({ ...small, mlpHidden: 48, seed: 2 });
    const { tensors } = growWeights(grown.weights, source.weights, small.nLayers);
    const out = tensors['blocks.0.mlp.fc_out.weight']!;
    // Not a constant row (a shift along (1, …, 1) is what the next LayerNorm removes).
    for (let i = 32 * 16; i < out.data.length; i++) out.data[i] = ((i % 3) - 1) * 0.5;
    loadModelState(grown, tensors);
    const ids = [5, 17, 40, 3];
    const [a, b] = [logits(source, ids), logits(grown, ids)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeGreaterThan(1e-3);
    source.dispose();
    grown.dispose();
  });

  it('refuses a change it cannot make function-preserving, naming the tensor', () => {
    const source = randomSource();
    const wider = createTransformer({ ...small, dModel: 32, nHeads: 2, seed: 2 });
    expect(() => growWeights(wider.weights, source.weights, small.nLayers)).toThrow(/embed_tokens\.weight/);
    const narrower = createTransformer({ ...small, mlpHidden: 16, seed: 2 });
    expect(() => growWeights(narrower.weights, source.weights, small.nLayers)).toThrow(/cannot widen blocks\.0\.mlp\.fc_in\.weight/);
    source.dispose();
    wider.dispose();
    narrower.dispose();
  });
});
