/**
 * Attribution quality on MNIST-10, the field's ground-truth benchmark (dattri, Deng et al. 2024; TRAK, Park et al. 2023):
 * 5,000 training and 500 test digits, logistic regression and a small MLP, every method → LOO correlation, LDS,
 * mislabel-detection AUC (10 % of labels flipped), runtime — printed beside the published anchors of DESIGN.md.
 *
 *   npm run bench:attribution                       # the default: lr-raw,mlp, cached retrains, every score recomputed
 *   npm run bench:attribution -- --cached-scores    # opt-in: also read score matrices from the cache (said in the output)
 *   npm run bench:attribution -- --full             # recompute every retrain (ignores benchmarks/cache/; ≈ 35 min cold on 2 cores)
 *   npm run bench:attribution -- --only lr,torch    # other parts: lr-raw | lr | mlp | torch | brittle (comma-separated)
 *   npm run bench:attribution -- --mlp-grid         # the MLP TRAK grid (selection half), then the table with its choice
 *
 * Main table — "LR (raw pixels)", dattri's set-up (benchmarks/attribution-lr-raw.ts): the 784 raw pixels + bias
 * (P = 7,850), 5,000 training / 500 test digits, λ = 1e-3 on every parameter (--raw-lambda), Newton–CG to ‖∇J‖ ≤ 1e-10;
 * LOO over --raw-loo-rows 50 removed rows, LDS over --raw-subsets 20 half-size subsets (output −loss), mislabel AUC with
 * 10 % flipped labels beside the own-loss baseline, TRAK-10/50 on random halves with a 512-d Gaussian projection
 * (--trak-projection), LiSSA on --lissa-tests 50 test points (--lissa-depth 1000, --lissa-batch 100), IF by CG on
 * --cg-test-points test points (0 by default, 5 with --full: its agreement with the explicit solve). Fits, retrains and
 * TRAK models are cached by content hash under benchmarks/cache/ (git-ignored): a rerun with a warm cache recomputes
 * every method's scores from them (score matrices are written there too, but read back only with --cached-scores). The
 * run ends with a table of its steps (seconds, cached or computed), also in the JSON (setup.run). The PCA rows
 * ("LR (PCA)", --only lr) are the second, labelled table.
 *
 * MLP part (benchmarks/attribution-mlp.ts): TRAK ensembles of --mlp-models 1,5,10,25,50 independently trained models,
 * LDS against the same 50-subset ground truth (--mlp-subsets), the retraining noise ceiling beside it, the grid judged on
 * the even test points and the table reported on the odd ones. --mlp-prepare noise | models:A-B fills the cache from a
 * side process.
 *
 * Options: --train 5000 --test 500 --pca 64 --lambda 1e-2 --subsets 100 --loo-rows 100 --mlp-subsets 50 --mlp-hidden 128
 * --mlp-epochs 6 --mlp-batch 128 --mlp-lr 2e-3 --mlp-proj 32x16 --trak-models 10,50 --seed 0
 * --out benchmarks/results/attribution.json.
 *
 * Set-up of the logistic regression ("LR", the exact float64 reference of src/attribution/convex): the 784 pixels are
 * reduced to their first `--pca` principal components (fitted on the training digits only), because a 784×10 model takes
 * ~60 s per exact retrain on 2 cores and LDS needs ~100 retrains; PCA keeps the model convex and the retrains exact.
 * λ on every parameter (bias included), Newton–CG to ‖∇J‖ ≤ 1e-10, every retrain warm-started from the full optimum.
 * LOO: `--loo-rows` removed rows drawn with the seed, every test point; per-test-point correlation over the removed rows,
 * averaged (dattri's convention). LDS: `--subsets` subsets of half the rows, output = −loss of the retrained model.
 * The partial results of each part are merged into the JSON by model, so parts can run alone.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import {
  computeLdsGroundTruth,
  computeLooGroundTruth,
  convexAccuracy,
  convexExampleGradients,
  convexExampleLosses,
  convexInfluenceScores,
  convexLogisticHessian,
  convexSelfInfluence,
  createConvexLogisticProblem,
  explicitOperator,
  fitConvexLogistic,
  fitDataInf,
  fitFisher,
  fitLissa,
  fitConjugateGradient,
  fitTrak,
  flipLabels,
  gradCos,
  gradDot,
  linearDatamodelingScore,
  looCorrelation,
  matMulF32,
  mislabelAuc,
  brittleness,
  convexExampleMargins,
  pearsonCorrelation,
  sampleLdsSubsets,
  tracInCP,
  tracInFeatures,
  trakFeatures,
  createFeaturizer,
  type ConvexLogisticProblem,
  type FeatureMatrix,
  type LdsGroundTruth,
  type LooGroundTruth,
  type Preconditioner,
  type ScoreMatrix,
} from '../src/attribution/index.js';
import { createRng, sampleIndices } from '../src/core/index.js';
import { fromMnist } from '../src/datanet/index.js';
import { initBackend, type Model } from '../src/finetune/index.js';
import { foldSteps, runRawLogisticRegression, selfScores, timeStep, toFeatures, type StepLog, type StepTime } from './attribution-lr-raw.js';
import { PIXELS, restoreWeights, runMlpStudy, trainMlp, type MlpData, type TrakConfig } from './attribution-mlp.js';

// ---------------------------------------------------------------------------------------------------------------- args

interface Args {
  only: Set<string>;
  train: number;
  test: number;
  pca: number;
  lambda: number;
  subsets: number;
  looRows: number;
  mlpSubsets: number;
  mlpHidden: number;
  mlpEpochs: number;
  mlpBatch: number;
  mlpLr: number;
  mlpProj: [number, number];
  trakModels: number[];
  /** MLP TRAK ensemble sizes reported (LDS vs number of models). */
  mlpModels: number[];
  /** Run the MLP TRAK grid (selection half) before the table. */
  mlpGrid: boolean;
  mlpGridModels: number;
  /** Cache-filling side process for the MLP part (see attribution-mlp.ts). */
  mlpPrepare?: string;
  mlpNoiseSubsets: number;
  seed: number;
  out: string;
  /** Another results file whose rows (by model) and setup are merged into `out` (parts run as separate processes). */
  merge?: string;
  rawLambda: number;
  rawSubsets: number;
  rawLooRows: number;
  rawTrakModels: number[];
  trakProjection: number;
  cgTestPoints: number;
  lissaTests: number;
  lissaDepth: number;
  lissaBatch: number;
  full: boolean;
  /** Read score matrices from the cache when there (opt-in; the default recomputes every score). */
  cachedScores: boolean;
  /** The run's steps (seconds, cached or computed), filled as it goes. */
  steps: StepLog;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, fallback: string) => {
    const k = argv.indexOf(`--${name}`);
    return k >= 0 && argv[k + 1] !== undefined ? argv[k + 1]! : fallback;
  };
  return {
    only: new Set(get('only', 'lr-raw,mlp').split(',')),
    train: Number(get('train', '5000')),
    test: Number(get('test', '500')),
    pca: Number(get('pca', '64')),
    lambda: Number(get('lambda', '1e-2')),
    subsets: Number(get('subsets', '100')),
    looRows: Number(get('loo-rows', '100')),
    mlpSubsets: Number(get('mlp-subsets', '50')),
    mlpHidden: Number(get('mlp-hidden', '128')),
    mlpEpochs: Number(get('mlp-epochs', '6')),
    mlpBatch: Number(get('mlp-batch', '128')),
    mlpLr: Number(get('mlp-lr', '2e-3')),
    mlpProj: get('mlp-proj', '32x16').split('x').map(Number) as [number, number],
    trakModels: get('trak-models', '10,50').split(',').map(Number),
    mlpModels: get('mlp-models', '1,5,10,25,50').split(',').map(Number),
    mlpGrid: argv.includes('--mlp-grid'),
    mlpGridModels: Number(get('mlp-grid-models', '10')),
    mlpNoiseSubsets: Number(get('mlp-noise-subsets', '50')),
    mlpPrepare: argv.includes('--mlp-prepare') ? get('mlp-prepare', '') : undefined,
    seed: Number(get('seed', '0')),
    out: get('out', 'benchmarks/results/attribution.json'),
    merge: argv.includes('--merge') ? get('merge', '') : undefined,
    rawLambda: Number(get('raw-lambda', '1e-3')),
    rawSubsets: Number(get('raw-subsets', '20')),
    rawLooRows: Number(get('raw-loo-rows', '50')),
    rawTrakModels: get('raw-trak-models', '10,50').split(',').map(Number),
    trakProjection: Number(get('trak-projection', '512')),
    cgTestPoints: Number(get('cg-test-points', argv.includes('--full') ? '5' : '0')),
    lissaTests: Number(get('lissa-tests', '50')),
    lissaDepth: Number(get('lissa-depth', '1000')),
    lissaBatch: Number(get('lissa-batch', '100')),
    full: argv.includes('--full'),
    cachedScores: argv.includes('--cached-scores'),
    steps: { entries: [], open: 0 },
  };
}

