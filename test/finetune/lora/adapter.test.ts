import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activeAdapters,
  attachAdapter,
  baseModelHash,
  checkMerge,
  createLogisticRegression,
  createMlp,
  deleteAdapter,
  disableAdapters,
  getAdapterInfo,
  linearForward,
  listAdapters,
  mergeAdapter,
  mergeAndUnload,
  parameterGroups,
  setActiveAdapter,
  setActiveAdapters,
  tf,
  trainableVariables,
  unmergeAdapter,
} from '../../../src/finetune/index.js';
import { logitsOf, matmul64, maxAbs, maxAbsDiff, randomInputs, sameBits, snapshotWeights, values } from './helpers.js';

const mlp = (seed = 1) => createMlp({ inputSize: 6, hiddenSizes: [5], numClasses: 3, seed });

describe('attachAdapter', () => {
  it('B = 0 at init ⇒ output equals the base model (fast-check over configs and seeds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.double({ min: 0.5, max: 32, noNaN: true }), fc.boolean(), fc.constantFrom(true, 'gaussian' as const), fc.integer(), (r, alpha, useRslora, init, seed) => {
        const model = mlp(Math.abs(seed) % 1000);
        const x = randomInputs(4, 6, seed);
        const base = logitsOf(model, x);
        attachAdapter(model, 'a', { r, alpha, useRslora, initLoraWeights: init }, { seed });
        const info = getAdapterInfo(model, 'a');
        expect(info.modules).toEqual(['fc1', 'fc2']);
        const fc1 = model.linears.get('fc1')!.adapters.get('a')!;
        expect(maxAbs(values(fc1.B))).toBe(0);
        expect(maxAbs(values(fc1.A))).toBeGreaterThan(0);
        expect(fc1.scale).toBeCloseTo(useRslora ? alpha / Math.sqrt(r) : alpha / r, 12);
        expect(sameBits(logitsOf(model, x), base)).toBe(true);
        x.dispose();
        model.dispose();
      }),
      { numRuns: 25 },
    );
  });

  it("A is Kaiming-uniform within ±1/√in (PEFT's default), B zero; the same seed gives the same A", () => {
    const a = mlp();
    const b = mlp();
    attachAdapter(a, 'x', { r: 4 }, { seed: 3 });
    attachAdapter(b, 'x', { r: 4 }, { seed: 3 });
    const A = values(a.linears.get('fc1')!.adapters.get('x')!.A);
    expect(maxAbs(A)).toBeLessThanOrEqual(1 / Math.sqrt(6));
    expect(maxAbs(A)).toBeGreaterThan(0.5 / Math.sqrt(6));
    expect(sameBits(A, values(b.linears.get('fc1')!.adapters.get('x')!.A))).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('freezes the base; trainable = active A, B (+ modules_to_save); LoRA+ multiplier on B', () => {
    const model = mlp();
    expect(trainableVariables(model)).toHaveLength(4); // full fine-tuning before any adapter
    attachAdapter(model, 'a', { r: 2, targetModules: ['fc1'], modulesToSave: ['fc2'], loraPlusLrRatio: 16 }, { seed: 1 });
    for (const [name, v] of model.weights) expect(v.trainable).toBe(name.startsWith('fc2'));
    const groups = parameterGroups(model, { weightDecay: 0.01 });
    expect(groups.map((g) => [g.name, g.lrMultiplier, g.weightDecay])).toEqual([
      ['fc2.modules_to_save.a.weight', 1, 0.01],
      ['fc2.modules_to_save.a.bias', 1, 0],
      ['fc1.lora_A.a.weight', 1, 0.01],
      ['fc1.lora_B.a.weight', 16, 0.01],
    ]);
    // Without a rate, matrices defer to the optimizer's weight decay; vectors are never decayed.
    expect(parameterGroups(model).map((g) => g.weightDecay)).toEqual([undefined, 0, undefined, undefined]);
    expect(getAdapterInfo(model, 'a').parameterCount).toBe(2 * (6 + 5) + 5 * 3 + 3);
    model.dispose();
  });

  it('several named adapters: switch, combine, disable; each keeps its own modules_to_save copy', () => {
    const model = mlp();
    const x = randomInputs(5, 6, 9);
    const base = logitsOf(model, x);
    const headBase = values(model.linears.get('fc2')!.kernel);
    attachAdapter(model, 'a', { r: 2, targetModules: ['fc1'], modulesToSave: ['fc2'], initLoraWeights: false }, { seed: 1 });
    attachAdapter(model, 'b', { r: 3, targetModules: ['fc1'], initLoraWeights: false }, { seed: 2 });
    expect(listAdapters(model)).toEqual(['a', 'b']);
    expect(activeAdapters(model)).toEqual(['b']);
    // Train-like change to a's head copy while a is active.
    setActiveAdapter(model, 'a');
    const head = model.linears.get('fc2')!;
    tf.tidy(() => head.kernel.assign(head.kernel.add(1)));
    const outA = logitsOf(model, x);
    setActiveAdapter(model, 'b');
    const outB = logitsOf(model, x);
    // b uses the base head: the head is back to the base's exact values.
    expect(sameBits(values(head.kernel), headBase)).toBe(true);
    disableAdapters(model);
    expect(sameBits(logitsOf(model, x), base)).toBe(true);
    setActiveAdapter(model, 'a');
    expect(sameBits(logitsOf(model, x), outA)).toBe(true);
    expect(maxAbsDiff(outA, outB)).toBeGreaterThan(0.1);

    // Both active: updates add up — compare with an independent float64 computation of fc1's output.
    setActiveAdapters(model, ['a', 'b']);
    const fc1 = model.linears.get('fc1')!;
    const both = tf.tidy(() => values(linearForward(fc1, x)));
    const xs = values(x);
    let expected = matmul64(xs, values(fc1.kernel), 5, 6, 5);
    for (const name of ['a', 'b']) {
      const w = fc1.adapters.get(name)!;
      const r = w.A.shape[1]!;
      const update = matmul64(matmul64(xs, values(w.A), 5, 6, r), values(w.B), 5, r, 5);
      expected = expected.map((v, i) => v + w.scale * update[i]!);
    }
    const bias = values(fc1.bias!);
    expect(maxAbsDiff(both, expected.map((v, i) => v + bias[i % 5]!))).toBeLessThan(1e-4);

    deleteAdapter(model, 'a');
    expect(listAdapters(model)).toEqual(['b']);
    expect(activeAdapters(model)).toEqual(['b']);
    expect(sameBits(values(head.kernel), headBase)).toBe(true);
    expect(head.kernel.trainable).toBe(false);
    x.dispose();
    model.dispose();
  });

  it('refuses duplicate names, unknown adapters and a module in both roles', () => {
    const model = mlp();
    attachAdapter(model, 'a', { targetModules: ['fc1'] }, { seed: 1 });
    expect(() => attachAdapter(model, 'a', {}, { seed: 1 })).toThrow(/already attached/);
    expect(() => setActiveAdapter(model, 'zzz')).toThrow(expect.objectContaining({ code: 'ADAPTER_NOT_FOUND' }));
    expect(() => attachAdapter(model, 'b', { targetModules: ['fc2'], modulesToSave: ['fc1'] }, { seed: 1 })).toThrow(
      expect.objectContaining({ code: 'LORA_CONFIG_INVALID' }),
    );
    expect(() => attachAdapter(model, 'c', { targetModules: ['fc2'], modulesToSave: ['fc2'] }, { seed: 1 })).toThrow(/both/);
    expect(listAdapters(model)).toEqual(['a']);
    model.dispose();
  });
});

