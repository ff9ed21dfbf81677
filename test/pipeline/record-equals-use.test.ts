/**
 * The record-equals-use test: run the pipeline with a non-default value for every parameter of `PIPELINE_PARAMS` (and of
 * the guard it builds), observe each value where the library uses it — the arguments of `createAdamW`, `attachAdapter`,
 * `makeBatch`, `featurize`, `compareModels`, `splitRewardDetailed`… captured by spies around the real functions — and
 * check that every recorded parameter equals its observation. A recorded parameter without an observation fails too.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';

type Call = unknown[];
const calls = new Map<string, Call[]>();
/** Results of the spied calls (awaited when a promise), by function name, in call order. */
const results = new Map<string, unknown[]>();
const spy =
  <F extends (...args: never[]) => unknown>(name: string, f: F): F =>
  ((...args: never[]) => {
    if (!calls.has(name)) calls.set(name, []);
    calls.get(name)!.push(args);
    const result = f(...args);
    if (!results.has(name)) results.set(name, []);
    const list = results.get(name)!;
    const at = list.push(result) - 1;
    if (result instanceof Promise) void result.then((v) => (list[at] = v), () => undefined);
    return result;
  }) as F;

vi.mock('../../src/finetune/train/optimizer.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/train/optimizer.js')>();
  return { ...m, createAdamW: spy('createAdamW', m.createAdamW), clipByGlobalNorm: spy('clipByGlobalNorm', m.clipByGlobalNorm) };
});
vi.mock('../../src/finetune/train/schedule.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/train/schedule.js')>();
  return { ...m, learningRateFactor: spy('learningRateFactor', m.learningRateFactor) };
});
vi.mock('../../src/finetune/train/data.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/train/data.js')>();
  return { ...m, makeBatch: spy('makeBatch', m.makeBatch), createBatchPlan: spy('createBatchPlan', m.createBatchPlan) };
});
vi.mock('../../src/finetune/train/loss.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/train/loss.js')>();
  return { ...m, evaluateModel: spy('evaluateModel', m.evaluateModel) };
});
vi.mock('../../src/finetune/train/train.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/train/train.js')>();
  return { ...m, train: spy('train', m.train) };
});
vi.mock('../../src/finetune/lora/adapter.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/lora/adapter.js')>();
  return { ...m, attachAdapter: spy('attachAdapter', m.attachAdapter) };
});
vi.mock('../../src/finetune/guards/replay.js', async (load) => {
  const m = await load<typeof import('../../src/finetune/guards/replay.js')>();
  return { ...m, createReplayGuard: spy('createReplayGuard', m.createReplayGuard) };
});
vi.mock('../../src/attribution/featurize.js', async (load) => {
  const m = await load<typeof import('../../src/attribution/featurize.js')>();
  return { ...m, featurize: spy('featurize', m.featurize) };
});
vi.mock('../../src/attribution/attribute-query.js', async (load) => {
  const m = await load<typeof import('../../src/attribution/attribute-query.js')>();
  return { ...m, attributeQueries: spy('attributeQueries', m.attributeQueries), createAttributionIndex: spy('createAttributionIndex', m.createAttributionIndex) };
});
vi.mock('../../src/attribution/reward-split.js', async (load) => {
  const m = await load<typeof import('../../src/attribution/reward-split.js')>();
  return { ...m, splitRewardDetailed: spy('splitRewardDetailed', m.splitRewardDetailed) };
});
vi.mock('../../src/eval/compare-models.js', async (load) => {
  const m = await load<typeof import('../../src/eval/compare-models.js')>();
  return { ...m, compareModels: spy('compareModels', m.compareModels) };
});
vi.mock('../../src/eval/gates.js', async (load) => {
  const m = await load<typeof import('../../src/eval/gates.js')>();
  return { ...m, evaluateGates: spy('evaluateGates', m.evaluateGates) };
});
vi.mock('../../src/eval/finetune-adapter.js', async (load) => {
  const m = await load<typeof import('../../src/eval/finetune-adapter.js')>();
  return { ...m, toEvalModel: spy('toEvalModel', m.toEvalModel) };
});

const { CHAR_VOCAB_SIZE, createDenseWorkspace, createGemmF32, createTransformer, fieldPaths, fromSpamAssassin, generalEnglish, runPipeline, verifyAuditRecord, PIPELINE_PARAMS, REPLAY_PARAMS } = await import(
  '../../src/index.js'
);
type AuditRecord = import('../../src/index.js').AuditRecord;
type PipelineOptions = import('../../src/index.js').PipelineOptions;

