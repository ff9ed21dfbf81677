/**
 * bench:attribution's TRAK steps, this code against the code path they replaced, interleaved in one run on the same
 * cached models (issue 15, item 1). Reads the models and ground truths `npm run bench:attribution` caches under
 * benchmarks/cache/ (run that once first; a missing file is named). Seconds are wall and CPU seconds of this process.
 *
 * - LR raw pixels (P = 7,850; 512-d Gaussian projection; TRAK-10 / TRAK-50 on random halves). Reference: each model's
 *   5,000 + 500 gradients materialized (convexExampleGradients) and projected by one n × P × k product, scores by fitTrak
 *   over the concatenated features (denseScores). Ours: createConvexGradientProjector (X̃·Π' once per side, then n·C·k per
 *   model) and the streaming createTrakEnsemble (float64, TRAK-10 is TRAK-50's prefix).
 * - MLP 784-128-10, 6 checkpoints per model, factorized Rademacher 32×16, margin, λ = 0.3 × mean diagonal, TRAK-1 … 50.
 *   Featurization is shared (one featurizer run per checkpoint); scoring: reference trakModelScores in float64, ours with
 *   precision 'float32' (TRAK's own precision; Cholesky float64).
 *
 * LDS as bench:attribution computes it (LR: all 500 test points; MLP: the report half, odd test points).
 *
 * Run: npm run bench:attribution-trak-speed -- [--only lr,mlp] [--mlp-models 50]
 *   → prints a table, writes benchmarks/results/attribution-trak-speed.json (a partial run keeps the other workload's rows).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  convexExampleGradients,
  convexExampleLosses,
  createConvexGradientProjector,
  createConvexLogisticProblem,
  createFeaturizer,
  createTrakEnsemble,
  denseScores,
  fitTrak,
  linearDatamodelingScore,
  matMul,
  projectionMatrix,
  trakFeatures,
  trakModelScores,
  type ConvexLogisticProblem,
  type FeatureMatrix,
  type LdsGroundTruth,
  type ScoreMatrix,
  type TrakEnsembleModel,
} from '../src/attribution/index.js';
import { fromMnist } from '../src/datanet/index.js';
import { createGemmF32, createMlp, gemmF32Kernel, initBackend, tf } from '../src/finetune/index.js';
import { denseKernel } from '../src/attribution/index.js';
import { restoreWeights } from './attribution-mlp.js';

const argv = process.argv.slice(2);
const get = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const only = new Set(get('only', 'lr,mlp').split(','));
const mlpModels = Number(get('mlp-models', '50'));
const PIXELS = 784;
const C = 10;
const cacheDir = 'benchmarks/cache';

// The same data, keys and seeds as bench:attribution's defaults (benchmarks/attribution.ts, attribution-lr-raw.ts, attribution-mlp.ts).
const { datanet, test } = await fromMnist({ train: 5000, test: 500, seed: 0 });
const snapshot = datanet.snapshot();
const nTrain = snapshot.size;
const nTest = test.length;
const xTrain = new Float64Array(nTrain * PIXELS);
snapshot.rows.forEach((row, i) => xTrain.set(row.input as readonly number[], i * PIXELS));
const yTrain = Int32Array.from(snapshot.labelIndices(), (k) => Number(snapshot.classes[k]));
const xTest = new Float64Array(nTest * PIXELS);
test.forEach((e, i) => xTest.set(e.input as readonly number[], i * PIXELS));
const yTest = Int32Array.from(test, (e) => e.label);

const cacheFile = (name: string, key: unknown, ext: string) => {
  const file = `${cacheDir}/${name}-${createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16)}.${ext}`;
  if (!existsSync(file)) throw new Error(`${file} (${name}) is not cached: run npm run bench:attribution once first.`);
  return file;
};
const readTruth = (file: string): LdsGroundTruth => {
  const r = JSON.parse(readFileSync(file, 'utf8')) as { nTrain: number; nTest: number; subsets: number[][]; outputs: number[][] };
  return { nTrain: r.nTrain, nTest: r.nTest, subsets: r.subsets.map((s) => Uint32Array.from(s)), outputs: r.outputs.map((s) => Float64Array.from(s)) };
};

/** Wall and CPU seconds, accumulated per label. */
const clock = new Map<string, { wall: number; cpu: number }>();
function timed<T>(label: string, f: () => T): T {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  try {
    return f();
  } finally {
    const c = process.cpuUsage(c0);
    const t = clock.get(label) ?? { wall: 0, cpu: 0 };
    t.wall += (performance.now() - w0) / 1000;
    t.cpu += (c.user + c.system) / 1e6;
    clock.set(label, t);
  }
}
const seconds = (label: string) => ({ ...(clock.get(label) ?? { wall: 0, cpu: 0 }) });

