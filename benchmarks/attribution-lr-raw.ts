/**
 * bench:attribution's main table: dattri's MNIST-10 logistic-regression set-up on raw pixels (784 pixels + bias, 10
 * classes: P = 7,850; 5,000 training / 500 test digits), the exact float64 reference (src/attribution/convex) with λ on
 * every parameter, bias included. The retrains (the fits, the leave-one-out and LDS ground truth, TRAK's models) are
 * cached by content hash under benchmarks/cache/ (git-ignored) and reused; `--full` recomputes them. Every method's
 * scores are recomputed on every run; `--cached-scores` (opt-in, said in the output) reads them from the cache instead.
 * Retrains are Newton–CG warm-started from the full optimum and preconditioned by the full-data Hessian's exact solve
 * (convexInfluenceFactor), so each takes a few conjugate-gradient iterations. The gradient methods (Grad-Dot, TracInCP, DataInf, Fisher)
 * run on the factored float64 forms of src/attribution/convex/gradient-methods.ts (∇ℓ_i = x̃_i ⊗ r_i).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  chooseConvexSolver,
  computeLdsGroundTruth,
  computeLooGroundTruth,
  convexAccuracy,
  convexCurvatureOperator,
  convexDataInfScores,
  convexDataInfSelfInfluence,
  convexExampleGradients,
  convexExampleLosses,
  convexExampleResiduals,
  convexFisherScores,
  convexGradientDotScores,
  convexGradientDotSelfInfluence,
  convexInfluenceFactor,
  convexInfluenceScores,
  convexScoresFromSolutions,
  convexSelfInfluence,
  createConvexLogisticProblem,
  fitConvexLogistic,
  createConvexGradientProjector,
  createTrakEnsemble,
  flipLabels,
  linearDatamodelingScore,
  largestEigenvalue,
  lissa,
  looCorrelation,
  matMulNT,
  mislabelAuc,
  projectionMatrix,
  type ConvexGradientProjector,
  type ConvexLogisticProblem,
  type FeatureMatrix,
  type LdsGroundTruth,
  type LooGroundTruth,
  type Preconditioner,
  type ScoreMatrix,
} from '../src/attribution/index.js';
import { sampleLdsSubsets } from '../src/attribution/index.js';

export interface RawLrOptions {
  xTrain: Float64Array;
  yTrain: Int32Array;
  xTest: Float64Array;
  yTest: Int32Array;
  lambda: number;
  subsets: number;
  looRows: number;
  trakModels: number[];
  trakProjection: number;
  cgTestPoints: number;
  /** LiSSA on this many evenly spaced test points (0: skip). */
  lissaTests: number;
  lissaDepth: number;
  lissaBatch: number;
  seed: number;
  full: boolean;
  /** Read score matrices and self-influence vectors from the cache when there (opt-in; retrains are always reused). */
  reuseScores: boolean;
  /** Every step's seconds and whether it was read from the cache or computed, appended as the run goes. */
  steps: StepLog;
  cacheDir: string;
  model: string;
  log: (...parts: unknown[]) => void;
  /** Called with all rows so far whenever one is added or completed (the caller writes partial results). */
  onRows: (rows: RawRow[]) => void;
}

export interface RawRow {
  model: string;
  method: string;
  loo: number | null;
  looPearson?: number | null;
  lds: number | null;
  auc: number | null;
  featurizeSeconds: number | null;
  scoreSeconds: number | null;
  note?: string;
}

/**
 * One step of a run: what it was, its wall seconds here, whether its result came from the cache or was computed, and its
 * depth (a step run inside another — a cached TRAK model read while an ensemble is scored — has the outer one's depth + 1;
 * its seconds are part of the outer step's).
 */
export interface StepTime {
  step: string;
  seconds: number;
  source: 'cached' | 'computed';
  depth: number;
}

/** The steps of a run in the order they started (an outer step before the steps inside it). */
export interface StepLog {
  entries: StepTime[];
  /** Steps currently open. */
  open: number;
}

/** Runs `run` as step `step` of `steps` (when given): timed, its source as `run` reports it, nested steps recorded below it. */
export async function timeStep<T>(steps: StepLog | undefined, step: string, run: () => Promise<{ value: T; source: StepTime['source'] }> | { value: T; source: StepTime['source'] }): Promise<T> {
  if (!steps) return (await run()).value;
  const start = performance.now();
  const entry: StepTime = { step, seconds: 0, source: 'computed', depth: steps.open };
  steps.entries.push(entry);
  steps.open++;
  try {
    const r = await run();
    entry.source = r.source;
    return r.value;
  } finally {
    steps.open--;
    entry.seconds = seconds(start);
  }
}

/** A step's default name: the cache name, with the key's method (or model count) when it has one. */
function stepName(name: string, key: unknown): string {
  const k = (key ?? {}) as { method?: unknown; models?: unknown };
  return typeof k.method === 'string' ? `${name}: ${k.method}` : typeof k.models === 'number' ? `${name}: ${k.models} models` : name;
}