const log = (...parts: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);
const seconds = (start: number) => (performance.now() - start) / 1000;

// ---------------------------------------------------------------------------------------------------------------- data

interface MnistArrays {
  xTrain: Float64Array;
  yTrain: Int32Array;
  xTest: Float64Array;
  yTest: Int32Array;
  nTrain: number;
  nTest: number;
  source: string;
}


async function loadMnist(args: Args): Promise<MnistArrays> {
  const { datanet, test } = await fromMnist({ train: args.train, test: args.test, seed: args.seed });
  const snapshot = datanet.snapshot();
  const nTrain = snapshot.size;
  const xTrain = new Float64Array(nTrain * PIXELS);
  snapshot.rows.forEach((row, i) => xTrain.set(row.input as readonly number[], i * PIXELS));
  const classIndex = snapshot.labelIndices();
  // labelIndices are positions in `classes`; map them back to the digits.
  const yTrain = Int32Array.from(classIndex, (k) => Number(snapshot.classes[k]));
  const xTest = new Float64Array(test.length * PIXELS);
  test.forEach((e, i) => xTest.set(e.input as readonly number[], i * PIXELS));
  const yTest = Int32Array.from(test, (e) => e.label);
  return { xTrain, yTrain, xTest, yTest, nTrain, nTest: test.length, source: `fromMnist({ train: ${args.train}, test: ${args.test}, seed: ${args.seed} }) → ${nTrain} rows after dedup` };
}

/** PCA on the training pixels (covariance eigenvectors, ml-matrix), applied to both sets. Deterministic. */
function pca(data: MnistArrays, k: number): { train: Float64Array; test: Float64Array; explained: number } {
  const D = PIXELS;
  const { nTrain, xTrain } = data;
  const mean = new Float64Array(D);
  for (let i = 0; i < nTrain; i++) for (let j = 0; j < D; j++) mean[j]! += xTrain[i * D + j]! / nTrain;
  const cov = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let i = 0; i < nTrain; i++) {
    for (let j = 0; j < D; j++) row[j] = xTrain[i * D + j]! - mean[j]!;
    for (let j = 0; j < D; j++) {
      const a = row[j]!;
      if (a === 0) continue;
      for (let m = j; m < D; m++) cov[j * D + m]! += a * row[m]!;
    }
  }
  const M = new Matrix(D, D);
  for (let j = 0; j < D; j++) for (let m = j; m < D; m++) {
    M.set(j, m, cov[j * D + m]! / nTrain);
    M.set(m, j, cov[j * D + m]! / nTrain);
  }
  const eig = new EigenvalueDecomposition(M, { assumeSymmetric: true });
  const values = eig.realEigenvalues;
  const order = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]!);
  const total = values.reduce((a, b) => a + Math.max(0, b), 0);
  const explained = order.slice(0, k).reduce((a, c) => a + values[c]!, 0) / total;
  const V = eig.eigenvectorMatrix;
  const basis = new Float64Array(D * k);
  for (let j = 0; j < D; j++) for (let c = 0; c < k; c++) basis[j * k + c] = V.get(j, order[c]!);
  const project = (x: Float64Array, n: number) => {
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < D; j++) {
        const v = x[i * D + j]! - mean[j]!;
        if (v === 0) continue;
        for (let c = 0; c < k; c++) out[i * k + c]! += v * basis[j * k + c]!;
      }
    }
    return out;
  };
  return { train: project(xTrain, nTrain), test: project(data.xTest, data.nTest), explained };
}

// ---------------------------------------------------------------------------------------------------------------- rows

interface ResultRow {
  model: string;
  method: string;
  loo: number | null;
  lds: number | null;
  auc: number | null;
  featurizeSeconds: number | null;
  scoreSeconds: number | null;
  /** Extra figures: LOO Pearson, mislabel baseline, notes. */
  looPearson?: number | null;
  /** PyTorch cross-check: Pearson of our scores with torch's, and torch's seconds (featurize + score). */
  pearsonWithTorch?: number;
  torchSeconds?: number;
  /** Brittleness: median over test points of the smallest k that flipped (among those flipped). */
  brittleMedianK?: number | null;
  note?: string;
}

/** τ = pre.train(train) · pre.query(test)ᵀ as an nTrain × nTest score matrix (the harness layout). */
function denseScores(train: FeatureMatrix, test: FeatureMatrix, pre: Preconditioner): ScoreMatrix {
  const a = pre.train(train);
  const b = pre.query(test);
  return { values: matMulF32(a.data, a.rows, a.dim, b.data, b.rows, true), nTrain: a.rows, nTest: b.rows };
}


