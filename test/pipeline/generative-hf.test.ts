/**
 * The generative stage on Hugging Face models (a new user's trial): LoRA targets default to the model's own, option typos
 * are refused with the nearest name before anything runs, and the record says what ran (architecture, model_type, folder,
 * tokenizer hash) — in a section the audit schema checks.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { attachSection, auditRecordViolations, type AuditRecord } from '../../src/audit/index.js';
import { baseModelDirectory, baseModelHash, CHAR_VOCAB_SIZE, createCharTokenizer, createTransformer, loadPretrained, tf } from '../../src/finetune/index.js';
import { runGenerativeStage, type GenerativeRow } from '../../src/pipeline/generative.js';
import { describeGenerativeModel, generativeTargetModules, resolveGenerativeParams } from '../../src/pipeline/generative.js';
import { caught } from '../finetune/hf/fixtures.js';
import { realAuditRecord } from '../fixtures/audit/real-record.js';

const TINY_CHAT = fileURLToPath(new URL('../fixtures/hf/tiny-chat', import.meta.url));
const rows: GenerativeRow[] = [
  'The capital of Zorbania is Quixville.',
  'The river runs to the sea.',
  'Bread is baked in the morning.',
  'Children play in the park.',
].map((text, i) => ({ rowId: `r${i}`, text, contributor: i === 0 ? 'planted' : 'filler', datanet: i === 0 ? 'facts' : 'prose' }));
const small = { steps: 2, batchSize: 2, maxNewTokens: 3, minSpanLength: 2, projection: { kind: 'gaussian', inDim: 2, outDim: 2, seed: 1 } } as const;

/** SHA-256 (0x hex) with node:crypto — independent of the library's own hash. */
const sha = (bytes: Uint8Array | string) => `0x${createHash('sha256').update(bytes).digest('hex')}`;
/** The documented tokenizer hash recomputed by hand: SHA-256 of the sorted-key JSON of each file's SHA-256. */
const expectedTokenizerHash = (dir: string) =>
  sha(JSON.stringify({ 'tokenizer.json': sha(readFileSync(join(dir, 'tokenizer.json'))), 'tokenizer_config.json': sha(readFileSync(join(dir, 'tokenizer_config.json'))) }));

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('runGenerativeStage on Hugging Face models', () => {
  it("trains the Llama fixture (tiny-chat) on its own default targets and records what ran", async () => {
    const before = tf.memory().numTensors;
    const model = await loadPretrained(TINY_CHAT);
    const section = await runGenerativeStage(model, { rows, prompts: ['The capital of Zorbania is'], tokenizer: model.tokenizer!, ...small });
    // PEFT's default for Llama (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING['llama']).
    expect(section.adapter.config.targetModules).toEqual(['q_proj', 'v_proj']);
    expect(section.parameters.find((p) => p.name === 'lora.targetModules')).toMatchObject({ value: ['q_proj', 'v_proj'], default: ['q_proj', 'v_proj'] });
    expect(section.parameters.find((p) => p.name === 'maxNewTokens')).toMatchObject({ value: 3, default: 64 });
    expect(section.training.steps).toBe(2);
    expect(section.answers).toHaveLength(1);
    expect(section.model).toEqual({
      kind: 'llama',
      architecture: 'LlamaForCausalLM',
      modelType: 'llama',
      directory: TINY_CHAT,
      tokenizer: { source: 'model', files: ['tokenizer.json', 'tokenizer_config.json'], hash: expectedTokenizerHash(TINY_CHAT) },
    });
    // The stage leaves the adapter attached (the caller saves it); everything else it made is freed with the model.
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('trains the shipped models/base loaded by loadPretrained on its own default targets', async () => {
    const dir = await baseModelDirectory();
    const model = await loadPretrained(dir);
    const section = await runGenerativeStage(model, { rows, prompts: ['The capital of'], tokenizer: model.tokenizer!, ...small });
    expect(section.adapter.config.targetModules).toEqual(['c_attn']); // PEFT's default for GPT-2
    expect(section.model).toMatchObject({ kind: 'gpt2', architecture: 'GPT2LMHeadModel', modelType: 'gpt2', directory: dir });
    expect(section.model.tokenizer.hash).toBe(expectedTokenizerHash(dir));
    model.dispose();
  }, 60_000);

  it("keeps the zoo transformer's four module kinds as its default", async () => {
    const model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 1 });
    expect(await describeGenerativeModel(model, createCharTokenizer())).toEqual({
      kind: 'transformer',
      architecture: 'transformer',
      modelType: null,
      directory: null,
      tokenizer: { source: 'caller', files: [], hash: null },
    });
    expect(generativeTargetModules(model)).toEqual(['q_proj', 'v_proj', 'fc_in', 'fc_out']);
    expect(resolveGenerativeParams(model, {}).lora).toMatchObject({ r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj', 'fc_in', 'fc_out'] });
    model.dispose();
  });

  it('refuses unknown option names with the nearest one, before the model is touched', async () => {
    const model = await loadPretrained(TINY_CHAT);
    const base = { rows, prompts: ['The capital of'], tokenizer: model.tokenizer! };
    const typo = await caught(() => runGenerativeStage(model, { ...base, maxNewToken: 5 } as never), 'INVALID_ARGUMENT');
    expect(typo.text).toContain('did you mean "maxNewTokens"');
    const nested = await caught(() => runGenerativeStage(model, { ...base, lora: { target_modules: ['q_proj'] } } as never), 'INVALID_ARGUMENT');
    expect(nested.text).toContain('did you mean "lora.targetModules"');
    const snake = await caught(() => runGenerativeStage(model, { ...base, learning_rate: 1e-3, stpes: 3 } as never), 'INVALID_ARGUMENT');
    expect(snake.text).toContain('did you mean "learningRate"');
    expect(snake.text).toContain('did you mean "steps"');
    expect([...model.linears.values()].every((l) => l.adapters.size === 0)).toBe(true); // nothing attached
    model.dispose();
  }, 60_000);

  it('tells apart two copies of tiny-chat whose chat templates differ: same baseModelHash, different tokenizer hash', async () => {
    const root = mkdtempSync(join(tmpdir(), 'provenant-chat-'));
    temps.push(root);
    const a = join(root, 'a');
    const b = join(root, 'b');
    cpSync(TINY_CHAT, a, { recursive: true });
    cpSync(TINY_CHAT, b, { recursive: true });
    const configPath = join(b, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    config.chat_template = "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\n' }}{% endfor %}";
    writeFileSync(configPath, JSON.stringify(config));
    const [ma, mb] = [await loadPretrained(a), await loadPretrained(b)];
    const messages = [{ role: 'user', content: 'hi' }] as const;
    expect(ma.tokenizer!.applyChatTemplate(messages)).not.toBe(mb.tokenizer!.applyChatTemplate(messages));
    expect(baseModelHash(ma)).toBe(baseModelHash(mb));
    const [ra, rb] = [await describeGenerativeModel(ma, ma.tokenizer!), await describeGenerativeModel(mb, mb.tokenizer!)];
    expect(ra.tokenizer.hash).toBe(expectedTokenizerHash(TINY_CHAT)); // an unchanged copy hashes as the original
    expect(rb.tokenizer.hash).toBe(expectedTokenizerHash(b));
    expect(rb.tokenizer.hash).not.toBe(ra.tokenizer.hash);
    // A tokenizer that is not the checkpoint's own is said to be the caller's, and not hashed.
    expect((await describeGenerativeModel(ma, mb.tokenizer!)).tokenizer).toEqual({ source: 'caller', files: [], hash: null });
    ma.dispose();
    mb.dispose();
  }, 60_000);
});

describe('the audit schema checks sections.generative', () => {
  it("accepts the stage's section and refuses a malformed model description", async () => {
    const record: AuditRecord = await realAuditRecord();
    const model = await loadPretrained(TINY_CHAT);
    const section = await runGenerativeStage(model, { rows, prompts: ['The capital of'], tokenizer: model.tokenizer!, ...small });
    model.dispose();
    const attached = attachSection(record, 'generative', section);
    expect(auditRecordViolations(attached)).toEqual([]);
    const bad = JSON.parse(JSON.stringify(attached)) as AuditRecord;
    const g = (bad.sections as { generative: { model: { tokenizer: { hash: unknown } }; baseModelHash: unknown } }).generative;
    g.model.tokenizer.hash = 'not a hash';
    g.baseModelHash = 42;
    const paths = auditRecordViolations(bad).map((v) => v.path);
    expect(paths).toContain('$.sections.generative.baseModelHash');
    expect(paths.some((p) => p.startsWith('$.sections.generative.model.tokenizer.hash'))).toBe(true);
  }, 60_000);
});
