/**
 * One attributable fine-tune, end to end, on plain library calls:
 *   Datanet snapshot → split (with a held-out drift set) → linear probe (the base model's domain ability) → LoRA fine-tune
 *   → base-vs-tuned evaluation (domain, drift, general English) and gates → attribution (features, queries, contributor
 *   totals, mislabel detection) → reward split → the audit record (chain section "skipped"; `provenant/chain` fills it).
 *
 * Why a linear probe for the base: a freshly initialised head would make any fine-tune look like a large gain. Training
 * only the head on the frozen base measures what the base representation already knows; the LoRA adapter (with its own
 * copy of the head, PEFT's `modules_to_save`) must beat that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenantError, createProgressReporter, keccak256, canonicalJson, shuffle, type Hex } from '../core/index.js';
import type { Label, SnapshotRow } from '../datanet/index.js';
import { compareModels, evaluateGates, toEvalModel, type ComparisonTable, type EvalTask, type Gate, type GateReport } from '../eval/index.js';
import {
  LORA_CONFIG_FIELDS,
  TRAINING_DEFAULTS,
  GUARD_DEFAULTS,
  addClassificationHead,
  adapterHash,
  attachAdapter,
  baseModelHash,
  createCharTokenizer,
  createKlToBaseGuard,
  createL2SpGuard,
  createReplayGuard,
  initBackend,
  resolveLoraConfig,
  train,
  type Guard,
  type TrainResult,
  type TrainingExample,
} from '../finetune/index.js';
import {
  attributeQueries,
  createAttributionIndex,
  featurize,
  fitDataInf,
  gradCos,
  gradDot,
  mislabelAuc,
  readFeatureStore,
  selfInfluence,
  splitRewardDetailed,
  writeFeatureStore,
  type Preconditioner,
  type QueryAttribution,
} from '../attribution/index.js';
import { AUDIT_SCHEMA_ID } from '../audit/schema.js';
import type { AuditParameter, AuditRecord } from '../audit/record.js';
import { DEFAULT_LORA, PIPELINE_DEFAULTS, type PipelineOptions } from './options.js';

export const ADAPTER_NAME = 'security';
const PROVENANT_VERSION = '0.1.0';

export interface PipelineResult {
  /** The audit record, chain section `skipped` (publish with `provenant/chain` to fill it). */
  record: AuditRecord;
  comparison: ComparisonTable;
  gates: GateReport;
  training: TrainResult;
  queries: QueryAttribution[];
}

const defaultOf = (name: string): unknown => PIPELINE_DEFAULTS.find((p) => p.name === name)!.default;

