/**
 * What `loadPretrained`'s non-finite scan of the base weights costs (`nonFiniteValues`, one multiply-add per value),
 * measured on bench:hf's SmolLM-135M-shaped BF16 checkpoint (134.5M values): per repetition, reading and widening every
 * tensor, the scan over what was read, a plain `Number.isFinite` loop for reference, and a whole `loadPretrained`
 * (which includes the scan). Interleaved in one run; minimum over repetitions.
 *
 *   npx tsx benchmarks/hf-load-scan.ts [checkpoint folder] [--out benchmarks/results/hf-load-scan.json]
 *
 * The folder defaults to benchmarks/.cache/smollm-135m-shape (written by `npm run bench:hf`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { initBackend, loadPretrained, nonFiniteValues, openCheckpoint } from '../src/finetune/index.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1]! : 'benchmarks/results/hf-load-scan.json';
const dir = args.find((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1)) ?? 'benchmarks/.cache/smollm-135m-shape';
const REPS = 3;

await initBackend({ backend: 'wasm' });
const started = new Date().toISOString();
const loadBefore = loadavg();
const rows: Array<{ read: number; scan: number; isFiniteLoop: number; loadPretrained: number }> = [];
let values = 0;
let dtypes: readonly string[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const ckpt = await openCheckpoint(dir);
  dtypes = ckpt.dtypes;
  let read = 0;
  let scan = 0;
  let loop = 0;
  values = 0;
  for (const name of ckpt.tensors.keys()) {
    let t = performance.now();
    const v = await ckpt.read(name);
    read += performance.now() - t;
    t = performance.now();
    if (nonFiniteValues(v) !== null) throw new Error(`${name} is not finite`);
    scan += performance.now() - t;
    t = performance.now();
    let bad = 0;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) bad++;
    loop += performance.now() - t;
    if (bad !== 0) throw new Error('unreachable');
    values += v.length;
  }
  await ckpt.close();
  const t = performance.now();
  const model = await loadPretrained(dir, { tokenizer: false });
  const load = performance.now() - t;
  model.dispose();
  rows.push({ read, scan, isFiniteLoop: loop, loadPretrained: load });
}
const min = (k: keyof (typeof rows)[number]) => Math.min(...rows.map((r) => r[k]));
const result = {
  benchmark: 'hf-load-scan',
  started,
  node: process.version,
  loadAverage: { before: loadBefore.map((x) => +x.toFixed(2)), after: loadavg().map((x) => +x.toFixed(2)) },
  checkpoint: dir,
  dtypes,
  values,
  repetitions: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, +(v / 1000).toFixed(3)]))),
  minSeconds: { read: +(min('read') / 1000).toFixed(3), scan: +(min('scan') / 1000).toFixed(3), isFiniteLoop: +(min('isFiniteLoop') / 1000).toFixed(3), loadPretrained: +(min('loadPretrained') / 1000).toFixed(3) },
  scanShareOfLoad: +(min('scan') / min('loadPretrained')).toFixed(3),
};
console.log('| step | min s |\n|---|---|');
for (const [k, v] of Object.entries(result.minSeconds)) console.log(`| ${k} | ${v} |`);
console.log(`scan / loadPretrained = ${result.scanShareOfLoad}; ${values} values (${dtypes.join(', ')}); load ${result.loadAverage.before[0]} → ${result.loadAverage.after[0]}; Node ${process.version}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
