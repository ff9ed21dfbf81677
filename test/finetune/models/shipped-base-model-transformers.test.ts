/**
 * transformers (Python) loads the shipped base model: `AutoModelForCausalLM` and `AutoTokenizer` read models/base, give
 * the character tokenizer's ids and Provenant's logits over the whole context. Needs the reference environment
 * (`python3 -m venv .venv-ref && .venv-ref/bin/pip install torch transformers safetensors tokenizers`); skipped with a
 * message without it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseModelDirectory, createCharTokenizer, initBackend, loadBaseModel, readBaseModelConfig, tf } from '../../../src/finetune/index.js';

const PYTHON = resolve(__dirname, '../../../.venv-ref/bin/python');
const available = existsSync(PYTHON);
if (!available) console.warn('[shipped-base-model-transformers] .venv-ref not found: skipped (see the file header to create it).');

const SCRIPT = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
d, text = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(d)
model = AutoModelForCausalLM.from_pretrained(d).eval()
ids = tok(text, add_special_tokens=False)["input_ids"][: model.config.n_positions]
with torch.no_grad():
    logits = model(torch.tensor([ids])).logits[0]
print(json.dumps({"ids": ids, "n_positions": model.config.n_positions, "logits": logits.flatten().tolist()}))
`;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe.runIf(available)('transformers loads models/base', () => {
  it('AutoTokenizer gives the character ids and AutoModelForCausalLM our logits over the whole context (1e-4)', async () => {
    const dir = await baseModelDirectory();
    const config = await readBaseModelConfig();
    const text = 'Subject: Re: the meeting\n\nThe ship left the harbour before dawn, and the men on the deck watched the lights of the town grow small. '.repeat(3);
    const out = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, dir, text], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })) as { ids: number[]; n_positions: number; logits: number[] };
    expect(out.n_positions).toBe(config.config.maxSeqLen);
    const ids = createCharTokenizer().encode(text).slice(0, config.config.maxSeqLen);
    expect(out.ids).toEqual(ids);
    const model = await loadBaseModel();
    const ours = tf.tidy(() => model.forwardLm(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync());
    model.dispose();
    expect(ours.length).toBe(out.logits.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - out.logits[i]!));
    expect(worst).toBeLessThan(1e-4);
    expect(join(dir)).toContain(join('models', 'base'));
  }, 180_000);
});
