import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, sha256 } from '../../../src/core/index.js';
import {
  baseModelDirectory,
  createCharTokenizer,
  evaluateModel,
  initBackend,
  loadBaseModel,
  readBaseModelConfig,
  tf,
} from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// A passage written for this test (not from the training corpora).
const ENGLISH =
  'The ship left the harbour before dawn, and the men on the deck watched the lights of the town grow small. ' +
  'Nobody spoke of the storm that the old captain had promised them.';

describe('the shipped base model (models/base)', () => {
  it('is found beside the package, matches its recorded hash, and loads with no network', async () => {
    const dir = await baseModelDirectory();
    const config = await readBaseModelConfig();
    expect(dir.endsWith(join('models', 'base'))).toBe(true);
    expect(sha256(new Uint8Array(readFileSync(join(dir, config.weightsFile))))).toBe(config.weightsSha256);
    expect(config.tokenizer).toEqual({ kind: 'char', vocabSize: 98 });
    // Issue 10 part 5: a context of at least 256 characters (an e-mail's subject and the start of its body).
    expect(config.config.maxSeqLen).toBeGreaterThanOrEqual(256);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).n_positions).toBe(config.config.maxSeqLen);
    expect(JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(config.config.maxSeqLen);
    const model = await loadBaseModel();
    let count = 0;
    for (const v of model.weights.values()) count += v.size;
    expect(count).toBe(config.parameters);
    // The checkpoint stays small (a few MB at most).
    expect(readFileSync(join(dir, config.weightsFile)).byteLength).toBeLessThan(4 * 1024 * 1024);
    model.dispose();
  });

  it('has learned English: far lower loss on an unseen English passage than on random characters, and a recorded held-out perplexity', async () => {
    const config = await readBaseModelConfig();
    const model = await loadBaseModel();
    const tok = createCharTokenizer();
    // The whole passage as one sequence (shorter than the context).
    const english = tok.encode(ENGLISH);
    expect(english.length).toBeLessThanOrEqual(config.config.maxSeqLen + 1);
    const rng = createRng(1);
    const random = english.map(() => 3 + rng.nextInt(95));
    const onEnglish = evaluateModel(model, 'causal-lm', [{ input: english }]);
    const onRandom = evaluateModel(model, 'causal-lm', [{ input: random }]);
    expect(onEnglish.tokens).toBe(english.length - 1);
    // Uniform guessing costs ln 98 ≈ 4.58 nats per character.
    expect(onEnglish.loss).toBeLessThan(2.5);
    expect(onRandom.loss).toBeGreaterThan(onEnglish.loss + 1.5);
    const heldOut = config.heldOut as { overall: { loss: number; perplexity: number } };
    expect(heldOut.overall.perplexity).toBeCloseTo(Math.exp(heldOut.overall.loss), 6);
    expect(heldOut.overall.perplexity).toBeLessThan(12);
    model.dispose();
  });
});

describe('models/base records what it was grown from', () => {
  it('training.initialisedFrom names each committed warm start by the sha256 of its weights: models/base ← models/base-ctx256-v1 ← models/base-ctx64', async () => {
    const dir = await baseModelDirectory();
    // The chain npm run pretrain rebuilds along (models/base/README.md): each link's record names its source folder's weights.
    const chain: [string, string, number][] = [
      [dir, join(dir, '..', 'base-ctx256-v1'), 256],
      [join(dir, '..', 'base-ctx256-v1'), join(dir, '..', 'base-ctx64'), 64],
    ];
    for (const [model, source, sourceContext] of chain) {
      const config = await readBaseModelConfig(model);
      const init = (config.training as { initialisedFrom?: { weightsSha256: string; config: { maxSeqLen: number } } }).initialisedFrom;
      expect(init, model).toBeDefined();
      expect(sha256(new Uint8Array(readFileSync(join(source, 'model.safetensors'))))).toBe(init!.weightsSha256);
      expect((await readBaseModelConfig(source)).weightsSha256).toBe(init!.weightsSha256);
      expect(init!.config.maxSeqLen).toBe(sourceContext);
    }
  });
});

describe('models/base is a standard Hugging Face folder', () => {
  it('loadPretrained reads it as GPT2LMHeadModel with the same logits as loadBaseModel, and its tokenizer.json is the character tokenizer', async () => {
    const { computeLogits, loadPretrained } = await import('../../../src/finetune/index.js');
    const dir = await baseModelDirectory();
    const hf = await loadPretrained(dir);
    expect(hf.config.className).toBe('GPT2LMHeadModel');
    const tok = createCharTokenizer();
    const texts = [ENGLISH, 'naïve café — “quoted” … tab\there\r\nnew line', 'emoji 🐳 and ünïcödé, ½ and ﬁ ligature', '', '   ', '<pad> literal'];
    for (const text of texts.slice(0, 5)) expect(hf.tokenizer!.encode(text), text).toEqual(tok.encode(text));
    const model = await loadBaseModel();
    // A full-context sequence, so positions past the old 64 are compared too.
    const long = tok.encode(`${ENGLISH} ${ENGLISH}`);
    const ids = long.slice(0, Math.min(long.length, (await readBaseModelConfig()).config.maxSeqLen));
    expect(ids.length).toBeGreaterThan(64);
    const ours = tf.tidy(() => model.forwardLm(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync());
    const theirs = computeLogits(hf, { inputIds: [ids] }).data;
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
    // Two float32 kernels (tf.matMul here, the WebAssembly product in Hugging Face models) sum in different orders: ≈ 2e-5
    // on logits of this size; 1e-4 is the tolerance the transformers fixtures use.
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
    hf.dispose();
  });
});