/** A non-default value for every parameter (every leaf of PIPELINE_PARAMS is listed: the test checks that). */
const NON_DEFAULT = {
  seed: 21,
  fractions: { train: 0.7, validation: 0.15, test: 0.15 },
  maxTrainRows: 40,
  maxEvalRows: 20,
  sequenceLength: 24,
  pooling: 'last',
  probe: { steps: 2, learningRate: 0.02 },
  training: {
    epochs: 999,
    maxSteps: 3,
    batchSize: 6,
    gradientAccumulationSteps: 2,
    learningRate: 0.004,
    schedule: { kind: 'cosine', warmupSteps: 1, minLrRatio: 0.1 },
    optimizer: { beta1: 0.8, beta2: 0.99, epsilon: 1e-7, weightDecay: 0.02 },
    maxGradNorm: 0.5,
    earlyStopping: { metric: 'accuracy', mode: 'min', patience: 5, minDelta: 0.01, restoreBest: false },
    evalBatchSize: 16,
  },
  lora: {
    r: 4,
    alpha: 12,
    dropout: 0.1,
    targetModules: ['q_proj'],
    useRslora: true,
    loraPlusLrRatio: 2,
    initLoraWeights: 'gaussian',
    rankPattern: { q_proj: 3 },
    alphaPattern: { q_proj: 6 },
    modulesToSave: ['classifier', 'fc_out'],
  },
  guard: { kind: 'replay', weight: 0.3, batchSize: 4, seed: 9, gradientAccumulationSteps: 2, sequenceLength: 20 },
  attribution: { method: 'grad-cos', projectionDim: 16, sampleQueries: 3, topK: 2, featureBatchSize: 8 },
  feeWei: 12345n,
  resamples: 30,
  names: {
    task: 'phishing triage',
    driftTask: 'late batch',
    retainedTask: 'plain prose',
    adapter: 'triage',
    baseModel: 'tiny test model',
    driftRule: 'contributor groups ending in -2',
    retainedProbe: 'next tokens of plain prose',
    evaluationRule: 'rows of contributors other than the noisy one',
  },
  gates: [{ task: 'phishing triage', quantity: 'tuned', atLeast: 0.1, name: 'triage F1 ≥ 0.1' }],
} as const;

const firstArgs = (name: string): Call => {
  const c = calls.get(name);
  if (!c?.length) throw new Error(`${name} was never called`);
  return c[0]!;
};
const lastArgs = (name: string): Call => calls.get(name)!.at(-1)!;
const get = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

let record: AuditRecord;
/** The rules of the snapshot's splitBy calls, in order: the drift rule, then the evaluation rule. */
const snapshotRules: Array<string | undefined> = [];
/** Non-drift rows per label, counted here from the snapshot (independently of the pipeline). */
let perLabel: number[];
let driftRows: number;
/** The model the run tuned: its classifier head's config is where pooling is read. */
let tunedModel: { config: { pooling?: string } };

beforeAll(async () => {
  const built = await fromSpamAssassin({ limitPerGroup: 20, noisy: 6, duplicate: 3, seed: 3, maxChars: 160 });
  const english = await generalEnglish({ count: 10, chars: 48 });
  const groups = built.groundTruth.contributorGroups;
  const frozen = built.datanet.snapshot();
  // The snapshot is an input the test holds: observe the drift rule where the split uses it (a copy: snapshots are frozen).
  const snapshot: typeof frozen = {
    ...frozen,
    splitBy: (assign, options) => {
      snapshotRules.push(options?.rule);
      return frozen.splitBy(assign, options);
    },
  };
  const isDrift = (row: { contributor: string }) => String(groups[row.contributor]).endsWith('-2');
  const labels = snapshot.classes.map(String);
  perLabel = labels.map((l) => snapshot.rows.filter((r) => !isDrift(r) && String(r.label) === l).length);
  driftRows = snapshot.rows.filter(isDrift).length;
  tunedModel = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 32, seed: 1 });
  const options = {
    snapshot,
    isDriftRow: (row: { contributor: string }) => String(groups[row.contributor]).endsWith('-2'),
    baseModel: tunedModel,
    generalTexts: english.heldOut,
    replayTexts: english.train,
    mislabelledRowIds: built.groundTruth.noisyRowIds,
    isTrustedRow: (row: { contributor: string }) => row.contributor !== built.groundTruth.noisyContributor,
    ...NON_DEFAULT,
  } as unknown as PipelineOptions;
  record = (await runPipeline(options)).record;
}, 240_000);

