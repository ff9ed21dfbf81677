/**
 * The last Hugging Face option objects that took unknown keys silently — `saveMergedPretrained`, the example
 * preparations and the tokenizer's `encode` / `decode` / `applyChatTemplate` — now refuse a typo with the nearest name
 * and the function, through their parameter tables (as api-errors.test.ts checks for generate and loadPretrained). Each
 * typo below ran the default before: `{ dtyp: 'BF16' }` wrote float32, `{ add_eos: false }` appended EOS,
 * `{ maxLenght: 4 }` kept every token, `{ add_special_tokens: false }` added them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  initBackend,
  loadPretrained,
  prepareCausalLmExamples,
  prepareClassificationExamples,
  resolveCausalLmOptions,
  saveMergedPretrained,
  type PretrainedModel,
} from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, caught } from './fixtures.js';

const TINY_CHAT = join(SHARED_FIXTURES, '..', 'hf', 'tiny-chat');
const tmp = mkdtempSync(join(tmpdir(), 'provenant-hf-opts-'));
let chat: PretrainedModel;
let bert: PretrainedModel;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  chat = await loadPretrained(TINY_CHAT);
  bert = await loadPretrained(join(SHARED_FIXTURES, 'bert')); // a 3-class head
});
afterAll(() => {
  chat?.dispose();
  bert?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** A typo is refused: the function named in the message, the nearest field suggested, the key listed as unknown. */
async function refused(run: () => unknown, code: string, fn: string, typo: string, nearest: string): Promise<void> {
  const { error, text } = await caught(run, code);
  expect(error.message).toContain(`Invalid ${fn} options: ${typo}.`);
  expect(text).toContain(`${typo}: unknown option (did you mean "${nearest}"?)`);
  expect(error.data.unknown).toEqual([typo]);
  expect((error.data.suggestions as Record<string, string>)[typo]).toBe(nearest);
}

