/**
 * Every config.json Provenant writes names the dtype its weights are stored in, under both keys transformers reads
 * (`dtype` from 5.x, `torch_dtype` in 4.x), equal — whatever the source config said. A BF16 export of a source whose
 * config said `"dtype": "float32"` used to keep that key beside `"torch_dtype": "bfloat16"`, and transformers 5 loaded it
 * as float32 (the loading side is checked in Python by test/finetune/peft-python-check.test.ts). The weights' dtype is
 * read from the safetensors header here, by hand (8-byte little-endian length, then JSON), not through our decoder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAR_VOCAB_SIZE, createTransformer, initBackend, loadPretrained, saveBaseModel, saveMergedPretrained } from '../../../src/finetune/index.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/hf');
const TORCH = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;
const tmp = mkdtempSync(join(tmpdir(), 'provenant-export-dtype-'));
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The distinct tensor dtypes in a safetensors file's header. */
function storedDtypes(file: string): string[] {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype?: string }>;
  return [...new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype!))];
}

const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

describe('exported config.json names the weights dtype', () => {
  // llama-mqa's config has transformers 5's "dtype": "float32"; bert-bf16's "dtype": "bfloat16" (weights BF16).
  for (const source of ['llama-mqa', 'bert-bf16']) {
    it(`${source}: saveMergedPretrained as F32, F16 and BF16 writes dtype = torch_dtype = the stored dtype`, async () => {
      const model = await loadPretrained(join(FIXTURES, source));
      for (const dtype of ['F32', 'F16', 'BF16'] as const) {
        const dir = join(tmp, `${source}-${dtype}`);
        await saveMergedPretrained(model, dir, { dtype });
        expect(storedDtypes(join(dir, 'model.safetensors')), dtype).toEqual([dtype]);
        const c = config(dir);
        expect({ dtype: c.dtype, torch_dtype: c.torch_dtype }, dtype).toEqual({ dtype: TORCH[dtype], torch_dtype: TORCH[dtype] });
      }
      model.dispose();
    });
  }

  it('saveBaseModel (F32 weights) writes dtype = torch_dtype = float32', async () => {
    const model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 8, mlpHidden: 16, seed: 5 });
    const dir = join(tmp, 'base');
    await saveBaseModel(model, dir, { name: 'dtype-test' });
    expect(storedDtypes(join(dir, 'model.safetensors'))).toEqual(['F32']);
    const c = config(dir);
    expect({ dtype: c.dtype, torch_dtype: c.torch_dtype }).toEqual({ dtype: 'float32', torch_dtype: 'float32' });
    model.dispose();
  });
});