// ---------------------------------------------------------------------------------------------------------------- LR

/**
 * Retraining ground truth cached in the OS temp folder by set-up, so a rerun of the scoring half (a new method, a fix)
 * does not repeat ~200 retrains. Delete the file to recompute.
 */
function groundTruthCache(key: string): { loo?: LooGroundTruth; lds?: LdsGroundTruth; save(t: { loo?: LooGroundTruth; lds?: LdsGroundTruth }): void } {
  const file = join(tmpdir(), `provenant-attribution-truth-${key}.json`);
  const out: ReturnType<typeof groundTruthCache> = {
    save(t) {
      const plain = (x: unknown): unknown => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : Array.isArray(x) ? x.map(plain) : x);
      const encode = (o?: object) => (o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)])) : undefined);
      writeFileSync(file, JSON.stringify({ loo: encode(t.loo), lds: encode(t.lds) }));
    },
  };
  if (existsSync(file)) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { loo?: Record<string, unknown>; lds?: Record<string, unknown> };
    if (raw.loo) {
      const l = raw.loo as { nTrain: number; rows: number[]; tests: number[]; effects: number[]; fullOutputs: number[] };
      out.loo = { nTrain: l.nTrain, rows: Uint32Array.from(l.rows), tests: Uint32Array.from(l.tests), effects: Float64Array.from(l.effects), fullOutputs: Float64Array.from(l.fullOutputs) };
    }
    if (raw.lds) {
      const l = raw.lds as { nTrain: number; nTest: number; subsets: number[][]; outputs: number[][] };
      out.lds = { nTrain: l.nTrain, nTest: l.nTest, subsets: l.subsets.map((x) => Uint32Array.from(x)), outputs: l.outputs.map((x) => Float64Array.from(x)) };
    }
    log(`ground truth from cache ${file}: ${out.loo ? 'LOO' : ''} ${out.lds ? 'LDS' : ''}`);
  }
  return out;
}

