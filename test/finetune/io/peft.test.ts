import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantErrorCode } from '../../../src/core/index.js';
import {
  adapterHash,
  attachAdapter,
  createMlp,
  decodeSafetensors,
  encodeSafetensors,
  getAdapterInfo,
  loadAdapter,
  loadAdapterFromDir,
  saveAdapter,
  saveAdapterToDir,
  tf,
  type PeftAdapterFiles,
  type SafetensorsTensor,
} from '../../../src/finetune/index.js';
import { logitsOf, matmul64, maxAbsDiff, randomInputs, sameBits, values } from '../lora/helpers.js';

const base = () => createMlp({ inputSize: 6, hiddenSizes: [5, 4], numClasses: 3, seed: 11 });

/** A trained-looking adapter: random A and B, a changed head copy, per-module rank. */
function tunedModel() {
  const model = base();
  attachAdapter(
    model,
    'default',
    { r: 3, alpha: 6, targetModules: ['fc1', 'fc2'], rankPattern: { fc2: 2 }, modulesToSave: ['fc3'], initLoraWeights: false, loraPlusLrRatio: 4 },
    { seed: 5 },
  );
  const head = model.linears.get('fc3')!;
  tf.tidy(() => {
    head.kernel.assign(head.kernel.mul(-2));
    head.bias!.assign(tf.tensor1d([0.5, -0.25, 1]));
  });
  return model;
}

