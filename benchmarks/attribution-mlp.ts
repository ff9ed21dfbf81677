/**
 * bench:attribution's MLP part: TRAK ensembles on dattri's MNIST MLP set-up (784-128-10 ReLU, 5,000 training / 500 test
 * digits), LDS against the same retraining ground truth as before (50 half-size subsets, one fixed training seed, output
 * −loss), and the retraining noise ceiling beside it (the same 50 subsets retrained with another seed).
 *
 * The retrains are cached by content hash under benchmarks/cache/ (git-ignored): both ground truths (100 retrains) and
 * every TRAK model's per-epoch weights (with the seconds its training took); `--full` recomputes them. Each TRAK-N
 * ensemble's score matrix is recomputed on every run and written there too (with the seconds featurizing and scoring
 * took); only `--cached-scores` (opt-in) reads it back, and rows read from it say so. The grid never reads cached scores;
 * the single-model methods are always recomputed (seconds).
 *
 * Selection protocol: the test points are split in two halves (even / odd index). The grid (`--mlp-grid`: checkpoints,
 * projection width, gradient target, kernel λ) is judged on the even half only; the chosen configuration is reported on
 * the odd half (and, labelled as such, on all 500).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  computeLdsGroundTruth,
  createFeaturizer,
  createTrakEnsemble,
  linearDatamodelingScore,
  spearmanCorrelation,
  trakModelScores,
  type FactorizedProjectionSpec,
  type FeatureMatrix,
  type LdsGroundTruth,
  type ScoreMatrix,
  type TrakEnsemble,
} from '../src/attribution/index.js';
import { createGemmF32, createMlp, tf, train, type Model } from '../src/finetune/index.js';
import { cachedArray, timeStep, type StepLog } from './attribution-lr-raw.js';

export const PIXELS = 784;

export interface MlpData {
  xTrain: Float32Array;
  xTest: Float32Array;
  yTrain: Int32Array;
  yTest: Int32Array;
  nTrain: number;
  nTest: number;
}

export interface MlpRecipe {
  mlpHidden: number;
  mlpEpochs: number;
  mlpBatch: number;
  mlpLr: number;
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * TRAK's Gram matrices and score products in float32, as TRAK's own score computer (trak/score_computers.py: XᵀX and the
 * products in float16/float32, the inverse in float32); our Cholesky and solves stay float64. Every λ here is ≥ 1e-2 of
 * the mean diagonal, where float32 sums move the scores by ≈ 1e-7 relative and leave every TRAK-N's LDS unchanged
 * (benchmarks/attribution-trak-speed.ts: 2.2× faster scoring).
 */
const TRAK_PRECISION = 'float32' as const;

/** Trains a fresh MLP on `rows` with the finetune training loop (AdamW); returns it and its per-epoch snapshots. */
export async function trainMlp(d: MlpData, rows: ArrayLike<number>, args: MlpRecipe, seed: number, labels = d.yTrain, keepEpochs = false) {
  const model = createMlp({ inputSize: PIXELS, hiddenSizes: [args.mlpHidden], numClasses: 10, seed });
  const examples = Array.from(rows, (i) => ({ input: d.xTrain.subarray(i * PIXELS, (i + 1) * PIXELS), label: labels[i]! }));
  const epochs: Array<Map<string, Float32Array>> = [];
  await train(model, {
    task: 'classification',
    train: examples,
    seed,
    epochs: args.mlpEpochs,
    batchSize: args.mlpBatch,
    learningRate: args.mlpLr,
    onEpoch: keepEpochs ? () => void epochs.push(snapshotWeights(model)) : undefined,
  });
  return { model, epochs };
}