async function runLogisticRegression(data: MnistArrays, args: Args): Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }> {
  const C = 10;
  const k = args.pca;
  let start = performance.now();
  const reduced = pca(data, k);
  log(`PCA ${k}: ${(reduced.explained * 100).toFixed(1)} % of pixel variance, ${seconds(start).toFixed(1)} s`);
  const train = createConvexLogisticProblem(reduced.train, data.yTrain, { numClasses: C, lambda: args.lambda, d: k });
  const test = createConvexLogisticProblem(reduced.test, data.yTest, { numClasses: C, lambda: args.lambda, d: k });
  start = performance.now();
  const fit = fitConvexLogistic(train, { tolerance: 1e-10, recordPath: true });
  const fitSeconds = seconds(start);
  const accuracy = { train: convexAccuracy(train, fit.theta), test: convexAccuracy(test, fit.theta) };
  log(`LR fit: ${fit.iterations} Newton steps, ${fit.cgIterations} Hv, ‖∇J‖ = ${fit.gradientNorm.toExponential(1)}, ${fitSeconds.toFixed(1)} s; accuracy train ${accuracy.train.toFixed(3)} test ${accuracy.test.toFixed(3)}`);

  const cache = groundTruthCache(`lr-${data.nTrain}-${data.nTest}-${k}-${args.lambda}-${args.looRows}-${args.subsets}-${args.seed}`);
  const retrain = (rows: Uint32Array) => {
    const refit = fitConvexLogistic(train, { rows, init: fit.theta, tolerance: 1e-10 });
    return convexExampleLosses(test, refit.theta).map((l) => -l);
  };
  start = performance.now();
  const loo: LooGroundTruth = cache.loo ?? await computeLooGroundTruth({
    nTrain: train.n,
    nTest: test.n,
    train: retrain,
    sampleRows: args.looRows,
    seed: args.seed + 1,
    onProgress: (e) => e.done % 20 === 0 && log(`LR LOO retrain ${e.done}/${e.total}`),
  });
  const looSeconds = seconds(start);
  log(`LR LOO ground truth: ${loo.rows.length} rows × ${loo.tests.length} tests, ${looSeconds.toFixed(0)} s`);
  start = performance.now();
  cache.save({ loo });
  const lds: LdsGroundTruth = cache.lds ?? await computeLdsGroundTruth({
    nTrain: train.n,
    nTest: test.n,
    train: retrain,
    count: args.subsets,
    fraction: 0.5,
    seed: args.seed + 2,
    onProgress: (e) => e.done % 20 === 0 && log(`LR LDS retrain ${e.done}/${e.total}`),
  });
  const ldsSeconds = seconds(start);
  cache.save({ loo, lds });
  log(`LR LDS ground truth: ${args.subsets} subsets, ${ldsSeconds.toFixed(0)} s`);

  // Mislabel set-up: 10 % of the training labels flipped, the reference refitted on them.
  const flip = flipLabels(data.yTrain, { fraction: 0.1, numClasses: C, seed: args.seed + 3 });
  const noisy = createConvexLogisticProblem(reduced.train, flip.labels, { numClasses: C, lambda: args.lambda, d: k });
  const noisyFit = fitConvexLogistic(noisy, { tolerance: 1e-10, recordPath: true });
  const ownLoss = convexExampleLosses(noisy, noisyFit.theta);
  const baselineAuc = mislabelAuc(ownLoss, flip.flipped).auc;

  const rows: ResultRow[] = [];
  const evaluate = (method: string, scores: ScoreMatrix, featurizeSeconds: number, scoreSeconds: number, auc: number | null, note?: string) => {
    const l = looCorrelation(scores, loo);
    const d = linearDatamodelingScore(scores, lds);
    const row: ResultRow = { model: 'LR (PCA)', method, loo: l.spearman, looPearson: l.pearson, lds: d.score, auc, featurizeSeconds, scoreSeconds, note };
    rows.push(row);
    log(`LR ${method}: LOO ρ ${l.spearman.toFixed(3)} r ${l.pearson.toFixed(3)}, LDS ${d.score.toFixed(3)}, AUC ${auc?.toFixed(3) ?? '—'}, featurize ${featurizeSeconds.toFixed(2)} s, score ${scoreSeconds.toFixed(2)} s`);
  };

  // Per-example gradient features (exact, float64 → float32 for E1's preconditioners).
  start = performance.now();
  const trainFeatures = toFeatures(convexExampleGradients(train, fit.theta), train.n, k, C);
  const testFeatures = toFeatures(convexExampleGradients(test, fit.theta), test.n, k, C);
  const featurizeSeconds = seconds(start);
  const noisyFeatures = toFeatures(convexExampleGradients(noisy, noisyFit.theta), noisy.n, k, C);

  // Influence function, explicit inverse Hessian (Cholesky) and CG on exact Hessian-vector products.
  start = performance.now();
  const ifExplicit = convexInfluenceScores(train, fit.theta, test, { solver: 'explicit' });
  const ifSeconds = seconds(start);
  const selfIf = convexSelfInfluence(noisy, noisyFit.theta);
  evaluate('IF (explicit H⁻¹, float64)', ifExplicit, 0, ifSeconds, mislabelAuc(selfIf, flip.flipped).auc, 'self-influence for AUC');
  // CG on the exact Hessian through E1's block CG (one operator call serves all 500 queries): same algebra, other code.
  start = performance.now();
  const P = (k + 1) * C;
  const exactH = convexLogisticHessian(train, fit.theta);
  const cgPre = fitConjugateGradient(explicitOperator(exactH, P), { tolerance: 1e-8 });
  const ifCg = denseScores(trainFeatures, testFeatures, cgPre);
  const cgSeconds = seconds(start);
  let maxDiff = 0;
  let maxAbs = 0;
  for (let q = 0; q < ifCg.values.length; q++) {
    maxDiff = Math.max(maxDiff, Math.abs(ifCg.values[q]! - ifExplicit.values[q]!));
    maxAbs = Math.max(maxAbs, Math.abs(ifExplicit.values[q]!));
  }
  evaluate('IF (CG on exact H)', ifCg, featurizeSeconds, cgSeconds, null, `${cgPre.params.lastIterations} CG iterations; max |CG − explicit| / max |τ| = ${(maxDiff / maxAbs).toExponential(1)}`);

  // Grad-Dot, Grad-Cos at θ̂; mislabel AUC by the self-score (‖g_i‖² for Grad-Dot).
  for (const [name, make] of [['Grad-Dot', gradDot], ['Grad-Cos', () => gradCos()]] as const) {
    start = performance.now();
    const pre = make();
    const scores = denseScores(trainFeatures, testFeatures, pre);
    const t = seconds(start);
    const auc = name === 'Grad-Dot' ? mislabelAuc(selfScores(noisyFeatures, pre), flip.flipped).auc : null;
    evaluate(name, scores, featurizeSeconds, t, auc);
  }

  // TracInCP over the Newton iterates of the fit (the optimisation path's checkpoints, equal weights).
  {
    const path = fit.path!;
    const noisyPath = noisyFit.path!;
    start = performance.now();
    const ckTrain = path.map((theta) => toFeatures(convexExampleGradients(train, theta), train.n, k, C));
    const ckTest = path.map((theta) => toFeatures(convexExampleGradients(test, theta), test.n, k, C));
    const fz = seconds(start);
    const rates = path.map(() => 1);
    start = performance.now();
    const scores = denseScores(tracInFeatures(ckTrain, rates), tracInFeatures(ckTest, rates), tracInCP());
    const t = seconds(start);
    const ckNoisy = noisyPath.map((theta) => toFeatures(convexExampleGradients(noisy, theta), noisy.n, k, C));
    const self = selfScores(tracInFeatures(ckNoisy, noisyPath.map(() => 1)), tracInCP());
    evaluate('TracInCP (Newton-path checkpoints)', scores, fz, t, mislabelAuc(self, flip.flipped).auc, `${path.length} checkpoints`);
  }

  // E1's DataInf, damped empirical Fisher, LiSSA on the exact Hessian.
  {
    start = performance.now();
    const pre = fitDataInf(trainFeatures);
    const scores = denseScores(trainFeatures, testFeatures, pre);
    const t = seconds(start);
    const auc = mislabelAuc(selfScores(noisyFeatures, fitDataInf(noisyFeatures)), flip.flipped).auc;
    evaluate('DataInf', scores, featurizeSeconds, t, auc);
  }
  {
    start = performance.now();
    const pre = fitFisher(trainFeatures);
    const scores = denseScores(trainFeatures, testFeatures, pre);
    evaluate('Fisher (damped 0.1·tr/d)', scores, featurizeSeconds, seconds(start), null);
  }
  {
    start = performance.now();
    const pre = fitLissa(explicitOperator(exactH, P), { depth: 200, seed: args.seed });
    const scores = denseScores(trainFeatures, testFeatures, pre);
    evaluate('LiSSA (exact H, depth 200)', scores, featurizeSeconds, seconds(start), null);
  }

  // TRAK: M models retrained on random halves (warm-started), exact margin-gradient features (P ≤ n: no projection).
  {
    const maxModels = Math.max(...args.trakModels);
    const halves = sampleLdsSubsets(train.n, { fraction: 0.5, count: Math.max(2, maxModels), seed: args.seed + 4 });
    const perModel: Array<{ train: FeatureMatrix; test: FeatureMatrix; p: Float32Array }> = [];
    start = performance.now();
    for (let m = 0; m < maxModels; m++) {
      const theta = fitConvexLogistic(train, { rows: halves[m], init: fit.theta, tolerance: 1e-8 }).theta;
      perModel.push({ train: marginFeatures(train, theta, k, C), test: marginFeatures(test, theta, k, C), p: labelProbabilities(train, theta) });
    }
    const fzAll = seconds(start);
    for (const M of args.trakModels) {
      start = performance.now();
      const models = perModel.slice(0, M);
      const pre = fitTrak(models.map((m) => ({ features: m.train, labelProbability: m.p })));
      const scores = denseScores(trakFeatures(models.map((m) => m.train)), trakFeatures(models.map((m) => m.test)), pre);
      evaluate(`TRAK-${M}`, scores, (fzAll * M) / maxModels, seconds(start), null, `${M} models on random halves`);
    }
  }
  rows.push({ model: 'LR (PCA)', method: 'own training loss (baseline)', loo: null, lds: null, auc: baselineAuc, featurizeSeconds: null, scoreSeconds: null });
  log(`LR mislabel baseline (own loss) AUC ${baselineAuc.toFixed(3)}`);
  return {
    rows,
    setup: {
      features: `PCA-${k} of the pixels (${(reduced.explained * 100).toFixed(1)} % variance), fitted on the training digits`,
      lambda: args.lambda,
      parameters: (k + 1) * C,
      fit: { newtonSteps: fit.iterations, hessianVectorProducts: fit.cgIterations, gradientNorm: fit.gradientNorm, seconds: fitSeconds },
      accuracy,
      loo: { removedRows: loo.rows.length, tests: loo.tests.length, seconds: looSeconds, output: '−loss' },
      lds: { subsets: args.subsets, fraction: 0.5, seconds: ldsSeconds, output: '−loss' },
      mislabel: { flipped: flip.flipped.length, fraction: 0.1 },
    },
  };
}

