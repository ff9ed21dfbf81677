import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../../src/core/index.js';
import { decodeSafetensors, encodeSafetensors, initBackend, loadPretrained, tf } from '../../../src/finetune/index.js';
import { SHARED_FIXTURES } from './fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'provenant-hf-errors-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function expectCode(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isProvenantError(error) && error.code).toBe(code);
    const text = `${(error as Error).message}\n${((error as { metaMessages?: string[] }).metaMessages ?? []).join('\n')}`;
    for (const p of patterns) expect(text).toMatch(p);
    return;
  }
  throw new Error(`expected ${code}`);
}

function copyOf(arch: string, name: string): string {
  const dir = join(tmp, name);
  cpSync(join(SHARED_FIXTURES, arch), dir, { recursive: true });
  return dir;
}

describe('loadPretrained refuses what it cannot load faithfully, naming every offender', () => {
  it('a hub id is not downloaded; a missing folder is named', async () => {
    await expectCode(loadPretrained('gpt2'), 'PRETRAINED_NOT_FOUND', /never downloads/, /local folder/);
    await expectCode(loadPretrained('meta-llama/Llama-3.2-1B'), 'PRETRAINED_NOT_FOUND', /never downloads/);
    await expectCode(loadPretrained(join(tmp, 'nope')), 'PRETRAINED_NOT_FOUND');
  });

  it('unknown model_type, and unimplemented config fields listed together', async () => {
    const a = copyOf('llama', 'unknown-type');
    const config = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
    writeFileSync(join(a, 'config.json'), JSON.stringify({ ...config, model_type: 'falcon' }));
    await expectCode(loadPretrained(a), 'PRETRAINED_CONFIG_UNSUPPORTED', /falcon/);
    const b = copyOf('llama', 'scaled-rope');
    writeFileSync(join(b, 'config.json'), JSON.stringify({ ...config, rope_scaling: { rope_type: 'yarn', factor: 4 }, hidden_act: 'gelu' }));
    await expectCode(loadPretrained(b), 'PRETRAINED_CONFIG_UNSUPPORTED', /rope_scaling/, /hidden_act/);
  });

  it('a checkpoint header with an offset written 0.0 or a tensor named twice is refused, as decodeSafetensors refuses it (shared/cases kind)', async () => {
    // The header text rewritten by hand: JSON.parse reads "0.0" as 0 and keeps the last of two equal keys.
    const rewrite = (name: string, edit: (header: string) => string): string => {
      const dir = copyOf('gpt2', name);
      const bytes = readFileSync(join(dir, 'model.safetensors'));
      const length = Number(bytes.readBigUInt64LE(0));
      const header = Buffer.from(edit(bytes.subarray(8, 8 + length).toString('utf8')), 'utf8');
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(header.length));
      writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([prefix, header, bytes.subarray(8 + length)]));
      return dir;
    };
    const float = rewrite('float-offset', (h) => h.replace(/"data_offsets":\[0,/, '"data_offsets":[0.0,'));
    await expectCode(loadPretrained(float), 'SAFETENSORS_INVALID', /"0\.0" is not a JSON integer/, /model\.safetensors/);
    const twice = rewrite('duplicate-key', (h) => {
      const first = /"([^"]+)":(\{[^}]*\})/.exec(h.slice(1))!;
      return `{"${first[1]}":${first[2]},${h.slice(1)}`;
    });
    await expectCode(loadPretrained(twice), 'SAFETENSORS_INVALID', /twice/);
  });

  it('missing, unexpected and mis-shaped tensors in one error; nothing is left allocated', async () => {
    const dir = copyOf('llama', 'bad-tensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    delete tensors['model.layers.1.mlp.up_proj.weight'];
    tensors['model.layers.0.self_attn.q_proj.weight'] = { dtype: 'F32', shape: [31, 32], data: new Float32Array(31 * 32) };
    tensors['model.layers.0.self_attn.q_proj.lora_A.weight'] = { dtype: 'F32', shape: [4, 32], data: new Float32Array(128) };
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, metadata));
    const before = tf.memory().numTensors;
    await expectCode(loadPretrained(dir), 'PRETRAINED_WEIGHTS_MISMATCH', /missing: model\.layers\.1\.mlp\.up_proj\.weight/, /shape: model\.layers\.0\.self_attn\.q_proj\.weight is \[31, 32\]/, /unexpected: model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('numLabels on a causal-LM checkpoint builds a seeded new head and leaves the LM head out', async () => {
    const a = await loadPretrained(join(SHARED_FIXTURES, 'llama'), { numLabels: 4, seed: 2 });
    const b = await loadPretrained(join(SHARED_FIXTURES, 'llama'), { numLabels: 4, seed: 2 });
    expect(a.config.className).toBe('LlamaForSequenceClassification');
    expect(a.ignoredTensors).toEqual(['lm_head.weight']);
    expect(a.initializedTensors).toEqual(['score.weight']);
    expect(Array.from(a.linears.get('score')!.kernel.dataSync())).toEqual(Array.from(b.linears.get('score')!.kernel.dataSync()));
    a.dispose();
    b.dispose();
  });
});
