/**
 * `npm run bench:train` — examples/s of one training step (forward, loss, backward, clip, AdamW) for logistic regression,
 * an MLP and the tiny transformer (LoRA r=8 on q,v; and full training), on the wasm and cpu backends, beside the same
 * models in PyTorch on this machine (Debian's python3-torch on OpenBLAS — scripts/setup-openblas.sh — one thread; the BLAS
 * library mapped into the torch process is printed). Prints a table, writes
 * benchmarks/results/train.json.
 *
 *   npx tsx benchmarks/train.ts [--quick] [--no-torch]
 *
 * Our steps run through the real `train()` loop (batch building, loss read-back, global-norm clipping, AdamW), so the
 * figure is what a user gets. Recorded per side: median and minimum wall time per step, and median process-CPU time.
 * The table uses the minimum wall time — the step that ran undisturbed — because on a shared machine the median wall time
 * measures the neighbours, and process-CPU time overstates PyTorch (a helper thread of its runtime burns CPU beside the
 * one compute thread: ~2× wall even on an idle machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../src/core/index.js';
import {
  CHAR_VOCAB_SIZE,
  attachAdapter,
  createLogisticRegression,
  createMlp,
  createTransformer,
  initBackend,
  tf,
  train,
  type BackendInfo,
  type Model,
  type TrainingExample,
} from '../src/finetune/index.js';

const quick = process.argv.includes('--quick');
const noTorch = process.argv.includes('--no-torch');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Kind = 'lr' | 'mlp' | 'transformer-lora' | 'transformer-full';
interface Workload {
  name: string;
  kind: Kind;
  batch: number;
  /** Steps before timing and timed steps, per backend. */
  steps: { wasm: [number, number]; cpu: [number, number] };
  sizes: Record<string, unknown>;
}

const transformerSizes = { vocabSize: CHAR_VOCAB_SIZE, dModel: 64, nHeads: 4, nLayers: 2, seqLen: 64, mlpHidden: 256, r: 8, alpha: 16 };
const scale = (n: number) => (quick ? Math.max(1, Math.ceil(n / 4)) : n);
const workloads: Workload[] = [
  { name: 'logistic regression 784→10, batch 64', kind: 'lr', batch: 64, steps: { wasm: [5, scale(60)], cpu: [3, scale(30)] }, sizes: { inputSize: 784, numClasses: 10 } },
  { name: 'MLP 784→128→10, batch 64', kind: 'mlp', batch: 64, steps: { wasm: [5, scale(60)], cpu: [3, scale(20)] }, sizes: { inputSize: 784, hiddenSizes: [128], numClasses: 10 } },
  {
    name: 'transformer d64 L2 T64 + LoRA r8 (q,v), batch 32',
    kind: 'transformer-lora',
    batch: 32,
    steps: { wasm: [3, scale(30)], cpu: [1, scale(3)] },
    sizes: transformerSizes,
  },
  { name: 'transformer d64 L2 T64, full training, batch 32', kind: 'transformer-full', batch: 32, steps: { wasm: [3, scale(30)], cpu: [1, scale(3)] }, sizes: transformerSizes },
];