/** ∂m/∂θ for TRAK's margin m = log(p_y/(1 − p_y)): ∂m/∂z = (e_y − p)/(1 − p_y), times x̃ (see conventions.ts). */
function marginFeatures(problem: ConvexLogisticProblem, theta: Float64Array, k: number, C: number): FeatureMatrix {
  const g = convexExampleGradients(problem, theta);
  const p = labelProbabilities(problem, theta);
  const P = (k + 1) * C;
  for (let i = 0; i < problem.n; i++) {
    const s = -1 / Math.max(1e-12, 1 - p[i]!);
    for (let q = 0; q < P; q++) g[i * P + q]! *= s;
  }
  return toFeatures(g, problem.n, k, C);
}

function labelProbabilities(problem: ConvexLogisticProblem, theta: Float64Array): Float32Array {
  const losses = convexExampleLosses(problem, theta);
  return Float32Array.from(losses, (l) => Math.exp(-l));
}

// ---------------------------------------------------------------------------------------------------------------- brittleness

/**
 * Brittleness on the LR reference (Ilyas et al. 2022, §4.2): for 10 correctly classified test digits, the smallest k of
 * their top proponents whose removal (and exact retraining) flips the prediction; IF and Grad-Dot rankings beside a random
 * ranking. Fewer rows = a sharper attribution.
 */
async function runBrittleness(data: MnistArrays, args: Args): Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }> {
  const C = 10;
  const k = args.pca;
  const reduced = pca(data, k);
  const train = createConvexLogisticProblem(reduced.train, data.yTrain, { numClasses: C, lambda: args.lambda, d: k });
  const test = createConvexLogisticProblem(reduced.test, data.yTest, { numClasses: C, lambda: args.lambda, d: k });
  const fit = fitConvexLogistic(train, { tolerance: 1e-10 });
  const margins = convexExampleMargins(test, fit.theta);
  const correct = Array.from(margins.keys()).filter((t) => margins[t]! > 0);
  const tests = Array.from(sampleIndices(correct.length, 10, args.seed + 5), (j) => correct[j]!).sort((a, b) => a - b);
  const ks = [10, 20, 40, 80, 160, 320, 640];
  const retrainMargins = (rows: Uint32Array) => convexExampleMargins(test, fitConvexLogistic(train, { rows, init: fit.theta, tolerance: 1e-8 }).theta);
  const trainFeatures = toFeatures(convexExampleGradients(train, fit.theta), train.n, k, C);
  const testFeatures = toFeatures(convexExampleGradients(test, fit.theta), test.n, k, C);
  const rng = createRng(args.seed + 6);
  const random: ScoreMatrix = { values: Float64Array.from({ length: train.n * test.n }, () => rng.nextDouble()), nTrain: train.n, nTest: test.n };
  const rows: ResultRow[] = [];
  for (const [method, scores] of [
    ['IF (explicit H⁻¹, float64)', convexInfluenceScores(train, fit.theta, test)],
    ['Grad-Dot', denseScores(trainFeatures, testFeatures, gradDot())],
    ['random ranking', random],
  ] as const) {
    const start = performance.now();
    const result = await brittleness(scores, { train: retrainMargins, tests, ks, onProgress: (e) => log(`brittleness ${method} ${e.done}/${e.total}`) });
    const found = Array.from(result.smallestK).filter((v) => v > 0).sort((a, b) => a - b);
    const note = `smallest k per test: [${Array.from(result.smallestK).join(', ')}] (−1: not flipped by ${ks[ks.length - 1]}); flipped by k: ${ks.map((kk, m) => `${kk}→${(result.flippedFraction[m]! * 100).toFixed(0)}%`).join(' ')}; ${result.retrains} retrains`;
    rows.push({ model: 'LR (brittleness)', method, loo: null, lds: null, auc: null, featurizeSeconds: null, scoreSeconds: seconds(start), brittleMedianK: found.length ? found[Math.floor(found.length / 2)]! : null, note });
    log(`brittleness ${method}: ${note}`);
  }
  return { rows, setup: { tests: tests.length, ks, features: `PCA-${k}`, lambda: args.lambda } };
}

// ---------------------------------------------------------------------------------------------------------------- MLP