/**
 * The steps with runs of identical siblings (same name, depth and source — e.g. 50 cached model reads) folded into one
 * entry with their count and summed seconds.
 */
export function foldSteps(steps: readonly StepTime[]): Array<StepTime & { count: number }> {
  const out: Array<StepTime & { count: number }> = [];
  for (const e of steps) {
    const last = out[out.length - 1];
    if (last && last.step === e.step && last.depth === e.depth && last.source === e.source) {
      last.count++;
      last.seconds += e.seconds;
    } else out.push({ ...e, count: 1 });
  }
  return out;
}

/** The context the cache helpers read: where, whether `--full`, whether scores may be reused, and where steps go. */
export interface CacheOptions {
  cacheDir: string;
  full: boolean;
  log: (...parts: unknown[]) => void;
  reuseScores?: boolean;
  steps?: StepLog;
}

const D_PIXELS = 784;
const C = 10;
const seconds = (start: number) => (performance.now() - start) / 1000;

/** JSON cache (fits, retrains) keyed by the SHA-256 of the data and every setting that changes the result; the step is timed. */
function cached<T>(o: CacheOptions, name: string, key: unknown, encode: (v: T) => unknown, decode: (raw: any) => T, compute: () => T | Promise<T>, step = name): Promise<T> {
  return timeStep(o.steps, step, async () => {
    const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
    const file = join(o.cacheDir, `${name}-${digest}.json`);
    if (!o.full && existsSync(file)) {
      o.log(`${name}: from cache ${file}`);
      return { value: decode(JSON.parse(readFileSync(file, 'utf8'))), source: 'cached' };
    }
    const v = await compute();
    mkdirSync(o.cacheDir, { recursive: true });
    writeFileSync(file, JSON.stringify(encode(v)));
    return { value: v, source: 'computed' };
  });
}

const arr = (x: ArrayLike<number>) => Array.from(x);

/** What {@link cachedArray} returns: the array, the seconds its computation took, and the date it was computed if read from the cache. */
export interface Computed {
  value: Float64Array;
  seconds: number;
  /** ISO date of the run that computed it, when it came from the cache; null when computed now. */
  cachedFrom: string | null;
  meta: Record<string, unknown>;
}

/**
 * A float64 array (a score matrix, a self-influence vector) written by content hash as raw bytes beside a JSON header that
 * keeps the seconds its computation took and the date. It is always computed unless `reuseScores` (--cached-scores,
 * opt-in): then a cached one is read, LOO, LDS and AUC are recomputed from it, and the row reports the computing run's
 * seconds, marked as such. `compute` times itself. The step is timed (`step`, default: `name` and the key's method or
 * model count).
 */
