/**
 * Provenant's PEFT files read by an independent implementation: test/fixtures/finetune/peft-mlp-adapter/ was written by
 * `saveAdapterToDir`, then read by check-peft-mlp-adapter.py (its own safetensors parser, PEFT's key and scaling
 * conventions, PyTorch float64), which wrote the adapter model's logits to torch-logits.json. Here: the writer still
 * produces those exact bytes, and loading them gives PyTorch's logits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMlp, loadAdapterFromDir, saveAdapter, tf } from '../../../src/finetune/index.js';
import { logitsOf, maxAbsDiff } from '../lora/helpers.js';
import { buildFixtureModel, FIXTURE_INPUTS } from './peft-fixture-model.js';

const dir = fileURLToPath(new URL('../../fixtures/finetune/peft-mlp-adapter/', import.meta.url));
const read = (name: string) => readFileSync(`${dir}${name}`);

describe('PEFT files against an independent Python reader', () => {
  it('the writer reproduces the fixture byte for byte', () => {
    const model = buildFixtureModel();
    const files = saveAdapter(model, 'default', { taskType: 'SEQ_CLS', baseModelNameOrPath: 'provenant/test-mlp' });
    expect(Buffer.from(files.safetensors).equals(read('adapter_model.safetensors'))).toBe(true);
    expect(files.config).toEqual(JSON.parse(read('adapter_config.json').toString('utf8')));
    model.dispose();
  });

  it("loading the fixture onto its base gives PyTorch's logits", async () => {
    const base = JSON.parse(read('base.json').toString('utf8')) as Record<string, { weight: number[]; bias: number[] }> & { x: number[] };
    const model = createMlp({ inputSize: 6, hiddenSizes: [5, 4], numClasses: 3, seed: 0 });
    for (const m of ['fc1', 'fc2', 'fc3']) {
      const linear = model.linears.get(m)!;
      tf.tidy(() => {
        linear.kernel.assign(tf.tensor2d(base[m]!.weight, [linear.outFeatures, linear.inFeatures]).transpose());
        linear.bias!.assign(tf.tensor1d(base[m]!.bias));
      });
    }
    await loadAdapterFromDir(model, 'default', dir);
    const x = tf.tensor2d(FIXTURE_INPUTS, [4, 6]);
    const torchLogits = (JSON.parse(read('torch-logits.json').toString('utf8')) as { logits: number[] }).logits;
    expect(base.x).toEqual(FIXTURE_INPUTS);
    expect(maxAbsDiff(logitsOf(model, x), torchLogits)).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });
});
