import { describe, expect, it } from 'vitest';
import {
  auditRecordViolations,
  createTransformer,
  fromSpamAssassin,
  generalEnglish,
  runPipeline,
  stableAuditView,
  CHAR_VOCAB_SIZE,
  type PipelineOptions,
} from '../../src/index.js';

async function options(): Promise<PipelineOptions> {
  const built = await fromSpamAssassin({ limitPerGroup: 24, noisy: 8, duplicate: 5, seed: 3, maxChars: 200 });
  const english = await generalEnglish({ count: 12, chars: 64 });
  const baseModel = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 32, seed: 1 });
  const groups = built.groundTruth.contributorGroups;
  return {
    snapshot: built.datanet.snapshot(),
    isDriftRow: (row) => String(groups[row.contributor]).endsWith('-2'),
    baseModel,
    generalTexts: english.heldOut,
    replayTexts: english.train,
    mislabelledRowIds: built.groundTruth.noisyRowIds,
    seed: 5,
    names: { task: 'spam detection', driftTask: 'later-collected mail', retainedTask: 'general English', adapter: 'security', driftRule: 'groups ending in -2' },
    probe: { steps: 3 },
    training: { maxSteps: 4, batchSize: 8 },
    maxTrainRows: 48,
    maxEvalRows: 24,
    sequenceLength: 32,
    resamples: 60,
    attribution: { sampleQueries: 2, topK: 3 },
    feeWei: 10n ** 15n,
  };
}

describe('runPipeline (tiny model, small Datanet)', () => {
  it('produces a schema-valid audit record with an exact reward split, and the same record for the same seed', async () => {
    const first = await runPipeline(await options());
    const { record } = first;
    expect(auditRecordViolations(record)).toEqual([]);
    expect(record.fineTuning.log.steps).toBe(4);
    expect(record.evaluation.tasks.map((t) => t.name)).toEqual([
      'spam detection',
      'spam detection (accuracy)',
      'later-collected mail (drift)',
      'later-collected mail (accuracy)',
      'general English',
    ]);
    expect(record.fineTuning.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['lora.r', 'training.learningRate', 'training.maxSteps', 'pipeline.seed']));
    const paid = record.rewards.split.reduce((sum, s) => sum + BigInt(s.amountWei), 0n);
    expect(paid).toBe(10n ** 15n);
    for (const s of record.rewards.split) expect(BigInt(s.amountWei) >= 0n).toBe(true);
    // The duplicate contributor owns no rows, so it can earn nothing.
    const duplicate = record.datanet.contributors.find((c) => c.rows === 0);
    expect(duplicate).toBeDefined();
    expect(BigInt(record.rewards.split.find((s) => s.contributor === duplicate!.id)?.amountWei ?? '0')).toBe(0n);
    expect(record.datanet.proofExample.verified).toBe(true);
    expect(record.attribution.queries).toHaveLength(2);

    const second = await runPipeline(await options());
    expect(stableAuditView(second.record)).toEqual(stableAuditView(record));
  }, 240_000);

  it('records a guard’s settings and rejects an unknown guard', async () => {
    const opts = await options();
    const { record } = await runPipeline({ ...opts, guard: { kind: 'l2-sp', strength: 0.5 } });
    expect(record.fineTuning.parameters.find((p) => p.name === 'guard.l2-sp.strength')).toMatchObject({ value: 0.5, default: 0.01 });
    await expect(runPipeline({ ...(await options()), guard: 'magic' as never })).rejects.toThrow(/guard: must be 'none'/);
  }, 240_000);
});