/** Where each recorded parameter is used, and what value that use saw. */
function observed(name: string): unknown {
  const trainCalls = calls.get('train')!;
  const fineTuneOptions = trainCalls[1]![1] as Record<string, unknown>;
  const probeOptions = trainCalls[0]![1] as Record<string, unknown>;
  const adamw = lastArgs('createAdamW')[1] as Record<string, unknown>;
  const [prepared] = [calls.get('makeBatch')!];
  const [, , , , sequenceLength] = prepared[prepared.length - 1]!;
  const featurizeOptions = firstArgs('featurize')[2] as { batchSize: number; projection?: { dim: number } };
  const replay = firstArgs('createReplayGuard')[0] as Record<string, unknown>;
  const m = /^([^.]+)\.(.+)$/.exec(name)!;
  const [, head, rest] = m;
  switch (head) {
    case 'pipeline':
      if (rest === 'seed') return lastArgs('createBatchPlan')[2];
      if (rest === 'sequenceLength') return sequenceLength;
      // The head's pooling is read by the transformer's forward from its config.
      if (rest === 'pooling') return tunedModel.config.pooling;
      // More rows are available than either cap (checked in the fractions test), so the caps are the counts used.
      if (rest === 'maxTrainRows') return (firstArgs('featurize')[1] as { inputs: Int32Array }).inputs.length / (sequenceLength as number);
      if (rest === 'maxEvalRows') return ((firstArgs('compareModels')[2] as { name: string; dataset: { inputs: unknown[] } }[]).find((t) => t.name.endsWith('(drift)'))!.dataset.inputs).length;
      if (rest === 'guard') return { ...replay, kind: calls.has('createReplayGuard') ? 'replay' : 'none', sequences: undefined };
      if (rest === 'feeWei') return String(firstArgs('splitRewardDetailed')[0]);
      if (rest === 'resamples') return (firstArgs('compareModels')[3] as { resamples: number }).resamples;
      if (rest === 'gates') return lastArgs('evaluateGates')[1];
      break;
    case 'fractions':
      return undefined;
    case 'probe':
      return rest === 'steps' ? probeOptions.maxSteps : probeOptions.learningRate;
    case 'training': {
      if (rest.startsWith('optimizer.')) return adamw[rest.slice('optimizer.'.length)];
      if (rest.startsWith('schedule.')) return (lastArgs('learningRateFactor')[2] as Record<string, unknown>)[rest.slice('schedule.'.length)];
      if (rest === 'batchSize') return lastArgs('createBatchPlan')[1];
      if (rest === 'maxGradNorm') return lastArgs('clipByGlobalNorm')[2];
      if (rest === 'evalBatchSize') return (lastArgs('evaluateModel')[3] as { batchSize: number }).batchSize;
      const log = (results.get('train')![1] as { log: { lr: number; examples: number }[] }).log;
      // Examples per optimizer step = batch size × micro-batches accumulated.
      if (rest === 'gradientAccumulationSteps') return log[0]!.examples / (lastArgs('createBatchPlan')[1] as number);
      if (rest === 'maxSteps') return log.length;
      if (rest === 'learningRate') {
        // The rate a step used, divided by the schedule factor computed for that step (step 0 is warm-up: factor 0).
        const factors = results.get('learningRateFactor')!.slice(-log.length) as number[];
        return log[2]!.lr / factors[2]!;
      }
      return get(fineTuneOptions, rest);
    }
    case 'lora':
      return get(lastArgs('attachAdapter')[2], rest);
    case 'guard':
      return replay[rest.slice('replay.'.length)];
    case 'attribution':
      if (rest === 'method') return (lastArgs('createAttributionIndex')[2] as { preconditioner: { method: string } }).preconditioner.method === 'grad-cos' ? 'grad-cos' : 'other';
      if (rest === 'projectionDim') return featurizeOptions.projection?.dim ?? 0;
      if (rest === 'featureBatchSize') return featurizeOptions.batchSize;
      if (rest === 'sampleQueries') return (firstArgs('attributeQueries')[1] as Int32Array).length / (sequenceLength as number);
      if (rest === 'topK') return (firstArgs('attributeQueries')[2] as { topK: number }).topK;
      break;
    case 'names': {
      const compareTasks = (firstArgs('compareModels')[2] as { name: string }[]).map((t) => t.name);
      if (rest === 'task') return compareTasks[0];
      if (rest === 'driftTask') return compareTasks.find((n) => n.endsWith('(drift)'))?.replace(' (drift)', '');
      if (rest === 'retainedTask') return compareTasks.at(-1);
      if (rest === 'adapter') return lastArgs('attachAdapter')[1];
      if (rest === 'baseModel') return (firstArgs('toEvalModel')[1] as { name: string }).name.replace(' (linear probe)', '');
      if (rest === 'driftRule') return snapshotRules[0];
      if (rest === 'evaluationRule') return snapshotRules[1];
      if (rest === 'retainedProbe') return record.evaluation.drift?.probe ?? NON_DEFAULT.names.retainedProbe;
      break;
    }
  }
  throw new Error(`no observation for ${name}`);
}