function expectCode(fn: () => unknown, code: ProvenantErrorCode, pattern?: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(isProvenantError(error, code), String(error)).toBe(true);
    if (pattern) expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected ${code}`);
}

function editTensors(files: PeftAdapterFiles, edit: (t: Record<string, SafetensorsTensor>) => void): PeftAdapterFiles {
  const { tensors, metadata } = decodeSafetensors(files.safetensors);
  edit(tensors);
  return { config: files.config, safetensors: encodeSafetensors(tensors, metadata) };
}

describe('PEFT format', () => {
  it("writes PEFT's key names, layouts (lora_A [r, in] = Aᵀ, lora_B [out, r] = Bᵀ) and config fields", () => {
    const model = tunedModel();
    const { config, safetensors } = saveAdapter(model, 'default', { taskType: 'SEQ_CLS', baseModelNameOrPath: 'provenant/mlp' });
    const { tensors, metadata } = decodeSafetensors(safetensors);
    expect(Object.keys(tensors).sort()).toEqual([
      'base_model.model.fc1.lora_A.weight',
      'base_model.model.fc1.lora_B.weight',
      'base_model.model.fc2.lora_A.weight',
      'base_model.model.fc2.lora_B.weight',
      'base_model.model.fc3.bias',
      'base_model.model.fc3.weight',
    ]);
    expect(tensors['base_model.model.fc1.lora_A.weight']!.shape).toEqual([3, 6]);
    expect(tensors['base_model.model.fc1.lora_B.weight']!.shape).toEqual([5, 3]);
    expect(tensors['base_model.model.fc2.lora_A.weight']!.shape).toEqual([2, 5]);
    expect(tensors['base_model.model.fc3.weight']!.shape).toEqual([3, 4]);
    const A = values(model.linears.get('fc1')!.adapters.get('default')!.A); // [6, 3]
    const fileA = tensors['base_model.model.fc1.lora_A.weight']!.data as Float32Array; // [3, 6]
    for (let i = 0; i < 6; i++) for (let k = 0; k < 3; k++) expect(fileA[k * 6 + i]).toBe(A[i * 3 + k]);
    expect(metadata.format).toBe('pt');
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'SEQ_CLS', base_model_name_or_path: 'provenant/mlp', r: 3, lora_alpha: 6, lora_dropout: 0,
      target_modules: ['fc1', 'fc2'], use_rslora: false, init_lora_weights: false, rank_pattern: { fc2: 2 }, alpha_pattern: {},
      modules_to_save: ['fc3'], bias: 'none', use_dora: false, fan_in_fan_out: false,
    });
    model.dispose();
  });

  it('round trip: same logits bit for bit, same config, same adapter hash', () => {
    const model = tunedModel();
    const x = randomInputs(7, 6, 2);
    const tuned = logitsOf(model, x);
    const files = saveAdapter(model, 'default');
    const fresh = base();
    // Through JSON text, as from disk.
    loadAdapter(fresh, 'default', { config: JSON.parse(JSON.stringify(files.config)), safetensors: files.safetensors });
    expect(sameBits(logitsOf(fresh, x), tuned)).toBe(true);
    expect(getAdapterInfo(fresh, 'default').config).toEqual(getAdapterInfo(model, 'default').config);
    expect(adapterHash(fresh, 'default')).toBe(adapterHash(model, 'default'));
    // Saved again, the bytes are identical.
    expect(Buffer.from(saveAdapter(fresh, 'default').safetensors).equals(Buffer.from(files.safetensors))).toBe(true);
    x.dispose();
    model.dispose();
    fresh.dispose();
  });

  it('reads a PEFT adapter built by hand from the documented layout (independent of the writer)', () => {
    const model = base();
    const x = randomInputs(4, 6, 8);
    const baseLogits = logitsOf(model, x);
    // fc3 gets a rank-1 adapter: lora_A [1, 4], lora_B [3, 1], alpha 2 → scale 2.
    const loraA = new Float32Array([0.5, -1, 0.25, 2]);
    const loraB = new Float32Array([1, 0, -3]);
    const safetensors = encodeSafetensors(
      {
        'base_model.model.fc3.lora_A.weight': { dtype: 'F32', shape: [1, 4], data: loraA },
        'base_model.model.fc3.lora_B.weight': { dtype: 'F32', shape: [3, 1], data: loraB },
      },
      { format: 'pt' },
    );
    const config = {
      alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: null, bias: 'none', fan_in_fan_out: false, inference_mode: true,
      init_lora_weights: true, layer_replication: null, layers_pattern: null, layers_to_transform: null, loftq_config: {}, lora_alpha: 2,
      lora_dropout: 0.0, megatron_config: null, megatron_core: 'megatron.core', modules_to_save: null, peft_type: 'LORA', r: 1,
      rank_pattern: {}, revision: null, target_modules: ['fc3'], task_type: null, use_dora: false, use_rslora: false,
    };
    loadAdapter(model, 'hand', { config: config as never, safetensors });
    // Expected: logits + 2·(h·lora_Aᵀ)·lora_Bᵀ with h the fc3 input (ReLU of fc2), computed here in float64.
    const h = tf.tidy(() => {
      const fc1 = model.linears.get('fc1')!;
      const fc2 = model.linears.get('fc2')!;
      const h1 = tf.relu(tf.matMul(x, fc1.kernel).add(fc1.bias!));
      return values(tf.relu(tf.matMul(h1, fc2.kernel).add(fc2.bias!)));
    });
    const u = matmul64(h, loraA, 4, 4, 1);
    const update = matmul64(u, loraB, 4, 1, 3);
    expect(maxAbsDiff(logitsOf(model, x), baseLogits.map((v, i) => v + 2 * update[i]!))).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });

  it('F16 and BF16 files load (rounded to those formats), and say so in their dtype', () => {
    const model = tunedModel();
    const x = randomInputs(5, 6, 3);
    const tuned = logitsOf(model, x);
    for (const dtype of ['F16', 'BF16'] as const) {
      const files = saveAdapter(model, 'default', { dtype });
      expect(Object.values(decodeSafetensors(files.safetensors).tensors).every((t) => t.dtype === dtype)).toBe(true);
      const fresh = base();
      loadAdapter(fresh, 'default', files);
      const diff = maxAbsDiff(logitsOf(fresh, x), tuned);
      expect(diff).toBeGreaterThan(0);
      expect(diff).toBeLessThan(dtype === 'F16' ? 1e-2 : 1e-1);
      fresh.dispose();
    }
    x.dispose();
    model.dispose();
  });

  it('strict: missing, unexpected, wrong shape, wrong dtype, wrong base — each a typed error listing the offenders', () => {
    const model = tunedModel();
    const files = saveAdapter(model, 'default');
    const fresh = base();
    const missing = editTensors(files, (t) => {
      delete t['base_model.model.fc2.lora_B.weight'];
      delete t['base_model.model.fc3.bias'];
    });
    expectCode(() => loadAdapter(fresh, 'a', missing), 'ADAPTER_KEYS_MISSING', /missing: base_model\.model\.fc2\.lora_B\.weight[\s\S]*missing: base_model\.model\.fc3\.bias/);
    const extra = editTensors(files, (t) => {
      t['base_model.model.fc1.lora_embedding_A.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    });
    expectCode(() => loadAdapter(fresh, 'a', extra), 'ADAPTER_KEYS_UNEXPECTED', /unexpected: base_model\.model\.fc1\.lora_embedding_A\.weight/);
    const wrongRank = { ...files, config: { ...files.config, rank_pattern: {} } };
    expectCode(() => loadAdapter(fresh, 'a', wrongRank), 'LORA_SHAPE_MISMATCH', /fc2\.lora_A\.weight: file \[2, 5\], model needs \[3, 5\]/);
    const ints = editTensors(files, (t) => {
      const old = t['base_model.model.fc1.lora_A.weight']!;
      t['base_model.model.fc1.lora_A.weight'] = { dtype: 'I32', shape: old.shape, data: new Int32Array(old.data.length) };
    });
    expectCode(() => loadAdapter(fresh, 'a', ints), 'ADAPTER_DTYPE_MISMATCH', /fc1\.lora_A\.weight: I32/);
    const other = createMlp({ inputSize: 6, hiddenSizes: [5, 4], numClasses: 3, seed: 12 });
    expectCode(() => loadAdapter(other, 'a', files), 'ADAPTER_BASE_MISMATCH');
    loadAdapter(other, 'a', files, { verifyBaseModel: false });
    expectCode(() => loadAdapter(fresh, 'a', { ...files, config: { ...files.config, use_dora: true } }), 'ADAPTER_UNSUPPORTED', /use_dora/);
    expectCode(() => loadAdapter(fresh, 'a', { ...files, config: { ...files.config, target_modules: ['q_proj'] } }), 'LORA_TARGET_NOT_FOUND');
    // Nothing was attached by the failed loads.
    expect(fresh.linears.get('fc1')!.adapters.size).toBe(0);
    other.dispose();
    fresh.dispose();
    model.dispose();
  });

  for (const [init, useRslora] of [['pissa', false], ['olora', true]] as const) {
    it(`a tuned ${init} adapter${useRslora ? ' (rsLoRA)' : ''} saved with convertToLora loads onto the original base with the same outputs`, () => {
      const model = base();
      const x = randomInputs(6, 6, 4);
      attachAdapter(model, 'p', { r: 2, alpha: 3, useRslora, targetModules: ['fc1', 'fc2'], rankPattern: { fc2: 1 }, initLoraWeights: init }, { seed: 1 });
      for (const m of ['fc1', 'fc2']) {
        const { A, B } = model.linears.get(m)!.adapters.get('p')!;
        tf.tidy(() => {
          A.assign(A.add(tf.randomNormal(A.shape, 0, 0.1, 'float32', 5)));
          B.assign(B.add(tf.randomNormal(B.shape, 0, 0.1, 'float32', 6)));
        });
      }
      const tuned = logitsOf(model, x);
      // As saved by default, the adapter needs the residual base: the original base refuses it.
      const original = base();
      expectCode(() => loadAdapter(original, 'p', saveAdapter(model, 'p')), 'ADAPTER_BASE_MISMATCH');
      const files = saveAdapter(model, 'p', { convertToLora: true });
      expect(files.config).toMatchObject({ r: 4, rank_pattern: { fc2: 2 }, init_lora_weights: true });
      loadAdapter(original, 'p', files);
      expect(maxAbsDiff(logitsOf(original, x), tuned)).toBeLessThan(1e-4);
      expect(original.linears.get('fc1')!.adapters.get('p')!.scale).toBeCloseTo(model.linears.get('fc1')!.adapters.get('p')!.scale, 12);
      x.dispose();
      model.dispose();
      original.dispose();
    });
  }

  it('saveAdapterToDir / loadAdapterFromDir write and read the two PEFT files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provenant-peft-'));
    try {
      const model = tunedModel();
      await saveAdapterToDir(model, 'default', dir, { taskType: 'SEQ_CLS' });
      expect((await readdir(dir)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      expect(JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')).peft_type).toBe('LORA');
      const fresh = base();
      await loadAdapterFromDir(fresh, 'loaded', dir);
      expect(adapterHash(fresh, 'loaded')).toBe(adapterHash(model, 'default'));
      model.dispose();
      fresh.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