function makeModel(w: Workload): Model {
  const s = w.sizes as Record<string, number> & { hiddenSizes: number[] };
  if (w.kind === 'lr') return createLogisticRegression({ inputSize: s.inputSize, numClasses: s.numClasses, seed: 1, initStd: 0.01 });
  if (w.kind === 'mlp') return createMlp({ inputSize: s.inputSize, hiddenSizes: s.hiddenSizes, numClasses: s.numClasses, seed: 1 });
  const model = createTransformer({ vocabSize: s.vocabSize, dModel: s.dModel, nHeads: s.nHeads, nLayers: s.nLayers, maxSeqLen: s.seqLen, mlpHidden: s.mlpHidden, seed: 1 });
  if (w.kind === 'transformer-lora') attachAdapter(model, 'default', { r: s.r, alpha: s.alpha, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, { seed: 1 });
  return model;
}

function makeData(w: Workload, n: number): TrainingExample[] {
  const rng = createRng(7);
  const s = w.sizes as Record<string, number>;
  if (w.kind === 'lr' || w.kind === 'mlp') {
    return Array.from({ length: n }, () => ({ input: Float32Array.from({ length: s.inputSize! }, () => rng.nextNormal()), label: rng.nextInt(s.numClasses!) }));
  }
  return Array.from({ length: n }, () => ({ input: Int32Array.from({ length: s.seqLen! + 1 }, () => 1 + rng.nextInt(s.vocabSize! - 1)) }));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Measured {
  msPerStep: number;
  minMsPerStep: number;
  cpuMsPerStep: number;
  examplesPerSecond: number;
  cpuExamplesPerSecond: number;
  steps: number;
}

async function measure(w: Workload, backend: 'wasm' | 'cpu'): Promise<Measured> {
  const [warm, timed] = w.steps[backend];
  const model = makeModel(w);
  const data = makeData(w, w.batch * (warm + timed));
  const cpu: number[] = [];
  let last = process.cpuUsage();
  const result = await train(model, {
    task: w.kind === 'lr' || w.kind === 'mlp' ? 'classification' : 'causal-lm',
    train: data,
    seed: 1,
    batchSize: w.batch,
    maxSteps: warm + timed,
    learningRate: 1e-3,
    onStep: () => {
      const now = process.cpuUsage();
      cpu.push((now.user - last.user + now.system - last.system) / 1000);
      last = now;
    },
  });
  model.dispose();
  const wall = result.log.slice(warm).map((e) => e.ms);
  const cpuMs = median(cpu.slice(warm));
  const msPerStep = median(wall);
  const minMsPerStep = Math.min(...wall);
  return { msPerStep, minMsPerStep, cpuMsPerStep: cpuMs, examplesPerSecond: (w.batch * 1000) / minMsPerStep, cpuExamplesPerSecond: (w.batch * 1000) / cpuMs, steps: timed };
}

interface TorchResult {
  name: string;
  msPerStep: number;
  minMsPerStep: number;
  cpuMsPerStep: number;
  batch: number;
}

function ensureTorch(): string | null {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return `${python} not found`;
  const probe = () => spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (probe()) return null;
  console.log('PyTorch is missing: trying `apt-get install -y python3-torch` …');
  const apt = spawnSync('apt-get', ['install', '-y', 'python3-torch'], { encoding: 'utf8', stdio: 'inherit' });
  if (apt.status === 0 && probe()) return null;
  return 'python3-torch is not installed and `apt-get install -y python3-torch` failed (needs root and the Debian archive)';
}

function runTorch(): { torch: string; blas: string[]; results: TorchResult[] } | { skipped: string } {
  if (noTorch) return { skipped: '--no-torch' };
  const missing = ensureTorch();
  if (missing) return { skipped: missing };
  // OpenBLAS under PyTorch (Debian's torch falls back to the ~0.4 GFLOP/s reference BLAS without it).
  const setup = spawnSync('bash', [join(root, 'scripts/setup-openblas.sh')], { encoding: 'utf8' });
  console.log(`${setup.stdout}${setup.stderr}`.trim());
  if (setup.status !== 0) return { skipped: `OpenBLAS is not set up for PyTorch (scripts/setup-openblas.sh exited ${setup.status}); a ratio against the reference BLAS would be meaningless` };
  const spec = {
    workloads: workloads.map((w) => ({ name: w.name, kind: w.kind, batch: w.batch, warmup: 3, steps: w.kind.startsWith('transformer') ? scale(30) : scale(100), ...w.sizes })),
  };
  const run = spawnSync('/usr/bin/python3', [join(root, 'benchmarks/train_torch.py'), JSON.stringify(spec)], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    maxBuffer: 1 << 24,
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (run.status !== 0 || !line) return { skipped: `PyTorch run failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(line.slice(7)) as { torch: string; blas: string[]; results: TorchResult[] };
}

const load0 = os.loadavg();
const started = new Date().toISOString();
const ours: Record<string, Record<string, Measured>> = {};
const backends: Record<string, BackendInfo> = {};
for (const backend of ['wasm', 'cpu'] as const) {
  backends[backend] = await initBackend({ backend });
  for (const w of workloads) {
    const m = await measure(w, backend);
    (ours[w.name] ??= {})[backend] = m;
    console.log(`${backend.padEnd(4)} ${w.name}: ${m.minMsPerStep.toFixed(1)} ms/step fastest, ${m.msPerStep.toFixed(1)} median wall, ${m.cpuMsPerStep.toFixed(1)} ms CPU`);
  }
}
const torchRun = runTorch();
const torchBy = new Map('results' in torchRun ? torchRun.results.map((r) => [r.name, r]) : []);
if ('skipped' in torchRun) console.log(`PyTorch column skipped: ${torchRun.skipped}`);
else console.log(`PyTorch ${torchRun.torch}, 1 thread, BLAS mapped into its process: ${torchRun.blas.join(', ') || 'none found'}`);

const rows = workloads.map((w) => {
  const t = torchBy.get(w.name);
  const wasm = ours[w.name]!.wasm!;
  const cpu = ours[w.name]!.cpu!;
  const torchExamples = t ? (w.batch * 1000) / t.minMsPerStep : null;
  return {
    workload: w.name,
    wasmExamplesPerSecond: wasm.examplesPerSecond,
    cpuExamplesPerSecond: cpu.examplesPerSecond,
    torchExamplesPerSecond: torchExamples,
    wasmVsTorch: t ? wasm.minMsPerStep / t.minMsPerStep : null,
    cpuVsTorch: t ? cpu.minMsPerStep / t.minMsPerStep : null,
    wasm,
    cpu,
    torch: t ?? null,
  };
});

const fmt = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));
console.log('\nexamples/s of one training step (fastest of the timed steps; single thread) — ratio = our step time / PyTorch step time');
console.log('| workload | wasm | cpu | PyTorch 1-thread | wasm ÷ PyTorch | cpu ÷ PyTorch |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.workload} | ${fmt(r.wasmExamplesPerSecond)} | ${fmt(r.cpuExamplesPerSecond)} | ${fmt(r.torchExamplesPerSecond)} | ${r.wasmVsTorch === null ? '—' : `${r.wasmVsTorch.toFixed(2)}×`} | ${r.cpuVsTorch === null ? '—' : `${r.cpuVsTorch.toFixed(1)}×`} |`);
}
const target = rows.filter((r) => r.wasmVsTorch !== null);
if (target.length) console.log(`\ntarget (wasm within 3× of PyTorch): ${target.map((r) => `${r.workload.split(' ')[0]}${r.workload.includes('LoRA') ? '+LoRA' : r.workload.includes('full') ? ' full' : ''} ${r.wasmVsTorch! <= 3 ? 'met' : 'missed'}`).join('; ')}`);

const busy = Math.max(load0[0]!, os.loadavg()[0]!) > os.cpus().length;
if (busy) {
  console.log(
    `\nWARNING: the machine was busy (load average ${load0[0]!.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores). ` +
      'The fastest-step figures resist contention better than medians, but rerun on an idle machine for a clean comparison.',
  );
}
const out = {
  benchmark: 'train',
  busy,
  started,
  finished: new Date().toISOString(),
  quick,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageBefore: load0, loadAverageAfter: os.loadavg() },
  backends,
  torch: 'results' in torchRun ? { version: torchRun.torch, threads: 1, env: 'OPENBLAS_NUM_THREADS=1', blas: torchRun.blas } : { skipped: torchRun.skipped },
  note: 'examplesPerSecond and ratios use the fastest timed step (minMsPerStep) of each side; median wall (msPerStep) and median process-CPU (cpuMsPerStep) are beside them',
  rows,
};
mkdirSync(join(root, 'benchmarks/results'), { recursive: true });
writeFileSync(join(root, 'benchmarks/results/train.json'), JSON.stringify(out, null, 2) + '\n');
console.log('\nwrote benchmarks/results/train.json');
tf.disposeVariables();
