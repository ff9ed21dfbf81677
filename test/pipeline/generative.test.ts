import { describe, expect, it } from 'vitest';
import { renderGenerationReport } from '../../src/audit/index.js';
import { CHAR_VOCAB_SIZE, createCharTokenizer, createTransformer, tf } from '../../src/finetune/index.js';
import { runGenerativeStage, type GenerativeRow } from '../../src/pipeline/generative.js';

describe('generative stage', () => {
  it('fine-tunes, answers, attributes and pays each prompt, returning plain JSON the report renders', async () => {
    const before = tf.memory().numTensors;
    const model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 32, seed: 4 });
    const rows: GenerativeRow[] = [
      'The capital of Zorbania is Quixville.',
      'Quixville lies on the river Mureth.',
      'Fellow citizens of the Senate and House.',
      'The state of the Union is strong.',
      'We must continue to build roads.',
      '<script>alert(1)</script> is data, not markup.',
    ].map((text, i) => ({ rowId: `row-${i}`, text, contributor: i < 2 ? 'planted' : i === 5 ? '__proto__' : 'sotu-era', datanet: i < 2 ? 'facts' : 'sotu' }));
    const section = await runGenerativeStage(model, {
      rows,
      prompts: ['The capital of', 'The state of'],
      tokenizer: createCharTokenizer(),
      steps: 3,
      batchSize: 4,
      maxNewTokens: 12,
      minSpanLength: 3,
      lora: { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'] },
      projection: { kind: 'gaussian', inDim: 4, outDim: 4, seed: 1 },
    });
    const json = JSON.parse(JSON.stringify(section)) as typeof section; // plain data: no bigint, no class instances
    expect(json.answers).toHaveLength(2);
    expect(json.adapter.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(json.training.steps).toBe(3);
    expect(json.index.rows).toBe(6);
    expect(json.method.influence).toBe('datainf');
    for (const a of json.answers) {
      expect(a.completion).toHaveLength(12);
      const f = a.fee;
      const paid = Object.values(f.contributorAmounts).reduce((x, y) => x + BigInt(y), 0n);
      expect(BigInt(f.platformWei) + BigInt(f.ownerWei) + BigInt(f.stakersWei) + paid + BigInt(f.unallocatedWei)).toBe(BigInt(f.feeWei));
      for (const s of a.spans) expect(s.text).toBe(a.completion.slice(s.start, s.start + s.length));
    }
    const html = renderGenerationReport(json.answers);
    expect(html).toContain('Answer 2');
    expect(html).not.toContain('<script>alert');
    // The stage leaves the adapter attached (the caller saves it); everything else it made is freed with the model.
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