describe('saveMergedPretrained', () => {
  it('refuses a typo or a transformers spelling before writing anything', async () => {
    const dir = join(tmp, 'typo');
    await refused(() => saveMergedPretrained(chat, dir, { dtyp: 'BF16' } as never), 'INVALID_ARGUMENT', 'saveMergedPretrained', 'dtyp', 'dtype');
    await refused(() => saveMergedPretrained(chat, dir, { torch_dtype: 'bfloat16' } as never), 'INVALID_ARGUMENT', 'saveMergedPretrained', 'torch_dtype', 'dtype');
    await refused(() => saveMergedPretrained(bert, dir, { id2label: ['neg', 'neutral', 'pos'] } as never), 'INVALID_ARGUMENT', 'saveMergedPretrained', 'id2label', 'labels');
    expect(existsSync(dir)).toBe(false);
    // Values are still checked, together.
    const values = await caught(() => saveMergedPretrained(bert, dir, { dtype: 'F64' as never, labels: [0, 1] as never }), 'INVALID_ARGUMENT');
    expect(values.error.data.fields).toEqual(['dtype', 'labels']);
    expect(values.text).toMatch(/dtype: must be one of "F32", "F16", "BF16", got "F64"/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('prepareCausalLmExamples and resolveCausalLmOptions', () => {
  it('refuse add_eos, maxLenght and promptof, naming the function called', async () => {
    const rows = [{ input: 'Fine, thanks.' }];
    await refused(() => prepareCausalLmExamples(chat, rows, { add_eos: false } as never), 'TRAINING_CONFIG_INVALID', 'prepareCausalLmExamples', 'add_eos', 'addEos');
    await refused(() => prepareCausalLmExamples(chat, rows, { maxLenght: 4 } as never), 'TRAINING_CONFIG_INVALID', 'prepareCausalLmExamples', 'maxLenght', 'maxLength');
    await refused(() => prepareCausalLmExamples(chat, rows, { promptof: () => 'Hi' } as never), 'TRAINING_CONFIG_INVALID', 'prepareCausalLmExamples', 'promptof', 'promptOf');
    await refused(() => resolveCausalLmOptions(chat, { max_seq_length: 4 } as never), 'TRAINING_CONFIG_INVALID', 'resolveCausalLmOptions', 'max_seq_length', 'maxLength');
    // chat was read as `=== true` (a 'yes' meant false); it is now a checked boolean.
    const value = await caught(() => resolveCausalLmOptions(chat, { chat: 'yes' as never }), 'TRAINING_CONFIG_INVALID');
    expect(value.text).toMatch(/chat: must be a boolean, got "yes"/);
    // maxLength's range is still the model's, named in the error.
    await caught(() => resolveCausalLmOptions(chat, { maxLength: 0 }), 'TRAINING_CONFIG_INVALID').then(({ text }) => expect(text).toMatch(/maxLength must be an integer in \[1, 64\]/));
    // The correct spellings do what they say: no EOS appended, cut at 4 tokens; null means the default.
    const plain = prepareCausalLmExamples(chat, rows, { maxLength: null, promptOf: null });
    const noEos = prepareCausalLmExamples(chat, rows, { addEos: false });
    expect(Array.from(noEos[0]!.input)).toEqual(Array.from(plain[0]!.input).slice(0, -1));
    expect(prepareCausalLmExamples(chat, rows, { maxLength: 4 })[0]!.input).toHaveLength(4);
  });
});

describe('prepareClassificationExamples', () => {
  it('refuses max_length, label_names and textof', async () => {
    const rows = [
      { input: 'good film', label: 'pos' },
      { input: 'bad film', label: 'neg' },
    ];
    const fn = 'prepareClassificationExamples';
    await refused(() => prepareClassificationExamples(chat, rows, { max_length: 3 } as never), 'TRAINING_CONFIG_INVALID', fn, 'max_length', 'maxLength');
    await refused(() => prepareClassificationExamples(chat, rows, { label_names: ['pos', 'neg'] } as never), 'TRAINING_CONFIG_INVALID', fn, 'label_names', 'labels');
    await refused(() => prepareClassificationExamples(chat, rows, { textof: (r: { input: unknown }) => String(r.input) } as never), 'TRAINING_CONFIG_INVALID', fn, 'textof', 'textOf');
    const { examples, labelMap } = prepareClassificationExamples(chat, rows, { labels: ['pos', 'neg'], maxLength: 3 });
    expect(labelMap.labels).toEqual(['pos', 'neg']);
    expect(examples.map((e) => [e.input.length, e.label])).toEqual([
      [3, 0],
      [3, 1],
    ]);
  });
});

describe("the tokenizer's encode, encodeWithTypes, decode and applyChatTemplate", () => {
  it('refuse the snake_case and mistyped names, and still honour the right ones', async () => {
    const tok = chat.tokenizer!;
    await refused(() => tok.encode('Hi', { add_special_tokens: false } as never), 'INVALID_ARGUMENT', 'tokenizer.encode', 'add_special_tokens', 'addSpecialTokens');
    await refused(() => tok.encodeWithTypes('Hi', { text_pair: 'there' } as never), 'INVALID_ARGUMENT', 'tokenizer.encode', 'text_pair', 'pair');
    await refused(() => tok.decode([41, 3], { skipSpecialToken: true } as never), 'INVALID_ARGUMENT', 'tokenizer.decode', 'skipSpecialToken', 'skipSpecialTokens');
    const messages = [{ role: 'user', content: 'Hi' }];
    await refused(() => tok.applyChatTemplate(messages, { add_generation_prompt: false } as never), 'INVALID_ARGUMENT', 'tokenizer.applyChatTemplate', 'add_generation_prompt', 'addGenerationPrompt');
    await caught(() => tok.decode([41], { skipSpecialTokens: 'yes' as never }), 'INVALID_ARGUMENT').then(({ text }) => expect(text).toMatch(/skipSpecialTokens: must be a boolean/));
    // tiny-chat's eos_token is id 3 (see prepare-causal-lm.test.ts); decode keeps it unless told to skip it.
    expect(tok.decode([41, 3])).toBe(`${tok.decode([41], { skipSpecialTokens: true })}${tok.specialTokens.eos_token}`);
    expect(tok.decode([41, 3], { skipSpecialTokens: true })).toBe(tok.decode([41]));
    expect(tok.applyChatTemplate(messages).startsWith(tok.applyChatTemplate(messages, { addGenerationPrompt: false }))).toBe(true);
    expect(tok.applyChatTemplate(messages)).not.toBe(tok.applyChatTemplate(messages, { addGenerationPrompt: false }));
    expect(tok.encode('Hi', { addSpecialTokens: false, pair: null })).toEqual(tok.encode('Hi', { addSpecialTokens: false }));
  });
});
