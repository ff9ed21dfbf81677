/**
 * Attribution quality of the LoRA-tuned tiny transformer on the security Datanet (issue 5, second benchmark): LDS of
 * Grad-Dot, Grad-Cos, DataInf and TracInCP against retrained LoRA fine-tunes, and detection of the noisy contributor's
 * label-flipped rows by self-influence (AUC), beside the own-training-loss baseline. No published anchor exists for this
 * set-up; the field's anchors (DESIGN.md) are for MNIST-10.
 *
 *   npx tsx benchmarks/attribution-security.ts                   # writes benchmarks/results/attribution-security.json
 *   npx tsx benchmarks/attribution-security.ts --subsets 32 --ceiling 16                # + retraining-noise ceiling
 *   npx tsx benchmarks/attribution-security.ts --lr 1e-2 --variant lr1e-2              # filed under `variants`
 *
 * Set-up (every step seeded):
 * - Data: `fromSpamAssassin({ limitPerGroup, noisy, seed })`. Training rows = a seeded sample of honest rows plus every
 *   row of the noisy contributor (label-flipped copies of honest rows); test rows = other honest e-mails whose first T
 *   characters (all the model reads) match no training row; probe rows = further honest e-mails, disjoint from both.
 * - Base: the shipped pretrained char transformer (`loadBaseModel`) when models/base exists, else a freshly initialised
 *   one of the same shape (recorded in `setup.base`). Its classification head is fitted as a linear probe on the probe
 *   rows only, so the "base" has seen no training row and every retrain starts from exactly the same weights.
 * - Fine-tune: LoRA r 8 / α 16 on q_proj, v_proj, classifier in modules_to_save, AdamW, linear warm-up/decay, a fixed
 *   number of epochs (so a half-size subset gets half the steps, as TRAK and dattri retrain), batch order seeded.
 * - Features: exact (unprojected) per-example gradients of the cross-entropy at the true label of every trainable tensor
 *   (LoRA A, B and the classifier copy), from the final adapter; TracInCP uses the same features at `--checkpoints`
 *   evenly spaced steps of the one full fine-tune, each weighted by the summed learning rate of the steps it stands for
 *   (Pruthi et al. 2020, eq. 3 with Adam's steps approximated by η·g, as TracIn's authors do).
 * - LDS (Park et al. 2023, Def. 2.3): `--subsets` subsets of α = 0.5 of the training rows; each retrained from the same
 *   base, adapter initialisation and seed; output per test e-mail = the correct-class margin log(p_y/(1−p_y)) (and, as a
 *   second reading, −loss); Spearman over subsets per test e-mail, averaged. Baselines: random scores, and "same label"
 *   (τ = +1 when the row's label equals the test e-mail's, −1 otherwise) — the part of LDS a class prior alone explains;
 *   "LDS beyond label" partials that baseline out of each method's per-e-mail rank correlation (see `partialLds`).
 * - Noise ceiling (`--ceiling N`): the first N subsets retrained with another seed; the mean Spearman between the two
 *   seeds' outputs is how well *retraining itself* ranks the subsets — read every LDS against it.
 * - LOO is not measured: single-seed leave-one-out effects of a non-convex fine-tune are below the retraining noise.
 * Retrain outputs are cached per subset under the OS temp directory (key: the whole configuration and base-model
 * hash), so an interrupted run resumes where it stopped.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalJson, createRng, permutation, sha256, utf8Bytes } from '../src/core/index.js';
import { fromSpamAssassin } from '../src/datanet/index.js';
import {
  CHAR_VOCAB_SIZE,
  addClassificationHead,
  attachAdapter,
  baseModelHash,
  createCharTokenizer,
  createTransformer,
  deleteAdapter,
  initBackend,
  loadBaseModel,
  readBaseModelConfig,
  tf,
  train,
  type TrainingExample,
  type TransformerModel,
} from '../src/finetune/index.js';
import {
  denseScores,
  featurize,
  fitDataInf,
  gradCos,
  gradDot,
  linearDatamodelingScore,
  mislabelAuc,
  sampleLdsSubsets,
  selfInfluence,
  spearmanCorrelation,
  tracInCP,
  tracInFeatures,
  type FeatureMatrix,
  type Features,
  type LdsGroundTruth,
  type Preconditioner,
  type ScoreMatrix,
} from '../src/attribution/index.js';

export interface SecurityAttributionOptions {
  seed: number;
  /** E-mails per SpamAssassin group read from the corpus. */
  limitPerGroup: number;
  /** Rows of the noisy contributor (label-flipped copies of honest rows); all of them are training rows. */
  noisy: number;
  /** Training rows in all (honest + noisy). */
  nTrain: number;
  nTest: number;
  /** Honest rows the linear probe of the base head is fitted on (disjoint from train and test). */
  probeRows: number;
  probeSteps: number;
  sequenceLength: number;
  rank: number;
  alpha: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  /** TracInCP checkpoints taken during the full fine-tune (the last is the final adapter). */
  checkpoints: number;
  subsets: number;
  fraction: number;
  /**
   * Retrain the first this-many subsets a second time with another seed (adapter initialisation and batch order) and
   * report the mean Spearman between the two seeds' outputs: how much of the between-subset ranking survives retraining
   * noise alone, the ceiling any method's LDS is read against. 0 skips it.
   */
  ceilingSubsets: number;
  /** 'shipped' (loadBaseModel, falling back to 'random' when models/base is absent) or 'random'. */
  base: 'shipped' | 'random';
  /** Shape of the freshly initialised base (used when base is 'random' or the shipped one is absent). */
  randomBase: { dModel: number; nHeads: number; nLayers: number; mlpHidden: number };
  /** Directory of the resumable retrain cache; null disables caching. */
  cacheDir: string | null;
  log: (line: string) => void;
}

