/**
 * Float64 dense kernels against PyTorch float64 on one thread, in one run: the influence pipeline of raw-pixel MNIST-10
 * logistic regression (784 pixels + bias, 10 classes: P = 7,850; 5,000 training and 500 test digits) — the explicit
 * Hessian, its Cholesky factorisation, the triangular solves for 500 test gradients, and the 5,000 × 500 score product —
 * plus a comparison of candidate engines (ml-matrix, our pure-JavaScript kernel, our WebAssembly SIMD kernel) at a size
 * ml-matrix can finish.
 *
 *   npm run bench:kernels                       # runs benchmarks/kernels-setup.sh first (checks OpenBLAS, torch)
 *   nice -n 15 npm run bench:kernels -- --rounds 2 --sizes 256,512,1024,2048 --candidates 1000
 *   npm run bench:kernels:fma -- --rounds 2      # Node 20 with --experimental-wasm-relaxed-simd: the fused multiply-add
 *                                                # kernel Node ≥ 22 gets by default; writes results/kernels-fma.json
 *
 * Besides the pipeline: GFLOP/s by size (product and Cholesky, n = 256 … 2,048) for ours and PyTorch, measured in the same
 * run, and whether this runtime validates WebAssembly relaxed SIMD (f64x2.relaxed_madd, i.e. FMA) without flags.
 *
 * The reference runs as a server process (benchmarks/kernels-torch.py); each step runs on both sides back to back, the
 * order alternating between rounds, so both meet the same machine load (this machine is shared: the figures are measured
 * under load, and the ratios are what to read). Each side's CPU seconds (user + system) are the primary figure — on a
 * machine with more runnable processes than cores, wall time mostly measures the wait for a core — with wall seconds beside. The reference is single-threaded: torch.set_num_threads(1) and
 * OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=OMP_NUM_THREADS=1; the BLAS/LAPACK it links is printed. Probabilities are taken
 * at θ = 0 (uniform): the kernels' cost does not depend on the values, and no fit is needed. λ = 1e-3.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import {
  choleskyFactor,
  convexExampleResiduals,
  convexHessianFromProbabilities,
  convexProbabilities,
  convexScoresFromSolutions,
  createConvexLogisticProblem,
  createDenseWorkspace,
  denseKernel,
  matMulNT,
  STRASSEN_DEFAULTS,
  type CholeskyFactor,
  type DenseEngine,
} from '../src/attribution/index.js';
import { fromMnist } from '../src/datanet/index.js';

const argv = process.argv.slice(2);
const get = (name: string, fallback: string) => {
  const k = argv.indexOf(`--${name}`);
  return k >= 0 && argv[k + 1] !== undefined ? argv[k + 1]! : fallback;
};
const args = {
  train: Number(get('train', '5000')),
  test: Number(get('test', '500')),
  lambda: Number(get('lambda', '1e-3')),
  rounds: Number(get('rounds', '1')),
  candidates: Number(get('candidates', '1000')),
  sizes: get('sizes', '256,512,1024,2048').split(',').filter(Boolean).map(Number),
  engine: get('engine', 'wasm') as DenseEngine,
  python: get('python', ''),
  out: get('out', 'benchmarks/results/kernels.json'),
};
const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const v = f();
  return [v, (performance.now() - t) / 1000];
};
/** CPU seconds of this process (user + system) spent in f: on a loaded machine, wall time counts the wait for a core. */
const cpuTime = <T>(f: () => T): [T, number, number] => {
  const c = process.cpuUsage();
  const [v, wall] = time(f);
  const u = process.cpuUsage(c);
  return [v, (u.user + u.system) / 1e6, wall];
};