interface Row {
  workload: string;
  step: string;
  oursSeconds: number;
  referenceSeconds: number;
  ratio: number;
  oursCpuSeconds: number;
  referenceCpuSeconds: number;
  ldsOurs?: number;
  ldsReference?: number;
  maxRelativeScoreDifference?: number;
  load: number[];
}
const rows: Row[] = [];
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let q = 0; q < b.length; q++) {
    d = Math.max(d, Math.abs(a[q]! - b[q]!));
    s = Math.max(s, Math.abs(b[q]!));
  }
  return d / s;
}
function push(workload: string, step: string, ours: string, reference: string, extra: Partial<Row> = {}): void {
  const o = seconds(ours);
  const r = seconds(reference);
  const row: Row = { workload, step, oursSeconds: o.wall, referenceSeconds: r.wall, ratio: r.wall / o.wall, oursCpuSeconds: o.cpu, referenceCpuSeconds: r.cpu, ...extra, load: loadavg() };
  rows.push(row);
  console.log(`${workload} ${step}: ours ${o.wall.toFixed(1)} s, reference ${r.wall.toFixed(1)} s (${row.ratio.toFixed(1)}×)${extra.ldsOurs !== undefined ? `; LDS ours ${extra.ldsOurs.toFixed(4)}, reference ${extra.ldsReference!.toFixed(4)}` : ''}`);
}

// ------------------------------------------------------------------------------------------------------------ LR raw
if (only.has('lr')) {
  const d = PIXELS;
  const P = (d + 1) * C;
  const k = 512;
  const lambda = 1e-3;
  const train = createConvexLogisticProblem(xTrain, yTrain, { numClasses: C, lambda, d });
  const tst = createConvexLogisticProblem(xTest, yTest, { numClasses: C, lambda, d });
  const dataHash = createHash('sha256').update(Buffer.from(xTrain.buffer)).update(Buffer.from(yTrain.buffer)).update(Buffer.from(xTest.buffer)).update(Buffer.from(yTest.buffer)).digest('hex');
  const base = { dataHash, lambda, tolerance: 1e-10, version: 1 };
  const truth = readTruth(cacheFile('lr-raw-lds', { ...base, subsets: 20, seed: 2 }, 'json'));
  const theta = (m: number) => Float64Array.from((JSON.parse(readFileSync(cacheFile('lr-raw-trak-model', { ...base, model: m, seed: 4, tolerance: 1e-8 }, 'json'), 'utf8')) as { theta: number[] }).theta);
  const proj = projectionMatrix('gaussian', P, k, 5);
  // Reference: the gradients materialized and projected, scaled to margin gradients −∇ℓ/(1 − p).
  const materialized = (problem: ConvexLogisticProblem, th: Float64Array): FeatureMatrix => {
    const g = convexExampleGradients(problem, th);
    const p = convexExampleLosses(problem, th).map((l) => Math.exp(-l));
    for (let i = 0; i < problem.n; i++) {
      const s = -1 / Math.max(1e-12, 1 - p[i]!);
      for (let q = i * P; q < (i + 1) * P; q++) g[q]! *= s;
    }
    return { rows: problem.n, dim: k, data: Float32Array.from(matMul(g, problem.n, P, proj, k)), blocks: [{ name: 'projected', module: 'linear', offset: 0, size: k }] };
  };
  const projectors = timed('lr ours featurize', () => ({ train: createConvexGradientProjector(train, proj, k), test: createConvexGradientProjector(tst, proj, k) }));
  const ensemble = createTrakEnsemble();
  const reference: Array<{ train: FeatureMatrix; test: FeatureMatrix; p: Float32Array }> = [];
  for (let m = 0; m < 50; m++) {
    const th = theta(m);
    const model = timed('lr ours featurize', () => {
      const tr = projectors.train.project(th, { target: 'margin' });
      return { train: tr.features, test: projectors.test.project(th, { target: 'margin' }).features, labelProbability: tr.labelProbability };
    });
    timed('lr ours score', () => ensemble.add(model));
    reference.push(timed('lr reference featurize', () => ({ train: materialized(train, th), test: materialized(tst, th), p: Float32Array.from(convexExampleLosses(train, th), (l) => Math.exp(-l)) })));
    if (m + 1 === 10 || m + 1 === 50) {
      const M = m + 1;
      const ours = timed('lr ours score', () => ensemble.scores());
      // The reference recomputed each ensemble from its M models (fitTrak over the concatenation).
      const refScores = timed(`lr reference score ${M}`, () => {
        const models = reference.slice(0, M);
        const pre = fitTrak(models.map((x) => ({ features: x.train, labelProbability: x.p })));
        return denseScores(trakFeatures(models.map((x) => x.train)), trakFeatures(models.map((x) => x.test)), pre);
      });
      const lds = (s: ScoreMatrix) => linearDatamodelingScore(s, truth).score;
      push('LR raw pixels', `TRAK-${M} featurize (cumulative)`, 'lr ours featurize', 'lr reference featurize');
      push('LR raw pixels', `TRAK-${M} score${M === 50 ? ' (ours cumulative from TRAK-10)' : ''}`, 'lr ours score', `lr reference score ${M}`, { ldsOurs: lds(ours), ldsReference: lds(refScores), maxRelativeScoreDifference: maxRelDiff(ours.values, refScores.values) });
    }
  }
}