export const SECURITY_DEFAULTS: SecurityAttributionOptions = {
  seed: 7,
  limitPerGroup: 160,
  noisy: 24,
  nTrain: 240,
  nTest: 64,
  probeRows: 96,
  probeSteps: 30,
  sequenceLength: 64,
  rank: 8,
  alpha: 16,
  epochs: 8,
  batchSize: 32,
  learningRate: 3e-3,
  warmupSteps: 5,
  checkpoints: 4,
  subsets: 24,
  fraction: 0.5,
  ceilingSubsets: 0,
  base: 'shipped',
  randomBase: { dModel: 64, nHeads: 4, nLayers: 2, mlpHidden: 256 },
  cacheDir: join(tmpdir(), 'provenant-attribution-security'),
  log: (line) => console.log(line),
};

export interface SecurityRow {
  model: string;
  method: string;
  loo: number | null;
  /** LDS with the retrained correct-class margin as output. */
  lds: number | null;
  /** LDS with the retrained −loss as output (identical to `lds` for two classes: −loss = −softplus(−margin) is monotone). */
  ldsLoss: number | null;
  /**
   * LDS with the class prior partialled out: per test e-mail, the partial Spearman correlation of the method's subset sums
   * and the retrained margins given the "same label ±1" subset sums (how many rows of the e-mail's class the subset holds),
   * averaged. What a method knows beyond counting same-class rows.
   */
  ldsBeyondLabel: number | null;
  ldsTestsUsed: number | null;
  /** Standard error of `lds` over test e-mails (sample s.d. of the per-e-mail ρ / √count): differences below ~2 SE are noise. */
  ldsSe: number | null;
  /** Mislabel AUC of the noisy contributor's rows, ranked by this method's self-influence. */
  auc: number | null;
  featurizeSeconds: number | null;
  scoreSeconds: number | null;
  note?: string;
}

export interface SecurityMethodResult {
  method: string;
  scores: ScoreMatrix;
  selfInfluence: Float64Array | null;
}

export interface SecurityAttributionResult {
  rows: SecurityRow[];
  setup: Record<string, unknown>;
  /** Raw material, for checks: final and checkpoint features, the LDS ground truths, the flipped-row mask. */
  details: {
    train: Features;
    test: Features;
    checkpointTrain: FeatureMatrix[];
    checkpointTest: FeatureMatrix[];
    checkpointRates: number[];
    methods: SecurityMethodResult[];
    marginTruth: LdsGroundTruth;
    lossTruth: LdsGroundTruth;
    flagged: boolean[];
    trainLabels: Int32Array;
    testLabels: Int32Array;
    /** Outputs of the full fine-tune on the test e-mails (margin, −loss), and of a retrain on every row (same recipe). */
    fullOutputs: { margin: Float64Array; negLoss: Float64Array };
    /** Margins of the noise-ceiling retrains (the first `ceilingSubsets` subsets, other seed), or null. */
    ceilingMargins: Float64Array[] | null;
    retrain: (rows: Uint32Array) => Promise<{ margin: Float64Array; negLoss: Float64Array }>;
  };
}