/** Debian's torch (links libblas.so.3 → OpenBLAS) when it imports, else the pip torch in .venv-ref (bundles MKL). */
function pickPython(): string {
  if (args.python) return args.python;
  for (const py of ['/usr/bin/python3', '.venv-ref/bin/python']) {
    if (!existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new Error('No Python with torch: run benchmarks/kernels-setup.sh');
}

interface Reference {
  blas: Record<string, unknown>;
  call(cmd: Record<string, unknown>): Promise<Record<string, number | boolean>>;
  close(): void;
}

async function startReference(python: string, dir: string): Promise<Reference> {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
  const child = spawn(python, ['benchmarks/kernels-torch.py', dir], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('reference process ended');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ready = await next();
  return {
    blas: ready.blas as Record<string, unknown>,
    async call(cmd) {
      child.stdin!.write(JSON.stringify(cmd) + '\n');
      return (await next()) as Record<string, number | boolean>;
    },
    close() {
      child.stdin!.write('{"op":"quit"}\n');
      child.stdin!.end();
    },
  };
}

function f64bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** [x, 1] rows. */
function augment(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    out.set(x.subarray(i * d, (i + 1) * d), i * (d + 1));
    out[i * (d + 1) + d] = 1;
  }
  return out;
}

/** The candidates' closed-form matrices, identical to kernels-torch.py's `synthetic`. */
function synthetic(op: string, k: number): { A: Float64Array; B?: Float64Array } {
  if (op === 'gemm') {
    const A = new Float64Array(k * k), B = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      A[i * k + j] = Math.sin(i * 0.37 + j * 0.11);
      B[i * k + j] = Math.cos(i * 0.23 - j * 0.19);
    }
    return { A, B };
  }
  const S = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) S[i * k + j] = Math.sin(i * 0.37 + j * 0.11);
  const A = matMulNT(S, k, k, S, k);
  for (let q = 0; q < A.length; q++) A[q]! /= k;
  for (let i = 0; i < k; i++) A[i * k + i]! += 1;
  return { A };
}

/** A module holding one f64x2.relaxed_madd (hand-assembled; `wat2wasm --enable-relaxed-simd` gives the same bytes). */
const RELAXED_MADD_MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05,
  0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x87, 0x02, 0x0b,
]);

