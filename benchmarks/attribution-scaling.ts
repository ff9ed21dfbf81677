/**
 * npm run bench:attribution-scaling — how scoring scales and how close it runs to the backend's own matmul speed.
 *
 * Scores random projected features (the cost depends on shapes, not values) with the tiled `denseScores` (Grad-Dot) for a
 * grid of n_train, n_test and k, and measures tfjs's plain 2-D matMul of the same shape [m, k] · [k, n] on the same backend
 * in the same run. Reports GFLOP/s (2·n·m·k / time) of both, their ratio, and a least-squares check that time grows
 * linearly in n_train. Writes benchmarks/results/attribution-scaling.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRng } from '../src/core/index.js';
import { denseScores, gradDot, singleBlock, type FeatureMatrix } from '../src/attribution/index.js';
import { initBackend, tf } from '../src/finetune/index.js';

const backend = await initBackend({ backend: 'wasm', preferNative: false });
const rng = createRng(1);

function features(rows: number, dim: number): FeatureMatrix {
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  return { rows, dim, data, blocks: singleBlock(dim) };
}

function bestOf(repeats: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best / 1000;
}

interface Row { nTrain: number; nTest: number; k: number; scoreSeconds: number; scoreGflops: number; matmulSeconds: number; matmulGflops: number; ratio: number }
const rows: Row[] = [];
const grid: [number, number, number][] = [];
for (const nTrain of [8_192, 16_384, 32_768, 65_536]) grid.push([nTrain, 256, 256]);
for (const nTest of [64, 512]) grid.push([32_768, nTest, 256]);
for (const k of [128, 512]) grid.push([32_768, 256, k]);

for (const [nTrain, nTest, k] of grid) {
  const train = features(nTrain, k);
  const test = features(nTest, k);
  const pre = gradDot();
  denseScores(train, test, pre); // warm-up
  const scoreSeconds = bestOf(3, () => void denseScores(train, test, pre));
  const a = tf.tensor2d(test.data, [nTest, k]);
  const b = tf.tensor2d(train.data, [nTrain, k]).transpose();
  const bt = tf.keep(b.clone());
  b.dispose();
  const mm = () => {
    const c = tf.matMul(a, bt);
    c.dataSync();
    c.dispose();
  };
  mm();
  const matmulSeconds = bestOf(3, mm);
  tf.dispose([a, bt]);
  const flops = 2 * nTrain * nTest * k;
  const row = {
    nTrain, nTest, k,
    scoreSeconds: +scoreSeconds.toFixed(4),
    scoreGflops: +(flops / scoreSeconds / 1e9).toFixed(2),
    matmulSeconds: +matmulSeconds.toFixed(4),
    matmulGflops: +(flops / matmulSeconds / 1e9).toFixed(2),
    ratio: +(matmulSeconds / scoreSeconds).toFixed(3),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}

// Linear in n_train: fit time = a + b·n over the n_train sweep; report R² and the time ratio for a 8× larger n.
const sweep = rows.slice(0, 4);
const xs = sweep.map((r) => r.nTrain);
const ys = sweep.map((r) => r.scoreSeconds);
const mx = xs.reduce((p, v) => p + v, 0) / xs.length;
const my = ys.reduce((p, v) => p + v, 0) / ys.length;
const slope = xs.reduce((p, x, i) => p + (x - mx) * (ys[i]! - my), 0) / xs.reduce((p, x) => p + (x - mx) ** 2, 0);
const intercept = my - slope * mx;
const ssRes = ys.reduce((p, y, i) => p + (y - (intercept + slope * xs[i]!)) ** 2, 0);
const ssTot = ys.reduce((p, y) => p + (y - my) ** 2, 0);
const linearity = { slopeSecondsPerRow: slope, interceptSeconds: intercept, r2: 1 - ssRes / ssTot, timeRatio8x: ys[3]! / ys[0]! };

console.log('\n| n_train | n_test | k | score (s) | score GFLOP/s | matmul GFLOP/s | score ÷ matmul speed |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.nTrain} | ${r.nTest} | ${r.k} | ${r.scoreSeconds} | ${r.scoreGflops} | ${r.matmulGflops} | ${(100 * r.ratio).toFixed(0)} % |`);
console.log(`\nlinear in n_train: R² ${linearity.r2.toFixed(4)}, 8× rows → ${linearity.timeRatio8x.toFixed(2)}× time`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/attribution-scaling.json', import.meta.url),
  `${JSON.stringify({ benchmark: 'attribution-scaling', date: new Date().toISOString(), backend: backend.backend, method: 'grad-dot (denseScores, default tiles)', rows, linearity }, null, 2)}\n`,
);
console.log('wrote benchmarks/results/attribution-scaling.json');