const ADAPTER = 'security';
const seconds = (start: number) => +((performance.now() - start) / 1000).toFixed(3);

/** Σ_{i∈S_j} scores(i, t) for every subset j and test point t: out[j * nTest + t]. */
function subsetSums(scores: ScoreMatrix, subsets: readonly Uint32Array[]): Float64Array {
  const { nTest, values } = scores;
  const out = new Float64Array(subsets.length * nTest);
  subsets.forEach((subset, j) => {
    for (const i of subset) for (let t = 0; t < nTest; t++) out[j * nTest + t] += values[i * nTest + t]!;
  });
  return out;
}

/**
 * Mean over test points of the partial Spearman correlation ρ_gf·h = (ρ_gf − ρ_gh ρ_fh) / √((1 − ρ_gh²)(1 − ρ_fh²))
 * (Kendall & Stuart's first-order partial correlation, on ranks) of a method's predictions g and the retrained outputs
 * f, controlling for the predictions h of a baseline. Test points where any ρ is undefined or |ρ_gh| = 1 are skipped.
 */
export function partialLds(scores: ScoreMatrix, control: ScoreMatrix, truth: LdsGroundTruth): { score: number; testsUsed: number } {
  const S = truth.subsets.length;
  const { nTest } = scores;
  const g = subsetSums(scores, truth.subsets);
  const h = subsetSums(control, truth.subsets);
  let sum = 0;
  let used = 0;
  for (let t = 0; t < nTest; t++) {
    const gt = Float64Array.from({ length: S }, (_, j) => g[j * nTest + t]!);
    const ht = Float64Array.from({ length: S }, (_, j) => h[j * nTest + t]!);
    const ft = Float64Array.from({ length: S }, (_, j) => truth.outputs[j]![t]!);
    const gf = spearmanCorrelation(gt, ft);
    const gh = spearmanCorrelation(gt, ht);
    const fh = spearmanCorrelation(ft, ht);
    const denominator = Math.sqrt((1 - gh * gh) * (1 - fh * fh));
    const rho = (gf - gh * fh) / denominator;
    if (Number.isFinite(rho) && denominator > 1e-9) {
      sum += rho;
      used++;
    }
  }
  return { score: used ? sum / used : Number.NaN, testsUsed: used };
}

/** Margin log(p_y/(1−p_y)) = z_y − logsumexp_{c≠y} z_c and −loss = log p_y of each row, in float64. */
export function marginAndNegLoss(logits: Float32Array, classes: number, labels: ArrayLike<number>): { margin: Float64Array; negLoss: Float64Array } {
  const n = labels.length;
  const margin = new Float64Array(n);
  const negLoss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = logits.subarray(i * classes, (i + 1) * classes);
    const y = labels[i]!;
    let max = -Infinity;
    let maxOther = -Infinity;
    for (let c = 0; c < classes; c++) {
      max = Math.max(max, z[c]!);
      if (c !== y) maxOther = Math.max(maxOther, z[c]!);
    }
    let all = 0;
    let others = 0;
    for (let c = 0; c < classes; c++) {
      all += Math.exp(z[c]! - max);
      if (c !== y) others += Math.exp(z[c]! - maxOther);
    }
    negLoss[i] = z[y]! - max - Math.log(all);
    margin[i] = z[y]! - maxOther - Math.log(others);
  }
  return { margin, negLoss };
}

function logitsOf(model: TransformerModel, ids: Int32Array, T: number, batch = 64): Float32Array {
  const n = ids.length / T;
  const parts: Float32Array[] = [];
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const out = tf.tidy(() => model.forward(tf.tensor2d(ids.subarray(s * T, (s + m) * T), [m, T], 'int32')));
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (all.set(p, o), (o += p.length));
  return all;
}

/**
 * Runs the whole measurement (see the module comment) and returns the table rows, the set-up and the raw material.
 *
 * @example
 * const { rows } = await measureSecurityAttribution({ subsets: 16 });
 */
