import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/core/index.js';
import {
  CHAR_VOCAB_SIZE,
  createTransformer,
  decodeSafetensors,
  encodeSafetensors,
  initBackend,
  loadBaseModel,
  loadModelState,
  modelStateTensors,
  readBaseModelConfig,
  saveBaseModel,
  tf,
} from '../../../src/finetune/index.js';

const dir = mkdtempSync(join(tmpdir(), 'provenant-base-'));
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = { vocabSize: CHAR_VOCAB_SIZE, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 8, mlpHidden: 16, seed: 5 };

describe('base model save and load', () => {
  it('round-trips weights exactly and records the sha256 of the weights file', async () => {
    const model = createTransformer(config);
    const written = await saveBaseModel(model, dir, { name: 'test', heldOut: { perplexity: 1 } });
    const bytes = readFileSync(join(dir, written.weightsFile));
    expect(written.weightsSha256).toBe(sha256(new Uint8Array(bytes)));
    expect((await readBaseModelConfig(dir)).parameters).toBe(written.parameters);
    const loaded = await loadBaseModel({ directory: dir });
    for (const [name, v] of model.weights) expect(Array.from(loaded.weights.get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
    const ids = tf.tensor2d([[5, 6, 7]], [1, 3], 'int32');
    const [a, b] = tf.tidy(() => [model.forwardLm(ids), loaded.forwardLm(ids)]);
    expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
    tf.dispose([ids, a!, b!]);
    model.dispose();
    loaded.dispose();
  });

  it('refuses a modified weights file (hash) and mismatched tensors (strict keys and shapes)', async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const tampered = bytes.slice();
    tampered[tampered.length - 1] ^= 1;
    const other = mkdtempSync(join(tmpdir(), 'provenant-base-'));
    writeFileSync(join(other, 'model.safetensors'), tampered);
    // Every file but the weights copied as saved (config.json, tokenizer files and the provenant.json record).
    for (const name of readdirSync(dir)) if (name !== 'model.safetensors') writeFileSync(join(other, name), readFileSync(join(dir, name)));
    await expect(loadBaseModel({ directory: other })).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    rmSync(other, { recursive: true, force: true });

    const model = createTransformer(config);
    const tensors = modelStateTensors(model);
    delete tensors['ln_f.bias'];
    tensors['extra.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    tensors['lm_head.weight'] = { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) };
    let error: { code?: string; metaMessages?: string[] } = {};
    try {
      loadModelState(model, decodeSafetensors(encodeSafetensors(tensors)).tensors);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('CHECKPOINT_INVALID');
    expect(error.metaMessages).toEqual(expect.arrayContaining(['missing: ln_f.bias', 'unexpected: extra.weight', expect.stringMatching(/^shape: lm_head.weight/)]));
    model.dispose();
  });
});