// --------------------------------------------------------------------------------------------------------------- MLP
if (only.has('mlp')) {
  await initBackend({ backend: 'wasm' });
  const xTrain32 = Float32Array.from(xTrain);
  const xTest32 = Float32Array.from(xTest);
  const dataHash = createHash('sha256').update(Buffer.from(xTrain32.buffer)).update(Buffer.from(yTrain.buffer)).update(Buffer.from(xTest32.buffer)).update(Buffer.from(yTest.buffer)).digest('hex');
  const recipe = { dataHash, hidden: 128, epochs: 6, batch: 128, lr: 2e-3, backend: tf.getBackend(), version: 1 };
  const truth = readTruth(cacheFile('mlp-lds', { ...recipe, subsets: 50, subsetSeed: 12, trainSeed: 100 }, 'json'));
  const reportLds = (s: ScoreMatrix) => {
    const v = Array.from(linearDatamodelingScore(s, truth).perTest).filter((x, t) => t % 2 === 1 && Number.isFinite(x));
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const checkpoints = (m: number) => {
    const file = cacheFile('mlp-trak-model', { ...recipe, seed: 1100 + m }, 'bin');
    const h = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { epochs: number; tensors: Array<[string, number]> };
    const buf = readFileSync(file);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    let offset = 0;
    return Array.from({ length: h.epochs }, () => new Map(h.tensors.map(([name, len]) => {
      const v = all.slice(offset, offset + len);
      offset += len;
      return [name, v] as const;
    })));
  };
  const scratch = createMlp({ inputSize: PIXELS, hiddenSizes: [128], numClasses: 10, seed: 100 });
  const relativeDamping = [0.3];
  const ours = createTrakEnsemble({ relativeDamping, precision: 'float32' });
  const gemm = createGemmF32();
  const reference = createTrakEnsemble({ relativeDamping });
  for (let m = 0; m < mlpModels; m++) {
    for (const weights of checkpoints(m)) {
      const model: TrakEnsembleModel = timed('mlp featurize', () => {
        restoreWeights(scratch, weights);
        const featurizer = createFeaturizer(scratch, { target: 'margin', factorizedProjection: { kind: 'rademacher', inDim: 32, outDim: 16, seed: 7 }, batchSize: 128 });
        try {
          const tr = featurizer.run({ inputs: xTrain32, exampleShape: [PIXELS], labels: yTrain });
          const te = featurizer.run({ inputs: xTest32, exampleShape: [PIXELS], labels: yTest });
          return { train: tr.features, test: te.features, labelProbability: tr.labelProbability };
        } finally {
          featurizer.dispose();
        }
      });
      timed('mlp ours score', () => ours.addScores(trakModelScores(model, { relativeDamping, precision: 'float32', gemm })));
      timed('mlp reference score', () => reference.addScores(trakModelScores(model, { relativeDamping })));
    }
    if ([1, 5, 10, 25, 50].includes(m + 1)) {
      const a = ours.scores();
      const b = reference.scores();
      push('MLP 784-128-10', `TRAK-${m + 1} score (cumulative, featurize ${seconds('mlp featurize').wall.toFixed(1)} s shared)`, 'mlp ours score', 'mlp reference score', { ldsOurs: reportLds(a), ldsReference: reportLds(b), maxRelativeScoreDifference: maxRelDiff(a.values, b.values) });
    }
  }
  scratch.dispose();
  gemm.dispose();
}

// A partial run (--only) keeps the other workloads' rows of the previous result, marked with their own date.
const out = 'benchmarks/results/attribution-trak-speed.json';
const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { date: string; rows: Array<Row & { date?: string }> }) : null;
const kept = (previous?.rows ?? []).filter((r) => !rows.some((x) => x.workload === r.workload)).map((r) => ({ ...r, date: r.date ?? previous!.date }));
const result = {
  benchmark: 'attribution-trak-speed',
  date: new Date().toISOString(),
  node: process.version,
  kernels: { float64: denseKernel(), float32: gemmF32Kernel() },
  note: 'ours vs the code path it replaced, interleaved in one process on the same cached models; wall and CPU seconds; load = 1/5/15-minute load average when the row was written (2 shared cores)',
  featurizeMlpSeconds: seconds('mlp featurize'),
  rows: [...kept, ...rows],
};
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.table(rows.map((r) => ({ workload: r.workload, step: r.step, 'ours s': r.oursSeconds.toFixed(1), 'reference s': r.referenceSeconds.toFixed(1), ratio: r.ratio.toFixed(2), 'LDS ours': r.ldsOurs?.toFixed(4) ?? '', 'LDS ref': r.ldsReference?.toFixed(4) ?? '' })));
