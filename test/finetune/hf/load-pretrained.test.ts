import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeLogits, initBackend, loadPretrained } from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, maxAbsDiff, readLogitsFixture } from './fixtures.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('loadPretrained + computeLogits on transformers fixtures', () => {
  for (const arch of ['gpt2', 'llama', 'bert']) {
    it(`${arch}: logits equal transformers' within 1e-4`, async () => {
      const model = await loadPretrained(join(SHARED_FIXTURES, arch));
      const fx = readLogitsFixture(join(SHARED_FIXTURES, arch, 'logits.json'));
      const out = computeLogits(model, { inputIds: fx.input_ids, attentionMask: fx.attention_mask, tokenTypeIds: fx.token_type_ids });
      expect(out.shape).toEqual(fx.logits_shape);
      const err = maxAbsDiff(out.data, fx.logits);
      console.log(`${arch} base max abs error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
      model.dispose();
    });
  }
});
