import { describe, expect, it } from 'vitest';
import {
  addClassificationHead,
  addWeightedAdapter,
  adapterHash,
  attachAdapter,
  baseModelHash,
  checkMerge,
  createTransformer,
  getAdapterInfo,
  loadAdapter,
  saveAdapter,
  setActiveAdapters,
  tf,
} from '../../../src/finetune/index.js';
import { logitsOf, maxAbsDiff, sameBits } from './helpers.js';

const config = { vocabSize: 20, dModel: 16, nHeads: 2, nLayers: 2, maxSeqLen: 8, seed: 4 };
function classifier() {
  const model = createTransformer(config);
  addClassificationHead(model, 3, { seed: 5 });
  return model;
}

describe('adapters on the tiny transformer', () => {
  it("default targets are q_proj and v_proj; 'all-linear' leaves out lm_head and classifier", () => {
    const model = classifier();
    attachAdapter(model, 'qv', { r: 2 }, { seed: 1 });
    expect(getAdapterInfo(model, 'qv').modules).toEqual(['blocks.0.attn.q_proj', 'blocks.0.attn.v_proj', 'blocks.1.attn.q_proj', 'blocks.1.attn.v_proj']);
    attachAdapter(model, 'all', { r: 2, targetModules: 'all-linear' }, { seed: 1, activate: false });
    const modules = getAdapterInfo(model, 'all').modules;
    expect(modules).toHaveLength(12);
    expect(modules.some((m) => m === 'lm_head' || m === 'classifier')).toBe(false);
    model.dispose();
  });

  it('B = 0 keeps the output; merge matches; a classifier adapter with a head copy round-trips through PEFT files', () => {
    const model = classifier();
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 0, 0, 0], [6, 7, 8, 9, 10, 11, 12, 13]], [2, 8], 'int32');
    const base = logitsOf(model, ids);
    const hash = baseModelHash(model);
    attachAdapter(model, 'cls', { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'fc_in'], modulesToSave: ['classifier'] }, { seed: 2 });
    expect(sameBits(logitsOf(model, ids), base)).toBe(true);
    // Make it non-trivial: move every B and the head copy.
    for (const linear of model.linears.values()) {
      const lora = linear.adapters.get('cls');
      if (lora) tf.tidy(() => lora.B.assign(tf.randomNormal(lora.B.shape, 0, 0.2, 'float32', 7)));
    }
    const head = model.linears.get('classifier')!;
    tf.tidy(() => head.kernel.assign(head.kernel.mul(3)));
    const tuned = logitsOf(model, ids);
    expect(checkMerge(model, ids)).toBeLessThan(1e-4);
    expect(baseModelHash(model)).toBe(hash);

    const other = classifier();
    loadAdapter(other, 'cls', saveAdapter(model, 'cls', { taskType: 'SEQ_CLS' }));
    expect(sameBits(logitsOf(other, ids), tuned)).toBe(true);
    expect(adapterHash(other, 'cls')).toBe(adapterHash(model, 'cls'));
    ids.dispose();
    model.dispose();
    other.dispose();
  });

  it('a weighted merge over dotted module paths gets per-module ranks right and round-trips', () => {
    const model = classifier();
    attachAdapter(model, 'a', { r: 2, targetModules: ['q_proj'], initLoraWeights: false }, { seed: 1 });
    attachAdapter(model, 'b', { r: 2, targetModules: ['q_proj', 'v_proj'], initLoraWeights: false }, { seed: 2 });
    addWeightedAdapter(model, { adapters: ['a', 'b'], weights: [1, 1], name: 'ab' });
    const info = getAdapterInfo(model, 'ab');
    // Ranks: 4 on q_proj (2 + 2), 2 on v_proj; a tie in frequency goes to the smaller rank as the config's r.
    expect(info.config.r).toBe(2);
    expect(info.config.rankPattern).toEqual({ 'blocks\\.0\\.attn\\.q_proj': 4, 'blocks\\.1\\.attn\\.q_proj': 4 });
    expect(model.linears.get('blocks.1.attn.q_proj')!.adapters.get('ab')!.A.shape).toEqual([16, 4]);
    expect(model.linears.get('blocks.1.attn.v_proj')!.adapters.get('ab')!.A.shape).toEqual([16, 2]);
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    setActiveAdapters(model, ['a', 'b']);
    const both = logitsOf(model, ids);
    setActiveAdapters(model, ['ab']);
    expect(maxAbsDiff(logitsOf(model, ids), both)).toBeLessThan(1e-4);
    const other = classifier();
    loadAdapter(other, 'ab', saveAdapter(model, 'ab'));
    expect(sameBits(logitsOf(other, ids), logitsOf(model, ids))).toBe(true);
    ids.dispose();
    model.dispose();
    other.dispose();
  });
});