export function cachedArray(o: CacheOptions, name: string, key: unknown, compute: () => Promise<{ value: Float64Array; seconds: number; meta?: Record<string, unknown> }> | { value: Float64Array; seconds: number; meta?: Record<string, unknown> }, step = stepName(name, key)): Promise<Computed> {
  return timeStep<Computed>(o.steps, step, async () => {
    const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
    const file = join(o.cacheDir, `${name}-${digest}.f64`);
    const header = `${file}.json`;
    if (o.reuseScores && !o.full && existsSync(file) && existsSync(header)) {
      const h = JSON.parse(readFileSync(header, 'utf8')) as { seconds: number; date: string; length: number; meta?: Record<string, unknown> };
      const buf = readFileSync(file);
      const value = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      if (value.length === h.length) {
        o.log(`${name}: from cache ${file} (computed ${h.date} in ${h.seconds.toFixed(0)} s)`);
        return { value: { value, seconds: h.seconds, cachedFrom: h.date, meta: h.meta ?? {} }, source: 'cached' as const };
      }
    }
    const r = await compute();
    mkdirSync(o.cacheDir, { recursive: true });
    writeFileSync(file, Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
    writeFileSync(header, JSON.stringify({ seconds: r.seconds, date: new Date().toISOString(), length: r.value.length, meta: r.meta ?? {} }));
    return { value: { value: r.value, seconds: r.seconds, cachedFrom: null, meta: r.meta ?? {} }, source: 'computed' as const };
  });
}

/** `fn`'s array as {@link cachedArray}'s compute result, with the seconds it took. */
export function timedValue(fn: () => Float64Array): { value: Float64Array; seconds: number } {
  const t = timed(fn);
  return { value: t.result, seconds: t.seconds };
}

/** `fn`'s result and the seconds it took. */
function timed<T>(fn: () => T): { result: T; seconds: number } {
  const start = performance.now();
  const result = fn();
  return { result, seconds: seconds(start) };
}

const asFloat64 = (v: ArrayLike<number>) => (v instanceof Float64Array ? v : Float64Array.from(v));

/** Memoised thunk: `compute` runs on the first call only. */
function lazy<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

/** Float64 per-example gradients as a FeatureMatrix (blocks `linear.weight`, `linear.bias`; also used by attribution.ts). */
export function toFeatures(grads: Float64Array, rows: number, d: number, classes = C): FeatureMatrix {
  const dim = (d + 1) * classes;
  return {
    rows,
    dim,
    data: Float32Array.from(grads),
    blocks: [
      { name: 'linear.weight', module: 'linear', offset: 0, size: d * classes },
      { name: 'linear.bias', module: 'linear', offset: d * classes, size: classes },
    ],
  };
}

/** τ = pre.train(train) · pre.query(test)ᵀ on the float64 dense kernel (7,850-wide features: ~10× tfjs's float32 path here). */
function denseScores(train: FeatureMatrix, test: FeatureMatrix, pre: Preconditioner): ScoreMatrix {
  const a = pre.train(train);
  const b = pre.query(test);
  return { values: matMulNT(a.data, a.rows, a.dim, b.data, b.rows), nTrain: a.rows, nTest: b.rows };
}

/** ⟨pre.query(g_i), pre.train(g_i)⟩ per row: the method's self-influence (also used by attribution.ts). */
export function selfScores(features: FeatureMatrix, pre: Preconditioner): Float64Array {
  const a = pre.train(features);
  const b = pre.query(features);
  const out = new Float64Array(features.rows);
  for (let i = 0; i < features.rows; i++) {
    let s = 0;
    for (let c = 0; c < a.dim; c++) s += a.data[i * a.dim + c]! * b.data[i * b.dim + c]!;
    out[i] = s;
  }
  return out;
}

/** Newton–CG to `tolerance`, warm-started and preconditioned by a Cholesky factor of a nearby Hessian. */
function preconditionedFit(problem: ConvexLogisticProblem, init: Float64Array | undefined, pre: ((R: Float64Array, rows: number) => Float64Array) | undefined, tolerance: number, rows?: Uint32Array, recordPath = false) {
  return fitConvexLogistic(problem, { rows, init, tolerance, preconditioner: pre, recordPath, maxIterations: 100 });
}

export async function runRawLogisticRegression(o: RawLrOptions): Promise<{ rows: RawRow[]; setup: Record<string, unknown> }> {
  const { log } = o;
  const d = D_PIXELS;
  const P = (d + 1) * C;
  const train = createConvexLogisticProblem(o.xTrain, o.yTrain, { numClasses: C, lambda: o.lambda, d });
  const test = createConvexLogisticProblem(o.xTest, o.yTest, { numClasses: C, lambda: o.lambda, d });
  const dataHash = createHash('sha256').update(Buffer.from(o.xTrain.buffer)).update(Buffer.from(o.yTrain.buffer)).update(Buffer.from(o.xTest.buffer)).update(Buffer.from(o.yTest.buffer)).digest('hex');
  const base = { dataHash, lambda: o.lambda, tolerance: 1e-10, version: 1 };
  const rows: RawRow[] = [];
  const push = (row: RawRow) => {
    rows.push(row);
    o.onRows(rows);
    return row;
  };

  // 1. The full fit (Jacobi-preconditioned Newton–CG from zero) and its Cholesky factor.
  let start = performance.now();
  const fit = await cached(o, 'lr-raw-fit', base, (f) => ({ theta: arr(f.theta), path: f.path!.map(arr), iterations: f.iterations, cgIterations: f.cgIterations, gradientNorm: f.gradientNorm }), (r) => ({ ...r, theta: Float64Array.from(r.theta), path: (r.path as number[][]).map((p) => Float64Array.from(p)) }), () =>
    fitConvexLogistic(train, { tolerance: 1e-10, recordPath: true, maxIterations: 100, onProgress: (e) => log(`LR raw fit: Newton step ${e.done}, ‖∇J‖ ${e.metrics?.gradientNorm?.toExponential(2)}`) }),
  'LR raw: full fit');
  const fitSeconds = seconds(start);
  const accuracy = { train: convexAccuracy(train, fit.theta), test: convexAccuracy(test, fit.theta) };
  log(`LR raw fit: ${fit.iterations} Newton steps, ${fit.cgIterations} Hv, ‖∇J‖ ${fit.gradientNorm.toExponential(1)}; accuracy train ${accuracy.train.toFixed(3)}, test ${accuracy.test.toFixed(3)} (${fitSeconds.toFixed(0)} s)`);
  // The exact (reduced) factor at θ̂ preconditions the retrains; made only when one runs (a warm cache needs none).
  const factor = lazy(() => {
    const f = timed(() => convexInfluenceFactor(train, fit.theta));
    log(`LR raw: Hessian + Cholesky at θ̂ (reduced to ${f.result.reducedSize} of P = ${P}) ${f.seconds.toFixed(1)} s`);
    return f.result;
  });
  const pre = (R: Float64Array, rows: number) => factor().solveRows(R, rows);

  // 2. Ground truth: leave-one-out and LDS retrains (cached).
  const retrain = (rowsSubset: Uint32Array) => convexExampleLosses(test, preconditionedFit(train, fit.theta, pre, 1e-10, rowsSubset).theta).map((l) => -l);
  start = performance.now();
  const loo: LooGroundTruth = await cached(o, 'lr-raw-loo', { ...base, looRows: o.looRows, seed: o.seed + 1 }, (t) => ({ ...t, rows: arr(t.rows), tests: arr(t.tests), effects: arr(t.effects), fullOutputs: arr(t.fullOutputs) }), (r) => ({ nTrain: r.nTrain, rows: Uint32Array.from(r.rows), tests: Uint32Array.from(r.tests), effects: Float64Array.from(r.effects), fullOutputs: Float64Array.from(r.fullOutputs) }), () =>
    computeLooGroundTruth({ nTrain: train.n, nTest: test.n, train: retrain, sampleRows: o.looRows, seed: o.seed + 1, onProgress: (e) => e.done % 10 === 0 && log(`LR raw LOO retrain ${e.done}/${e.total}`) }),
  `LR raw: LOO ground truth (${o.looRows} retrains)`);
  const looSeconds = seconds(start);
  start = performance.now();
  const lds: LdsGroundTruth = await cached(o, 'lr-raw-lds', { ...base, subsets: o.subsets, seed: o.seed + 2 }, (t) => ({ nTrain: t.nTrain, nTest: t.nTest, subsets: t.subsets.map(arr), outputs: t.outputs.map(arr) }), (r) => ({ nTrain: r.nTrain, nTest: r.nTest, subsets: (r.subsets as number[][]).map((s) => Uint32Array.from(s)), outputs: (r.outputs as number[][]).map((s) => Float64Array.from(s)) }), () =>
    computeLdsGroundTruth({ nTrain: train.n, nTest: test.n, train: retrain, count: o.subsets, fraction: 0.5, seed: o.seed + 2, onProgress: (e) => e.done % 10 === 0 && log(`LR raw LDS retrain ${e.done}/${e.total}`) }),
  `LR raw: LDS ground truth (${o.subsets} retrains)`);
  const ldsSeconds = seconds(start);
  log(`LR raw ground truth: LOO ${loo.rows.length} rows (${looSeconds.toFixed(0)} s), LDS ${o.subsets} subsets (${ldsSeconds.toFixed(0)} s)`);

  const fromCache: string[] = [];
  /** A row from a (possibly cached) score matrix; a cached one keeps the cold run's seconds and says so in its note. */
  const evaluate = (method: string, computed: Computed, featurizeSeconds: number | null, note?: string) => {
    const scores: ScoreMatrix = { values: computed.value, nTrain: train.n, nTest: test.n };
    const l = looCorrelation(scores, loo);
    const s = linearDatamodelingScore(scores, lds);
    if (computed.cachedFrom) fromCache.push(method);
    const cachedNote = computed.cachedFrom ? `scores from cache (computed ${computed.cachedFrom}; seconds are that run's)` : '';
    log(`${o.model} ${method}: LOO ρ ${l.spearman.toFixed(3)}, LDS ${s.score.toFixed(3)}, ${computed.seconds.toFixed(1)} s${computed.cachedFrom ? ' (cached)' : ''}`);
    return push({ model: o.model, method, loo: l.spearman, looPearson: l.pearson, lds: s.score, auc: null, featurizeSeconds, scoreSeconds: computed.seconds, note: [note, cachedNote].filter(Boolean).join('; ') || undefined });
  };
  const scoreKey = (method: string, settings: Record<string, unknown> = {}) => ({ ...base, method, ...settings, scoresVersion: 1 });

  // 4. Influence function, explicit: the factor at θ̂ solves all 500 queries (the cost model's choice is recorded).
  const choice = chooseConvexSolver({ d, numClasses: C, trainingRows: train.n, queries: test.n });
  log(`LR raw solver choice (chooseConvexSolver, ${test.n} queries): ${choice.solver} — ${choice.reason}`);
  const testGrads = convexExampleGradients(test, fit.theta);
  // The reduced exact factor (src/attribution/convex/influence-factor.ts): the class-sum directions and the pixels that are
  // zero on every training digit split off H with eigenvalue λ, so the Cholesky factor is |A|·(C − 1) wide, not P.
  const ifComputed = await cachedArray(o, 'lr-raw-scores', scoreKey('IF explicit', { algorithm: 'reduced-factor' }), () => {
    const t = timed(() => {
      const F = convexInfluenceFactor(train, fit.theta);
      return { width: F.reducedSize, values: convexScoresFromSolutions(train, convexExampleResiduals(train, fit.theta), F.solveRows(testGrads, test.n), test.n) };
    });
    return { value: t.result.values, seconds: t.seconds, meta: { reducedSize: t.result.width } };
  }, 'LR raw scores: IF explicit (reduced Hessian, Cholesky, 500 solves)');
  const ifScores: ScoreMatrix = { values: ifComputed.value, nTrain: train.n, nTest: test.n };
  const ifRow = evaluate('IF (explicit H⁻¹, float64)', ifComputed, null, `chooseConvexSolver: ${choice.solver} — ${choice.reason}; route taken: explicit, on the reduced factor (${ifComputed.meta.reducedSize} wide instead of ${P}: the pixels zero on every training digit and the class-sum directions split off exactly); seconds include its Hessian and Cholesky factor`);

  // 4b. LiSSA (Agarwal et al. 2017, Alg. 1; Koh & Liang 2017, §3): the stochastic Neumann series with mini-batch Hessians
  //     of the exact model, on `lissaTests` evenly spaced test points (a full 500-query run costs ~10× the explicit solve
  //     here); LOO and LDS are taken on those test points only, beside the explicit IF on the same points. Right after the
  //     explicit IF, so a cold run that is stopped early still has it.
  if (o.lissaTests > 0) {
    const tests = Array.from({ length: Math.min(o.lissaTests, test.n) }, (_, j) => Math.floor((j * test.n) / Math.min(o.lissaTests, test.n)));
    // The exact Hessian as a batched operator (src/attribution/convex): all queries share each mini-batch's two products.
    const op = convexCurvatureOperator(train, fit.theta);
    const settings = { tests, depth: o.lissaDepth, batchSize: o.lissaBatch, repeats: 1, damping: 0, seed: o.seed + 6, scaleRule: '1.5·λ_max (30 power-iteration steps on the full Hessian)' };
    const lissaComputed = await cachedArray(o, 'lr-raw-scores', scoreKey('LiSSA', settings), () => {
      const t = timed(() => {
        // The scale s is taken here (not inside lissa) so that it can be printed: s must exceed λ_max(H) for convergence.
        const scale = 1.5 * largestEigenvalue(op);
        const queryGrads = new Float64Array(tests.length * P);
        tests.forEach((t, j) => queryGrads.set(testGrads.subarray(t * P, (t + 1) * P), j * P));
        const solved = lissa(op, queryGrads, tests.length, { depth: settings.depth, batchSize: settings.batchSize, repeats: settings.repeats, damping: settings.damping, scale, seed: settings.seed });
        return { scale, values: convexScoresFromSolutions(train, convexExampleResiduals(train, fit.theta), solved, tests.length) };
      });
      return { value: t.result.values, seconds: t.seconds, meta: { scale: t.result.scale } };
    }, `LR raw scores: LiSSA (${tests.length} test points)`);
    const sub = lissaComputed.value;
    const lissaSeconds = lissaComputed.seconds;
    const scale = lissaComputed.meta.scale as number;
    if (lissaComputed.cachedFrom) fromCache.push('LiSSA');
    // Both methods on the same test columns: a 500-wide matrix with only `tests` filled, LOO restricted to them.
    const widen = (values: ArrayLike<number>, width: number, pick: (j: number) => number) => {
      const out = new Float64Array(train.n * test.n);
      for (let i = 0; i < train.n; i++) tests.forEach((t, j) => (out[i * test.n + t] = values[i * width + pick(j)]!));
      return { values: out, nTrain: train.n, nTest: test.n };
    };
    const looCols = tests.map((t) => loo.tests.indexOf(t));
    const looSub: LooGroundTruth = {
      ...loo,
      tests: Uint32Array.from(tests),
      effects: Float64Array.from({ length: loo.rows.length * tests.length }, (_, q) => loo.effects[Math.floor(q / tests.length) * loo.tests.length + looCols[q % tests.length]!]!),
      fullOutputs: Float64Array.from(looCols, (c) => loo.fullOutputs[c]!),
    };
    const onTests = (scores: ScoreMatrix) => {
      const perTest = linearDatamodelingScore(scores, lds).perTest;
      return { loo: looCorrelation(scores, looSub), lds: tests.reduce((a, t) => a + perTest[t]!, 0) / tests.length };
    };
    const l = onTests(widen(sub, tests.length, (j) => j));
    const ref = onTests(widen(ifScores.values, test.n, (j) => tests[j]!));
    // The truncated series reaches an eigen-direction μ of H only as (1 − (1 − μ/s)^J)/μ: directions below ≈ s/J are damped.
    const samples = settings.depth * settings.batchSize * settings.repeats;
    const described = `depth J ${settings.depth}, scale s ${scale.toPrecision(3)} (${settings.scaleRule}), damping ${settings.damping} beyond the model's λ ${o.lambda} (series reaches eigenvalues ≳ s/J ≈ ${(scale / settings.depth).toExponential(1)}), ${settings.batchSize} training rows per Hessian sample, ${settings.repeats} repeat: ${samples.toLocaleString('en-US')} row-Hessians sampled`;
    push({ model: o.model, method: `LiSSA (depth ${settings.depth}, batch ${settings.batchSize}; ${tests.length} test points)`, loo: l.loo.spearman, looPearson: l.loo.pearson, lds: l.lds, auc: null, featurizeSeconds: null, scoreSeconds: lissaSeconds, note: `${described}; on ${tests.length} evenly spaced test points (every ${test.n / tests.length}th); the explicit IF on the same points: LOO ρ ${ref.loo.spearman.toFixed(3)}, LDS ${ref.lds.toFixed(3)}; AUC not measured (self-influence would need 5,000 LiSSA solves)${lissaComputed.cachedFrom ? `; scores from cache (computed ${lissaComputed.cachedFrom}; seconds are that run's)` : ''}` });
    log(`LR raw LiSSA (${described}): ${tests.length} queries ${lissaSeconds.toFixed(0)} s, LOO ρ ${l.loo.spearman.toFixed(3)} LDS ${l.lds.toFixed(3)} (IF on the same points ${ref.loo.spearman.toFixed(3)} / ${ref.lds.toFixed(3)})`);
  }
  // 5. IF by CG on a few test points: the same algebra by the other route, and what it costs per query.
  if (o.cgTestPoints > 0) {
    const k = Math.min(o.cgTestPoints, test.n);
    const sub = createConvexLogisticProblem(o.xTest.subarray(0, k * d), o.yTest.subarray(0, k), { numClasses: C, lambda: o.lambda, d });
    start = performance.now();
    const cg = convexInfluenceScores(train, fit.theta, sub, { solver: 'cg' });
    const cgSeconds = seconds(start);
    let maxDiff = 0, maxAbs = 0;
    for (let i = 0; i < train.n; i++) for (let t = 0; t < k; t++) {
      maxDiff = Math.max(maxDiff, Math.abs(cg.values[i * k + t]! - ifScores.values[i * test.n + t]!));
      maxAbs = Math.max(maxAbs, Math.abs(ifScores.values[i * test.n + t]!));
    }
    push({ model: o.model, method: 'IF (CG on exact H)', loo: null, lds: null, auc: null, featurizeSeconds: null, scoreSeconds: cgSeconds, note: `${k} test points only (${(cgSeconds / k).toFixed(1)} s per query, ≤ ${cg.solver.cgIterationsUsed} Jacobi-CG iterations at 1e-10): max |CG − explicit| / max |τ| = ${(maxDiff / maxAbs).toExponential(1)}, so its LOO/LDS equal the explicit row's` });
    log(`LR raw CG: ${k} queries ${cgSeconds.toFixed(0)} s, rel. diff ${(maxDiff / maxAbs).toExponential(1)}`);
  }

  // 6. Gradient methods at θ̂, exact float64 on the factored gradients ∇ℓ_i = x̃_i ⊗ r_i (src/attribution/convex/gradient-methods.ts):
  //    Grad-Dot and TracInCP as (X̃X̃_testᵀ) ⊙ (R R_testᵀ), DataInf's Sherman–Morrison sum and the Fisher's Woodbury solve
  //    through the 5,000 × 5,000 training Gram — no 5,000 × 7,850 feature matrix.
  const factored = 'float64, factored ∇ℓ = x̃ ⊗ r (no feature matrix)';
  const gradDotScores = await cachedArray(o, 'lr-raw-scores', scoreKey('Grad-Dot', { algorithm: 'factored-f64' }), () => timedValue(() => convexGradientDotScores(train, test, fit.theta).values as Float64Array), 'LR raw scores: Grad-Dot');
  const gradDotRow = evaluate('Grad-Dot', gradDotScores, null, factored);
  // TracInCP over the Newton iterates (equal weights): Σ_k Grad-Dot at each checkpoint — x̃ is shared, one feature product.
  const tracInScores = await cachedArray(o, 'lr-raw-scores', scoreKey('TracInCP Newton path', { algorithm: 'factored-f64' }), () => timedValue(() => convexGradientDotScores(train, test, fit.path!).values as Float64Array), 'LR raw scores: TracInCP');
  const tracInRow = evaluate('TracInCP (Newton-path checkpoints)', tracInScores, null, `${fit.path!.length} checkpoints; ${factored}`);
  const dataInfScores = await cachedArray(o, 'lr-raw-scores', scoreKey('DataInf', { algorithm: 'factored-f64' }), () => {
    const t = timed(() => convexDataInfScores(train, fit.theta, test));
    return { value: t.result.values as Float64Array, seconds: t.seconds, meta: { lambda: t.result.lambda } };
  }, 'LR raw scores: DataInf');
  const dataInfRow = evaluate('DataInf', dataInfScores, null, `λ ${(dataInfScores.meta.lambda as number).toExponential(2)} (0.1 × mean squared gradient entry, one layer); ${factored}, closed form τ = (S − K W S)/λ`);
  const fisherScores = await cachedArray(o, 'lr-raw-scores', scoreKey('Fisher (damped 0.1·tr/d)', { algorithm: 'factored-f64' }), () => {
    const t = timed(() => convexFisherScores(train, fit.theta, test));
    return { value: t.result.values as Float64Array, seconds: t.seconds, meta: { damping: t.result.damping, route: t.result.route } };
  }, 'LR raw scores: Fisher');
  evaluate('Fisher (damped 0.1·tr/d)', fisherScores, null, `damping ${(fisherScores.meta.damping as number).toExponential(2)}; ${factored}, ${fisherScores.meta.route} route (τ = n (K + nλI)⁻¹ S, Woodbury)`);

  // 7. TRAK: models retrained on random halves, margin gradients projected to `trakProjection` dimensions (Gaussian). One
  // projection for every model (as TRAK's one projector seed): X̃·Π' is computed once per side, then each model's
  // features cost n·C·k (createConvexGradientProjector); the ensemble streams models, so TRAK-10 is TRAK-50's prefix.
  const maxModels = Math.max(...o.trakModels);
  const halves = sampleLdsSubsets(train.n, { fraction: 0.5, count: Math.max(2, maxModels), seed: o.seed + 4 });
  let projectors: { train: ConvexGradientProjector; test: ConvexGradientProjector } | null = null;
  const trakKey = (M: number) => scoreKey(`TRAK-${M}`, { models: M, modelSeed: o.seed + 4, projection: o.trakProjection, projectionSeed: o.seed + 5 });
  // Models are retrained (or read from their cache) and featurized only when some ensemble's scores are not cached.
  const trak = createTrakEnsemble();
  let featurized = 0;
  let trakFeaturizeSeconds = 0;
  let trakScoreSeconds = 0;
  const addModels = async (M: number) => {
    for (; featurized < M; featurized++) {
      const m = featurized;
      const theta = (await cached<{ theta: Float64Array }>(o, 'lr-raw-trak-model', { ...base, model: m, seed: o.seed + 4, tolerance: 1e-8 }, (f) => ({ theta: arr(f.theta) }), (r) => ({ theta: Float64Array.from(r.theta) }), () => preconditionedFit(train, fit.theta, pre, 1e-8, halves[m]))).theta;
      const t = timed(() => {
        if (!projectors) {
          const proj = projectionMatrix('gaussian', P, o.trakProjection, o.seed + 5);
          projectors = { train: createConvexGradientProjector(train, proj, o.trakProjection), test: createConvexGradientProjector(test, proj, o.trakProjection) };
        }
        const tr = projectors.train.project(theta, { target: 'margin' });
        return { train: tr.features, test: projectors.test.project(theta, { target: 'margin' }).features, labelProbability: tr.labelProbability };
      });
      trakFeaturizeSeconds += t.seconds;
      trakScoreSeconds += timed(() => trak.add(t.result)).seconds;
      if ((m + 1) % 5 === 0) log(`LR raw TRAK model ${m + 1}/${maxModels}`);
    }
  };
  for (const M of [...o.trakModels].sort((a, b) => a - b)) {
    const computed = await cachedArray(o, 'lr-raw-scores', trakKey(M), async () => {
      await addModels(M);
      const t = timed(() => asFloat64(trak.scores().values));
      return { value: t.result, seconds: trakScoreSeconds + t.seconds, meta: { featurizeSeconds: trakFeaturizeSeconds } };
    });
    evaluate(`TRAK-${M}`, computed, computed.meta.featurizeSeconds as number, `${M} models on random halves, Gaussian projection to ${o.trakProjection}`);
  }
  // 8. Mislabel detection (last: the rows above are written first): 10 % of the labels flipped, refitted (warm start from the clean optimum).
  const flip = flipLabels(o.yTrain, { fraction: 0.1, numClasses: C, seed: o.seed + 3 });
  const noisy = createConvexLogisticProblem(o.xTrain, flip.labels, { numClasses: C, lambda: o.lambda, d });
  // Fitted from zero (Jacobi), like the clean model, so its Newton path serves TracIn's self-influence.
  const noisyFit = await cached<{ theta: Float64Array; path?: Float64Array[] }>(o, 'lr-raw-noisy-fit', { ...base, flipSeed: o.seed + 3 }, (f) => ({ theta: arr(f.theta), path: f.path!.map(arr) }), (r) => ({ theta: Float64Array.from(r.theta), path: (r.path as number[][]).map((p) => Float64Array.from(p)) }), () =>
    fitConvexLogistic(noisy, { tolerance: 1e-10, recordPath: true, maxIterations: 100 }),
  'LR raw: noisy-label fit');
  const baselineAuc = mislabelAuc(convexExampleLosses(noisy, noisyFit.theta), flip.flipped).auc;
  log(`LR raw mislabel baseline (own loss) AUC ${baselineAuc.toFixed(3)}`);

  {
    const noisyKey = (method: string) => scoreKey(`self-influence ${method}`, { flipSeed: o.seed + 3 });
    const selfIf = await cachedArray(o, 'lr-raw-self', { ...noisyKey('IF'), algorithm: 'reduced-factor' }, () => timedValue(() => convexSelfInfluence(noisy, noisyFit.theta)), 'LR raw self-influence: IF (reduced noisy Hessian, Cholesky, 5,000 forward solves)');
    ifRow.auc = mislabelAuc(selfIf.value, flip.flipped).auc;
    ifRow.note += `; self-influence ${selfIf.seconds.toFixed(0)} s${selfIf.cachedFrom ? ' (cached)' : ''}`;
    o.onRows(rows);
    const selfKey = (method: string) => ({ ...noisyKey(method), algorithm: 'factored-f64' });
    const selfGradDot = await cachedArray(o, 'lr-raw-self', selfKey('Grad-Dot'), () => timedValue(() => convexGradientDotSelfInfluence(noisy, noisyFit.theta)), 'LR raw self-influence: Grad-Dot');
    gradDotRow.auc = mislabelAuc(selfGradDot.value, flip.flipped).auc;
    const selfTracIn = await cachedArray(o, 'lr-raw-self', selfKey('TracInCP Newton path'), () => timedValue(() => convexGradientDotSelfInfluence(noisy, noisyFit.path!)), 'LR raw self-influence: TracInCP');
    tracInRow.auc = mislabelAuc(selfTracIn.value, flip.flipped).auc;
    tracInRow.note = `${tracInRow.note ?? ''} (self-influence over the noisy fit's ${noisyFit.path!.length})`;
    // DataInf's self-influence: 5,000 queries, each its own training row — the closed form needs only the training Gram.
    const selfDataInf = await cachedArray(o, 'lr-raw-self', selfKey('DataInf'), () => timedValue(() => convexDataInfSelfInfluence(noisy, noisyFit.theta)), 'LR raw self-influence: DataInf');
    dataInfRow.auc = mislabelAuc(selfDataInf.value, flip.flipped).auc;
    o.onRows(rows);
    for (const [name, c] of [['self-influence IF', selfIf], ['self-influence Grad-Dot', selfGradDot], ['self-influence DataInf', selfDataInf], ['self-influence TracInCP', selfTracIn]] as const) if (c.cachedFrom) fromCache.push(name);
    push({ model: o.model, method: 'own training loss (baseline)', loo: null, lds: null, auc: baselineAuc, featurizeSeconds: null, scoreSeconds: null });
    log(`LR raw mislabel AUC: IF ${ifRow.auc?.toFixed(3)}, Grad-Dot ${gradDotRow.auc?.toFixed(3)}, DataInf ${dataInfRow.auc?.toFixed(3)}, TracIn ${tracInRow.auc?.toFixed(3)}, own loss ${baselineAuc.toFixed(3)}`);
  }
  return {
    rows,
    setup: {
      features: 'raw pixels (784, scaled to [0, 1]) + bias',
      parameters: P,
      lambda: o.lambda,
      regularised: 'every parameter, bias included',
      fit: { optimizer: 'Newton–CG (exact Hessian-vector products), Armijo line search', tolerance: 1e-10, newtonSteps: fit.iterations, hessianVectorProducts: fit.cgIterations, gradientNorm: fit.gradientNorm },
      accuracy,
      loo: { removedRows: loo.rows.length, tests: loo.tests.length, output: '−loss', seconds: looSeconds },
      lds: { subsets: o.subsets, fraction: 0.5, output: '−loss', seconds: ldsSeconds },
      retrains: 'warm-started at θ̂, Newton–CG preconditioned by the exact solve with the full Hessian at θ̂ (its reduced Cholesky factor), to ‖∇J‖ ≤ 1e-10',
      mislabel: { fraction: 0.1, seed: o.seed + 3 },
      trak: { models: o.trakModels, projection: `gaussian ${o.trakProjection}`, retrainTolerance: 1e-8 },
      solverChoice: choice,
      lissa: o.lissaTests > 0 ? { tests: o.lissaTests, depth: o.lissaDepth, batchSize: o.lissaBatch, repeats: 1, damping: 0, scale: '1.5·λ_max by power iteration (value in the row note)' } : 'not run (--lissa-tests 0)',
      fromCache: fromCache.length ? `scores of these rows read from the cache (--cached-scores; seconds are the computing run's): ${fromCache.join(', ')}` : 'none: every score computed in this run',
      cache: `${o.cacheDir} (content hash of the data and settings): fits and retrains reused, --full recomputes them; scores recomputed unless --cached-scores`,
    },
  };
}
