/**
 * The float32 products of the bench:hf Llama-256 workload (M = batch 8 × sequence 128 = 1,024 tokens; hidden 256,
 * key/value width 128, intermediate 768, vocab 2048) in GFLOP/s: tfjs-wasm's matMul (XNNPACK; transposed operands given
 * as kept transposed tensors, its best case) beside the float32 WebAssembly kernel (src/finetune/gemm), both raw (data
 * already in the kernel's memory) and through tfjs tensors (copies in and out included), and PyTorch 1-thread on OpenBLAS
 * (benchmarks/hf_gemm.py, when /usr/bin/python3 has torch). Methods interleaved per repetition; minimum of the reps.
 * The "B only" column is the same product with one row of A: B copied into the workspace and packed into panels, plus
 * 1/m of the arithmetic — an upper bound on what caching a constant weight's packed panels could save per call.
 *
 *   npx tsx benchmarks/hf-gemm.ts [--reps N] [--json FILE] [--no-torch]
 *
 * benchmarks/results/hf-gemm.json is Node 20's run (SIMD 1.0 kernel), hf-gemm-node22.json Node 22's (FMA kernel).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createGemmF32, gemmMatMul, initBackend, tf } from '../src/finetune/index.js';

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const REPS = Number(argValue('reps') ?? 15);
const M = 1024;

/** [label, m, k, n, transposeA, transposeB]: op(A) [m, k] · op(B) [k, n]. */
export const GEMM_SHAPES: Array<[string, number, number, number, boolean, boolean]> = [
  ['x·W q/o 256→256', M, 256, 256, false, false],
  ['x·W k/v 256→128', M, 256, 128, false, false],
  ['x·W gate/up 256→768', M, 256, 768, false, false],
  ['x·W down 768→256', M, 768, 256, false, false],
  ['x·W head 256→2048', M, 256, 2048, false, false],
  ['dy·Wᵀ q/o 256→256', M, 256, 256, false, true],
  ['dy·Wᵀ gate/up 768→256', M, 768, 256, false, true],
  ['dy·Wᵀ down 256→768', M, 256, 768, false, true],
  ['dy·Wᵀ head 2048→256', M, 2048, 256, false, true],
  ['xᵀ·dy 256×1024×256', 256, M, 256, true, false],
];

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed);
  return out;
}

function timeMin(fns: Array<() => void>, reps: number): number[] {
  const best = fns.map(() => Infinity);
  for (let r = 0; r < reps + 2; r++) {
    fns.forEach((f, i) => {
      const t0 = performance.now();
      f();
      const ms = performance.now() - t0;
      if (r >= 2) best[i] = Math.min(best[i]!, ms);
    });
  }
  return best;
}

function torchRates(): Record<string, number> | null {
  if (process.argv.includes('--no-torch')) return null;
  const shapes = GEMM_SHAPES.map(([label, m, k, n, ta, tb]) => ({ label, m, k, n, ta, tb }));
  const run = spawnSync('/usr/bin/python3', ['benchmarks/hf_gemm.py', JSON.stringify({ shapes, reps: REPS })], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
  });
  if (run.status !== 0) {
    console.error(`PyTorch side skipped: ${run.stderr.trim().split('\n').pop()}`);
    return null;
  }
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const gemm = createGemmF32();
  const rows: Array<Record<string, string | number>> = [];
  for (const [label, m, k, n, ta, tb] of GEMM_SHAPES) {
    const aData = values(m * k, 1);
    const bData = values(k * n, 2);
    const aStored = ta ? [k, m] : [m, k];
    const bStored = tb ? [n, k] : [k, n];
    const a = tf.tensor2d(aData, aStored as [number, number]);
    const b = tf.variable(tf.tensor2d(bData, bStored as [number, number]), false);
    // XNNPACK's fast path is the plain 2-D product: give it the transposes as kept tensors (as kernel-transposes.ts does).
    const aPlain = ta ? tf.keep(tf.transpose(a)) : a;
    const bPlain = tb ? tf.keep(tf.transpose(b)) : b;
    const A = { data: aData, rows: aStored[0]!, cols: aStored[1]!, transpose: ta };
    const B = { data: bData, rows: bStored[0]!, cols: bStored[1]!, transpose: tb };
    const aRow = { data: values(k, 3), rows: ta ? k : 1, cols: ta ? 1 : k, transpose: ta };
    const [xnn, raw, viaTensors, bOnly] = timeMin(
      [
        () => tf.matMul(aPlain, bPlain).dispose(),
        () => gemm.product(A, B),
        () => gemmMatMul(gemm, a, b, { transposeA: ta, transposeB: tb }).dispose(),
        () => gemm.product(aRow, B),
      ],
      REPS,
    );
    const gflops = (ms: number) => (2 * m * k * n) / ms / 1e6;
    rows.push({ shape: label, m, k, n, xnnpackMs: xnn!, oursRawMs: raw!, oursTensorsMs: viaTensors!, xnnpackGflops: gflops(xnn!), oursRawGflops: gflops(raw!), oursTensorsGflops: gflops(viaTensors!), bOnlyMs: bOnly!, bOnlyShare: bOnly! / raw! });
    tf.dispose([a, b]);
    if (ta) aPlain.dispose();
    if (tb) bPlain.dispose();
  }
  const kernel = gemm.kernel;
  gemm.dispose();
  const torch = torchRates();
  const fmt = (x: number) => x.toFixed(1).padStart(7);
  console.log('float32 products of bench:hf (GFLOP/s, higher is better; shared 2-core machine: figures are lower bounds)');
  console.log(`${'shape'.padEnd(24)} ${'XNNPACK'.padStart(7)} ${'ours'.padStart(7)} ${'ours+io'.padStart(7)} ${'OpenBLAS'.padStart(8)}  ours+io / XNNPACK   B only (copy + pack, ms; share of ours)`);
  for (const r of rows) {
    if (torch) r.openblasGflops = torch[r.shape as string] ?? NaN;
    const ob = typeof r.openblasGflops === 'number' ? fmt(r.openblasGflops) : '      -';
    console.log(`${String(r.shape).padEnd(24)} ${fmt(r.xnnpackGflops as number)} ${fmt(r.oursRawGflops as number)} ${fmt(r.oursTensorsGflops as number)} ${ob.padStart(8)}  ${((r.oursTensorsGflops as number) / (r.xnnpackGflops as number)).toFixed(2)}×`.padEnd(99) + `${(r.bOnlyMs as number).toFixed(3)} (${((r.bOnlyShare as number) * 100).toFixed(1)} %)`);
  }
  const out = argValue('json');
  if (out) writeFileSync(out, `${JSON.stringify({ machine: 'shared 2-core machine, possibly under load', node: process.version, kernel, loadAverage: loadavg(), date: new Date().toISOString(), reps: REPS, rows }, null, 2)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