/** Runs the whole pipeline; see the module comment. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const seed = options.seed ?? (defaultOf('seed') as number);
  const resolved = {
    seed,
    fractions: options.fractions ?? (defaultOf('fractions') as { train: number; validation: number; test: number }),
    maxTrainRows: options.maxTrainRows ?? (defaultOf('maxTrainRows') as number),
    maxEvalRows: options.maxEvalRows ?? (defaultOf('maxEvalRows') as number),
    sequenceLength: Math.min(options.sequenceLength ?? (defaultOf('sequenceLength') as number), options.baseModel.config.maxSeqLen),
    probeSteps: options.probeSteps ?? (defaultOf('probeSteps') as number),
    probeLearningRate: options.probeLearningRate ?? (defaultOf('probeLearningRate') as number),
    steps: options.steps ?? (defaultOf('steps') as number),
    learningRate: options.learningRate ?? (defaultOf('learningRate') as number),
    batchSize: options.batchSize ?? (defaultOf('batchSize') as number),
    schedule: options.schedule ?? (defaultOf('schedule') as { kind: 'linear'; warmupSteps: number }),
    guard: options.guard ?? 'none',
    guardStrength: options.guardStrength ?? (defaultOf('guardStrength') as number),
    attributionMethod: options.attributionMethod ?? 'datainf',
    projectionDim: options.projectionDim ?? 0,
    sampleQueries: options.sampleQueries ?? (defaultOf('sampleQueries') as number),
    topK: options.topK ?? (defaultOf('topK') as number),
    feeWei: options.feeWei ?? BigInt(defaultOf('feeWei') as string),
    resamples: options.resamples ?? (defaultOf('resamples') as number),
  };
  const timings: Record<string, number> = {};
  const clock = (name: string, start: number) => (timings[name] = +((performance.now() - start) / 1000).toFixed(3));
  const progress = (stage: string, total?: number) => createProgressReporter(stage, total, options.onProgress);
  const started = performance.now();
  const backend = await initBackend();
  const { snapshot, baseModel: model } = options;
  const tokenizer = createCharTokenizer();

  // ── data ─────────────────────────────────────────────────────────────────────────────────────────────────────────
  let t = performance.now();
  const classes = snapshot.classes.map(String);
  if (classes.length < 2) throw new ProvenantError('INVALID_ARGUMENT', `The snapshot needs at least two labels, has [${classes.join(', ')}].`);
  const classIndex = new Map<string, number>(classes.map((c, i) => [c, i]));
  const textOf = (row: SnapshotRow): string => {
    if (typeof row.input !== 'string') throw new ProvenantError('DATANET_SCHEMA_INVALID', `runPipeline needs text rows; row ${row.id} is not text.`);
    return row.input;
  };
  const labelOf = (row: SnapshotRow): number => {
    const k = classIndex.get(String(row.label as Label));
    if (k === undefined) throw new ProvenantError('DATANET_ROW_INVALID', `Row ${row.id} has no known label.`);
    return k;
  };
  const isDrift = options.isDriftRow ?? (() => false);
  const driftSplit = snapshot.splitBy((row) => (isDrift(row) ? 'test' : 'train'), { rule: options.driftRule ?? 'none' });
  const driftRows = driftSplit.test.rows;
  const inDomain = driftSplit.train.rows;
  const inDomainSplit = stratifiedSplit(inDomain, labelOf, resolved.fractions, seed);
  const trainRows = sample(inDomainSplit.train, resolved.maxTrainRows, seed);
  const validationRows = sample(inDomainSplit.validation, Math.max(32, Math.round(resolved.maxEvalRows / 4)), seed + 1);
  const testRows = sample(inDomainSplit.test, resolved.maxEvalRows, seed + 2);
  const driftEval = sample(driftRows, resolved.maxEvalRows, seed + 3);
  const encode = (rows: readonly SnapshotRow[]): TrainingExample[] =>
    rows.map((row) => ({ input: tokenizer.encode(textOf(row)).slice(0, resolved.sequenceLength), label: labelOf(row) }));
  const trainExamples = encode(trainRows);
  const validationExamples = encode(validationRows);
  clock('data', t);

  // ── base model: hash, classification head, linear probe ──────────────────────────────────────────────────────────
  t = performance.now();
  const baseHash = baseModelHash(model);
  if (!model.linears.has('classifier')) addClassificationHead(model, classes.length, { seed });
  for (const [name, weight] of model.weights) weight.trainable = name.startsWith('classifier.');
  const probeReporter = progress('probe', resolved.probeSteps);
  await train(model, {
    task: 'classification',
    train: trainExamples,
    seed,
    maxSteps: resolved.probeSteps,
    epochs: 1000,
    batchSize: resolved.batchSize,
    learningRate: resolved.probeLearningRate,
    sequenceLength: resolved.sequenceLength,
    onStep: (e) => probeReporter.tick(e.step, { loss: e.loss }),
  });
  clock('probe', t);

  // ── LoRA fine-tune ───────────────────────────────────────────────────────────────────────────────────────────────
  t = performance.now();
  const loraConfig = resolveLoraConfig({ ...DEFAULT_LORA, ...options.lora });
  attachAdapter(model, ADAPTER_NAME, loraConfig, { seed });
  const guard = makeGuard(resolved.guard, resolved.guardStrength, options, model, tokenizer, resolved.sequenceLength, seed);
  const trainReporter = progress('fine-tune', resolved.steps);
  let training: TrainResult;
  try {
    training = await train(model, {
      task: 'classification',
      train: trainExamples,
      validation: validationExamples,
      seed,
      maxSteps: resolved.steps,
      epochs: 1000,
      batchSize: resolved.batchSize,
      learningRate: resolved.learningRate,
      schedule: resolved.schedule,
      sequenceLength: resolved.sequenceLength,
      ...(guard ? { extraLoss: guard } : {}),
      onStep: (e) => trainReporter.tick(e.step, { loss: e.loss, lr: e.lr, examplesPerSecond: e.examplesPerSecond }),
    });
  } finally {
    guard?.dispose();
  }
  const tunedHash = adapterHash(model, ADAPTER_NAME);
  clock('fineTune', t);

  // ── evaluation ───────────────────────────────────────────────────────────────────────────────────────────────────
  t = performance.now();
  const base = toEvalModel(model, { name: 'base (linear probe)', adapters: [], maxTokens: resolved.sequenceLength });
  const tuned = toEvalModel(model, { name: `tuned (${ADAPTER_NAME})`, adapters: [ADAPTER_NAME], maxTokens: resolved.sequenceLength });
  const testSet = { inputs: testRows.map(textOf), labels: testRows.map(labelOf) };
  const driftSet = { inputs: driftEval.map(textOf), labels: driftEval.map(labelOf) };
  // Macro-F1 is the headline (classes are imbalanced); accuracy is reported beside it.
  const tasks: EvalTask<string>[] = [
    { name: 'spam detection', kind: 'domain', metric: 'macro-f1', dataset: testSet },
    { name: 'spam detection (accuracy)', kind: 'domain', metric: 'accuracy', dataset: testSet },
  ];
  if (driftEval.length > 0) {
    tasks.push({ name: 'later-collected mail (drift)', kind: 'domain', metric: 'macro-f1', dataset: driftSet });
    tasks.push({ name: 'later-collected mail (accuracy)', kind: 'domain', metric: 'accuracy', dataset: driftSet });
  }
  tasks.push({ name: 'general English', kind: 'retained', metric: 'perplexity', dataset: { texts: options.generalTexts } });
  const comparison = await compareModels(base, tuned, tasks, { resamples: resolved.resamples, seed, onProgress: options.onProgress });
  const gateList: Gate[] = options.gates ?? [
    { task: 'spam detection', verdict: 'not-regressed', name: 'spam detection not regressed' },
    { task: 'spam detection', quantity: 'tuned', atLeast: 0.8, name: 'spam detection macro-F1 ≥ 0.8' },
    { task: 'general English', quantity: 'relativeDelta', atMost: 0.1, name: 'general English perplexity increase ≤ 10 %' },
  ];
  const gates = evaluateGates(comparison, gateList);
  clock('evaluation', t);

  // ── attribution ──────────────────────────────────────────────────────────────────────────────────────────────────
  t = performance.now();
  const idsOf = (rows: readonly SnapshotRow[]): Int32Array => {
    const { ids } = tokenizer.encodeBatch(rows.map(textOf), resolved.sequenceLength);
    return ids;
  };
  const featureOptions = {
    batchSize: 64,
    ...(resolved.projectionDim > 0 ? { projection: { kind: 'rademacher' as const, dim: resolved.projectionDim, seed } } : {}),
    onProgress: options.onProgress,
  };
  const trainLabels = Int32Array.from(trainRows, labelOf);
  const features = featurize(model, { inputs: idsOf(trainRows), exampleShape: [resolved.sequenceLength], labels: trainLabels }, featureOptions);
  const storeDir = options.featureStoreDir ?? (await mkdtemp(join(tmpdir(), 'provenant-features-')));
  await writeFeatureStore(storeDir, features, {
    model,
    snapshotRoot: snapshot.root,
    rowIds: trainRows.map((r) => r.id),
    contributors: trainRows.map((r) => r.contributor),
    labels: trainLabels,
  });
  const store = await readFeatureStore(storeDir, { model });
  if (!options.featureStoreDir) await rm(storeDir, { recursive: true, force: true });
  const preconditioner: Preconditioner =
    resolved.attributionMethod === 'datainf' ? fitDataInf(store.features) : resolved.attributionMethod === 'grad-cos' ? gradCos() : gradDot();
  const index = createAttributionIndex(model, store, { preconditioner });
  let queries: QueryAttribution[];
  let totals: Record<string, number>;
  const paidShares: Record<string, number> = Object.create(null); // contributor ids are data ("__proto__" too)
  let scoreDigest: Hex;
  let selfScores: Float64Array;
  try {
    const queryRows = testRows.slice(0, resolved.sampleQueries);
    queries = attributeQueries(model, idsOf(queryRows), { index, topK: resolved.topK, exampleShape: [resolved.sequenceLength] });
    // Rewards: every evaluated test e-mail is a paid query attributed at its own prediction (no label exists at inference);
    // each query pays the contributors with positive net influence on it, in proportion. Summing those per-query shares
    // pays a contributor for the queries its data supported, whatever the mix of queries.
    const paid = attributeQueries(model, idsOf(testRows), { index, topK: 1, exampleShape: [resolved.sequenceLength] });
    for (const q of paid) for (const [c, share] of Object.entries(q.shares ?? {})) paidShares[c] = (paidShares[c] ?? 0) + Math.max(0, share);
    // Quality flag: influence on the *correct* label, normalised per query and balanced over classes, so a contributor is
    // flagged only when its data pushes predictions away from the truth on balance — not merely because most queries
    // belong to another class.
    const truth = attributeQueries(model, idsOf(testRows), { index, topK: 1, exampleShape: [resolved.sequenceLength], labels: Int32Array.from(testRows, labelOf) });
    const perClass = new Map<number, { n: number; sums: Record<string, number> }>();
    truth.forEach((q, t) => {
      const k = labelOf(testRows[t]!);
      const entry = perClass.get(k) ?? { n: 0, sums: Object.create(null) as Record<string, number> };
      const scale = Object.values(q.contributorScores).reduce((a, v) => a + Math.abs(v), 0) || 1;
      for (const [c, v] of Object.entries(q.contributorScores)) entry.sums[c] = (entry.sums[c] ?? 0) + v / scale;
      entry.n += 1;
      perClass.set(k, entry);
    });
    totals = Object.create(null) as Record<string, number>;
    for (const { n, sums } of perClass.values()) for (const [c, v] of Object.entries(sums)) totals[c] = (totals[c] ?? 0) + v / n / perClass.size;
    scoreDigest = keccak256(canonicalJson(truth.map((q) => Object.entries(q.contributorScores).sort().map(([c, v]) => [c, round(v)]))));
    selfScores = selfInfluence(store.features, preconditioner);
  } finally {
    index.dispose();
    preconditioner.dispose?.();
  }
  const noisyIds = new Set(options.mislabelledRowIds ?? []);
  const flagged = trainRows.map((r) => noisyIds.has(r.id));
  const quality: Record<string, number | string> = {};
  if (flagged.some(Boolean) && flagged.some((f) => !f)) {
    const auc = mislabelAuc(selfScores, flagged, { baseline: features.loss });
    quality.mislabelledRowsAuc = round(auc.auc);
    if (auc.baselineAuc !== undefined) quality.ownLossBaselineAuc = round(auc.baselineAuc);
    quality.mislabelledRowsInTraining = auc.flagged;
  }
  // Contributors with rows but no training rows sampled still appear, with zero influence.
  const contributorIds = snapshot.contributors.map((c) => c.contributor);
  // Flagged contributors (net harmful on the truth) are paid nothing, whatever their per-query shares.
  const flaggedIds = contributorIds.filter((c) => (totals[c] ?? 0) < 0);
  const rewardShares = Object.fromEntries(contributorIds.map((c) => [c, flaggedIds.includes(c) ? 0 : paidShares[c] ?? 0]));
  const rewardSplit = splitRewardDetailed(resolved.feeWei, rewardShares);
  const paidTotal = Object.values(rewardShares).reduce((a, v) => a + v, 0);
  clock('attribution', t);
  timings.total = +((performance.now() - started) / 1000).toFixed(3);

  // ── audit record ─────────────────────────────────────────────────────────────────────────────────────────────────
  const summary = snapshot.summary();
  const proofRow = trainRows[0] ?? snapshot.rows[0]!;
  const proof = snapshot.getProof(proofRow.id);
  const interval = (e: { value: number; ci: { lower: number; upper: number } }) => ({ value: round(e.value), low: round(e.ci.lower), high: round(e.ci.upper) });
  const pipelineParams: AuditParameter[] = PIPELINE_DEFAULTS.map((p) => ({
    name: `pipeline.${p.name}`,
    value: jsonSafe((resolved as Record<string, unknown>)[p.name]),
    default: p.default,
    meaning: p.meaning,
  }));
  const loraParams: AuditParameter[] = LORA_CONFIG_FIELDS.map((f) => ({
    name: `lora.${f.field}`,
    value: jsonSafe(loraConfig[f.field]),
    default: jsonSafe(f.default),
    meaning: f.meaning,
  }));
  const trainingParams: AuditParameter[] = TRAINING_DEFAULTS.map((f) => ({
    name: `training.${f.field}`,
    value: jsonSafe(training.settings[f.field] ?? f.default),
    default: jsonSafe(f.default),
    meaning: f.reason,
  }));
  const guardParams: AuditParameter[] =
    resolved.guard === 'none'
      ? []
      : GUARD_DEFAULTS.filter((g) => g.guard === resolved.guard).map((g) => ({
          name: `guard.${g.guard}.${g.field}`,
          value: jsonSafe(g.field === 'strength' || g.field === 'weight' ? resolved.guardStrength : g.default),
          default: jsonSafe(g.default),
          meaning: g.meaning,
        }));
  const record: AuditRecord = {
    schema: AUDIT_SCHEMA_ID,
    createdAt: new Date().toISOString(),
    generator: { name: 'provenant', version: PROVENANT_VERSION },
    environment: { node: process.version, platform: `${process.platform}-${process.arch}`, ...jsonSafe(backend) as Record<string, unknown>, backend: String(backend.backend), tfjsVersion: String(backend.tfjsVersion) },
    seed,
    datanet: {
      name: summary.name,
      version: summary.version,
      root: summary.root,
      leafEncoding: [...summary.leafTypes],
      rows: summary.rows,
      duplicatesRemoved: summary.duplicatesRemoved,
      rejections: summary.rejections,
      contributors: summary.contributors.map((c) => ({ id: c.contributor, rows: c.rows, bytes: c.bytes, labels: { ...c.labels }, duplicates: c.duplicates, rejections: c.rejections })),
      splits: { train: trainRows.length, validation: validationRows.length, test: testRows.length, drift: driftEval.length, driftRule: options.driftRule ?? 'none', seed },
      proofExample: { rowId: proofRow.id, rowHash: proofRow.id as Hex, proof, verified: snapshot.verifyRow(proofRow, proof) },
    },
    baseModel: { name: options.baseModelName ?? 'provenant-tiny-en', hash: baseHash, config: jsonSafe(model.config) as Record<string, unknown> },
    fineTuning: {
      adapterName: ADAPTER_NAME,
      adapterHash: tunedHash,
      task: 'sequence-classification',
      parameters: [...pipelineParams, ...loraParams, ...trainingParams, ...guardParams],
      log: {
        steps: training.steps,
        finalLoss: round(training.log.at(-1)?.loss ?? Number.NaN),
        lossCurve: training.log.map((e) => ({ step: e.step, loss: round(e.loss), lr: round(e.lr) })),
      },
    },
    evaluation: {
      tasks: comparison.rows.map((r) => ({
        name: r.task,
        kind: r.kind,
        metric: r.metric,
        higherIsBetter: r.higherIsBetter,
        base: interval(r.base),
        tuned: interval(r.tuned),
        delta: { ...interval(r.delta), pValue: round(r.pValue) },
        verdict: r.verdict,
      })),
      ...(comparison.rows.find((r) => r.drift && r.kind === 'retained')
        ? { drift: { kl: round(comparison.rows.find((r) => r.kind === 'retained')!.drift!.kl.value), js: round(comparison.rows.find((r) => r.kind === 'retained')!.drift!.js.value), probe: 'general English next-token distributions' } }
        : {}),
      gate: { pass: gates.passed, checks: gates.results.map((g) => ({ name: g.name, pass: g.passed, reason: g.reason })) },
    },
    attribution: {
      method: resolved.attributionMethod,
      parameters: [
        { name: 'attribution.method', value: resolved.attributionMethod, default: 'datainf', meaning: 'How per-example gradients are compared (see PIPELINE_DEFAULTS).' },
        { name: 'attribution.target', value: 'loss', default: 'loss', meaning: 'Gradients of the cross-entropy at the predicted class (τ > 0: the row supports the prediction).' },
        { name: 'attribution.parameters', value: store.manifest.info.parameters.length, default: null, meaning: 'Number of trainable tensors (LoRA A, B and the head copy) whose gradients are compared.' },
        { name: 'attribution.projectionDim', value: resolved.projectionDim, default: 0, meaning: 'Random projection width (0 = exact gradients).' },
        { name: 'attribution.reduction', value: 'sum', default: 'sum', meaning: 'Row scores summed per contributor within each query (net influence of the contributor on that query).' },
        { name: 'attribution.rewardRule', value: 'per-query positive shares', default: 'per-query positive shares', meaning: 'Each evaluated e-mail is a paid query at its predicted label; its fee goes to contributors with positive net influence on it, in proportion; the sample fee is split over the summed shares.' },
        { name: 'attribution.flagRule', value: 'class-balanced net influence at the true label < 0', default: 'class-balanced net influence at the true label < 0', meaning: 'A contributor whose data, on balance over classes, pushes predictions away from the true label is flagged and paid nothing.' },
        { name: 'attribution.preconditioner', value: jsonSafe(preconditioner.params), default: null, meaning: `Fitted parameters of ${preconditioner.method}.` },
      ],
      ...(Object.keys(quality).length ? { quality } : {}),
      contributorTotals: contributorIds.map((c) => ({
        contributor: c,
        score: round(totals[c] ?? 0),
        share: paidTotal > 0 ? round((rewardShares[c] ?? 0) / paidTotal) : 0,
        flagged: flaggedIds.includes(c),
      })),
      queries: queries.map((q, i) => ({
        id: `q${i + 1}`,
        input: textOf(testRows[i]!).slice(0, 300),
        prediction: { label: classes[q.prediction.label]!, probability: round(q.prediction.probabilities[q.prediction.label]!) },
        topProponents: q.proponents.map((r) => ({ rowId: r.rowId, contributor: r.contributor, score: round(r.score) })),
        topOpponents: q.opponents.map((r) => ({ rowId: r.rowId, contributor: r.contributor, score: round(r.score) })),
        contributorShares: Object.fromEntries(Object.entries(q.shares ?? {}).map(([c, s]) => [c, round(s)])),
      })),
      scoreDigest,
    },
    rewards: {
      feeWei: resolved.feeWei.toString(),
      split: Object.entries(rewardSplit.amounts).map(([contributor, amount]) => ({ contributor, amountWei: amount.toString() })),
      flagged: [...new Set([...flaggedIds, ...rewardSplit.flagged])].sort(),
    },
    chain: { status: 'skipped', reason: 'not published (run provenant/chain publishAuditRecord to publish)' },
    timings,
  };
  return { record, comparison, gates, training, queries };
}

function makeGuard(
  kind: string,
  strength: number,
  options: PipelineOptions,
  model: PipelineOptions['baseModel'],
  tokenizer: ReturnType<typeof createCharTokenizer>,
  sequenceLength: number,
  seed: number,
): Guard | null {
  if (kind === 'none') return null;
  const replay = (options.replayTexts ?? []).map((text) => ({ input: tokenizer.encode(text).slice(0, sequenceLength + 1) }));
  if (kind === 'l2-sp') return createL2SpGuard({ strength });
  if (replay.length === 0) throw new ProvenantError('TRAINING_CONFIG_INVALID', `The ${kind} guard needs replayTexts (general English passages).`);
  if (kind === 'replay') return createReplayGuard({ sequences: replay, weight: strength, seed, sequenceLength });
  if (kind === 'kl-to-base') {
    const { ids, shape } = tokenizer.encodeBatch((options.replayTexts ?? []).slice(0, 16), sequenceLength);
    return createKlToBaseGuard(model, { task: 'causal-lm', probe: { ids, shape }, strength } as never);
  }
  throw new ProvenantError('TRAINING_CONFIG_INVALID', `Unknown guard "${kind}" (none, replay, l2-sp, kl-to-base).`);
}

/** Seeded split of rows stratified by label (each label's rows shuffled and cut by the fractions). */
function stratifiedSplit(
  rows: readonly SnapshotRow[],
  labelOf: (row: SnapshotRow) => number,
  fractions: { train: number; validation: number; test: number },
  seed: number,
): { train: SnapshotRow[]; validation: SnapshotRow[]; test: SnapshotRow[] } {
  const byLabel = new Map<number, SnapshotRow[]>();
  for (const row of rows) {
    const k = labelOf(row);
    if (!byLabel.has(k)) byLabel.set(k, []);
    byLabel.get(k)!.push(row);
  }
  const out = { train: [] as SnapshotRow[], validation: [] as SnapshotRow[], test: [] as SnapshotRow[] };
  for (const [label, group] of [...byLabel].sort((a, b) => a[0] - b[0])) {
    const shuffled = sample(group, group.length, seed * 31 + label);
    const nTrain = Math.round(fractions.train * shuffled.length);
    const nValidation = Math.round(fractions.validation * shuffled.length);
    out.train.push(...shuffled.slice(0, nTrain));
    out.validation.push(...shuffled.slice(nTrain, nTrain + nValidation));
    out.test.push(...shuffled.slice(nTrain + nValidation));
  }
  return out;
}

/** A seeded sample of at most `count` rows, in a seeded order. */
function sample<T>(items: readonly T[], count: number, seed: number): T[] {
  return shuffle(items, seed).slice(0, Math.min(count, items.length));
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}
