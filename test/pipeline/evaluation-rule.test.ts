/**
 * The evaluation rule (`isTrustedRow`, `names.evaluationRule`) and the head's pooling choice: checked against splits and
 * counts computed here from the snapshot, independently of the pipeline.
 */
import { describe, expect, it } from 'vitest';
import {
  addClassificationHead,
  createCharTokenizer,
  createTransformer,
  fineTune,
  fromSpamAssassin,
  prepareData,
  resolvePipelineParams,
  CHAR_VOCAB_SIZE,
  type SnapshotRow,
} from '../../src/index.js';

const built = await fromSpamAssassin({ limitPerGroup: 30, noisy: 40, duplicate: 4, seed: 3, maxChars: 120 });
const snapshot = built.datanet.snapshot();
const groups = built.groundTruth.contributorGroups;
const isDriftRow = (row: SnapshotRow) => String(groups[row.contributor]).endsWith('-2');
const noisy = new Set(built.groundTruth.noisyRowIds);
const isTrustedRow = (row: SnapshotRow) => !noisy.has(row.id);
const used = resolvePipelineParams({ seed: 4, maxTrainRows: 60, maxEvalRows: 40, sequenceLength: 16, names: { evaluationRule: 'not the noisy contributor' } });
const ids = (rows: readonly SnapshotRow[]) => rows.map((r) => r.id);

describe('prepareData with an evaluation rule', () => {
  const free = prepareData(snapshot, used, createCharTokenizer(), isDriftRow);
  const ruled = prepareData(snapshot, used, createCharTokenizer(), isDriftRow, isTrustedRow);

  it('keeps the training rows and evaluates the rule-free test sample less its untrusted rows', () => {
    expect(ids(ruled.trainRows)).toEqual(ids(free.trainRows));
    expect(free.untrustedTestRows).toEqual([]);
    expect(free.evaluationSplit).toBeNull();
    const untrustedInSample = free.testRows.filter((r) => noisy.has(r.id));
    // The seeded sample must hold some noisy rows for this test to mean anything.
    expect(untrustedInSample.length).toBeGreaterThan(0);
    expect(ids(ruled.untrustedTestRows)).toEqual(ids(untrustedInSample));
    expect(ids(ruled.testRows)).toEqual(ids(free.testRows.filter((r) => !noisy.has(r.id))));
    expect(ids(ruled.validationRows)).toEqual(ids(free.validationRows.filter((r) => !noisy.has(r.id))));
    expect(ids(ruled.driftRows)).toEqual(ids(free.driftRows.filter((r) => !noisy.has(r.id))));
  });

  it("names the rule's rows by a split digest over exactly the untrusted rows", () => {
    const split = ruled.evaluationSplit!;
    expect(split.rule).toBe('not the noisy contributor');
    expect(new Set(ids(split.test.rows))).toEqual(noisy);
    expect(split.digest).toBe(snapshot.splitBy((row) => (noisy.has(row.id) ? 'test' : 'train'), { rule: 'not the noisy contributor' }).digest);
  });
});

describe("the pipeline's pooling", () => {
  const data = prepareData(snapshot, used, createCharTokenizer(), isDriftRow);
  const tiny = () => createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 1 });

  it('gives the head the pooling asked for', async () => {
    const model = tiny();
    await fineTune(model, data, { ...used, pooling: 'last', probe: { steps: 1, learningRate: 0.01 }, training: { ...used.training, maxSteps: 1, batchSize: 4 } }, createCharTokenizer());
    expect(model.config.pooling).toBe('last');
    model.dispose();
  });

  it('refuses a pooling other than that of the head the model already has', async () => {
    const model = tiny();
    addClassificationHead(model, 2, { seed: 1, pooling: 'mean' });
    await expect(fineTune(model, data, { ...used, pooling: 'last' }, createCharTokenizer())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/pooling 'last'.*'mean'/) });
    model.dispose();
  });
});