async function main(): Promise<void> {
  const python = pickPython();
  const loadAverageAtStart = loadavg();
  log(`machine: ${cpus().length} × ${cpus()[0]?.model}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')} (shared machine: timings under load)`);
  const { datanet, test } = await fromMnist({ train: args.train, test: args.test, seed: 0 });
  const snap = datanet.snapshot();
  const d = 784, C = 10, D = d + 1, P = D * C;
  const n = snap.size, m = test.length;
  const x = new Float64Array(n * d);
  snap.rows.forEach((row, i) => x.set(row.input as readonly number[], i * d));
  const y = Int32Array.from(snap.labelIndices(), (k) => Number(snap.classes[k]));
  const xt = new Float64Array(m * d);
  test.forEach((e, i) => xt.set(e.input as readonly number[], i * d));
  const yt = Int32Array.from(test, (e) => e.label);
  const train = createConvexLogisticProblem(x, y, { numClasses: C, lambda: args.lambda, d });
  const testP = createConvexLogisticProblem(xt, yt, { numClasses: C, lambda: args.lambda, d });
  const theta = new Float64Array(P);
  const probs = convexProbabilities(train, theta);
  const resTrain = convexExampleResiduals(train, theta);
  const resTest = convexExampleResiduals(testP, theta);
  const xaTest = augment(xt, m, d);
  const testGrads = new Float64Array(m * P);
  for (let t = 0; t < m; t++) for (let j = 0; j < D; j++) for (let c = 0; c < C; c++) testGrads[t * P + j * C + c] = xaTest[t * D + j]! * resTest[t * C + c]!;

  const dir = mkdtempSync(join(tmpdir(), 'provenant-kernels-'));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ nTrain: n, nTest: m, D, C, lambda: args.lambda }));
  writeFileSync(join(dir, 'xa_train.f64'), f64bytes(augment(x, n, d)));
  writeFileSync(join(dir, 'probs_train.f64'), f64bytes(probs));
  writeFileSync(join(dir, 'res_train.f64'), f64bytes(resTrain));
  writeFileSync(join(dir, 'xa_test.f64'), f64bytes(xaTest));
  writeFileSync(join(dir, 'res_test.f64'), f64bytes(resTest));
  const ref = await startReference(python, dir);
  log(`reference: ${python}`, JSON.stringify(ref.blas));
  const wasmApi = (globalThis as unknown as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  const relaxedSimd = wasmApi?.validate(RELAXED_MADD_MODULE) ?? false;
  // The product kernel every 'wasm' step below runs: the relaxed-SIMD fused multiply-add build where it compiles (Node ≥ 22,
  // or Node 20 started with --experimental-wasm-relaxed-simd: `npm run bench:kernels:fma`), else the SIMD 1.0 one.
  const kernel = args.engine === 'js' ? 'js' : denseKernel();
  const nodeFlags = process.execArgv.filter((a) => /^--(experimental-wasm|wasm|no-liftoff|liftoff)/.test(a)); // V8 flags that change the kernel
  log(`WebAssembly relaxed SIMD (f64x2.relaxed_madd) in Node ${process.version}${nodeFlags.length ? ` (flags ${nodeFlags.join(' ')})` : ' (no flags)'}: ${relaxedSimd ? 'available' : 'not available (V8 validates it only behind --experimental-wasm-relaxed-simd; the library sets no flags)'}; float64 product kernel ${kernel}`);

  // Candidates at a size ml-matrix finishes.
  const k = args.candidates;
  const candidates: Array<{ op: string; n: number; engine: string; seconds: number; gflops: number }> = [];
  for (const op of ['gemm', 'cholesky']) {
    const { A, B } = synthetic(op, k);
    const flops = op === 'gemm' ? 2 * k ** 3 : k ** 3 / 3;
    const add = (engine: string, seconds: number) => {
      candidates.push({ op, n: k, engine, seconds, gflops: flops / seconds / 1e9 });
      log(`candidate ${op} n=${k} ${engine}: ${seconds.toFixed(3)} s, ${(flops / seconds / 1e9).toFixed(2)} GFLOP/s`);
    };
    // Best of three, alternating, for the fast ones (the load swings within seconds).
    const refTimes: number[] = [], wasmTimes: number[] = [];
    for (let r = 0; r < 3; r++) {
      refTimes.push((await ref.call({ op: `syn-${op}`, n: k })).seconds as number);
      wasmTimes.push(cpuTime(() => (op === 'gemm' ? matMulNT(A, k, k, B!, k, { engine: 'wasm' }) : choleskyFactor(A, k, { engine: 'wasm' })))[1]);
    }
    add('pytorch float64 (1 thread)', Math.min(...refTimes));
    add(`ours wasm ${kernel === 'simd' ? 'simd' : kernel}`, Math.min(...wasmTimes));
    add('ours js', cpuTime(() => (op === 'gemm' ? matMulNT(A, k, k, B!, k, { engine: 'js' }) : choleskyFactor(A, k, { engine: 'js' })))[1]);
    const M = new Matrix(Array.from({ length: k }, (_, i) => Array.from(A.subarray(i * k, (i + 1) * k))));
    add('ml-matrix', op === 'gemm'
      ? cpuTime(() => M.mmul(new Matrix(Array.from({ length: k }, (_, i) => Array.from(B!.subarray(i * k, (i + 1) * k)))).transpose()))[1]
      : cpuTime(() => new CholeskyDecomposition(M))[1]);
  }

  // The influence pipeline at P = 7,850, step by step, alternating which side goes first.
  const steps = ['hessian', 'cholesky', 'solve', 'score'] as const;
  const flops: Record<(typeof steps)[number], number> = {
    hessian: ((C * (C + 1)) / 2) * D * D * n,
    cholesky: P ** 3 / 3,
    solve: 2 * P * P * m,
    score: 2 * n * D * C * m,
  };
  const ours: Record<string, number[]> = {}, theirs: Record<string, number[]> = {};
  const oursCpu: Record<string, number[]> = {}, theirsCpu: Record<string, number[]> = {};
  /** One-minute load average after each step of each round (the machine is shared: the figures' context). */
  const stepLoad: Record<string, number[]> = {};
  let ourScores: Float64Array | null = null;
  for (let round = 0; round < args.rounds; round++) {
    let H: Float64Array | null = null;
    let L: CholeskyFactor | null = null;
    let V: Float64Array | null = null;
    const R = Uint32Array.from({ length: n }, (_, i) => i);
    const run: Record<(typeof steps)[number], () => void> = {
      hessian: () => (H = convexHessianFromProbabilities(train, R, probs, args.engine)),
      cholesky: () => {
        L = choleskyFactor(H!, P, { engine: args.engine });
        H = null;
      },
      solve: () => (V = L!.solveRows(testGrads, m)),
      score: () => (ourScores = convexScoresFromSolutions(train, resTrain, V!, m, args.engine)),
    };
    for (const [s, step] of steps.entries()) {
      const refFirst = (round + s) % 2 === 0;
      const doRef = async () => {
        const r = await ref.call({ op: step });
        (theirs[step] ??= []).push(r.seconds as number);
        (theirsCpu[step] ??= []).push(r.cpuSeconds as number);
      };
      const doOurs = () => {
        const [, cpu, wall] = cpuTime(run[step]);
        (ours[step] ??= []).push(wall);
        (oursCpu[step] ??= []).push(cpu);
      };
      if (refFirst) {
        await doRef();
        doOurs();
      } else {
        doOurs();
        await doRef();
      }
      (stepLoad[step] ??= []).push(loadavg()[0]!);
      log(`round ${round + 1} ${step}: ours ${ours[step]!.at(-1)!.toFixed(2)} s (CPU ${oursCpu[step]!.at(-1)!.toFixed(2)}), PyTorch ${theirs[step]!.at(-1)!.toFixed(2)} s (CPU ${theirsCpu[step]!.at(-1)!.toFixed(2)}) (${refFirst ? 'reference first' : 'ours first'}; load ${loadavg()[0]!.toFixed(1)})`);
    }
  }
  // GFLOP/s by size: product and Cholesky, ours and PyTorch back to back, best of three each.
  const bySize: Array<{ op: string; n: number; oursGflops: number; kernelGflops: number | null; pytorchGflops: number; ratio: number }> = [];
  for (const sz of args.sizes) {
    for (const op of ['gemm', 'cholesky']) {
      const { A, B } = synthetic(op, sz);
      const fl = op === 'gemm' ? 2 * sz ** 3 : sz ** 3 / 3;
      const refTimes: number[] = [], ourTimes: number[] = [];
      for (let r = 0; r < 3; r++) {
        refTimes.push((await ref.call({ op: `syn-${op}`, n: sz })).seconds as number);
        ourTimes.push(cpuTime(() => (op === 'gemm' ? matMulNT(A, sz, sz, B!, sz, { engine: 'wasm' }) : choleskyFactor(A, sz, { engine: 'wasm' })))[1]);
      }
      const ours = Math.min(...ourTimes), theirs = Math.min(...refTimes);
      // The kernel alone: operands already in one workspace, no copies in or out, no fresh memory to fault in.
      let kernel = Infinity;
      if (op === 'gemm') {
        const ws = createDenseWorkspace(3 * sz * sz, 'wasm');
        const a = ws.alloc(sz * sz), b = ws.alloc(sz * sz), c = ws.alloc(sz * sz);
        ws.heap().set(A, a);
        ws.heap().set(B!, b);
        for (let r = 0; r < 3; r++) kernel = Math.min(kernel, cpuTime(() => ws.gemmNT(sz, sz, sz, 1, a, sz, b, sz, c, sz))[1]);
      }
      bySize.push({ op, n: sz, oursGflops: fl / ours / 1e9, kernelGflops: op === 'gemm' ? fl / kernel / 1e9 : null, pytorchGflops: fl / theirs / 1e9, ratio: ours / theirs });
      log(`size ${op} n=${sz}: ours ${(fl / ours / 1e9).toFixed(2)} GFLOP/s${op === 'gemm' ? ` (kernel alone ${(fl / kernel / 1e9).toFixed(2)})` : ''}, PyTorch ${(fl / theirs / 1e9).toFixed(2)} GFLOP/s, ratio ${(ours / theirs).toFixed(2)}×`);
    }
  }

  await ref.call({ op: 'save' });
  ref.close();
  const torchScores = new Float64Array(readFileSync(join(dir, 'torch_scores.f64')).buffer.slice(0));
  rmSync(dir, { recursive: true, force: true });
  let maxDiff = 0, maxAbs = 0;
  for (let q = 0; q < torchScores.length; q++) {
    maxDiff = Math.max(maxDiff, Math.abs(torchScores[q]! - ourScores![q]!));
    maxAbs = Math.max(maxAbs, Math.abs(torchScores[q]!));
  }

  const best = (xs: number[]) => Math.min(...xs);
  // CPU seconds are the primary figure (each side's own compute, whatever the wait for a core); wall seconds beside them.
  const rows = steps.map((step) => ({
    step,
    flops: flops[step],
    ours: best(oursCpu[step]!),
    pytorch: best(theirsCpu[step]!),
    ratio: best(oursCpu[step]!) / best(theirsCpu[step]!),
    oursGflops: flops[step] / best(oursCpu[step]!) / 1e9,
    pytorchGflops: flops[step] / best(theirsCpu[step]!) / 1e9,
    oursWall: best(ours[step]!),
    pytorchWall: best(theirs[step]!),
    wallRatio: best(ours[step]!) / best(theirs[step]!),
  }));
  const total = { ours: rows.reduce((a, r) => a + r.ours, 0), pytorch: rows.reduce((a, r) => a + r.pytorch, 0), oursWall: rows.reduce((a, r) => a + r.oursWall, 0), pytorchWall: rows.reduce((a, r) => a + r.pytorchWall, 0) };
  console.log(`\nFloat64 kernels vs PyTorch ${ref.blas.torch} float64, 1 thread (BLAS ${ref.blas.BLAS_INFO}, LAPACK ${ref.blas.LAPACK_INFO}${ref.blas['libblas.so.3'] ? ` → ${ref.blas['libblas.so.3']}` : ''}); engine ${args.engine}, float64 product kernel ${kernel} (Node ${process.version}${nodeFlags.length ? ` ${nodeFlags.join(' ')}` : ''}).`);
  console.log(`Raw-pixel MNIST-10 influence: n = ${n}, test = ${m}, P = ${P}, λ = ${args.lambda}; best of ${args.rounds} interleaved round(s) on a shared, loaded machine.`);
  console.log(`Load average (1, 5, 15 min) at start ${loadAverageAtStart.map((v) => v.toFixed(1)).join(' ')}, at end ${loadavg().map((v) => v.toFixed(1)).join(' ')} (${cpus().length} cores).`);
  console.log('CPU seconds (user + system of each process; wall seconds in brackets — they include waiting for a core).');
  console.log('| step | flops | ours CPU s (wall) | PyTorch CPU s (wall) | ratio CPU (wall) | ours GFLOP/s | PyTorch GFLOP/s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.step} | ${r.flops.toExponential(2)} | ${r.ours.toFixed(2)} (${r.oursWall.toFixed(1)}) | ${r.pytorch.toFixed(2)} (${r.pytorchWall.toFixed(1)}) | ${r.ratio.toFixed(2)}× (${r.wallRatio.toFixed(2)}×) | ${r.oursGflops.toFixed(2)} | ${r.pytorchGflops.toFixed(2)} |`);
  console.log(`| **influence, 500 test points (all steps)** | | ${total.ours.toFixed(2)} (${total.oursWall.toFixed(1)}) | ${total.pytorch.toFixed(2)} (${total.pytorchWall.toFixed(1)}) | ${(total.ours / total.pytorch).toFixed(2)}× (${(total.oursWall / total.pytorchWall).toFixed(2)}×) | | |`);
  console.log(`Scores agree with PyTorch's: max |Δτ| / max |τ| = ${(maxDiff / maxAbs).toExponential(2)}.`);
  console.log(`Ours: Strassen–Winograd (${STRASSEN_DEFAULTS.levels} levels at most) in products with depth ≥ ${STRASSEN_DEFAULTS.crossoverDepth} and sides ≥ ${STRASSEN_DEFAULTS.crossoverSide} (the recursive Cholesky's and solves' large updates); the scores product folds the last class into the others (C − 1 columns per test point; PyTorch's takes all C).`);
  console.log(`\nGFLOP/s by size (CPU seconds, best of 3, ours and PyTorch back to back; C = A·Bᵀ is 2n³ flops, Cholesky n³/3):`);
  console.log('"ours" is the library call (matMulNT / choleskyFactor: fresh workspace, copies in and out); "kernel alone" the product on operands already in place.');
  console.log('| op | n | ours GFLOP/s | kernel alone GFLOP/s | PyTorch GFLOP/s | time ratio ours / PyTorch |');
  console.log('|---|---|---|---|---|---|');
  for (const r of bySize) console.log(`| ${r.op} | ${r.n} | ${r.oursGflops.toFixed(2)} | ${r.kernelGflops === null ? '' : r.kernelGflops.toFixed(2)} | ${r.pytorchGflops.toFixed(2)} | ${r.ratio.toFixed(2)}× |`);
  console.log(`WebAssembly relaxed SIMD (FMA) in Node ${process.version}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ' without flags'}: ${relaxedSimd ? 'available, so the fused multiply-add kernel ran' : 'not available (only behind --experimental-wasm-relaxed-simd, which a library must not set), so the SIMD 1.0 kernel ran'}.`);
  console.log('Run under `nice -n 15` on a shared 2-core machine: both sides share the same load (interleaved), so the ratios stay fair; absolute times are upper bounds.');
  console.log(`\nCandidates at n = ${k} (C = A·Bᵀ; Cholesky of an SPD matrix), CPU seconds:`);
  console.log('| op | engine | s | GFLOP/s |');
  console.log('|---|---|---|---|');
  for (const c of candidates) console.log(`| ${c.op} | ${c.engine} | ${c.seconds.toFixed(3)} | ${c.gflops.toFixed(2)} |`);
  const result = {
    setup: { ...args, nTrain: n, nTest: m, P, strassen: STRASSEN_DEFAULTS, scoresColumnsPerTestPoint: 'C - 1 (softmax residuals fold the last class)', python, reference: ref.blas, loadAverageAtStart, loadAverageAtEnd: loadavg(), loadAverageAfterEachStep: stepLoad, cpus: cpus().length, cpuModel: cpus()[0]?.model, note: 'shared machine under load; reference and ours interleaved step by step in one process pair' },
    rows,
    total: { ...total, ratio: total.ours / total.pytorch, wallRatio: total.oursWall / total.pytorchWall },
    scoresAgreement: { maxRelativeDifference: maxDiff / maxAbs },
    candidates,
    bySize,
    relaxedSimd: { available: relaxedSimd, node: process.version, nodeFlags },
    kernel,
    rounds: { oursWall: ours, pytorchWall: theirs, oursCpu, pytorchCpu: theirsCpu },
  };
  mkdirSync('benchmarks/results', { recursive: true });
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  log(`wrote ${args.out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