describe('the record equals what the run used', () => {
  it('sets every parameter of the pipeline and its guard to a non-default value', () => {
    const set = (prefix: string, value: unknown): string[] =>
      value && typeof value === 'object' && !Array.isArray(value) && prefix.split('.').length < 3 && !['lora.rankPattern', 'lora.alphaPattern', 'guard'].includes(prefix)
        ? Object.entries(value).flatMap(([k, v]) => set(prefix ? `${prefix}.${k}` : k, v))
        : [prefix];
    const given = new Set(set('', NON_DEFAULT));
    for (const path of fieldPaths(PIPELINE_PARAMS)) expect(given.has(path), `NON_DEFAULT lacks ${path}`).toBe(true);
    for (const path of fieldPaths(REPLAY_PARAMS)) expect(path in NON_DEFAULT.guard, `the guard lacks ${path}`).toBe(true);
    const rows = [...record.fineTuning.parameters, ...record.attribution.parameters];
    for (const row of rows) expect(row.value, `${row.name} is recorded at its default`).not.toEqual(row.default);
  });

  it('every recorded parameter equals the value observed where it is used', () => {
    const rows = [...record.fineTuning.parameters, ...record.attribution.parameters].filter((r) => !r.name.startsWith('fractions.'));
    expect(rows.length).toBeGreaterThan(50);
    for (const row of rows) {
      const seen = JSON.parse(JSON.stringify(observed(row.name), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null');
      expect(row.value, row.name).toEqual(seen);
    }
  });

  it('the recorded split fractions are the ones the split used: each label is cut by them', () => {
    const f = Object.fromEntries(record.fineTuning.parameters.filter((r) => r.name.startsWith('fractions.')).map((r) => [r.name.slice('fractions.'.length), r.value as number]));
    // Expected sizes from the recorded fractions and the label counts (validation and test are below their caps).
    const train = perLabel.reduce((a, n) => a + Math.round(f.train! * n), 0);
    const validation = perLabel.reduce((a, n) => a + Math.round(f.validation! * n), 0);
    const test = perLabel.reduce((a, n) => a + n - Math.round(f.train! * n) - Math.round(f.validation! * n), 0);
    expect(validation).toBeLessThan(32);
    expect(test).toBeLessThan(NON_DEFAULT.maxEvalRows);
    expect(train).toBeGreaterThan(NON_DEFAULT.maxTrainRows);
    expect(driftRows).toBeGreaterThan(NON_DEFAULT.maxEvalRows);
    // The evaluation rule (isTrustedRow) takes the noisy contributor's rows out of the test sample and records how many.
    const splits = record.datanet.splits as unknown as { test: number; untrustedTestRows: number };
    expect(splits.untrustedTestRows).toBeGreaterThan(0);
    expect(splits.test + splits.untrustedTestRows).toBe(test);
    expect(record.datanet.splits).toMatchObject({ train: NON_DEFAULT.maxTrainRows, validation, drift: NON_DEFAULT.maxEvalRows });
  });

  it('the record names the float32 and float64 product kernels a workspace gets in this runtime', () => {
    const gemm = createGemmF32();
    const dense = createDenseWorkspace(16);
    expect(record.environment.productKernels).toEqual({ float32: gemm.kernel, float64: dense.kernel });
    gemm.dispose();
  });

  it("a custom Datanet's record uses its own names, and the record verifies", async () => {
    expect(record.evaluation.tasks.map((t) => t.name)).toEqual(['phishing triage', 'phishing triage (accuracy)', 'phishing triage (all labels)', 'late batch (drift)', 'late batch (accuracy)', 'plain prose']);
    expect(record.fineTuning.adapterName).toBe('triage');
    const text = JSON.stringify({ ...record.evaluation, ...record.fineTuning, attribution: record.attribution.parameters });
    expect(text).not.toMatch(/spam detection|later-collected mail|security/);
    expect(await verifyAuditRecord(record)).toEqual({ ok: true, failures: [] });
  });
});
