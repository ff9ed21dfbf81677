import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, canonicalJson } from '../../../src/core/index.js';
import {
  adapterHash,
  attachAdapter,
  baseModelHash,
  createLogisticRegression,
  createMlp,
  loadAdapter,
  mergeAdapter,
  saveAdapter,
  setActiveAdapter,
  tf,
  unmergeAdapter,
} from '../../../src/finetune/index.js';

const mlp = (seed = 3) => createMlp({ inputSize: 5, hiddenSizes: [4], numClasses: 2, seed });

describe('baseModelHash', () => {
  it('equals SHA-256 of the documented canonical bytes, computed independently', () => {
    const model = createLogisticRegression({ inputSize: 3, numClasses: 2, seed: 1, initStd: 1 });
    const weight = Float32Array.from(model.weights.get('linear.weight')!.dataSync() as Float32Array);
    const bias = Float32Array.from(model.weights.get('linear.bias')!.dataSync() as Float32Array);
    const digest = (a: Float32Array) => bytesToHex(nobleSha256(new Uint8Array(a.buffer)));
    const manifest = canonicalJson({
      format: 'provenant.base-model.v2',
      config: { kind: 'logistic-regression', config: { inputSize: 3, numClasses: 2 } },
      tensors: [
        ['linear.bias', 'F32', [2], digest(bias)],
        ['linear.weight', 'F32', [3, 2], digest(weight)],
      ],
    });
    expect(baseModelHash(model)).toBe(bytesToHex(nobleSha256(Buffer.from(manifest))));
    model.dispose();
  });

  it('is the same for two models built alike, and changes with one ulp of one weight', () => {
    const a = mlp();
    const b = mlp();
    expect(baseModelHash(a)).toBe(baseModelHash(b));
    const w = b.weights.get('fc2.bias')!;
    const values = Float32Array.from(w.dataSync() as Float32Array);
    new Uint32Array(values.buffer)[1]! += 1;
    tf.tidy(() => w.assign(tf.tensor1d(values)));
    expect(baseModelHash(b)).not.toBe(baseModelHash(a));
    expect(baseModelHash(mlp(4))).not.toBe(baseModelHash(a));
    // The same weights under another seed are the same base: the seed only shaped the initial values.
    const c = mlp(4);
    for (const [name, v] of c.weights) tf.tidy(() => v.assign(a.weights.get(name)!));
    expect(baseModelHash(c)).toBe(baseModelHash(a));
    c.dispose();
    a.dispose();
    b.dispose();
  });

  it('ignores adapters: attached, active, merged, or a trained modules_to_save copy; PiSSA changes the base and the hash says so', () => {
    const model = mlp();
    const before = baseModelHash(model);
    attachAdapter(model, 'a', { r: 2, targetModules: ['fc1'], modulesToSave: ['fc2'], initLoraWeights: false }, { seed: 1 });
    const head = model.linears.get('fc2')!;
    tf.tidy(() => head.kernel.assign(head.kernel.add(1)));
    expect(baseModelHash(model)).toBe(before);
    mergeAdapter(model, 'a');
    expect(baseModelHash(model)).toBe(before);
    unmergeAdapter(model, 'a');
    attachAdapter(model, 'p', { r: 1, targetModules: ['fc1'], initLoraWeights: 'pissa' }, { seed: 1 });
    expect(baseModelHash(model)).not.toBe(before);
    model.dispose();
  });
});

describe('adapterHash', () => {
  it('is stable across save/load, independent of the adapter name and of merging', () => {
    const model = mlp();
    attachAdapter(model, 'a', { r: 2, alpha: 4, modulesToSave: ['fc2'], targetModules: ['fc1'], initLoraWeights: false }, { seed: 9 });
    const hash = adapterHash(model, 'a');
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    mergeAdapter(model, 'a');
    expect(adapterHash(model, 'a')).toBe(hash);
    unmergeAdapter(model, 'a');
    const fresh = mlp();
    loadAdapter(fresh, 'renamed', saveAdapter(model, 'a'));
    expect(adapterHash(fresh, 'renamed')).toBe(hash);
    // The copy of the head is hashed whether it is loaded in the module or waiting in storage.
    attachAdapter(fresh, 'other', { targetModules: ['fc1'] }, { seed: 1 });
    setActiveAdapter(fresh, 'other');
    expect(adapterHash(fresh, 'renamed')).toBe(hash);
    model.dispose();
    fresh.dispose();
  });

  it('changes with the config (same weights) and with any weight', () => {
    const a = mlp();
    const b = mlp();
    attachAdapter(a, 'x', { r: 2, alpha: 4, initLoraWeights: false }, { seed: 9 });
    attachAdapter(b, 'x', { r: 2, alpha: 8, initLoraWeights: false }, { seed: 9 });
    expect(adapterHash(a, 'x')).not.toBe(adapterHash(b, 'x'));
    const c = mlp();
    attachAdapter(c, 'x', { r: 2, alpha: 4, initLoraWeights: false }, { seed: 9 });
    expect(adapterHash(c, 'x')).toBe(adapterHash(a, 'x'));
    const B = c.linears.get('fc2')!.adapters.get('x')!.B;
    tf.tidy(() => B.assign(B.mul(1.0000001)));
    expect(adapterHash(c, 'x')).not.toBe(adapterHash(a, 'x'));
    for (const m of [a, b, c]) m.dispose();
  });
});