async function runMlp(data: MnistArrays, args: Args): Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }> {
  const backend = await initBackend({ backend: 'wasm' });
  const d: MlpData = {
    xTrain: Float32Array.from(data.xTrain),
    xTest: Float32Array.from(data.xTest),
    yTrain: data.yTrain,
    yTest: data.yTest,
    nTrain: data.nTrain,
    nTest: data.nTest,
  };
  // TRAK ensembles, the ground truth and the noise ceiling (benchmarks/attribution-mlp.ts, cached by content hash).
  const study = await timeStep(args.steps, 'MLP: TRAK study (checkpoints, ground truth, TRAK-N scores, noise ceiling)', async () => ({ source: 'computed' as const, value: await runMlpStudy({
    ...args,
    data: d,
    subsets: args.mlpSubsets,
    models: args.mlpModels,
    config: MLP_TRAK_CONFIG,
    grid: args.mlpGrid,
    gridModels: args.mlpGridModels,
    prepare: args.mlpPrepare,
    noiseSubsets: args.mlpNoiseSubsets,
    cacheDir: 'benchmarks/cache',
    log,
  }) }));
  if (args.mlpPrepare) return { rows: [], setup: {} };
  const { model, epochs, ground: lds } = study;
  const rows: ResultRow[] = [...study.rows];
  const evaluate = (method: string, scores: ScoreMatrix, featurizeSeconds: number, scoreSeconds: number, note?: string) => {
    const r = linearDatamodelingScore(scores, lds);
    const half = (parity: number) => {
      const v = Array.from(r.perTest).filter((x, t) => t % 2 === parity && Number.isFinite(x));
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    rows.push({ model: 'MLP', method, loo: null, lds: half(1), auc: null, featurizeSeconds, scoreSeconds, note: `LDS on the report half (odd test points); all 500: ${r.score.toFixed(3)}${note ? `; ${note}` : ''}` });
    log(`MLP ${method}: LDS report half ${half(1).toFixed(3)}, all ${r.score.toFixed(3)}, featurize ${featurizeSeconds.toFixed(1)} s, score ${scoreSeconds.toFixed(1)} s`);
  };
  const projection = { kind: 'rademacher' as const, inDim: args.mlpProj[0], outDim: args.mlpProj[1], seed: args.seed + 7 };
  const featurizeAll = (m: Model, target: 'loss' | 'margin') => {
    const featurizer = createFeaturizer(m, { target, factorizedProjection: projection, batchSize: 128 });
    try {
      const trainF = featurizer.run({ inputs: d.xTrain, exampleShape: [PIXELS], labels: d.yTrain });
      const testF = featurizer.run({ inputs: d.xTest, exampleShape: [PIXELS], labels: d.yTest });
      return { train: trainF, test: testF };
    } finally {
      featurizer.dispose();
    }
  };
  let start = performance.now();
  const base = await timeStep(args.steps, 'MLP: featurize the final model (loss gradients)', () => ({ value: featurizeAll(model, 'loss'), source: 'computed' }));
  const featurizeSeconds = seconds(start);
  log(`MLP featurize (factorized ${projection.kind} ${projection.inDim}×${projection.outDim} per module → ${base.train.features.dim} dims): ${featurizeSeconds.toFixed(1)} s`);
  const single: Array<[string, () => Preconditioner]> = [
    ['Grad-Dot', () => gradDot()],
    ['DataInf', () => fitDataInf(base.train.features)],
  ];
  if (args.full) single.push(['Grad-Cos', () => gradCos()], ['Fisher (damped 0.1·tr/d, projected)', () => fitFisher(base.train.features)]);
  for (const [name, make] of single) {
    start = performance.now();
    const scores = await timeStep(args.steps, `MLP scores: ${name}`, () => ({ value: denseScores(base.train.features, base.test.features, make()), source: 'computed' }));
    evaluate(name, scores, featurizeSeconds, seconds(start));
  }
  await timeStep(args.steps, `MLP scores: TracInCP (${epochs.length} checkpoints featurized and scored)`, () => {
    // TracInCP over the per-epoch checkpoints, η = the constant learning rate.
    start = performance.now();
    const ckTrain: FeatureMatrix[] = [];
    const ckTest: FeatureMatrix[] = [];
    for (const w of epochs) {
      restoreWeights(model, w);
      const f = featurizeAll(model, 'loss');
      ckTrain.push(f.train.features);
      ckTest.push(f.test.features);
    }
    restoreWeights(model, epochs[epochs.length - 1]!);
    const fz = seconds(start);
    start = performance.now();
    const rates = epochs.map(() => args.mlpLr);
    const scores = denseScores(tracInFeatures(ckTrain, rates), tracInFeatures(ckTest, rates), tracInCP());
    evaluate('TracInCP (per-epoch checkpoints)', scores, fz, seconds(start), `${epochs.length} checkpoints`);
    return { value: undefined, source: 'computed' };
  });
  model.dispose();
  return {
    rows,
    setup: {
      ...study.setup,
      backend: backend.backend,
      features: `single-model methods: loss gradients of every weight, factorized ${projection.kind} projection ${projection.inDim}×${projection.outDim} per module (Grad-Cos and Fisher only with --full)`,
      loo: 'not measured (single-seed MLP leave-one-out effects are below retraining noise)',
    },
  };
}

/**
 * The reported MLP TRAK configuration when the grid does not run: `--mlp-grid`'s choice on the selection half (even test
 * points) of 10 models (2026-11-30: all 6 epoch checkpoints, λ = 0.3·tr/k: 0.459, against 0.449 for epochs 2, 4, 6 and
 * 0.409 for the final epoch alone, each at its best λ); see benchmarks/results/attribution.json → setup.mlp.grid.
 */
const MLP_TRAK_CONFIG: TrakConfig = { name: 'epochs 1, 2, 3, 4, 5, 6, 32×16, margin', epochs: [1, 2, 3, 4, 5, 6], projection: [32, 16], target: 'margin', relativeDamping: [0.3] };

// ---------------------------------------------------------------------------------------------------------------- torch

/**
 * Side by side with PyTorch (Debian's python3-torch, functorch vmap(grad)): Grad-Dot and TracInCP on the MNIST MLP from
 * the same weights and digits, unprojected. Scores must agree (Pearson ≥ 0.999); the time ratio is printed.
 */
async function runTorch(data: MnistArrays, args: Args): Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }> {
  const python = '/usr/bin/python3';
  const probe = () => spawnSync(python, ['-c', 'import torch, functorch'], { encoding: 'utf8' }).status === 0;
  if (!probe()) {
    log('python3-torch missing: trying apt-get install -y python3-torch');
    spawnSync('apt-get', ['install', '-y', 'python3-torch'], { stdio: 'inherit' });
    if (!probe()) {
      log('PyTorch comparison skipped: /usr/bin/python3 cannot import torch and functorch (apt-get install -y python3-torch failed).');
      return { rows: [], setup: { skipped: 'python3-torch unavailable' } };
    }
  }
  await initBackend({ backend: 'wasm' });
  const nTrain = Math.min(500, data.nTrain);
  const nTest = Math.min(100, data.nTest);
  const d: MlpData = {
    xTrain: Float32Array.from(data.xTrain),
    xTest: Float32Array.from(data.xTest.subarray(0, nTest * PIXELS)),
    yTrain: data.yTrain,
    yTest: data.yTest.subarray(0, nTest),
    nTrain: data.nTrain,
    nTest,
  };
  const all = Uint32Array.from({ length: d.nTrain }, (_, i) => i);
  // Two epochs on all training digits give the two TracIn checkpoints; scores are taken on the first nTrain rows.
  const { model, epochs } = await trainMlp(d, all, { ...args, mlpEpochs: 2 }, args.seed + 200, d.yTrain, true);
  const dir = mkdtempSync(join(tmpdir(), 'provenant-torch-'));
  const xSub = d.xTrain.subarray(0, nTrain * PIXELS);
  const ySub = Int32Array.from(d.yTrain.subarray(0, nTrain));
  writeFileSync(join(dir, 'x_train.f32'), Buffer.from(xSub.buffer, xSub.byteOffset, xSub.byteLength));
  writeFileSync(join(dir, 'x_test.f32'), Buffer.from(d.xTest.buffer, d.xTest.byteOffset, d.xTest.byteLength));
  writeFileSync(join(dir, 'y_train.i32'), Buffer.from(ySub.buffer));
  writeFileSync(join(dir, 'y_test.i32'), Buffer.from(Int32Array.from(d.yTest).buffer));
  epochs.forEach((weights, c) => {
    for (const [name, values] of weights) writeFileSync(join(dir, `ck${c}_${name}.f32`), Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  });
  const lr = args.mlpLr;
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ nTrain, nTest, hidden: args.mlpHidden, checkpoints: epochs.map(() => ({ lr })) }));

  // Ours: unprojected per-example gradients (E1's featurize) and dense products, per checkpoint.
  let featurizeSeconds = 0;
  let scoreSeconds = 0;
  const ckTrain: FeatureMatrix[] = [];
  const ckTest: FeatureMatrix[] = [];
  for (const weights of epochs) {
    restoreWeights(model, weights);
    let start = performance.now();
    const featurizer = createFeaturizer(model, { target: 'loss', batchSize: 100 });
    const train = featurizer.run({ inputs: xSub, exampleShape: [PIXELS], labels: ySub }).features;
    const test = featurizer.run({ inputs: d.xTest, exampleShape: [PIXELS], labels: d.yTest }).features;
    featurizer.dispose();
    featurizeSeconds += seconds(start);
    ckTrain.push(train);
    ckTest.push(test);
    start = performance.now();
    denseScores(train, test, gradDot());
    scoreSeconds += seconds(start);
  }
  const oursGradDot = denseScores(ckTrain[ckTrain.length - 1]!, ckTest[ckTest.length - 1]!, gradDot());
  const rates = epochs.map(() => lr);
  const oursTracIn = denseScores(tracInFeatures(ckTrain, rates), tracInFeatures(ckTest, rates), tracInCP());
  model.dispose();

  const script = join(dirname(new URL(import.meta.url).pathname), 'attribution-torch.py');
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const run = spawnSync(python, [script, dir], { encoding: 'utf8', env });
  if (run.status !== 0) throw new Error(`PyTorch side failed: ${run.stderr}`);
  const times = JSON.parse(readFileSync(join(dir, 'torch_times.json'), 'utf8')) as { featurizeSeconds: number; scoreSeconds: number; torch: string; blas: string };
  const read = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(dir, name))).buffer);
  const torchGradDot = read('torch_graddot.f32');
  const torchTracIn = read('torch_tracin.f32');
  rmSync(dir, { recursive: true, force: true });
  const rows: ResultRow[] = [];
  for (const [method, ours, theirs] of [
    ['Grad-Dot', oursGradDot.values, torchGradDot],
    ['TracInCP (2 epoch checkpoints)', oursTracIn.values, torchTracIn],
  ] as const) {
    const r = pearsonCorrelation(ours, theirs);
    let maxRel = 0;
    let maxAbs = 0;
    for (let q = 0; q < ours.length; q++) {
      maxRel = Math.max(maxRel, Math.abs(ours[q]! - theirs[q]!));
      maxAbs = Math.max(maxAbs, Math.abs(theirs[q]!));
    }
    const share = method === 'Grad-Dot' ? 1 / epochs.length : 1;
    const oursSeconds = (featurizeSeconds + scoreSeconds) * share;
    const torchSeconds = (times.featurizeSeconds + times.scoreSeconds) * share;
    const split = `featurize ours ${(featurizeSeconds * share).toFixed(2)} s / torch ${(times.featurizeSeconds * share).toFixed(2)} s, score ours ${(scoreSeconds * share).toFixed(2)} s / torch ${(times.scoreSeconds * share).toFixed(2)} s`;
    rows.push({
      model: 'MLP (PyTorch check)',
      method,
      loo: null,
      lds: null,
      auc: null,
      featurizeSeconds: method === 'Grad-Dot' ? featurizeSeconds / epochs.length : featurizeSeconds,
      scoreSeconds: method === 'Grad-Dot' ? scoreSeconds / epochs.length : scoreSeconds,
      pearsonWithTorch: r,
      torchSeconds,
      note: `${nTrain}×${nTest} scores, unprojected (${ckTrain[0]!.dim} params); max |Δ|/max|τ| ${(maxRel / maxAbs).toExponential(1)}; ours/torch time ${(oursSeconds / torchSeconds).toFixed(2)}× (${split}; torch BLAS: ${times.blas})`,
    });
    log(`PyTorch check ${method}: Pearson ${r.toFixed(6)}, ours ${oursSeconds.toFixed(2)} s vs torch ${torchSeconds.toFixed(2)} s (1 thread) → ${(oursSeconds / torchSeconds).toFixed(2)}×; ${split}`);
  }
  return { rows, setup: { torch: times.torch, blas: times.blas, threads: 1, nTrain, nTest, checkpoints: epochs.length, note: 'same weights and digits; functorch vmap(grad)' } };
}