export function snapshotWeights(model: Model): Map<string, Float32Array> {
  return new Map([...model.weights].map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

export function restoreWeights(model: Model, weights: Map<string, Float32Array>): void {
  for (const [name, v] of model.weights) {
    const t = tf.tensor(weights.get(name)!, v.shape);
    v.assign(t);
    t.dispose();
  }
}

/** −cross-entropy of each test digit (the "higher is better" output the harness retrains against). */
export function negativeTestLoss(model: Model, d: MlpData): Float64Array {
  const logits = tf.tidy(() => model.forward(tf.tensor2d(d.xTest, [d.nTest, PIXELS])));
  const z = logits.dataSync() as Float32Array;
  logits.dispose();
  const out = new Float64Array(d.nTest);
  for (let t = 0; t < d.nTest; t++) {
    let max = -Infinity;
    for (let c = 0; c < 10; c++) max = Math.max(max, z[t * 10 + c]!);
    let sum = 0;
    for (let c = 0; c < 10; c++) sum += Math.exp(z[t * 10 + c]! - max);
    out[t] = -(Math.log(sum) + max - z[t * 10 + d.yTest[t]!]!);
  }
  return out;
}

export function mlpAccuracy(model: Model, x: Float32Array, y: Int32Array): number {
  const n = y.length;
  const logits = tf.tidy(() => model.forward(tf.tensor2d(x, [n, PIXELS])));
  const z = logits.dataSync() as Float32Array;
  logits.dispose();
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (z[i * 10 + c]! > z[i * 10 + best]!) best = c;
    if (best === y[i]) right++;
  }
  return right / n;
}

// ---------------------------------------------------------------------------------------------------------------- cache

interface CacheContext {
  cacheDir: string;
  full: boolean;
  log: (...parts: unknown[]) => void;
  /** Read TRAK-N score matrices from the cache (--cached-scores, opt-in); checkpoints and ground truth are always reused. */
  reuseScores?: boolean;
  /** Where each cached or computed step's seconds go (the run's time table). */
  steps?: StepLog;
}

function cacheFile(c: CacheContext, name: string, key: unknown, ext: string): string {
  const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
  return join(c.cacheDir, `${name}-${digest}.${ext}`);
}

/** {@link loadOrComputeGroundTruth} as a timed step of the run. */
function cachedGroundTruth(c: CacheContext, name: string, key: unknown, compute: () => Promise<LdsGroundTruth>): Promise<LdsGroundTruth> {
  const hit = !c.full && existsSync(cacheFile(c, name, key, 'json'));
  return timeStep(c.steps, `MLP: ${name} ground truth`, async () => ({ value: await loadOrComputeGroundTruth(c, name, key, compute), source: hit ? 'cached' : 'computed' }));
}

async function loadOrComputeGroundTruth(c: CacheContext, name: string, key: unknown, compute: () => Promise<LdsGroundTruth>): Promise<LdsGroundTruth> {
  const file = cacheFile(c, name, key, 'json');
  if (!c.full && existsSync(file)) {
    c.log(`${name}: from cache ${file}`);
    const r = JSON.parse(readFileSync(file, 'utf8')) as { nTrain: number; nTest: number; subsets: number[][]; outputs: number[][] };
    return { nTrain: r.nTrain, nTest: r.nTest, subsets: r.subsets.map((s) => Uint32Array.from(s)), outputs: r.outputs.map((s) => Float64Array.from(s)) };
  }
  const t = await compute();
  mkdirSync(c.cacheDir, { recursive: true });
  writeFileSync(file, JSON.stringify({ nTrain: t.nTrain, nTest: t.nTest, subsets: t.subsets.map((s) => Array.from(s)), outputs: t.outputs.map((s) => Array.from(s)) }));
  return t;
}

/** {@link loadOrComputeCheckpoints} as a timed step of the run. */
function cachedCheckpoints(c: CacheContext, name: string, key: unknown, compute: () => Promise<Array<Map<string, Float32Array>>>, onSeconds?: (trainingSeconds: number) => void): Promise<Array<Map<string, Float32Array>>> {
  const file = cacheFile(c, name, key, 'bin');
  const hit = !c.full && existsSync(file) && existsSync(`${file}.json`);
  return timeStep(c.steps, `MLP: ${name} checkpoints`, async () => ({ value: await loadOrComputeCheckpoints(c, name, key, compute, onSeconds), source: hit ? 'cached' : 'computed' }));
}

/** Per-epoch weights of one trained model: a JSON header (names, lengths) and one float32 blob. */
async function loadOrComputeCheckpoints(c: CacheContext, name: string, key: unknown, compute: () => Promise<Array<Map<string, Float32Array>>>, onSeconds?: (trainingSeconds: number) => void): Promise<Array<Map<string, Float32Array>>> {
  const file = cacheFile(c, name, key, 'bin');
  const header = `${file}.json`;
  if (!c.full && existsSync(file) && existsSync(header)) {
    const h = JSON.parse(readFileSync(header, 'utf8')) as { epochs: number; tensors: Array<[string, number]>; seconds?: number };
    if (h.seconds !== undefined) onSeconds?.(h.seconds);
    const buf = readFileSync(file);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    let offset = 0;
    return Array.from({ length: h.epochs }, () => new Map(h.tensors.map(([n, len]) => {
      const v = all.slice(offset, offset + len);
      offset += len;
      return [n, v] as const;
    })));
  }
  const start = performance.now();
  const epochs = await compute();
  const trainingSeconds = seconds(start);
  onSeconds?.(trainingSeconds);
  const tensors = [...epochs[0]!].map(([n, v]) => [n, v.length] as [string, number]);
  const total = epochs.length * tensors.reduce((a, [, l]) => a + l, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const e of epochs) for (const [n] of tensors) {
    all.set(e.get(n)!, offset);
    offset += e.get(n)!.length;
  }
  mkdirSync(c.cacheDir, { recursive: true });
  writeFileSync(file, Buffer.from(all.buffer));
  writeFileSync(header, JSON.stringify({ epochs: epochs.length, tensors, seconds: trainingSeconds }));
  return epochs;
}

// ---------------------------------------------------------------------------------------------------------------- study

/** One TRAK configuration of the grid. */
export interface TrakConfig {
  name: string;
  /** 1-based epochs whose checkpoints enter the ensemble (each one a term of the average). */
  epochs: number[];
  projection: [number, number];
  target: 'margin' | 'loss';
  /** Kernel λ path, relative to each Gram matrix's mean diagonal. */
  relativeDamping: number[];
  /**
   * `loss`: each model's query features scaled by its 1 − p_t (∇(−loss) = (1 − p)·∇margin), so models weigh each query by
   * how much its loss can still move, as the −loss ground truth does. Default: margin gradients (TRAK's Algorithm 1).
   */
  queryWeighting?: 'loss';
}

export interface MlpStudyOptions extends MlpRecipe {
  data: MlpData;
  seed: number;
  subsets: number;
  /** Ensemble sizes reported (models = independently trained, each seen through its configured checkpoints). */
  models: number[];
  /** The reported configuration (chosen on the selection half by the grid; see the README). */
  config: TrakConfig;
  /** Run the grid on the first `gridModels` models (selection half) before the table. */
  grid: boolean;
  gridModels: number;
  cacheDir: string;
  full: boolean;
  /** Read TRAK-N score matrices from the cache when there (--cached-scores, opt-in). */
  cachedScores?: boolean;
  /** The run's step log (time table). */
  steps?: StepLog;
  log: (...parts: unknown[]) => void;
  /**
   * Fill the cache only, in a separate process beside the main run: `noise` (the second-seed ground truth) or
   * `models:A-B` (train TRAK models A down to B). Nothing is scored.
   */
  prepare?: string;
  /** Retrain only the first this-many LDS subsets with the second seed (default all): the ceiling is then taken on them. */
  noiseSubsets?: number;
}

export interface MlpStudyRow {
  model: string;
  method: string;
  loo: null;
  lds: number | null;
  auc: null;
  featurizeSeconds: number | null;
  scoreSeconds: number | null;
  /** LDS on the selection half (even test points), on the report half (odd), on all. */
  ldsSelection?: number;
  ldsReport?: number;
  ldsAll?: number;
  note?: string;
}

/** The rows `rows` of a feature matrix (e.g. the selection half's queries). */
function pickRows(f: FeatureMatrix, rows: number[]): FeatureMatrix {
  const data = new Float32Array(rows.length * f.dim);
  rows.forEach((r, j) => data.set(f.data.subarray(r * f.dim, (r + 1) * f.dim), j * f.dim));
  return { ...f, rows: rows.length, data };
}

/** An n × |cols| score matrix laid into n × nTest columns `cols` (the rest zero: their LDS is undefined and unused). */
function widen(scores: ScoreMatrix, cols: number[], nTest: number): ScoreMatrix {
  const out = new Float64Array(scores.nTrain * nTest);
  for (let i = 0; i < scores.nTrain; i++) cols.forEach((t, j) => (out[i * nTest + t] = scores.values[i * cols.length + j]!));
  return { values: out, nTrain: scores.nTrain, nTest };
}

/** Mean of the per-test LDS over a set of test points (NaN-free entries only). */
function meanOver(perTest: Float64Array, tests: number[]): number {
  let s = 0;
  let n = 0;
  for (const t of tests) if (Number.isFinite(perTest[t]!)) {
    s += perTest[t]!;
    n++;
  }
  return s / n;
}

/** Per test point, Spearman ρ over the subsets between two retraining runs' outputs (the LDS a perfect predictor of one seed's outputs that is blind to seed noise can hope for, estimated by the other seed). */
function seedAgreement(a: LdsGroundTruth, b: LdsGroundTruth): Float64Array {
  const S = a.outputs.length;
  const out = new Float64Array(a.nTest);
  const x = new Float64Array(S);
  const y = new Float64Array(S);
  for (let t = 0; t < a.nTest; t++) {
    for (let j = 0; j < S; j++) {
      x[j] = a.outputs[j]![t]!;
      y[j] = b.outputs[j]![t]!;
    }
    out[t] = spearmanCorrelation(x, y);
  }
  return out;
}

export async function runMlpStudy(o: MlpStudyOptions): Promise<{ rows: MlpStudyRow[]; setup: Record<string, unknown>; ground: LdsGroundTruth; model: Model; epochs: Array<Map<string, Float32Array>> }> {
  const { data: d, log } = o;
  const cache: CacheContext = { cacheDir: o.cacheDir, full: o.full, log, reuseScores: o.cachedScores, steps: o.steps };
  const dataHash = createHash('sha256').update(Buffer.from(d.xTrain.buffer, d.xTrain.byteOffset, d.xTrain.byteLength)).update(Buffer.from(d.yTrain.buffer)).update(Buffer.from(d.xTest.buffer, d.xTest.byteOffset, d.xTest.byteLength)).update(Buffer.from(d.yTest.buffer)).digest('hex');
  const recipe = { dataHash, hidden: o.mlpHidden, epochs: o.mlpEpochs, batch: o.mlpBatch, lr: o.mlpLr, backend: tf.getBackend(), version: 1 };
  const all = Uint32Array.from({ length: d.nTrain }, (_, i) => i);
  const modelSeed = o.seed + 100;
  const selection = Array.from({ length: d.nTest }, (_, t) => t).filter((t) => t % 2 === 0);
  const report = Array.from({ length: d.nTest }, (_, t) => t).filter((t) => t % 2 === 1);
  const everyTest = Array.from({ length: d.nTest }, (_, t) => t);

  // The full model (for the single-model methods of the caller) and its per-epoch checkpoints.
  let start = performance.now();
  const mainEpochs = await cachedCheckpoints(cache, 'mlp-main', { ...recipe, seed: modelSeed }, async () => {
    const { model, epochs } = await trainMlp(d, all, o, modelSeed, d.yTrain, true);
    model.dispose();
    return epochs;
  });
  const model = createMlp({ inputSize: PIXELS, hiddenSizes: [o.mlpHidden], numClasses: 10, seed: modelSeed });
  restoreWeights(model, mainEpochs[mainEpochs.length - 1]!);
  const accuracy = { train: mlpAccuracy(model, d.xTrain, d.yTrain), test: mlpAccuracy(model, d.xTest, d.yTest) };
  log(`MLP 784-${o.mlpHidden}-10: accuracy train ${accuracy.train.toFixed(3)} test ${accuracy.test.toFixed(3)} (${seconds(start).toFixed(1)} s)`);

  // Ground truth: every subset retrained with the main model's seed (as before); the noise ceiling's second pass with another.
  const retrainWith = (seed: number) => async (rows: Uint32Array) => {
    const { model: m } = await trainMlp(d, rows, o, seed);
    const out = negativeTestLoss(m, d);
    m.dispose();
    return out;
  };
  const ldsSeed = o.seed + 12;
  const noiseSeed = modelSeed + 7919;
  start = performance.now();
  const ground = await cachedGroundTruth(cache, 'mlp-lds', { ...recipe, subsets: o.subsets, subsetSeed: ldsSeed, trainSeed: modelSeed }, () =>
    computeLdsGroundTruth({ nTrain: d.nTrain, nTest: d.nTest, count: o.subsets, fraction: 0.5, seed: ldsSeed, train: retrainWith(modelSeed), onProgress: (e) => e.done % 10 === 0 && log(`MLP LDS retrain ${e.done}/${e.total}`) }),
  );
  const ldsSeconds = seconds(start);
  // The second seed's retrains are saved one by one (`.partial.json`), so an interrupted run resumes where it stopped.
  const noiseSubsets = Math.min(o.noiseSubsets ?? o.subsets, o.subsets);
  const secondKey = { ...recipe, subsets: o.subsets, subsetSeed: ldsSeed, trainSeed: noiseSeed, ...(noiseSubsets < o.subsets ? { noiseSubsets } : {}) };
  const secondGroundTruth = () => cachedGroundTruth(cache, 'mlp-lds', secondKey, async () => {
    const partialFile = `${cacheFile(cache, 'mlp-lds', secondKey, 'json')}.partial.json`;
    const done: number[][] = !o.full && existsSync(partialFile) ? (JSON.parse(readFileSync(partialFile, 'utf8')) as number[][]) : [];
    const train = retrainWith(noiseSeed);
    let j = 0;
    return computeLdsGroundTruth({
      nTrain: d.nTrain, nTest: d.nTest, subsets: ground.subsets.slice(0, noiseSubsets),
      train: async (rows) => {
        const k = j++;
        if (k < done.length) return Float64Array.from(done[k]!);
        const out = await train(rows);
        done.push(Array.from(out));
        mkdirSync(cache.cacheDir, { recursive: true });
        writeFileSync(partialFile, JSON.stringify(done));
        return out;
      },
      onProgress: (e) => e.done % 5 === 0 && log(`MLP LDS second-seed retrain ${e.done}/${e.total}`),
    });
  });
  // TRAK models: independently seeded, each on all training digits; per-epoch checkpoints cached.
  const maxModels = Math.max(...o.models, o.grid ? o.gridModels : 0);
  // Seconds each TRAK model's training took (kept in its checkpoint header, so a warm run still reports them).
  const trainingSeconds = new Map<number, number>();
  const checkpointsOf = (m: number) => cachedCheckpoints(cache, 'mlp-trak-model', { ...recipe, seed: modelSeed + 1000 + m }, async () => {
    const { model: trained, epochs } = await trainMlp(d, all, o, modelSeed + 1000 + m, d.yTrain, true);
    trained.dispose();
    return epochs;
  }, (t) => trainingSeconds.set(m, t));
  if (o.prepare) {
    const range = /^models:(\d+)-(\d+)$/.exec(o.prepare);
    if (o.prepare === 'noise') await secondGroundTruth();
    else if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      for (let m = a; a <= b ? m <= b : m >= b; m += a <= b ? 1 : -1) {
        await checkpointsOf(m);
        log(`MLP TRAK model ${m} cached`);
      }
    } else throw new Error(`--mlp-prepare takes noise or models:A-B, got ${o.prepare}`);
    return { rows: [], ground, model, epochs: mainEpochs, setup: {} };
  }
  const scratch = createMlp({ inputSize: PIXELS, hiddenSizes: [o.mlpHidden], numClasses: 10, seed: modelSeed });
  // One float32 product workspace for every checkpoint's TRAK scores (its memory grows once: ≈ 0.1 s per checkpoint).
  const gemm = createGemmF32();
  const featurizeAt = (weights: Map<string, Float32Array>, projection: [number, number], target: 'margin' | 'loss', queryWeighting?: 'loss') => {
    restoreWeights(scratch, weights);
    const spec: FactorizedProjectionSpec = { kind: 'rademacher', inDim: projection[0], outDim: projection[1], seed: o.seed + 7 };
    const featurizer = createFeaturizer(scratch, { target, factorizedProjection: spec, batchSize: 128 });
    try {
      const tr = featurizer.run({ inputs: d.xTrain, exampleShape: [PIXELS], labels: d.yTrain });
      const te = featurizer.run({ inputs: d.xTest, exampleShape: [PIXELS], labels: d.yTest });
      if (queryWeighting === 'loss') {
        const k = te.features.dim;
        for (let t = 0; t < te.features.rows; t++) {
          const w = 1 - te.labelProbability[t]!;
          for (let c = t * k; c < (t + 1) * k; c++) te.features.data[c]! *= w;
        }
      }
      // With loss gradients the (1 − p) factor is already inside each training gradient: Q = I (p passed as 0).
      return { train: tr.features, test: te.features, labelProbability: target === 'margin' ? tr.labelProbability : new Float32Array(tr.features.rows) };
    } finally {
      featurizer.dispose();
    }
  };
  const evaluate = (scores: ScoreMatrix, truth = ground) => {
    const r = linearDatamodelingScore(scores, truth);
    return { selection: meanOver(r.perTest, selection), report: meanOver(r.perTest, report), all: meanOver(r.perTest, everyTest) };
  };

  let gridConfigs: TrakConfig[] = [];
  const gridRows: Array<{ config: string; models: number; lambda: number; selection: number }> = [];
  if (o.grid) {
    // One-factor-at-a-time grid around TRAK's defaults, all on the first `gridModels` models; judged on the selection half.
    // The field's levers (TRAK, Park et al. 2023, §3 and App. E; dattri's TRAK-M): checkpoints per model and kernel λ.
    // One 5,000 × k Gram matrix per (model, checkpoint), k = 1,056 at 32×16, and every λ from it; scored on the selection
    // half's queries only. 64×32 (k = 4,160) cost ≈ 80 s per checkpoint on 2 shared cores and is left out.
    const L = [1e-2, 3e-2, 1e-1, 3e-1, 1, 3, 10];
    const E = o.mlpEpochs;
    const spread = [Math.ceil(E / 3), Math.ceil((2 * E) / 3), E].filter((e, j, a) => a.indexOf(e) === j);
    const every = Array.from({ length: E }, (_, j) => j + 1);
    const configs: TrakConfig[] = [
      { name: `final epoch, 32×16, margin`, epochs: [E], projection: [32, 16], target: 'margin', relativeDamping: L },
      { name: `epochs ${spread.join(', ')}, 32×16, margin`, epochs: spread, projection: [32, 16], target: 'margin', relativeDamping: L },
      { name: `epochs ${every.join(', ')}, 32×16, margin`, epochs: every, projection: [32, 16], target: 'margin', relativeDamping: L },
    ];
    gridConfigs = configs;
    const ensembles = configs.map((c) => createTrakEnsemble({ relativeDamping: c.relativeDamping, precision: TRAK_PRECISION }));
    start = performance.now();
    for (let m = 0; m < o.gridModels; m++) {
      const epochs = await checkpointsOf(m);
      // Featurize each (epoch, projection, target) once and score it once per λ path; feed every configuration that holds it.
      const featureKey = (c: TrakConfig) => `${c.projection.join('x')}|${c.target}|${c.queryWeighting ?? ''}|${c.relativeDamping.join(',')}`;
      const done = new Set<string>();
      for (const c of configs) for (const e of c.epochs) {
        const key = `${featureKey(c)}|${e}`;
        if (done.has(key)) continue;
        done.add(key);
        const f = featurizeAt(epochs[e - 1]!, c.projection, c.target, c.queryWeighting);
        const s = trakModelScores({ ...f, test: pickRows(f.test, selection) }, { relativeDamping: c.relativeDamping, precision: TRAK_PRECISION, gemm });
        configs.forEach((other, j) => {
          if (featureKey(other) === featureKey(c) && other.epochs.includes(e)) ensembles[j]!.addScores(s);
        });
      }
      log(`MLP TRAK grid: model ${m + 1}/${o.gridModels} (${seconds(start).toFixed(0)} s)`);
      if (m + 1 === 5 && o.gridModels > 5) configs.forEach((c, j) => c.relativeDamping.forEach((lambda, w) => {
        log(`MLP TRAK grid (5 models) ${c.name}, λ ${lambda}: LDS on the selection half ${evaluate(widen(ensembles[j]!.scores(w), selection, d.nTest)).selection.toFixed(3)}`);
      }));
    }
    configs.forEach((c, j) => c.relativeDamping.forEach((lambda, w) => {
      const r = evaluate(widen(ensembles[j]!.scores(w), selection, d.nTest));
      gridRows.push({ config: c.name, models: o.gridModels, lambda, selection: r.selection });
      log(`MLP TRAK grid ${c.name}, λ ${lambda}: LDS on the selection half ${r.selection.toFixed(3)}`);
    }));
  }

  // The reported configuration: LDS against the number of models.
  const rows: MlpStudyRow[] = [];
  // With the grid: its best configuration on the selection half (the table then reports the other half).
  let cfg = o.config;
  if (gridRows.length) {
    const best = gridRows.reduce((a, b) => (b.selection > a.selection ? b : a));
    const c = gridConfigs.find((x) => x.name === best.config)!;
    cfg = { ...c, relativeDamping: [best.lambda] };
    log(`MLP TRAK: the grid chose ${cfg.name}, λ ${best.lambda} (selection half ${best.selection.toFixed(3)})`);
  }
  const ensemble: TrakEnsemble = createTrakEnsemble({ relativeDamping: cfg.relativeDamping, precision: TRAK_PRECISION });
  let featurizeSeconds = 0;
  let scoreSeconds = 0;
  let trainSeconds = 0;
  let added = 0;
  let lastScores: ScoreMatrix | null = null;
  const sizes = [...o.models].sort((a, b) => a - b);
  const fromCache: string[] = [];
  // Models first+1 … N into the running ensemble (only when some ensemble's scores are not in the cache).
  const addModelsUpTo = async (N: number) => {
    for (; added < N; added++) {
      const m = added;
      let t0 = performance.now();
      const epochs = await checkpointsOf(m);
      trainSeconds += trainingSeconds.get(m) ?? 0;
      if (m === 0) log(`MLP TRAK model 1: checkpoints loaded or trained in ${seconds(t0).toFixed(1)} s`);
      for (const e of cfg.epochs) {
        t0 = performance.now();
        const f = featurizeAt(epochs[e - 1]!, cfg.projection, cfg.target, cfg.queryWeighting);
        featurizeSeconds += seconds(t0);
        t0 = performance.now();
        ensemble.addScores(trakModelScores(f, { relativeDamping: cfg.relativeDamping, precision: TRAK_PRECISION, gemm }));
        scoreSeconds += seconds(t0);
        if (m === 0) log(`MLP TRAK model 1, epoch ${e}: ${f.train.dim} features; featurize ${featurizeSeconds.toFixed(1)} s, score ${scoreSeconds.toFixed(1)} s so far`);
      }
    }
  };
  for (const N of sizes) {
    // TRAK-N's scores are cached by content hash (data, recipe, configuration, model seeds): a warm run reads them.
    const key = { ...recipe, trak: cfg, models: N, firstModelSeed: modelSeed + 1000, projectionSeed: o.seed + 7, precision: TRAK_PRECISION, scoresVersion: 1 };
    const computed = await cachedArray(cache, 'mlp-trak-scores', key, async () => {
      await addModelsUpTo(N);
      return { value: ensemble.scores(0).values as Float64Array, seconds: scoreSeconds, meta: { featurizeSeconds, trainSeconds } };
    });
    if (computed.cachedFrom) fromCache.push(`TRAK-${N}`);
    const scores: ScoreMatrix = { values: computed.value, nTrain: d.nTrain, nTest: d.nTest };
    const r = evaluate(scores);
    lastScores = scores;
    const fz = computed.meta.featurizeSeconds as number;
    const tr = computed.meta.trainSeconds as number;
    rows.push({
      model: 'MLP',
      method: `TRAK-${N}`,
      loo: null,
      lds: r.report,
      auc: null,
      featurizeSeconds: fz,
      scoreSeconds: computed.seconds,
      ldsSelection: r.selection,
      ldsReport: r.report,
      ldsAll: r.all,
      note: `${N} independently trained models × ${cfg.epochs.length} checkpoint(s) (epochs ${cfg.epochs.join(', ')}), factorized Rademacher ${cfg.projection.join('×')} per module, ${cfg.target} gradients${cfg.queryWeighting ? ', queries weighted 1 − p' : ''}, λ = ${cfg.relativeDamping[0]} × mean diag; LDS on the report half (odd test points); selection half ${r.selection.toFixed(3)}; all 500: ${r.all.toFixed(3)}; training the ${N} models took ${tr.toFixed(0)} s (${(tr / N).toFixed(1)} s per model; checkpoints cached)${computed.cachedFrom ? `; scores from cache (computed ${computed.cachedFrom}; seconds are that run's)` : ''}`,
    });
    log(`MLP TRAK-${N} (${cfg.name}): LDS report ${r.report.toFixed(3)}, selection ${r.selection.toFixed(3)}, all ${r.all.toFixed(3)} (train ${tr.toFixed(0)} s, featurize ${fz.toFixed(0)} s, score ${computed.seconds.toFixed(0)} s${computed.cachedFrom ? ', cached' : ''})`);
  }
  scratch.dispose();
  gemm.dispose();
  start = performance.now();
  const second = await secondGroundTruth();
  const noiseSeconds = seconds(start);
  // The ceiling (and the comparisons below) on the subsets the second seed retrained: all of them, or the first `noiseSubsets`.
  const firstK: LdsGroundTruth = { ...ground, subsets: ground.subsets.slice(0, noiseSubsets), outputs: ground.outputs.slice(0, noiseSubsets) };
  const agreement = seedAgreement(firstK, second);
  // The largest ensemble against the mean of the two seeds' outputs (a less noisy target): context for the ceiling.
  const meanGround: LdsGroundTruth = { ...firstK, outputs: firstK.outputs.map((a, j) => a.map((v, t) => (v + second.outputs[j]![t]!) / 2)) };
  const last = rows[rows.length - 1]!;
  if (lastScores) {
    const vsFirst = evaluate(lastScores, firstK);
    const vsSecond = evaluate(lastScores, second);
    const vsMean = evaluate(lastScores, meanGround);
    last.note += `; on the ${noiseSubsets} subsets retrained twice: against the ground truth ${vsFirst.report.toFixed(3)}, the second seed's outputs ${vsSecond.report.toFixed(3)}, the two-seed mean ${vsMean.report.toFixed(3)}`;
    log(`MLP ${last.method} vs second seed ${vsSecond.report.toFixed(3)}, vs two-seed mean ${vsMean.report.toFixed(3)}`);
  }
  const ceiling = { selection: meanOver(agreement, selection), report: meanOver(agreement, report), all: meanOver(agreement, everyTest) };
  log(`MLP noise ceiling (Spearman of seed ${modelSeed} vs seed ${noiseSeed} outputs over ${noiseSubsets} of the ${o.subsets} subsets, per test point): report half ${ceiling.report.toFixed(3)}, all ${ceiling.all.toFixed(3)}`);

  rows.push({
    model: 'MLP',
    method: 'retraining noise ceiling (seed vs seed)',
    loo: null,
    lds: ceiling.report,
    auc: null,
    featurizeSeconds: null,
    scoreSeconds: null,
    ldsSelection: ceiling.selection,
    ldsReport: ceiling.report,
    ldsAll: ceiling.all,
    note: `per test point, Spearman over ${noiseSubsets} of the ${o.subsets} subsets between the ground truth (training seed ${modelSeed}) and the same subsets retrained with seed ${noiseSeed}; report half; all 500: ${ceiling.all.toFixed(3)}. Read as a reliability ρ: outputs = f + seed noise gives corr(f, ground truth) = √ρ ≈ ${Math.sqrt(ceiling.report).toFixed(2)}, what a perfect seed-blind predictor could reach (Spearman-Brown, approximate for ranks)`,
  });
  return {
    rows,
    ground,
    model,
    epochs: mainEpochs,
    setup: {
      model: `MLP 784-${o.mlpHidden}-10 (ReLU), AdamW lr ${o.mlpLr}, batch ${o.mlpBatch}, ${o.mlpEpochs} epochs, tfjs ${tf.getBackend()}`,
      accuracy,
      lds: { subsets: o.subsets, fraction: 0.5, subsetSeed: ldsSeed, output: '−loss', trainSeed: modelSeed, seconds: ldsSeconds, retrain: 'same init seed and recipe on every subset' },
      noiseCeiling: { trainSeed: noiseSeed, subsets: noiseSubsets, seconds: noiseSeconds, report: ceiling.report, all: ceiling.all, selection: ceiling.selection },
      fromCache: fromCache.length ? `scores of these rows read from the cache (seconds are the computing run's): ${fromCache.join(', ')}` : 'none: every TRAK score computed in this run',
      trak: { config: cfg, precision: `${TRAK_PRECISION} Gram and score products, float64 Cholesky`, models: sizes, modelSeeds: `${modelSeed + 1000} … ${modelSeed + 1000 + maxModels - 1}`, trainedOn: 'all 5,000 training digits' },
      selection: 'grid judged on the even test points (250); the table reports the odd test points (250); "all" includes the selection half',
      grid: gridRows.length ? gridRows : 'not run (--mlp-grid)',
      cache: `${o.cacheDir} (content hash of the data and recipe; --full recomputes)`,
    },
  };
}
