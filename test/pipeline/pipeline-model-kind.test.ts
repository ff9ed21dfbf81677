/**
 * runPipeline with a Hugging Face model (a new user's trial): it used to prepare the data and then fail inside
 * addClassificationHead, a function the user never called. It now fails first, saying the pipeline's classification runs
 * on zoo transformers and what to use for a Hugging Face model.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDatanet } from '../../src/datanet/index.js';
import { loadPretrained } from '../../src/finetune/index.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { caught } from '../finetune/hf/fixtures.js';

const TINY_CHAT = fileURLToPath(new URL('../fixtures/hf/tiny-chat', import.meta.url));

function snapshot() {
  const dn = createDatanet({ name: 'sentiment', schema: { input: 'text', labels: ['neg', 'pos'] } });
  for (const [contributor, words, label] of [['alice', ['great', 'lovely', 'superb', 'good'], 'pos'], ['bob', ['awful', 'bad', 'poor', 'sad'], 'neg']] as const) {
    dn.addContribution({ contributor, licence: 'CC-BY-4.0', source: 's', rows: words.map((w, i) => ({ input: `the film was ${w} ${i}`, label })) });
  }
  return dn.snapshot();
}

describe('runPipeline refuses a model its classification cannot run on', () => {
  it('fails first on a loadPretrained model, naming the zoo transformers and the Hugging Face route', async () => {
    const model = await loadPretrained(TINY_CHAT, { numLabels: 2 });
    let rowsSeen = 0;
    const { error, text } = await caught(
      () =>
        runPipeline({
          snapshot: snapshot(),
          baseModel: model as never,
          generalTexts: ['The quick brown fox jumps over the lazy dog.'],
          isDriftRow: () => (rowsSeen++, false), // called by data preparation: must never run
          training: { maxSteps: 2 },
        }),
      'MODEL_CONFIG_INVALID',
    );
    expect(rowsSeen).toBe(0);
    expect(error.data).toMatchObject({ input: 'baseModel', kind: 'llama' });
    for (const name of ['baseModel', 'Hugging Face llama', 'zoo transformers', 'createTransformer', 'loadBaseModel', 'models/base', 'loadPretrained(dir, { numLabels })', 'prepareClassificationExamples', 'train', 'toEvalModel', 'compareModels']) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('addClassificationHead');
    expect([...model.linears.values()].every((l) => l.adapters.size === 0)).toBe(true);
    model.dispose();
  }, 60_000);

  it('names a value that is no model at all', async () => {
    const { text } = await caught(() => runPipeline({ snapshot: snapshot(), baseModel: undefined as never, generalTexts: ['x'] }), 'MODEL_CONFIG_INVALID');
    expect(text).toContain('baseModel is undefined');
  });
});
