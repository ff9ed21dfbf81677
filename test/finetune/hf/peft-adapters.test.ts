import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import {
  computeLogits,
  decodeSafetensors,
  initBackend,
  loadAdapter,
  loadAdapterFromDir,
  loadPretrained,
  saveAdapterToDir,
  saveMergedPretrained,
  type PeftAdapterFiles,
} from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, maxAbsDiff, readLogitsFixture } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'provenant-hf-peft-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const peftFiles = (arch: string): PeftAdapterFiles => ({
  config: JSON.parse(readFileSync(join(SHARED_FIXTURES, arch, 'lora', 'adapter_config.json'), 'utf8')),
  safetensors: new Uint8Array(readFileSync(join(SHARED_FIXTURES, arch, 'lora', 'adapter_model.safetensors'))),
});

function expectCode(f: () => unknown, code: string, pattern?: RegExp): void {
  try {
    f();
  } catch (error) {
    expect(isProvenantError(error) && error.code).toBe(code);
    if (pattern) expect(`${(error as Error).message}\n${JSON.stringify((error as { metaMessages?: string[] }).metaMessages)}`).toMatch(pattern);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('PEFT adapters on Hugging Face models', () => {
  for (const arch of ['gpt2', 'llama', 'bert']) {
    it(`${arch}: a PEFT adapter reproduces PEFT's logits, and saving writes PEFT's layout back`, async () => {
      const model = await loadPretrained(join(SHARED_FIXTURES, arch));
      await loadAdapterFromDir(model, 'default', join(SHARED_FIXTURES, arch, 'lora'));
      const fx = readLogitsFixture(join(SHARED_FIXTURES, arch, 'lora', 'logits.json'));
      const inputs = { inputIds: fx.input_ids, attentionMask: fx.attention_mask, tokenTypeIds: fx.token_type_ids };
      const out = computeLogits(model, inputs);
      const err = maxAbsDiff(out.data, fx.logits);
      console.log(`${arch} lora max abs error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
      // The base fixture differs from the adapted one: the adapter really is applied.
      expect(maxAbsDiff(out.data, readLogitsFixture(join(SHARED_FIXTURES, arch, 'logits.json')).logits)).toBeGreaterThan(1e-3);

      const dir = join(tmp, arch);
      await saveAdapterToDir(model, 'default', dir);
      const original = peftFiles(arch);
      const saved = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      for (const key of Object.keys(original.config)) expect(saved, key).toHaveProperty(key);
      for (const key of ['fan_in_fan_out', 'task_type', 'r', 'lora_alpha', 'modules_to_save', 'peft_type', 'use_rslora']) expect(saved[key], key).toEqual(original.config[key]);
      const ours = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'adapter_model.safetensors')))).tensors;
      const theirs = decodeSafetensors(original.safetensors).tensors;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      for (const [k, t] of Object.entries(theirs)) {
        expect(ours[k]!.shape, k).toEqual(t.shape);
        expect(maxAbsDiff(ours[k]!.data as Float32Array, t.data as Float32Array), k).toBe(0);
      }
      // And the saved folder loads onto a fresh base with the same logits.
      const fresh = await loadPretrained(join(SHARED_FIXTURES, arch));
      await loadAdapterFromDir(fresh, 'default', dir);
      expect(maxAbsDiff(computeLogits(fresh, inputs).data, out.data)).toBe(0);
      fresh.dispose();

      // Merged export: a plain Hugging Face folder whose logits are the adapted model's (PEFT's merge_and_unload).
      const merged = join(tmp, `${arch}-merged`);
      await saveMergedPretrained(model, merged);
      const reloaded = await loadPretrained(merged);
      const mergedErr = maxAbsDiff(computeLogits(reloaded, inputs).data, fx.logits);
      console.log(`${arch} merged max abs error ${mergedErr.toExponential(2)}`);
      expect(mergedErr).toBeLessThan(1e-4);
      expect(JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8')).architectures).toEqual([model.config.className]);
      // The model in memory still carries its unmerged adapter.
      expect([...model.linears.values()].some((l) => l.adapters.size > 0 && l.merged.length === 0)).toBe(true);
      reloaded.dispose();
      model.dispose();
    });
  }

  it('refuses adapters that would compute something else, naming the key or tensor', async () => {
    const model = await loadPretrained(join(SHARED_FIXTURES, 'llama'));
    const files = peftFiles('llama');
    for (const [key, value] of [
      ['use_dora', true],
      ['lora_bias', true],
      ['use_qalora', true],
      ['layer_replication', [[0, 1]]],
      ['megatron_config', { tensor_model_parallel_size: 2 }],
      ['loftq_config', { loftq_bits: 4 }],
      ['target_parameters', ['mlp.experts.gate_up_proj']],
      ['trainable_token_indices', [1, 2]],
      ['init_lora_weights', 'corda'],
    ] as const) {
      expectCode(() => loadAdapter(model, 'a', { ...files, config: { ...files.config, [key]: value } }), 'ADAPTER_UNSUPPORTED', new RegExp(key));
    }
    for (const alpha of [1e308, Number.POSITIVE_INFINITY, Number.NaN, -8]) {
      expectCode(() => loadAdapter(model, 'a', { ...files, config: { ...files.config, lora_alpha: alpha } }), 'LORA_CONFIG_INVALID', /alpha/);
    }
    // A NaN and an Inf weight, each named.
    const bytes = Uint8Array.from(files.safetensors);
    const { tensors } = decodeSafetensors(bytes);
    const { encodeSafetensors } = await import('../../../src/finetune/index.js');
    const a = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    const b = 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight';
    (tensors[a]!.data as Float32Array)[3] = Number.NaN;
    (tensors[b]!.data as Float32Array)[0] = Number.POSITIVE_INFINITY;
    const poisoned = encodeSafetensors(tensors, { format: 'pt' });
    expectCode(() => loadAdapter(model, 'a', { config: files.config, safetensors: poisoned }), 'ADAPTER_WEIGHTS_INVALID', /q_proj\.lora_A[\s\S]*v_proj\.lora_B|v_proj\.lora_B[\s\S]*q_proj\.lora_A/);
    // Nothing was attached by the refused loads.
    expect([...model.linears.values()].every((l) => l.adapters.size === 0)).toBe(true);
    model.dispose();
  });
});