// ---------------------------------------------------------------------------------------------------------------- report

/** What this run did and how long each step took, for the time table and setup.run of the JSON. */
function runRecord(args: Args, wallSeconds: number) {
  const caching = args.full
    ? '--full: retrains and scores recomputed (caches ignored)'
    : args.cachedScores
      ? 'cached retrains reused; --cached-scores: score matrices read from the cache where present (opt-in)'
      : 'cached retrains reused; every score recomputed';
  const steps = foldSteps(args.steps.entries).map((e) => ({ ...e, seconds: Number(e.seconds.toFixed(2)) }));
  return { date: new Date().toISOString(), parts: [...args.only].join(', '), caching, wallSeconds: Number(wallSeconds.toFixed(1)), node: process.version, loadAverage: loadavg()[0]!, steps };
}

/** The per-step time table: step (indented under the step it ran inside; ×N for N identical steps in a row), seconds, cached or computed. */
function printSteps(steps: Array<StepTime & { count: number }>): void {
  if (steps.length === 0) return;
  const lines = steps.map((e) => [`${'  '.repeat(e.depth)}${e.step}${e.count > 1 ? ` ×${e.count}` : ''}`, e.seconds.toFixed(1), e.source]);
  const header = ['step (indented: part of the step above)', 'seconds', 'source'];
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const render = (cells: string[]) => cells.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  console.log(`\n${render(header)}`);
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(render(l));
  const top = steps.filter((e) => e.depth === 0);
  const sum = (source: StepTime['source']) => top.filter((e) => e.source === source).reduce((a, e) => a + e.seconds, 0);
  console.log(`top-level steps: computed ${sum('computed').toFixed(0)} s, read from the cache ${sum('cached').toFixed(0)} s`);
}

/**
 * The published anchors, each with the set-up it was measured on (dattri: Deng et al. 2024, "dattri: A Library for
 * Efficient Data Attribution", MNIST-10 benchmark — 5,000 training / 500 test digits, raw 784 pixels, models trained by
 * SGD without the exact-optimum, every-parameter L2 of our reference). Keyed by method; shown beside both LR tables.
 */
const ANCHOR_SETUP = 'dattri MNIST-10, raw pixels, 5,000/500, SGD-trained';
const ANCHORS: Record<string, string> = {
  'LR|IF (explicit H⁻¹, float64)': `LOO ≈ 0.88, LDS ≈ 0.80 (${ANCHOR_SETUP} LR, IF explicit)`,
  'LR|IF (CG on exact H)': `LOO ≈ 0.88, LDS ≈ 0.80 (${ANCHOR_SETUP} LR, IF-CG)`,
  'LR|Grad-Dot': `LDS ≈ 0.33 (${ANCHOR_SETUP} LR, Grad-Dot/TracIn)`,
  'LR|TracInCP (Newton-path checkpoints)': `LDS ≈ 0.33; mislabel AUC ≈ 0.98 (${ANCHOR_SETUP} LR, TracIn over SGD checkpoints)`,
  'LR|TRAK-10': `LDS ≈ 0.64 (${ANCHOR_SETUP} LR, TRAK-10)`,
  'LR|TRAK-50': `LDS ≈ 0.68 (${ANCHOR_SETUP} LR, TRAK-50)`,
  'MLP|IF (CG)': `LDS ≈ 0.26 (${ANCHOR_SETUP} MLP)`,
  'MLP|TRAK-50': `LDS ≈ 0.45 (${ANCHOR_SETUP} MLP, TRAK-50)`,
};