export async function measureSecurityAttribution(overrides: Partial<SecurityAttributionOptions> = {}): Promise<SecurityAttributionResult> {
  const o: SecurityAttributionOptions = { ...SECURITY_DEFAULTS, ...overrides, randomBase: { ...SECURITY_DEFAULTS.randomBase, ...overrides.randomBase } };
  const { log, seed } = o;
  const T = o.sequenceLength;
  const started = performance.now();
  const backend = await initBackend();
  const tokenizer = createCharTokenizer();

  // ── data ──────────────────────────────────────────────────────────────────────────────────────────────────────────
  const { datanet, groundTruth } = await fromSpamAssassin({ limitPerGroup: o.limitPerGroup, noisy: o.noisy, seed });
  const snapshot = datanet.snapshot();
  const classes = snapshot.classes.map(String);
  const classOf = (label: unknown) => classes.indexOf(String(label));
  const noisyIds = new Set(groundTruth.noisyRowIds);
  const prefix = (text: string) => tokenizer.encode(text).slice(0, T).join(',');
  const rows = snapshot.rows;
  const noisyRows = rows.filter((r) => noisyIds.has(r.id));
  const honest = rows.filter((r) => !noisyIds.has(r.id) && r.contributor !== groundTruth.noisyContributor);
  const order = permutation(honest.length, createRng(seed));
  const nHonestTrain = o.nTrain - noisyRows.length;
  if (nHonestTrain < 2) throw new Error(`nTrain ${o.nTrain} leaves no room beside ${noisyRows.length} noisy rows.`);
  const trainRows = [...Array.from(order.slice(0, nHonestTrain), (k) => honest[k]!), ...noisyRows];
  // A seeded interleaving, so the noisy rows are not a block at the end (batch order is seeded anyway).
  const mix = permutation(trainRows.length, createRng(seed + 1));
  const trainSet = Array.from(mix, (k) => trainRows[k]!);
  const seen = new Set(trainSet.map((r) => prefix(r.input as string)));
  const rest = Array.from(order.slice(nHonestTrain), (k) => honest[k]!).filter((r) => !seen.has(prefix(r.input as string)));
  const testSet = rest.slice(0, o.nTest);
  const probeSet = rest.slice(o.nTest, o.nTest + o.probeRows);
  if (testSet.length < o.nTest || probeSet.length < o.probeRows) {
    throw new Error(`Not enough distinct honest e-mails (${rest.length}) for ${o.nTest} test and ${o.probeRows} probe rows; raise limitPerGroup.`);
  }
  const examples = (set: typeof rows): TrainingExample[] => set.map((r) => ({ input: tokenizer.encode(r.input as string).slice(0, T), label: classOf(r.label) }));
  const trainExamples = examples(trainSet);
  const trainLabels = Int32Array.from(trainExamples, (e) => e.label as number);
  const testLabels = Int32Array.from(testSet, (r) => classOf(r.label));
  const trainIds = tokenizer.encodeBatch(trainSet.map((r) => r.input as string), T).ids;
  const testIds = tokenizer.encodeBatch(testSet.map((r) => r.input as string), T).ids;
  const flagged = trainSet.map((r) => noisyIds.has(r.id));
  const trainIdSet = new Set(trainSet.map((r) => r.id));
  const originalsInTrain = noisyRows.filter((r) => trainIdSet.has(groundTruth.flippedFrom[r.id]!)).length;
  log(`data: ${trainSet.length} train (${noisyRows.length} flipped, ${originalsInTrain} of their originals also in train), ${testSet.length} test, ${probeSet.length} probe`);

  // ── base model + linear probe of the head ─────────────────────────────────────────────────────────────────────────
  let baseKind: 'shipped' | 'random' = 'random';
  let model: TransformerModel;
  let baseConfig: unknown = null;
  if (o.base === 'shipped' && existsSync(join(repoRoot(), 'models', 'base', 'config.json'))) {
    model = await loadBaseModel();
    baseConfig = await readBaseModelConfig();
    baseKind = 'shipped';
  } else {
    model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, maxSeqLen: T, ...o.randomBase, seed });
  }
  const baseHash = baseModelHash(model);
  addClassificationHead(model, classes.length, { seed });
  for (const [name, weight] of model.weights) weight.trainable = name.startsWith('classifier.');
  let t = performance.now();
  await train(model, {
    task: 'classification', train: examples(probeSet), seed, maxSteps: o.probeSteps, epochs: 1000,
    batchSize: o.batchSize, learningRate: 1e-2, sequenceLength: T,
  });
  const probeSeconds = seconds(t);
  const probeOut = marginAndNegLoss(logitsOf(model, testIds, T), classes.length, testLabels);
  const probeAccuracy = probeOut.margin.reduce((a, m) => a + (m > 0 ? 1 : 0), 0) / testSet.length;
  log(`base ${baseKind} (${baseHash.slice(0, 10)}…): probe ${o.probeSteps} steps in ${probeSeconds} s, test accuracy ${probeAccuracy.toFixed(3)}`);

  const lora = { r: o.rank, alpha: o.alpha, targetModules: ['q_proj', 'v_proj'], modulesToSave: ['classifier'] };
  const recipe = (set: TrainingExample[], onStep?: (step: number, lr: number, totalSteps: number) => Promise<void>, runSeed = seed) =>
    train(model, {
      task: 'classification', train: set, seed: runSeed, epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate,
      schedule: { kind: 'linear', warmupSteps: o.warmupSteps }, sequenceLength: T,
      ...(onStep ? { onStep: (e) => onStep(e.step, e.lr, e.totalSteps) } : {}),
    });
  const freshAdapter = (runSeed = seed) => {
    if (model.linears.get('blocks.0.attn.q_proj')!.adapters.has(ADAPTER)) deleteAdapter(model, ADAPTER);
    attachAdapter(model, ADAPTER, lora, { seed: runSeed });
  };
  const features = (ids: Int32Array, labels: Int32Array) => featurize(model, { inputs: ids, exampleShape: [T], labels }, { batchSize: 64 });

  // ── the full fine-tune, with TracIn checkpoints ───────────────────────────────────────────────────────────────────
  freshAdapter();
  let checkpointSteps: number[] = [];
  const checkpointTrain: FeatureMatrix[] = [];
  const checkpointTest: FeatureMatrix[] = [];
  const checkpointRates: number[] = [];
  let lrSinceLast = 0;
  let checkpointSeconds = 0;
  t = performance.now();
  const fit = await recipe(trainExamples, async (step, lr, totalSteps) => {
    lrSinceLast += lr;
    if (step === 1) checkpointSteps = Array.from({ length: o.checkpoints }, (_, c) => Math.round(((c + 1) * totalSteps) / o.checkpoints));
    // StepEvent.step counts completed optimizer steps (1-based); the last checkpoint is the final adapter, featurized below.
    if (!checkpointSteps.includes(step) || step === totalSteps) return;
    const c0 = performance.now();
    checkpointTrain.push(features(trainIds, trainLabels).features);
    checkpointTest.push(features(testIds, testLabels).features);
    checkpointRates.push(lrSinceLast);
    lrSinceLast = 0;
    checkpointSeconds += seconds(c0);
  });
  const fineTuneSeconds = seconds(t) - checkpointSeconds;
  const full = marginAndNegLoss(logitsOf(model, testIds, T), classes.length, testLabels);
  const tunedAccuracy = full.margin.reduce((a, m) => a + (m > 0 ? 1 : 0), 0) / testSet.length;
  log(`fine-tune: ${fit.steps} steps in ${fineTuneSeconds.toFixed(1)} s, final loss ${fit.log.at(-1)?.loss.toFixed(3)}, test accuracy ${tunedAccuracy.toFixed(3)}`);

  t = performance.now();
  const trainF = features(trainIds, trainLabels);
  const testF = features(testIds, testLabels);
  const featurizeSeconds = seconds(t);
  checkpointTrain.push(trainF.features);
  checkpointTest.push(testF.features);
  checkpointRates.push(lrSinceLast);
  log(`featurize: ${trainSet.length + testSet.length} examples × ${trainF.features.dim} dims in ${featurizeSeconds} s`);

  // ── scores and self-influence per method ──────────────────────────────────────────────────────────────────────────
  const methods: SecurityMethodResult[] = [];
  const scoreTimes: Record<string, number> = {};
  const run = (method: string, train: FeatureMatrix, test: FeatureMatrix, pre: Preconditioner) => {
    const s0 = performance.now();
    try {
      const scores = denseScores(train, test, pre);
      scoreTimes[method] = seconds(s0);
      // Under Grad-Cos every row's self-influence is cos(g, g) = 1: ranking by it is float noise, so no AUC is reported.
      methods.push({ method, scores, selfInfluence: method === 'Grad-Cos' ? null : selfInfluence(train, pre) });
    } finally {
      pre.dispose?.();
    }
  };
  run('Grad-Dot', trainF.features, testF.features, gradDot());
  run('Grad-Cos', trainF.features, testF.features, gradCos());
  run('DataInf', trainF.features, testF.features, fitDataInf(trainF.features));
  run(`TracInCP (${checkpointTrain.length} checkpoints)`, tracInFeatures(checkpointTrain, checkpointRates), tracInFeatures(checkpointTest, checkpointRates), tracInCP());
  const nTrain = trainSet.length;
  const nTest = testSet.length;
  const rng = createRng(seed + 99);
  const random = new Float32Array(nTrain * nTest).map(() => rng.nextNormal());
  const sameLabel = new Float32Array(nTrain * nTest);
  for (let i = 0; i < nTrain; i++) for (let j = 0; j < nTest; j++) sameLabel[i * nTest + j] = trainLabels[i] === testLabels[j] ? 1 : -1;
  methods.push({ method: 'random scores (baseline)', scores: { nTrain, nTest, values: random }, selfInfluence: null });
  methods.push({ method: 'same label ±1 (baseline)', scores: { nTrain, nTest, values: sameLabel }, selfInfluence: null });

  // ── LDS ground truth: retrain the LoRA fine-tune on each subset (cached per subset) ───────────────────────────────
  const retrain = async (subset: Uint32Array, runSeed = seed) => {
    freshAdapter(runSeed);
    await recipe(Array.from(subset, (i) => trainExamples[i]!), undefined, runSeed);
    return marginAndNegLoss(logitsOf(model, testIds, T), classes.length, testLabels);
  };
  const subsets = sampleLdsSubsets(nTrain, { fraction: o.fraction, count: o.subsets, seed: seed + 5 });
  // The ceiling's count is left out of the key: its retrains sit beside the subsets' in the same cache file.
  const { ceilingSubsets: _ceiling, ...keyOptions } = o;
  const key = sha256(utf8Bytes(canonicalJson({ ...keyOptions, log: null, cacheDir: null, baseHash, backend: String(backend.backend), v: 1 }))).slice(2, 18);
  const cacheFile = o.cacheDir ? join(o.cacheDir, `${key}.json`) : null;
  const cache: Record<string, { margin: number[]; negLoss: number[] }> =
    cacheFile && existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
  const margins: Float64Array[] = [];
  const negLosses: Float64Array[] = [];
  let retrainSeconds = 0;
  let retrained = 0;
  for (let j = 0; j < subsets.length; j++) {
    let out = cache[j];
    if (!out) {
      const r0 = performance.now();
      const r = await retrain(subsets[j]!);
      out = { margin: Array.from(r.margin), negLoss: Array.from(r.negLoss) };
      retrainSeconds += seconds(r0);
      retrained++;
      cache[j] = out;
      if (cacheFile) {
        mkdirSync(dirname(cacheFile), { recursive: true });
        writeFileSync(cacheFile, JSON.stringify(cache));
      }
      log(`retrain ${j + 1}/${subsets.length}: ${seconds(r0).toFixed(1)} s`);
    }
    margins.push(Float64Array.from(out.margin));
    negLosses.push(Float64Array.from(out.negLoss));
  }
  // The noise ceiling: the same subsets retrained with another seed (cached under "c<j>").
  const nCeiling = Math.min(o.ceilingSubsets, subsets.length);
  let ceiling: { margin: number; negLoss: number; subsets: number } | null = null;
  let other: { margin: number[]; negLoss: number[] }[] | null = null;
  if (nCeiling >= 2) {
    other = [];
    for (let j = 0; j < nCeiling; j++) {
      let out = cache[`c${j}`];
      if (!out) {
        const r0 = performance.now();
        const r = await retrain(subsets[j]!, seed + 1000);
        out = { margin: Array.from(r.margin), negLoss: Array.from(r.negLoss) };
        retrainSeconds += seconds(r0);
        retrained++;
        cache[`c${j}`] = out;
        if (cacheFile) writeFileSync(cacheFile, JSON.stringify(cache));
        log(`ceiling retrain ${j + 1}/${nCeiling}: ${seconds(r0).toFixed(1)} s`);
      }
      other.push(out);
    }
    const agreement = (pick: (x: { margin: ArrayLike<number>; negLoss: ArrayLike<number> }) => ArrayLike<number>) => {
      const per = new Float64Array(nTest);
      for (let t = 0; t < nTest; t++) {
        const a = Float64Array.from({ length: nCeiling }, (_, j) => pick({ margin: margins[j]!, negLoss: negLosses[j]! })[t]!);
        const b = Float64Array.from({ length: nCeiling }, (_, j) => pick(other![j]!)[t]!);
        per[t] = spearmanCorrelation(a, b);
      }
      const ok = Array.from(per).filter(Number.isFinite);
      return ok.reduce((x, v) => x + v, 0) / ok.length;
    };
    ceiling = { margin: agreement((x) => x.margin), negLoss: agreement((x) => x.negLoss), subsets: nCeiling };
  }
  const marginTruth: LdsGroundTruth = { nTrain, nTest, subsets, outputs: margins };
  const lossTruth: LdsGroundTruth = { nTrain, nTest, subsets, outputs: negLosses };

  // ── table ─────────────────────────────────────────────────────────────────────────────────────────────────────────
  const modelName = `tiny transformer (${baseKind} base) + LoRA r${o.rank}, security Datanet`;
  const out: SecurityRow[] = [];
  const sameLabelScores: ScoreMatrix = { nTrain, nTest, values: sameLabel };
  for (const m of methods) {
    const lds = linearDatamodelingScore(m.scores, marginTruth);
    const ldsLoss = linearDatamodelingScore(m.scores, lossTruth);
    const beyond = m.scores.values === sameLabel ? null : partialLds(m.scores, sameLabelScores, marginTruth).score;
    const isBaseline = m.method.includes('(baseline)');
    out.push({
      model: modelName,
      method: m.method,
      loo: null,
      lds: round(lds.score),
      ldsLoss: round(ldsLoss.score),
      ldsBeyondLabel: beyond === null ? null : round(beyond),
      ldsTestsUsed: lds.testsUsed,
      ldsSe: round(standardError(lds.perTest)),
      auc: m.selfInfluence ? round(mislabelAuc(m.selfInfluence, flagged).auc) : null,
      featurizeSeconds: isBaseline ? null : m.method.startsWith('TracIn') ? round(featurizeSeconds + checkpointSeconds) : featurizeSeconds,
      scoreSeconds: scoreTimes[m.method] ?? null,
      ...(m.method === 'Grad-Cos' ? { note: 'no flipped-row AUC: self-influence cos(g, g) = 1 for every row' } : {}),
    });
  }
  if (ceiling) {
    // Scored on the first nCeiling subsets only, so every method's LDS on those same subsets sits beside it in `setup`.
    out.push({
      model: modelName, method: `retrain, other seed (noise ceiling, ${ceiling.subsets} subsets)`, loo: null, lds: round(ceiling.margin),
      ldsLoss: round(ceiling.negLoss), ldsBeyondLabel: null, ldsTestsUsed: null, ldsSe: null, auc: null, featurizeSeconds: null, scoreSeconds: null,
      note: 'mean over test e-mails of Spearman(outputs of seed A, outputs of seed B) across the same subsets',
    });
  }
  out.push({
    model: modelName, method: 'own training loss (baseline)', loo: null, lds: null, ldsLoss: null, ldsBeyondLabel: null, ldsTestsUsed: null, ldsSe: null,
    auc: round(mislabelAuc(trainF.loss, flagged).auc), featurizeSeconds: null, scoreSeconds: null,
    note: 'rows ranked by their cross-entropy under the final adapter',
  });
  const setup = {
    options: { ...o, log: undefined, cacheDir: undefined },
    backend: String(backend.backend),
    base: { kind: baseKind, hash: baseHash, config: baseConfig ?? { ...o.randomBase, vocabSize: CHAR_VOCAB_SIZE, maxSeqLen: T } },
    data: {
      train: nTrain, test: nTest, probe: probeSet.length, flipped: noisyRows.length, flippedOriginalsInTrain: originalsInTrain,
      trainSpam: trainLabels.reduce((a, y) => a + (classes[y] === 'spam' ? 1 : 0), 0), testSpam: testLabels.reduce((a, y) => a + (classes[y] === 'spam' ? 1 : 0), 0),
    },
    probe: { steps: o.probeSteps, seconds: probeSeconds, testAccuracy: round(probeAccuracy) },
    fineTune: { steps: fit.steps, seconds: round(fineTuneSeconds), finalLoss: round(fit.log.at(-1)?.loss ?? NaN), testAccuracy: round(tunedAccuracy) },
    features: { dim: trainF.features.dim, parameters: trainF.info.parameters, target: 'loss at the true label', projection: 'none' },
    tracin: { checkpointSteps: [...checkpointSteps.slice(0, -1), fit.steps], learningRateWeights: checkpointRates.map(round) },
    lds: {
      subsets: subsets.length, fraction: o.fraction, subsetSize: subsets[0]!.length, output: 'margin log(p_y/(1−p_y)); ldsLoss: −loss',
      retrainedThisRun: retrained, secondsThisRun: round(retrainSeconds),
      ...(ceiling
        ? {
            ceilingSubsets: ceiling.subsets,
            methodsOnCeilingSubsets: Object.fromEntries(methods.map((m) => [m.method, round(linearDatamodelingScore(m.scores, { ...marginTruth, subsets: subsets.slice(0, ceiling!.subsets), outputs: margins.slice(0, ceiling!.subsets) }).score)])),
          }
        : {}),
    },
    totalSeconds: seconds(started),
  };
  return {
    rows: out,
    setup,
    details: {
      train: trainF, test: testF, checkpointTrain, checkpointTest, checkpointRates, methods, marginTruth, lossTruth, flagged,
      trainLabels, testLabels, fullOutputs: full, retrain, ceilingMargins: other ? other.map((x) => Float64Array.from(x.margin)) : null,
    },
  };
}

