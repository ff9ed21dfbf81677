/**
 * Provenant against transformers 5 / PEFT 0.21 on the fixtures of test/fixtures/hf (scripts/hf-fixtures/make_fixtures.py):
 * more architectures and shapes, BF16/F16 and sharded files, left padding both ways, sequence classification, the bare
 * BERT encoder, PEFT adapters with patterns / rsLoRA / regex targets / modules_to_save, a real BPE tokenizer with a chat
 * template, and greedy generation.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeLogits, generate, generateTokens, initBackend, loadAdapterFromDir, loadPretrained, type PretrainedModel } from '../../../src/finetune/index.js';
import { maxAbsDiff } from './fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');
const json = <T = Record<string, unknown>>(rel: string): T => JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as T;

interface Logits {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids?: number[][];
  position_ids?: number[][] | null;
  logits_shape: number[];
  logits: number[];
  compare_mask?: number[][] | null;
}

/** Positions compared: rows/tokens whose compare_mask is 1 (every value of a [B, C] classification output). */
function keep(fx: Pick<Logits, 'compare_mask' | 'logits_shape'>): (i: number) => boolean {
  const mask = fx.compare_mask;
  if (!mask || fx.logits_shape.length !== 3) return () => true;
  const [, T, V] = fx.logits_shape as [number, number, number];
  return (i) => mask[Math.floor(i / (T * V))]![Math.floor(i / V) % T] === 1;
}

function check(model: PretrainedModel, fx: Logits, label: string, positionIds?: number[][] | null): number {
  const out = computeLogits(model, { inputIds: fx.input_ids, attentionMask: fx.attention_mask, tokenTypeIds: fx.token_type_ids, positionIds: positionIds ?? undefined });
  expect(out.shape, label).toEqual(fx.logits_shape);
  const err = maxAbsDiff(out.data, fx.logits, keep(fx));
  errors.push(`${label}: ${err.toExponential(2)}`);
  expect(err, label).toBeLessThan(1e-4);
  return err;
}

const errors: string[] = [];
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const CAUSAL = ['mistral', 'qwen2', 'llama-tied', 'llama-mqa', 'gpt2-bf16', 'gpt2-f16', 'llama-bf16', 'llama-f16'];
const ADAPTERS: Array<[string, string]> = [['qwen2', 'lora-all-linear'], ['llama-mqa', 'lora-patterns'], ['gpt2-seqcls', 'lora-seqcls'], ['llama-seqcls', 'lora-seqcls']];

describe('transformers 5 fixtures', () => {
  for (const name of CAUSAL) {
    it(`${name}: logits (right padding) and left padding, plain forward and generate()'s positions`, async () => {
      const model = await loadPretrained(join(ROOT, name));
      check(model, json<Logits>(`${name}/logits.json`), `${name}`);
      const left = json<Logits & { forward: Logits; generate: Logits }>(`${name}/logits-left-padded.json`);
      check(model, { ...left, ...left.forward }, `${name} left-padded forward`);
      check(model, { ...left, ...left.generate }, `${name} left-padded generate positions`, left.generate.position_ids);
      model.dispose();
    });
  }

  for (const name of ['llama-sharded', 'bert-bf16', 'bert-f16', 'gpt2-seqcls', 'llama-seqcls']) {
    it(`${name}: logits`, async () => {
      const model = await loadPretrained(join(ROOT, name));
      check(model, json<Logits>(`${name}/logits.json`), name);
      model.dispose();
    });
  }

  it('bert-model: the bare encoder (no bert. prefix) gives last_hidden_state', async () => {
    const model = await loadPretrained(join(ROOT, 'bert-model'));
    const fx = json<Logits & { last_hidden_state: number[]; last_hidden_state_shape: number[] }>('bert-model/logits.json');
    check(model, { ...fx, logits: fx.last_hidden_state, logits_shape: fx.last_hidden_state_shape }, 'bert-model last_hidden_state');
    model.dispose();
  });

  for (const [base, adapter] of ADAPTERS) {
    it(`${base}/${adapter}: PEFT 0.21 adapter logits`, async () => {
      const model = await loadPretrained(join(ROOT, base));
      await loadAdapterFromDir(model, 'default', join(ROOT, base, adapter));
      check(model, json<Logits>(`${base}/${adapter}/logits.json`), `${base}/${adapter}`);
      model.dispose();
    });
  }

  it('tiny-chat: the tokenizer, chat template and greedy generations match transformers', async () => {
    const model = await loadPretrained(join(ROOT, 'tiny-chat'));
    const tok = model.tokenizer!;
    const expected = json<{ cases: Array<{ text: string; input_ids: number[]; decoded: string }>; chat: { messages: Array<{ role: string; content: string }>; input_ids_with_generation_prompt: number[] }; eos_token_id: number; pad_token_id: number }>('tiny-chat/tokenizer-expected.json');
    for (const c of expected.cases) {
      expect(tok.encode(c.text), c.text).toEqual(c.input_ids);
      expect(tok.decode(c.input_ids), c.text).toBe(c.decoded);
    }
    expect([tok.eosTokenId, tok.padTokenId]).toEqual([expected.eos_token_id, expected.pad_token_id]);
    expect(tok.encode(tok.applyChatTemplate(expected.chat.messages), { addSpecialTokens: false })).toEqual(expected.chat.input_ids_with_generation_prompt);

    const gen = json<{
      greedy: Array<{ input_ids: number[]; new_token_ids: number[] }>;
      greedy_left_padded_batch: { input_ids: number[][]; attention_mask: number[][]; new_token_ids: number[][] };
      greedy_chat: { messages: Array<{ role: string; content: string }>; input_ids: number[]; new_token_ids: number[] };
      greedy_stop_token: { input_ids: number[]; stop_token_ids: number[]; new_token_ids: number[] };
    }>('tiny-chat/generation.json');
    for (const g of gen.greedy) expect(generateTokens(model, [g.input_ids], { maxNewTokens: g.new_token_ids.length, stopTokens: [] }).tokens[0]).toEqual(g.new_token_ids);
    const batch = gen.greedy_left_padded_batch;
    const prompts = batch.input_ids.map((row, b) => row.filter((_, t) => batch.attention_mask[b]![t] === 1));
    expect(generateTokens(model, prompts, { maxNewTokens: batch.new_token_ids[0]!.length, stopTokens: [] }).tokens).toEqual(batch.new_token_ids);
    const chat = generate(model, gen.greedy_chat.messages, { maxNewTokens: gen.greedy_chat.new_token_ids.length });
    expect(chat.tokens).toEqual(gen.greedy_chat.new_token_ids);
    const stop = gen.greedy_stop_token;
    expect(generateTokens(model, [stop.input_ids], { maxNewTokens: 16, stopTokens: stop.stop_token_ids }).tokens[0]).toEqual(stop.new_token_ids);
    model.dispose();
    console.log(`max abs error per fixture:\n  ${errors.join('\n  ')}`);
  });
});