/** LR rows of either table share the LR anchors. */
function anchorOf(r: ResultRow): string {
  const family = r.model.startsWith('LR (brittle') ? '' : r.model.startsWith('LR') ? 'LR' : r.model.startsWith('MLP') ? 'MLP' : '';
  return ANCHORS[`${family}|${r.method}`] ?? '';
}

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits);
}

function printTable(rows: ResultRow[]): void {
  const header = ['model', 'method', 'LOO ρ', 'LOO r', 'LDS', 'AUC', 'feat s', 'score s', 'other', 'anchor (its own set-up)'];
  const lines = rows.map((r) => [
    r.model,
    r.method,
    fmt(r.loo),
    fmt(r.looPearson),
    fmt(r.lds),
    fmt(r.auc),
    fmt(r.featurizeSeconds, 1),
    fmt(r.scoreSeconds, 1),
    r.pearsonWithTorch !== undefined
      ? `r vs torch ${r.pearsonWithTorch.toFixed(6)}, torch ${fmt(r.torchSeconds, 1)} s`
      : r.brittleMedianK !== undefined
        ? `flipped by k: ${(r.note ?? '').split('flipped by k: ')[1]?.split(';')[0] ?? '—'}`
        : '',
    anchorOf(r),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const render = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(render(l));
}

/** The main table: raw pixels (benchmarks/attribution-lr-raw.ts); every finished row is written at once (long runs). */
async function runRaw(data: MnistArrays, args: Args): Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }> {
  const model = 'LR (raw pixels)';
  const partial: ResultRow[] = [];
  return runRawLogisticRegression({
    xTrain: data.xTrain,
    yTrain: data.yTrain,
    xTest: data.xTest,
    yTest: data.yTest,
    lambda: args.rawLambda,
    subsets: args.rawSubsets,
    looRows: args.rawLooRows,
    trakModels: args.rawTrakModels,
    trakProjection: args.trakProjection,
    cgTestPoints: args.cgTestPoints,
    lissaTests: args.lissaTests,
    lissaDepth: args.lissaDepth,
    lissaBatch: args.lissaBatch,
    seed: args.seed,
    full: args.full,
    reuseScores: args.cachedScores,
    steps: args.steps,
    cacheDir: 'benchmarks/cache',
    model,
    log,
    onRows(done) {
      partial.splice(0, partial.length, ...(done as ResultRow[]));
      const latest = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as { rows: ResultRow[]; setup: Record<string, unknown> }) : { rows: [], setup: {} };
      mkdirSync(dirname(args.out), { recursive: true });
      const rows = [...latest.rows.filter((r) => r.model !== model), ...partial];
      writeFileSync(args.out, `${JSON.stringify({ benchmark: 'attribution', rows, setup: latest.setup, anchors: ANCHORS, partial: true }, null, 2)}\n`);
    },
  });
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const args = parseArgs(process.argv.slice(2));
  const needsData = ['lr-raw', 'lr', 'mlp', 'torch', 'brittle'].some((k) => args.only.has(k));
  const data = needsData ? await loadMnist(args) : null;
  if (data) log(`MNIST: ${data.nTrain} train, ${data.nTest} test (${data.source})`);
  const previous = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as { rows: ResultRow[]; setup: Record<string, unknown> }) : { rows: [], setup: {} };
  const parts: Array<[string, string, (d: MnistArrays, a: Args) => Promise<{ rows: ResultRow[]; setup: Record<string, unknown> }>]> = [
    ['lr-raw', 'LR (raw pixels)', runRaw],
    ['lr', 'LR (PCA)', runLogisticRegression],
    ['mlp', 'MLP', runMlp],
    ['torch', 'MLP (PyTorch check)', runTorch],
    ['brittle', 'LR (brittleness)', runBrittleness],
  ];
  let rows = previous.rows;
  const setup: Record<string, unknown> = { ...previous.setup, ...(data ? { data: data.source, seed: args.seed } : {}) };
  for (const [key, model, run] of parts) {
    if (!args.only.has(key)) continue;
    const start = performance.now();
    const result = await run(data!, args);
    // Re-read just before writing: parts may run concurrently in separate processes.
    const latest = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as typeof previous) : { rows: [], setup: {} };
    rows = [...latest.rows.filter((r) => r.model !== model), ...result.rows];
    Object.assign(setup, latest.setup, { data: data!.source, seed: args.seed });
    setup[key] = { ...result.setup, wallSeconds: seconds(start), date: new Date().toISOString() };
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify({ benchmark: 'attribution', rows, setup, anchors: ANCHORS }, null, 2)}\n`);
    log(`${model} done in ${seconds(start).toFixed(0)} s; wrote ${args.out}`);
  }
  if (args.merge) {
    const other = JSON.parse(readFileSync(args.merge, 'utf8')) as typeof previous;
    const latest = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as typeof previous) : { rows: [], setup: {} };
    const models = new Set(other.rows.map((r) => r.model));
    rows = [...latest.rows.filter((r) => !models.has(r.model)), ...other.rows];
    const merged = { ...latest.setup, ...Object.fromEntries(Object.entries(other.setup).filter(([k]) => !['data', 'seed'].includes(k))) };
    writeFileSync(args.out, `${JSON.stringify({ benchmark: 'attribution', rows, setup: merged, anchors: ANCHORS }, null, 2)}\n`);
    log(`merged ${other.rows.length} rows of ${args.merge} into ${args.out}`);
  }
  printTable(rows);
  const run = runRecord(args, seconds(wallStart));
  printSteps(run.steps);
  {
    const latest = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as typeof previous & { anchors?: unknown }) : null;
    if (latest && !args.mlpPrepare) writeFileSync(args.out, `${JSON.stringify({ ...latest, setup: { ...latest.setup, run } }, null, 2)}\n`);
  }
  const final = existsSync(args.out) ? (JSON.parse(readFileSync(args.out, 'utf8')) as typeof previous) : { rows: [], setup: {} };
  const raw = final.setup['lr-raw'] as { solverChoice?: { solver: string; reason: string } } | undefined;
  if (raw?.solverChoice) console.log(`\nLR (raw pixels) influence solver — chooseConvexSolver: ${raw.solverChoice.solver}; ${raw.solverChoice.reason}`);
  console.log(`\nWall time ${run.wallSeconds.toFixed(0)} s for parts ${run.parts}; ${run.caching}; Node ${process.version}; measured on a shared 2-core machine under load (load average ${run.loadAverage.toFixed(1)} at the end): an upper bound.`);
}

await main();