/** Sample standard deviation / √count of the finite entries. */
function standardError(values: ArrayLike<number>): number {
  const ok = Array.from(values).filter(Number.isFinite);
  const mean = ok.reduce((a, v) => a + v, 0) / ok.length;
  const variance = ok.reduce((a, v) => a + (v - mean) ** 2, 0) / (ok.length - 1);
  return Math.sqrt(variance / ok.length);
}

const round = (v: number) => (Number.isFinite(v) ? +v.toFixed(4) : v);

function repoRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

function parseArgs(argv: string[]): Partial<SecurityAttributionOptions> & { out: string; variant?: string } {
  const flags: Record<string, keyof SecurityAttributionOptions> = {
    '--seed': 'seed', '--train': 'nTrain', '--test': 'nTest', '--noisy': 'noisy', '--per-group': 'limitPerGroup', '--epochs': 'epochs',
    '--subsets': 'subsets', '--checkpoints': 'checkpoints', '--rank': 'rank', '--lr': 'learningRate', '--probe-rows': 'probeRows', '--ceiling': 'ceilingSubsets',
  };
  const out: Partial<SecurityAttributionOptions> & { out: string; variant?: string } = { out: join(repoRoot(), 'benchmarks', 'results', 'attribution-security.json') };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--out') out.out = argv[++k]!;
    else if (a === '--base') out.base = argv[++k] as 'shipped' | 'random';
    else if (a === '--no-cache') out.cacheDir = null;
    else if (a === '--variant') out.variant = argv[++k]!;
    else if (flags[a]) (out as Record<string, unknown>)[flags[a]] = Number(argv[++k]);
    else throw new Error(`Unknown option ${a}`);
  }
  return out;
}

