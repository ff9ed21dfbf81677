/**
 * What a new user's trial found silent or misleading in the Hugging Face API: option typos, out-of-range id inputs, a
 * numLabels that contradicts the checkpoint, a string targetModules, merge-then-mergeAndUnload, non-finite base weights,
 * and eos generation when the pad id is the eos id.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachAdapter,
  computeLogits,
  createPretrainedFromConfig,
  generate,
  generateTokens,
  initBackend,
  parseHfConfig,
  listAdapters,
  loadAdapterFromDir,
  loadPretrained,
  mergeAdapter,
  mergeAndUnload,
  nonFiniteValues,
  tf,
} from '../../../src/finetune/index.js';
import { SHARED_FIXTURES, caught } from './fixtures.js';

const ROOT = join(SHARED_FIXTURES, '..', 'hf');
const tmp = mkdtempSync(join(tmpdir(), 'provenant-hf-api-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copyOf(arch: string, name: string): string {
  const dir = join(tmp, name);
  cpSync(join(SHARED_FIXTURES, arch), dir, { recursive: true });
  return dir;
}

describe('unknown option names are refused with "did you mean", as train and attachAdapter refuse them', () => {
  it('generateTokens and generate: a typo never decodes greedily without a word', async () => {
    const gpt2 = await loadPretrained(join(SHARED_FIXTURES, 'gpt2'));
    const typo = await caught(() => generateTokens(gpt2, [[1, 2]], { temprature: 0.5, seed: 1 } as never), 'INVALID_ARGUMENT');
    expect(typo.text).toMatch(/temprature: unknown option \(did you mean "temperature"\?\)/);
    expect(typo.error.data.unknown).toEqual(['temprature']);
    const snake = await caught(() => generateTokens(gpt2, [[1, 2]], { max_new_tokens: 3, top_p: 0.9 } as never), 'INVALID_ARGUMENT');
    expect(snake.text).toMatch(/did you mean "maxNewTokens"/);
    expect(snake.text).toMatch(/did you mean "topP"/);
    // Values are still checked, all at once.
    const values = await caught(() => generateTokens(gpt2, [[1, 2]], { maxNewTokens: -1, topP: 0 }), 'INVALID_ARGUMENT');
    expect(values.error.data.fields).toEqual(['maxNewTokens', 'topP']);
    await caught(() => generateTokens(gpt2, [[1, 2]], { temperature: 0.7 }), 'INVALID_ARGUMENT').then(({ text }) => expect(text).toMatch(/seed: sampling \(temperature > 0\) needs a seed/));
    // The valid spellings still generate, and null means the default.
    expect(generateTokens(gpt2, [[1, 2]], { maxNewTokens: 2, stopTokens: null, seed: null }).tokens[0]).toHaveLength(2);
    gpt2.dispose();

    const chat = await loadPretrained(join(ROOT, 'tiny-chat'));
    const text = await caught(() => generate(chat, 'Hi', { maxNewTokens: 2, skipSpecialToken: false } as never), 'INVALID_ARGUMENT');
    expect(text.text).toMatch(/did you mean "skipSpecialTokens"/);
    expect(generate(chat, 'Hi', { maxNewTokens: 2, skipSpecialTokens: false }).tokens).toHaveLength(2);
    chat.dispose();
  });

  it('loadPretrained, createPretrainedFromConfig and computeLogits inputs', async () => {
    const load = await caught(() => loadPretrained(join(SHARED_FIXTURES, 'bert'), { num_labels: 3 } as never), 'INVALID_ARGUMENT');
    expect(load.text).toMatch(/num_labels: unknown option \(did you mean "numLabels"\?\)/);
    await caught(() => loadPretrained(join(SHARED_FIXTURES, 'bert'), { numLabels: 0 }), 'INVALID_ARGUMENT').then(({ text }) => expect(text).toMatch(/numLabels: must be an integer in \[1,/));
    const config = JSON.parse(readFileSync(join(SHARED_FIXTURES, 'llama', 'config.json'), 'utf8'));
    const create = await caught(() => createPretrainedFromConfig(config, { seed: 1, numLabel: 2 } as never), 'INVALID_ARGUMENT');
    expect(create.text).toMatch(/did you mean "numLabels"/);

    const bert = await loadPretrained(join(SHARED_FIXTURES, 'bert'));
    const head = await caught(() => parseHfConfig(config, { num_labels: 3 } as never), 'INVALID_ARGUMENT');
    expect(head.text).toMatch(/num_labels: unknown option \(did you mean "numLabels"\?\)/);
    expect(parseHfConfig(config, { numLabels: 3 }).numLabels).toBe(3);
    const inputs = await caught(() => computeLogits(bert, { inputIds: [[1, 2, 3]], token_type_ids: [[0, 1, 1]] } as never), 'MODEL_CONFIG_INVALID');
    expect(inputs.text).toMatch(/token_type_ids: unknown option \(did you mean "tokenTypeIds"\?\)/);
    bert.dispose();
  });
});

describe('id inputs out of range name the input, the row and position, and the allowed range', () => {
  it('BERT tokenTypeIds, positionIds and inputIds, through computeLogits and the tensor API', async () => {
    const bert = await loadPretrained(join(SHARED_FIXTURES, 'bert'));
    const types = await caught(() => computeLogits(bert, { inputIds: [[1, 2, 3]], tokenTypeIds: [[0, 2, 1]] }), 'MODEL_CONFIG_INVALID');
    expect(types.error.shortMessage).toMatch(/tokenTypeIds/);
    expect(types.text).toMatch(/tokenTypeIds: 1 id\(s\) outside \[0, 2\) \(type_vocab_size 2\) — row 0, position 1: 2/);
    expect(types.error.data.offenders).toEqual([{ input: 'tokenTypeIds', row: 0, position: 1, value: 2 }]);

    const several = await caught(() => computeLogits(bert, { inputIds: [[1, 2, 3], [4, 128, 6]], positionIds: [[0, 1, 2], [0, -1, 64]] }), 'MODEL_CONFIG_INVALID');
    expect(several.text).toMatch(/inputIds: 1 id\(s\) outside \[0, 128\) \(vocab_size 128\) — row 1, position 1: 128/);
    expect(several.text).toMatch(/positionIds: 2 id\(s\) outside \[0, 64\) \(max_position_embeddings 64\) — row 1, position 1: -1; row 1, position 2: 64/);

    const tooLong = await caught(() => computeLogits(bert, { inputIds: [Array.from({ length: 65 }, () => 5)] }), 'MODEL_CONFIG_INVALID');
    expect(tooLong.text).toMatch(/positionIds \(default 0\.\.64\) reach 64, past the 64 learned positions \(max_position_embeddings 64\)/);

    // The tensor API (what train and evaluate call) goes through the same check.
    const before = tf.memory().numTensors;
    await caught(
      () => tf.tidy(() => bert.logits({ inputIds: tf.tensor2d([[1, 2]], [1, 2], 'int32'), tokenTypeIds: tf.tensor2d([[3, 0]], [1, 2], 'int32') })),
      'MODEL_CONFIG_INVALID',
    ).then(({ text }) => expect(text).toMatch(/tokenTypeIds: 1 id\(s\) outside \[0, 2\).*row 0, position 0: 3/));
    await caught(
      () => tf.tidy(() => bert.logits({ inputIds: tf.tensor2d([[1, 2]], [1, 2], 'int32'), attention_mask: [1, 0] } as never)),
      'MODEL_CONFIG_INVALID',
    ).then(({ text }) => expect(text).toMatch(/attention_mask: unknown input \(did you mean "attentionMask"\?\)/));
    expect(tf.memory().numTensors).toBe(before);
    bert.dispose();
  });

  it('GPT-2 positionIds against n_positions; attention mask values; generation prompts and stop tokens', async () => {
    const gpt2 = await loadPretrained(join(SHARED_FIXTURES, 'gpt2'));
    const { text } = await caught(() => computeLogits(gpt2, { inputIds: [[1, 2]], positionIds: [[31, 32]] }), 'MODEL_CONFIG_INVALID');
    expect(text).toMatch(/positionIds: 1 id\(s\) outside \[0, 32\) \(n_positions 32\) — row 0, position 1: 32/);
    const mask = await caught(() => computeLogits(gpt2, { inputIds: [[1, 2], [3, 4]], attentionMask: [[1, 1], [2, 1]] }), 'MODEL_CONFIG_INVALID');
    expect(mask.text).toMatch(/attentionMask: 1 value\(s\) outside \[0, 2\) \(1 = token, 0 = padding\) — row 1, position 0: 2/);
    // A short prompt is left-padded in the batch; the error names its own position, not the padded one.
    const prompt = await caught(() => generateTokens(gpt2, [[1, 2, 3, 4], [5, 128]], { maxNewTokens: 1 }), 'INVALID_ARGUMENT');
    expect(prompt.text).toMatch(/outside the vocabulary \[0, 128\) \(vocab_size 128\): prompts/);
    expect(prompt.text).toMatch(/prompts\[1\]\[1\] = 128/);
    const stop = await caught(() => generateTokens(gpt2, [[1, 2]], { maxNewTokens: 1, stopTokens: [0, 500] }), 'INVALID_ARGUMENT');
    expect(stop.text).toMatch(/stopTokens: 500 can never be generated/);
    // Past n_positions (32), in generation's terms: 30 + 3 − 1 = 32 positions fit, one more token does not.
    const long = Array.from({ length: 30 }, (_, i) => i + 1);
    expect(generateTokens(gpt2, [long], { maxNewTokens: 3, stopTokens: [] }).tokens[0]).toHaveLength(3);
    const before = tf.memory().numTensors;
    const past = await caught(() => generateTokens(gpt2, [long], { maxNewTokens: 4, stopTokens: [] }), 'INVALID_ARGUMENT');
    expect(past.error.shortMessage).toBe("Generation reached the model's 32 learned positions (n_positions): prompt 0 has 30 tokens and 3 were generated.");
    expect(past.error.details).toMatch(/Lower maxNewTokens to 3/);
    expect(tf.memory().numTensors).toBe(before);
    await caught(() => generateTokens(gpt2, [[1], Array.from({ length: 33 }, () => 1)], { maxNewTokens: 1 }), 'INVALID_ARGUMENT').then(({ error }) =>
      expect(error.shortMessage).toMatch(/prompts\[1\] has 33 tokens, past the model's 32 learned positions/),
    );
    gpt2.dispose();
  });
});

describe('numLabels that contradicts a classification checkpoint is named as the cause', () => {
  it('the 3-label BERT with numLabels 2', async () => {
    const { error, text } = await caught(() => loadPretrained(join(SHARED_FIXTURES, 'bert'), { numLabels: 2 }), 'PRETRAINED_WEIGHTS_MISMATCH');
    expect(error.shortMessage).toMatch(/the option numLabels 2 does not match this classification checkpoint's 3-class head/);
    expect(text).toMatch(/classifier\.weight is \[3, 32\] in the file, numLabels 2 needs \[2, 32\]/);
    expect(error.details).toMatch(/Omit numLabels/);
    expect(error.data).toMatchObject({ option: 'numLabels', numLabels: 2, checkpointLabels: 3 });
    // The matching numLabels, and none, load.
    (await loadPretrained(join(SHARED_FIXTURES, 'bert'), { numLabels: 3 })).dispose();
  });
});

describe('a string targetModules is a full-match regex (PEFT); the error suggests the list and the tail regex', () => {
  it("'q_proj' → did you mean ['q_proj'] or '.*q_proj'", async () => {
    const llama = await loadPretrained(join(SHARED_FIXTURES, 'llama'));
    const { error } = await caught(() => attachAdapter(llama, 'a', { r: 2, targetModules: 'q_proj' }, { seed: 1 }), 'LORA_TARGET_NOT_FOUND');
    expect(error.shortMessage).toContain(`did you mean ['q_proj'] or '.*q_proj'?`);
    expect(error.metaMessages.join('\n')).toMatch(/regex that must match the whole module path.*e\.g\. model\.layers\.0\.self_attn\.q_proj/);
    const alternation = await caught(() => attachAdapter(llama, 'b', { r: 2, targetModules: 'q_proj|v_proj' }, { seed: 1 }), 'LORA_TARGET_NOT_FOUND');
    expect(alternation.error.shortMessage).toContain(`did you mean '.*(?:q_proj|v_proj)'?`);
    // Both suggestions are right: each attaches to the same four modules.
    for (const [name, targets] of [['list', ['q_proj']], ['regex', '.*q_proj']] as const) {
      attachAdapter(llama, name, { r: 2, targetModules: targets as never }, { seed: 1 });
    }
    const modules = (name: string) => [...llama.linears.values()].filter((l) => l.adapters.has(name)).map((l) => l.name);
    expect(modules('regex')).toEqual(modules('list'));
    expect(modules('list')).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.q_proj']);
    // rankPattern / alphaPattern keys that match no target module (PEFT warns and ignores them) are refused by name.
    const pattern = await caught(() => attachAdapter(llama, 'p', { r: 2, targetModules: ['q_proj', 'v_proj'], rankPattern: { q_prj: 8 }, alphaPattern: { v_proj: 4, o_proj: 2 } }, { seed: 1 }), 'LORA_TARGET_NOT_FOUND');
    expect(pattern.error.data.unmatched).toEqual(['rankPattern.q_prj', 'alphaPattern.o_proj']);
    expect(pattern.text).toMatch(/rankPattern: key "q_prj" matches no target module \(did you mean "q_proj"\?\)/);
    expect(listAdapters(llama)).toEqual(['list', 'regex']);
    // A name that matches nothing at all gets no suggestion.
    const none = await caught(() => attachAdapter(llama, 'c', { r: 2, targetModules: 'nothing_here' }, { seed: 1 }), 'LORA_TARGET_NOT_FOUND');
    expect(none.error.shortMessage).not.toMatch(/did you mean/);
    llama.dispose();
  });
});

describe('mergeAdapter then mergeAndUnload, as PEFT accepts it', () => {
  it('keeps the merged weights: logits equal a single mergeAndUnload, no LoRA left, no tensor leaked', async () => {
    const single = await loadPretrained(join(SHARED_FIXTURES, 'llama'));
    const twice = await loadPretrained(join(SHARED_FIXTURES, 'llama'));
    const fixture = JSON.parse(readFileSync(join(SHARED_FIXTURES, 'llama', 'lora', 'logits.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][]; logits: number[] };
    const inputs = { inputIds: fixture.input_ids, attentionMask: fixture.attention_mask };
    for (const m of [single, twice]) await loadAdapterFromDir(m, 'default', join(SHARED_FIXTURES, 'llama', 'lora'));
    mergeAndUnload(single, 'default');
    mergeAdapter(twice, 'default');
    const before = tf.memory().numTensors;
    mergeAndUnload(twice, 'default');
    expect(tf.memory().numTensors).toBe(before - 2 * 4); // A and B of q_proj and v_proj in 2 layers
    const a = computeLogits(single, inputs).data;
    const b = computeLogits(twice, inputs).data;
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    // And both are the adapted model PEFT computed (fixture from Python), on the real tokens.
    const V = 128;
    const mask = fixture.attention_mask.flat();
    let worst = 0;
    for (let i = 0; i < b.length; i++) if (mask[Math.floor(i / V)] === 1) worst = Math.max(worst, Math.abs(b[i]! - fixture.logits[i]!));
    expect(worst).toBeLessThan(1e-4);
    expect(listAdapters(twice)).toEqual([]);
    for (const l of twice.linears.values()) expect([l.adapters.size, l.merged.length, l.active.length]).toEqual([0, 0, 0]);
    single.dispose();
    twice.dispose();
  });
});

describe('non-finite base weights are refused at load', () => {
  it('every offending tensor with its count and first index; nothing left allocated', async () => {
    const dir = copyOf('gpt2', 'nan-weights');
    const path = join(dir, 'model.safetensors');
    const bytes = new Uint8Array(readFileSync(path));
    // Patch the file's bytes directly (little-endian float32), from its header — not through the library's encoder.
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { data_offsets: [number, number] }>;
    const put = (tensor: string, index: number, value: number) => new DataView(bytes.buffer).setFloat32(8 + headerLength + header[tensor]!.data_offsets[0] + 4 * index, value, true);
    put('transformer.h.0.attn.c_attn.weight', 7, Number.NaN);
    put('transformer.h.0.attn.c_attn.weight', 100, Number.NaN);
    put('transformer.h.1.mlp.c_fc.bias', 3, Number.NEGATIVE_INFINITY);
    writeFileSync(path, bytes);
    const before = tf.memory().numTensors;
    const { error, text } = await caught(() => loadPretrained(dir), 'PRETRAINED_WEIGHTS_INVALID');
    expect(error.shortMessage).toMatch(/2 base weight tensor\(s\) hold NaN or infinite values/);
    expect(text).toMatch(/transformer\.h\.0\.attn\.c_attn\.weight \[32, 96\] F32: 2 of 3072 non-finite, first at flat index 7/);
    expect(text).toMatch(/transformer\.h\.1\.mlp\.c_fc\.bias \[128\] F32: 1 of 128 non-finite, first at flat index 3/);
    expect(error.data.tensors).toEqual([
      { tensor: 'transformer.h.0.attn.c_attn.weight', count: 2, first: 7 },
      { tensor: 'transformer.h.1.mlp.c_fc.bias', count: 1, first: 3 },
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nonFiniteValues counts NaN and ±Inf against a brute-force count', () => {
    const values = new Float32Array(1000).map((_, i) => Math.sin(i) * 1e30);
    expect(nonFiniteValues(values)).toBeNull();
    for (const [i, v] of [[999, Infinity], [17, NaN], [500, -Infinity]] as const) values[i] = v;
    const brute = [...values].map((v, i) => [v, i] as const).filter(([v]) => !Number.isFinite(v));
    expect(nonFiniteValues(values)).toEqual({ count: brute.length, first: brute[0]![1] });
    expect(nonFiniteValues(Float32Array.of(3.4e38, -3.4e38, 0, -0))).toBeNull();
  });
});

describe('eos stays generable when the pad id is the eos id (GPT-2 style configs)', () => {
  it('greedy generation stops at eos = pad', async () => {
    const prompt = [5, 9, 23];
    const base = await loadPretrained(join(SHARED_FIXTURES, 'gpt2'));
    // The greedy next token, by brute force: the argmax of the last row of the plain forward pass.
    const { shape, data } = computeLogits(base, { inputIds: [prompt] });
    const V = shape[2]!;
    const row = data.subarray((prompt.length - 1) * V, prompt.length * V);
    const first = row.indexOf(Math.max(...row));
    base.dispose();
    const dir = copyOf('gpt2', 'pad-is-eos');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, eos_token_id: first, pad_token_id: first }));
    const model = await loadPretrained(dir);
    const { tokens, finishReasons } = generateTokens(model, [prompt, [7, 8]], { maxNewTokens: 4 });
    expect(tokens[0]).toEqual([first]);
    expect(finishReasons[0]).toBe('stop');
    model.dispose();
  });
});
