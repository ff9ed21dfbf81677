/**
 * Strassen–Winograd crossover of the float64 product (src/attribution/linalg/strassen.ts): the classic packed WebAssembly
 * kernel against one and two Strassen–Winograd levels on it, in one process, alternating, best of `--reps` CPU times
 * each — square sizes and the influence pipeline's own shapes. Also the normwise difference of each Strassen result
 * from the classic one, max |ΔC| / (‖A‖_F ‖B‖_F).
 *
 *   npm run bench:kernels-strassen -- --sizes 512,1024,2048 --reps 3
 *   /work/bin/heavy npx tsx benchmarks/kernels-strassen.ts --sizes '' --shapes '' --cholesky 7850 --rhs 500   # the uses only
 *
 * Shared 2-core machine: absolute times are upper bounds; the ratios (same process, back to back) are what to read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { choleskyFactor, createDenseWorkspace, gemmStrassen, STRASSEN_DEFAULTS } from '../src/attribution/index.js';

const argv = process.argv.slice(2);
const get = (name: string, fallback: string) => {
  const k = argv.indexOf(`--${name}`);
  return k >= 0 && argv[k + 1] !== undefined ? argv[k + 1]! : fallback;
};
const sizes = get('sizes', '512,768,1024,1536,2048,3072').split(',').filter(Boolean).map(Number);
// m×n×k: the scores product per 250 test points (n × 250·C × D), a solve's off-diagonal update (500 test rows), and the
// off-diagonal SYRK / TRSM blocks of a recursive 7,850² Cholesky.
const shapes = get('shapes', '5000x2500x785,500x3925x3925,1962x1962x3925,3925x3925x3925').split(',').filter(Boolean).map((s) => s.split('x').map(Number) as [number, number, number]);
const reps = Number(get('reps', '3'));
// The uses, A/B: Cholesky of an n² SPD matrix and the solves for `rhs` right-hand sides, classic vs default Strassen (0 skips).
const cholN = Number(get('cholesky', '7850'));
const rhs = Number(get('rhs', '500'));
const cholReps = Number(get('cholesky-reps', '1'));
const out = get('out', 'benchmarks/results/kernels-strassen.json');

const cpu = (f: () => void): number => {
  const c = process.cpuUsage();
  f();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1e6;
};

const rows: Array<Record<string, number>> = [];
console.error(`load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const [m, n, k] of [...sizes.map((s) => [s, s, s] as [number, number, number]), ...shapes]) {
  const ws = createDenseWorkspace(m * k + n * k + 2 * m * n + 8, 'wasm');
  const a = ws.alloc(m * k), b = ws.alloc(n * k), c = ws.alloc(m * n), c2 = ws.alloc(m * n);
  {
    const h = ws.heap();
    for (let q = 0; q < m * k; q++) h[a + q] = Math.sin(q * 0.37 + 0.1);
    for (let q = 0; q < n * k; q++) h[b + q] = Math.cos(q * 0.23 - 0.2);
  }
  const variants = [
    { name: 'classic', levels: 0 },
    { name: 'strassen1', levels: 1 },
    { name: 'strassen2', levels: 2 },
  ];
  const times: Record<string, number[]> = {};
  const diff: Record<string, number> = {};
  for (let r = 0; r < reps; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const target = v.levels === 0 ? c : c2;
      ws.heap().fill(0, target, target + m * n);
      (times[v.name] ??= []).push(cpu(() => gemmStrassen(ws, m, n, k, 1, a, k, 1, b, k, 1, target, n, { crossoverDepth: 2, crossoverSide: 2, levels: v.levels })));
      if (v.levels > 0 && r === 0) {
        const h = ws.heap();
        let d = 0, na = 0, nb = 0;
        for (let q = 0; q < m * n; q++) d = Math.max(d, Math.abs(h[c + q]! - h[c2 + q]!));
        for (let q = 0; q < m * k; q++) na += h[a + q]! ** 2;
        for (let q = 0; q < n * k; q++) nb += h[b + q]! ** 2;
        diff[v.name] = d / Math.sqrt(na * nb);
      }
    }
    // the first rep of classic fills c before the Strassen variants compare against it (order reversed on odd reps)
  }
  const best = (x: number[]) => Math.min(...x);
  const flops = 2 * m * n * k;
  const row = {
    m, n, k,
    classic: best(times.classic!),
    strassen1: best(times.strassen1!),
    strassen2: best(times.strassen2!),
    gflopsClassic: flops / best(times.classic!) / 1e9,
    gain1: best(times.classic!) / best(times.strassen1!),
    gain2: best(times.classic!) / best(times.strassen2!),
    diff1: diff.strassen1 ?? NaN,
    diff2: diff.strassen2 ?? NaN,
    load: loadavg()[0]!,
  };
  rows.push(row);
  console.error(`${m}×${n}×${k}: classic ${row.classic.toFixed(3)} s (${row.gflopsClassic.toFixed(1)} GFLOP/s), 1 level ${row.strassen1.toFixed(3)} s (${row.gain1.toFixed(3)}×), 2 levels ${row.strassen2.toFixed(3)} s (${row.gain2.toFixed(3)}×); normwise Δ ${row.diff1.toExponential(1)} / ${row.diff2.toExponential(1)}; load ${row.load.toFixed(1)}`);
}
// Cholesky and solves: a diagonally dominant SPD matrix (O(n²) to build; the factorisation's cost does not depend on the values).
const uses: Array<Record<string, number | string>> = [];
if (cholN > 0) {
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  const A = new Float64Array(cholN * cholN);
  for (let i = 0; i < cholN; i++) {
    for (let j = 0; j < i; j++) A[i * cholN + j] = A[j * cholN + i] = rnd() / cholN;
    A[i * cholN + i] = 2;
  }
  const Bm = Float64Array.from({ length: rhs * cholN }, rnd);
  const variants = [{ name: 'classic', levels: 0 }, { name: 'strassen', levels: STRASSEN_DEFAULTS.levels }];
  const t: Record<string, { factor: number[]; solve: number[] }> = {};
  for (let r = 0; r < cholReps * 2; r++) {
    const v = variants[r % 2 === 0 ? 0 : 1]!;
    const order = Math.floor(r / 2) % 2 === 0 ? v : variants[1 - variants.indexOf(v)]!;
    let f: ReturnType<typeof choleskyFactor> | null = null;
    const factor = cpu(() => (f = choleskyFactor(A, cholN, { engine: 'wasm', strassen: { ...STRASSEN_DEFAULTS, levels: order.levels } })));
    const solve = cpu(() => f!.solveRows(Bm, rhs));
    (t[order.name] ??= { factor: [], solve: [] }).factor.push(factor);
    t[order.name]!.solve.push(solve);
    console.error(`cholesky ${cholN}² ${order.name}: factor ${factor.toFixed(2)} s, ${rhs} solves ${solve.toFixed(2)} s; load ${loadavg()[0]!.toFixed(1)}`);
  }
  const best = (x: number[]) => Math.min(...x);
  for (const step of ['factor', 'solve'] as const) {
    const c = best(t.classic![step]), st = best(t.strassen![step]);
    uses.push({ use: step === 'factor' ? `Cholesky ${cholN}²` : `${rhs} solves against it`, classic: c, strassen: st, gain: c / st });
  }
}
console.log('| m × n × k | classic CPU s (GFLOP/s) | 1 level s (speed-up) | 2 levels s (speed-up) | max|ΔC|/(‖A‖‖B‖) 1 / 2 levels |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.m} × ${r.n} × ${r.k} | ${r.classic.toFixed(3)} (${r.gflopsClassic.toFixed(1)}) | ${r.strassen1.toFixed(3)} (${r.gain1.toFixed(3)}×) | ${r.strassen2.toFixed(3)} (${r.gain2.toFixed(3)}×) | ${r.diff1.toExponential(1)} / ${r.diff2.toExponential(1)} |`);
if (uses.length > 0) {
  console.log('\n| use (A/B, one process) | classic CPU s | Strassen–Winograd CPU s | speed-up |');
  console.log('|---|---|---|---|');
  for (const u of uses) console.log(`| ${u.use} | ${(u.classic as number).toFixed(2)} | ${(u.strassen as number).toFixed(2)} | ${(u.gain as number).toFixed(3)}× |`);
}
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync(out, JSON.stringify({ uses, setup: { reps, defaults: STRASSEN_DEFAULTS, note: 'one process, variants alternating; CPU seconds, best of reps; shared 2-core machine', loadAverageAtEnd: loadavg() }, rows }, null, 2) + '\n');