function printTable(rows: SecurityRow[]): void {
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '—' : String(v));
  const head = ['method', 'LDS (margin)', '± SE', 'LDS (−loss)', 'LDS beyond label', 'tests used', 'flipped-row AUC', 'featurize s', 'score s'];
  const body = rows.map((r) => [r.method, cell(r.lds), cell(r.ldsSe), cell(r.ldsLoss), cell(r.ldsBeyondLabel), cell(r.ldsTestsUsed), cell(r.auc), cell(r.featurizeSeconds), cell(r.scoreSeconds)]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const { out, variant, ...options } = parseArgs(process.argv.slice(2));
  const result = await measureSecurityAttribution(options);
  console.log(`\n${result.rows[0]!.model}${variant ? ` [${variant}]` : ''}: no published anchor exists (the field's anchors are MNIST-10).`);
  printTable(result.rows);
  mkdirSync(dirname(out), { recursive: true });
  const createdAt = new Date().toISOString();
  // `--variant NAME` keeps the main rows and files this run under `variants` (replacing an earlier run of that name).
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  const variants = ((previous.variants as { variant: string }[] | undefined) ?? []).filter((v) => v.variant !== variant);
  const json = variant
    ? { ...previous, benchmark: 'attribution-security', variants: [...variants, { variant, createdAt, rows: result.rows, setup: result.setup }] }
    : { benchmark: 'attribution-security', createdAt, rows: result.rows, setup: result.setup, variants };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
