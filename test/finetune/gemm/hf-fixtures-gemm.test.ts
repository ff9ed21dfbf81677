/**
 * The Hugging Face models with their linear layers and attention on the float32 WebAssembly product (setLinearGemm)
 * still equal transformers' logits. The fixture batches are repeated so that B·T reaches GEMM_MIN_ROWS (the kernel is
 * used from there on); each repeat must reproduce the fixture's rows.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeLogits, createGemmF32, GEMM_MIN_ROWS, initBackend, loadPretrained, setLinearGemm } from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, maxAbsDiff, readLogitsFixture } from '../hf/fixtures.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('Hugging Face models on the float32 WebAssembly product', () => {
  for (const arch of ['gpt2', 'llama', 'bert']) {
    it(`${arch}: logits equal transformers' within 1e-4`, async () => {
      const model = await loadPretrained(join(SHARED_FIXTURES, arch));
      const fx = readLogitsFixture(join(SHARED_FIXTURES, arch, 'logits.json'));
      const tokens = fx.input_ids.length * fx.input_ids[0]!.length;
      const copies = Math.ceil(GEMM_MIN_ROWS / tokens);
      const repeat = <T,>(rows: T[] | undefined): T[] | undefined => rows && Array.from({ length: copies }, () => rows).flat();
      const gemm = createGemmF32();
      let calls = 0;
      setLinearGemm(model, { ...gemm, product: (a, b, bias, into) => (calls++, gemm.product(a, b, bias, into)) });
      const out = computeLogits(model, { inputIds: repeat(fx.input_ids)!, attentionMask: repeat(fx.attention_mask), tokenTypeIds: repeat(fx.token_type_ids) });
      setLinearGemm(model, undefined);
      gemm.dispose();
      expect(calls).toBeGreaterThan(0);
      expect(out.shape).toEqual([fx.logits_shape[0]! * copies, ...fx.logits_shape.slice(1)]);
      const size = fx.logits.length;
      for (let c = 0; c < copies; c++) expect(maxAbsDiff(out.data.subarray(c * size, (c + 1) * size), fx.logits)).toBeLessThan(1e-4);
      model.dispose();
    });
  }
});