describe('merge / unmerge', () => {
  it('unmerge(merge(W)) = W bit for bit, for any stacking order (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 6 }), (seed, mergeOrder, unmergeOrder) => {
        const model = mlp(seed);
        const before = snapshotWeights(model);
        for (const [i, name] of ['a', 'b', 'c'].entries()) attachAdapter(model, name, { r: 1 + i, alpha: 3, initLoraWeights: false }, { seed: seed + i });
        const x = randomInputs(3, 6, seed);
        for (const n of mergeOrder) mergeAdapter(model, n);
        for (const n of unmergeOrder) unmergeAdapter(model, n);
        // Unmerge whatever is still merged: every base weight must be back to its original bytes.
        for (const n of ['a', 'b', 'c']) unmergeAdapter(model, n);
        for (const [name, v] of model.weights) expect(sameBits(values(v), before.get(name)!)).toBe(true);
        for (const l of model.linears.values()) expect(l.merged).toEqual([]);
        x.dispose();
        model.dispose();
      }),
      { numRuns: 40 },
    );
  });

  it('the merged path equals the adapter path (checkMerge) and leaves the model as it was', () => {
    const model = mlp(4);
    attachAdapter(model, 'a', { r: 3, alpha: 6, initLoraWeights: false }, { seed: 5 });
    attachAdapter(model, 'b', { r: 2, alpha: 2, initLoraWeights: false, targetModules: ['fc2'] }, { seed: 6, activate: false });
    setActiveAdapters(model, ['a', 'b']);
    const x = randomInputs(16, 6, 1);
    const before = logitsOf(model, x);
    const weights = snapshotWeights(model);
    const delta = checkMerge(model, x);
    expect(delta).toBeLessThan(1e-5 * Math.max(1, maxAbs(before)));
    expect(sameBits(logitsOf(model, x), before)).toBe(true);
    for (const [name, v] of model.weights) expect(sameBits(values(v), weights.get(name)!)).toBe(true);
    // A merged adapter is skipped in the forward pass: merged output = adapter output.
    mergeAdapter(model, 'a');
    expect(maxAbsDiff(logitsOf(model, x), before)).toBeLessThan(1e-4);
    expect(model.linears.get('fc1')!.merged).toEqual(['a']);
    expect(trainableVariables(model).some((v) => v === model.linears.get('fc1')!.adapters.get('a')!.A)).toBe(false);
    unmergeAdapter(model, 'a');
    x.dispose();
    model.dispose();
  });

  it('unmerging an earlier merge re-applies the later ones exactly as merging them afresh', () => {
    const model = mlp(8);
    attachAdapter(model, 'a', { r: 2, initLoraWeights: false }, { seed: 1 });
    attachAdapter(model, 'b', { r: 2, initLoraWeights: false }, { seed: 2 });
    const w0 = values(model.linears.get('fc1')!.kernel);
    mergeAdapter(model, 'a');
    mergeAdapter(model, 'b');
    unmergeAdapter(model, 'a');
    const onlyB = values(model.linears.get('fc1')!.kernel);
    unmergeAdapter(model, 'b');
    expect(sameBits(values(model.linears.get('fc1')!.kernel), w0)).toBe(true);
    mergeAdapter(model, 'b');
    expect(sameBits(values(model.linears.get('fc1')!.kernel), onlyB)).toBe(true);
    // A kernel changed after the merge falls back to subtraction (PEFT's way): close, not exact.
    const k = model.linears.get('fc1')!.kernel;
    tf.tidy(() => k.assign(k.add(0.5)));
    unmergeAdapter(model, 'b');
    expect(maxAbsDiff(values(k), w0.map((v) => v + 0.5))).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('mergeAndUnload', () => {
  it('folds the update into the base for good: same outputs, no adapter left, a new base hash', () => {
    const model = mlp(12);
    const x = randomInputs(4, 6, 12);
    attachAdapter(model, 'a', { r: 2, initLoraWeights: false }, { seed: 3 });
    const tuned = logitsOf(model, x);
    const hash = baseModelHash(model);
    const start = tf.memory().numTensors;
    mergeAndUnload(model, 'a');
    expect(baseModelHash(model)).not.toBe(hash);
    expect(tf.memory().numTensors).toBe(start - 4);
    expect(listAdapters(model)).toEqual([]);
    expect(maxAbsDiff(logitsOf(model, x), tuned)).toBeLessThan(1e-5);
    for (const l of model.linears.values()) expect([l.adapters.size, l.merged.length, l.active.length]).toEqual([0, 0, 0]);
    attachAdapter(model, 'b', { modulesToSave: ['fc2'], targetModules: ['fc1'] }, { seed: 1 });
    expect(() => mergeAndUnload(model, 'b')).toThrow(/modules_to_save/);
    x.dispose();
    model.dispose();
  });
});

describe('mergeAndUnload of a merged adapter (PEFT keeps the merged weights)', () => {
  const kernels = (model: ReturnType<typeof mlp>) => [...model.linears.values()].map((l) => values(l.kernel));
  const twoAdapters = () => {
    const model = mlp(5);
    attachAdapter(model, 'a', { r: 2, initLoraWeights: false }, { seed: 3 });
    attachAdapter(model, 'b', { r: 2, initLoraWeights: false }, { seed: 4 });
    setActiveAdapters(model, ['a', 'b']);
    return model;
  };

  it('merged alone: bit-identical to mergeAndUnload of the unmerged adapter', () => {
    const [once, afterMerge] = [mlp(7), mlp(7)];
    for (const m of [once, afterMerge]) attachAdapter(m, 'a', { r: 3, initLoraWeights: false }, { seed: 2 });
    mergeAndUnload(once, 'a');
    mergeAdapter(afterMerge, 'a');
    mergeAndUnload(afterMerge, 'a');
    kernels(once).forEach((k, i) => expect(sameBits(kernels(afterMerge)[i]!, k)).toBe(true));
    expect(listAdapters(afterMerge)).toEqual([]);
    for (const l of afterMerge.linears.values()) expect([l.adapters.size, l.merged.length, l.active.length]).toEqual([0, 0, 0]);
    once.dispose();
    afterMerge.dispose();
  });

  it('another adapter merged after it still unmerges exactly; one merged before it unmerges by subtraction', () => {
    // Reference: W0 + s·A·B of adapter a only, folded while b was never merged.
    const reference = twoAdapters();
    mergeAndUnload(reference, 'a');
    const expected = kernels(reference);
    reference.dispose();

    const later = twoAdapters();
    mergeAdapter(later, 'a');
    mergeAdapter(later, 'b');
    mergeAndUnload(later, 'a');
    expect(listAdapters(later)).toEqual(['b']);
    unmergeAdapter(later, 'b');
    kernels(later).forEach((k, i) => expect(sameBits(k, expected[i]!)).toBe(true));
    later.dispose();

    const earlier = twoAdapters();
    mergeAdapter(earlier, 'b');
    mergeAdapter(earlier, 'a');
    mergeAndUnload(earlier, 'a');
    unmergeAdapter(earlier, 'b');
    kernels(earlier).forEach((k, i) => expect(maxAbsDiff(k, expected[i]!)).toBeLessThan(1e-5));
    earlier.dispose();
  });
});

describe('PiSSA and OLoRA', () => {
  for (const init of ['pissa', 'olora'] as const) {
    it(`${init}: the output is unchanged at step 0, W is replaced by its residual, and A·B carries W's top directions`, () => {
      for (const [inputSize, hidden] of [[6, 5], [4, 9]] as const) {
        const model = createMlp({ inputSize, hiddenSizes: [hidden], numClasses: 3, seed: 2 });
        const x = randomInputs(8, inputSize, 3);
        const base = logitsOf(model, x);
        const w = values(model.linears.get('fc1')!.kernel);
        attachAdapter(model, 'p', { r: 2, alpha: 4, initLoraWeights: init }, { seed: 1 });
        expect(maxAbsDiff(logitsOf(model, x), base)).toBeLessThan(1e-4);
        const fc1 = model.linears.get('fc1')!;
        const lora = fc1.adapters.get('p')!;
        const AB = matmul64(values(lora.A), values(lora.B), inputSize, 2, hidden);
        const residual = values(fc1.kernel);
        // Independent check: W_res + s·A·B = W.
        expect(maxAbsDiff(residual.map((v, i) => v + lora.scale * AB[i]!), w)).toBeLessThan(1e-5);
        expect(maxAbsDiff(residual, w)).toBeGreaterThan(0.01);
        // Deleting a PiSSA/OLoRA adapter gives the original kernel back, bit for bit.
        const fc2Original = values(model.linears.get('fc2')!.kernel);
        attachAdapter(model, 'q', { r: 1, targetModules: ['fc2'], initLoraWeights: init }, { seed: 1, activate: false });
        expect(sameBits(values(model.linears.get('fc2')!.kernel), fc2Original)).toBe(false);
        deleteAdapter(model, 'q');
        expect(sameBits(values(model.linears.get('fc2')!.kernel), fc2Original)).toBe(true);
        if (init === 'pissa') {
          // s·A·B is the best rank-2 approximation: the residual's norm² = the sum of the remaining singular values², which
          // is the smallest any rank-2 update can leave — check against a power-iteration estimate of the top two.
          const frob = (m: ArrayLike<number>) => Array.from(m).reduce((s, v) => s + v * v, 0);
          const top = topSingularValues(w, inputSize, hidden, 2);
          expect(frob(residual)).toBeCloseTo(frob(w) - top[0]! ** 2 - top[1]! ** 2, 4);
        }
        x.dispose();
        model.dispose();
      }
    });
  }
});

/** Top-k singular values by power iteration with deflation on WᵀW (float64), independent of ml-matrix. */
function topSingularValues(w: Float32Array, n: number, m: number, k: number): number[] {
  const gram = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[i * m + a]! * w[i * m + b]!;
    gram[a * m + b] = s;
  }
  const out: number[] = [];
  for (let t = 0; t < k; t++) {
    let v = Float64Array.from({ length: m }, (_, i) => 1 + i * 0.37);
    let lambda = 0;
    for (let it = 0; it < 5000; it++) {
      const u = new Float64Array(m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) u[a]! += gram[a * m + b]! * v[b]!;
      const norm = Math.hypot(...u);
      lambda = norm;
      v = u.map((x) => x / norm);
    }
    out.push(Math.sqrt(lambda));
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) gram[a * m + b]! -= lambda * v[a]! * v[b]!;
  }
  return out;
}

describe('logistic regression target', () => {
  it('an adapter on the single linear module changes logits by exactly s·x·A·B', () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1, initStd: 0.5 });
    const x = randomInputs(3, 4, 2);
    const base = logitsOf(model, x);
    attachAdapter(model, 'a', { r: 2, alpha: 3, initLoraWeights: false }, { seed: 4 });
    const lora = model.linears.get('linear')!.adapters.get('a')!;
    const update = matmul64(matmul64(values(x), values(lora.A), 3, 4, 2), values(lora.B), 3, 2, 3);
    expect(maxAbsDiff(logitsOf(model, x), base.map((v, i) => v + 1.5 * update[i]!))).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });
});
