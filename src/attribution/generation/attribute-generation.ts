/**
 * Proof of Attribution for generated text: which training rows — and so which contributors and Datanets — an answer of a
 * causal LM came from, by two paths (OpenLedger's published design: influence for small and LoRA-tuned models, verbatim
 * span matching for large ones), priced and paid per answer.
 *
 * Influence: τ(i, answer) = ⟨query(g_answer), train(g_i)⟩ with g the LoGra-projected gradient of the summed completion
 * loss (./causal-featurize.ts) and any preconditioner of ../precondition (Grad-Dot by default; DataInf, Kwon et al. 2024,
 * is the one derived for LoRA). Sign as ../conventions.ts: τ > 0 means row i made the answer more likely (removing it would
 * raise the answer's loss). Contributor and Datanet figures are sums of τ over their rows (first-order group influence).
 * Spans: every maximal verbatim span of the answer in the training rows (./span-index.ts).
 */
import { ProvenantError, resolve, type Hex, type ParamTable } from '../../core/index.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { featureModelHash, storeModelHash, type FeatureStore, type FeatureStoreManifest } from '../feature-store.js';
import { gradDot } from '../precondition/identity.js';
import type { Preconditioner } from '../precondition/preconditioner.js';
import { ATTRIBUTION_INDEX_FIELDS, indexKeys } from '../attribute-query.js';
import { createScoreIndex, type ScoreIndex } from '../score-index.js';
import { causalOptionsFromInfo, createCausalFeaturizer, isCausalInfo, type CausalFeatures, type CausalFeaturizeInfo, type CausalFeaturizer } from './causal-featurize.js';
import type { CausalLmModel, TextTokenizer } from './causal-lm.js';
import { resolveFeeModel, splitGenerationFee, type FeeModel, type GenerationFeeSplit } from './fee-model.js';
import { COMPLETION_DEFAULTS, COMPLETION_PARAMS, generateCompletion, type CompletionOptions } from './generate.js';
import { SPAN_TRACE_DEFAULTS, TRACE_SPANS_PARAMS, traceSpans, type SpanIndex, type TracedSpan, type TraceSpansOptions } from './span-index.js';

export interface GenerationIndexOptions {
  /** Default Grad-Dot. Fit on `store.features` (e.g. `fitDataInf(store.features)`); the caller disposes it. */
  preconditioner?: Preconditioner;
  /** Training rows per scoring tile; default 8,192. */
  tileRows?: number;
  /** Skip the check that `model` is the model the features were computed with. Default false. */
  skipModelCheck?: boolean;
  /** Datanet of each row (per-Datanet shares); default the manifest's `versions`, else one Datanet `default`. */
  datanets?: readonly string[];
  /** The span index over the same rows (same order), for verbatim tracing. */
  spans?: SpanIndex;
}

/** The options of {@link createGenerationIndex}: a misspelt name is refused with the nearest field, never ignored. */
export const GENERATION_INDEX_PARAMS: ParamTable = Object.freeze({
  name: 'createGenerationIndex',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...ATTRIBUTION_INDEX_FIELDS,
    { name: 'datanets', default: null, meaning: 'Datanet of each row (null: the manifest\'s versions, else one Datanet "default").' },
    { name: 'spans', default: null, meaning: 'The span index over the same rows, in the same order, for verbatim tracing.' },
  ],
});

/** Cached causal features made ready for answers. Dispose it. */
export interface GenerationIndex {
  readonly store: FeatureStore;
  readonly info: CausalFeaturizeInfo;
  readonly scores: ScoreIndex;
  readonly featurizer: CausalFeaturizer;
  readonly contributorKeys: string[];
  readonly contributorOf: Int32Array;
  readonly datanetKeys: string[];
  readonly datanetOf: Int32Array;
  readonly spans: SpanIndex | null;
  readonly modelHash: Hex;
  dispose(): void;
}

/** The row metadata of {@link inMemoryFeatureStore}: a misspelt name is refused with the nearest field, never ignored. */
const IN_MEMORY_STORE_PARAMS: ParamTable = Object.freeze({
  name: 'inMemoryFeatureStore',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'rowIds', default: null, meaning: 'Id of each row (required).', aliases: ['row_ids'] },
    { name: 'contributors', default: null, meaning: 'Contributor of each row (required).' },
    { name: 'datanets', default: null, meaning: 'Datanet of each row (null: none recorded).', aliases: ['versions'] },
    { name: 'snapshotRoot', default: null, meaning: 'Merkle root of the Datanet snapshot the rows came from (null: none).' },
  ],
});

/**
 * A feature store held in memory (no files) from causal features, e.g. for a pipeline that featurizes and serves in one
 * process; its manifest records the model hash, rows (`rowIds`, `contributors`, optional `datanets`) and the scored
 * token count per row as `labels`. {@link writeFeatureStore} writes the same features to disk.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when `rowIds`, `contributors` or `datanets` do not have one entry
 *   per feature row.
 * @example
 * ```ts
 * import { createGenerationIndex, featurizeCausal, inMemoryFeatureStore, type CausalLmModel } from 'provenant/attribution';
 *
 * declare const model: CausalLmModel;
 * declare const tokenized: { ids: number[] }[]; // rows.map((text) => ({ ids: tokenizer.encode(text) }))
 * const store = inMemoryFeatureStore(model, featurizeCausal(model, tokenized), { rowIds: ['r0', 'r1'], contributors: ['alice', 'bob'] });
 * const index = createGenerationIndex(model, store);
 * ```
 */
export function inMemoryFeatureStore(
  model: CausalLmModel,
  features: CausalFeatures,
  meta: { rowIds: readonly string[]; contributors: readonly string[]; datanets?: readonly string[]; snapshotRoot?: string | null },
): FeatureStore {
  resolve(IN_MEMORY_STORE_PARAMS, meta);
  const rows = features.features.rows;
  if (meta.rowIds.length !== rows || meta.contributors.length !== rows || (meta.datanets && meta.datanets.length !== rows)) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${rows} feature rows but ${meta.rowIds.length} row ids and ${meta.contributors.length} contributors.`);
  }
  const manifest: FeatureStoreManifest = {
    format: 'provenant.feature-store.v1',
    modelHash: featureModelHash(model),
    snapshotRoot: meta.snapshotRoot ?? null,
    info: features.info,
    rows,
    dim: features.features.dim,
    blocks: features.features.blocks,
    dtype: 'float32',
    byteOrder: 'little-endian',
    shards: [],
    rowIds: [...meta.rowIds],
    contributors: [...meta.contributors],
    ...(meta.datanets ? { versions: [...meta.datanets] } : {}),
    labels: Array.from(features.tokens),
  };
  return { manifest, features: features.features, loss: features.loss, labelProbability: features.labelProbability };
}

/**
 * Prepares a causal feature store for {@link attributeGeneration}: checks the model hash, rebuilds the featurizer the
 * store was made with (parameters, windows, seeded LoGra projection) and uploads the preconditioned training side.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link GENERATION_INDEX_PARAMS}); `ATTRIBUTION_FEATURE_STORE_INVALID` for classifier features;
 *   `ATTRIBUTION_SHAPE_MISMATCH` when `datanets` or `spans` do not match the store's rows.
 * @example
 * ```ts
 * import { buildSpanIndex, createGenerationIndex, featurizeCausal, inMemoryFeatureStore, type CausalLmModel, type CausalExample } from 'provenant/attribution';
 * declare const model: CausalLmModel;
 * declare const rows: readonly CausalExample[];
 * declare const rowIds: readonly string[];
 * declare const contributors: readonly string[];
 * declare const ids: readonly ArrayLike<number>[];
 * const store = inMemoryFeatureStore(model, featurizeCausal(model, rows), { rowIds, contributors });
 * const index = createGenerationIndex(model, store, { spans: buildSpanIndex({ ids, rowIds, contributors }) });
 * ```
 */
export function createGenerationIndex(model: CausalLmModel, store: FeatureStore, options: GenerationIndexOptions = {}): GenerationIndex {
  resolve(GENERATION_INDEX_PARAMS, options);
  const info = store.manifest.info;
  if (!isCausalInfo(info)) {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', 'This feature store holds classifier features; generated text needs causal-LM features (featurizeCausal).');
  }
  const modelHash = storeModelHash(model, store, options.skipModelCheck);
  const n = store.manifest.rows;
  const datanets = options.datanets ?? store.manifest.versions ?? store.manifest.rowIds.map(() => 'default');
  if (datanets.length !== n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${datanets.length} Datanet names for ${n} rows.`);
  if (options.spans && (options.spans.rowIds.length !== n || options.spans.rowIds.some((id, i) => id !== store.manifest.rowIds[i]))) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', 'The span index must hold the feature store\'s rows in the same order (row ids differ).');
  }
  const featurizer = createCausalFeaturizer(model, causalOptionsFromInfo(info));
  if (featurizer.dim !== store.features.dim) {
    featurizer.dispose();
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `The model featurizes to ${featurizer.dim} columns, the store holds ${store.features.dim}.`);
  }
  let scores: ScoreIndex;
  try {
    scores = createScoreIndex(store.features, { preconditioner: options.preconditioner ?? gradDot(), tileRows: options.tileRows });
  } catch (error) {
    featurizer.dispose();
    throw error;
  }
  const c = indexKeys(store.manifest.contributors);
  const d = indexKeys(datanets);
  return {
    store,
    info,
    scores,
    featurizer,
    contributorKeys: c.keys,
    contributorOf: c.of,
    datanetKeys: d.keys,
    datanetOf: d.of,
    spans: options.spans ?? null,
    modelHash,
    dispose() {
      scores.dispose();
      featurizer.dispose();
    },
  };
}

export interface AttributeGenerationOptions {
  index: GenerationIndex;
  tokenizer: TextTokenizer;
  /** Attribute this completion instead of generating one. */
  completion?: string;
  /** How to generate when no completion is given; default greedy, 64 tokens. */
  generation?: CompletionOptions;
  /** Proponents and opponents to return; default 10. */
  topK?: number;
  /** Also attribute each completion token on its own (one gradient per token). Default false. */
  perToken?: boolean;
  /** Row ids excluded from payment (e.g. flagged as likely mislabelled): their influence is left out of every share. */
  excludeRows?: readonly string[];
  /** Fee parameters (defaults: FEE_MODEL_FIELDS). */
  feeModel?: Partial<FeeModel>;
  /** Span tracing options, or false to skip it. Default { minLength: 8 }. */
  spans?: TraceSpansOptions | false;
}

/**
 * The options of {@link attributeGeneration}, with `generation` ({@link COMPLETION_PARAMS}) and `spans`
 * ({@link TRACE_SPANS_PARAMS}) as nested groups: a misspelt name at either level (`topk`, `generation.maxNewToken`) is
 * refused with the nearest field. `feeModel` is checked by `resolveFeeModel`.
 */
export const ATTRIBUTE_GENERATION_PARAMS: ParamTable = Object.freeze({
  name: 'attributeGeneration',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'completion', default: null, meaning: 'Attribute this completion instead of generating one.' },
    { name: 'generation', group: COMPLETION_PARAMS, optional: true, meaning: 'How to generate when no completion is given (default greedy, 64 tokens).' },
    { name: 'topK', default: 10, meaning: 'Proponents and opponents to return.', aliases: ['top_k'] },
    { name: 'perToken', default: false, meaning: 'Also attribute each completion token on its own (one gradient per token).', aliases: ['per_token'] },
    { name: 'excludeRows', default: null, meaning: 'Row ids excluded from payment (listed, never paid).', aliases: ['exclude_rows'] },
    { name: 'feeModel', default: null, meaning: 'Fee parameters (FEE_MODEL_PARAMS; null: its defaults).', aliases: ['fee_model'] },
    { name: 'spans', group: TRACE_SPANS_PARAMS, optional: true, meaning: 'Span tracing options, or false to skip it (default { minLength: 8 }).' },
  ],
  inputs: ['index', 'tokenizer'],
});

export interface GenerationRow {
  index: number;
  rowId: string;
  contributor: string;
  datanet: string;
  /** τ(row, answer); see ../conventions.ts. */
  score: number;
  /** True when the row is in `excludeRows` (listed, never paid). */
  excluded: boolean;
}

export interface TokenAttribution {
  /** Position in the completion, token id and its text. */
  position: number;
  token: number;
  text: string;
  /** −log p of this token given everything before it. */
  loss: number;
  /** The row with the highest τ for this token alone, if any is positive. */
  topRow: GenerationRow | null;
  /** Net influence per contributor on this token (null-prototype record). */
  contributorScores: Record<string, number>;
}

export interface GenerationAttribution {
  prompt: string;
  completion: string;
  promptTokens: number;
  completionTokens: number;
  /** Σ log p(completion token | everything before), natural log. */
  logLikelihood: number;
  proponents: GenerationRow[];
  opponents: GenerationRow[];
  /** Net influence (Σ τ over the contributor's non-excluded rows); null-prototype records keyed by user ids. */
  contributorScores: Record<string, number>;
  /** Positive scores normalised to sum to 1, negative ones kept negative; null when none is positive. */
  contributorShares: Record<string, number> | null;
  datanetScores: Record<string, number>;
  datanetShares: Record<string, number> | null;
  perToken: TokenAttribution[] | null;
  spans: TracedSpan[] | null;
  /** Completion tokens inside at least one traced span. */
  spanCoveredTokens: number;
  fee: GenerationFeeSplit;
  /** The method and every parameter used, for the audit record. */
  method: {
    influence: string;
    preconditionerParams: Record<string, unknown>;
    featurize: CausalFeaturizeInfo;
    reduction: 'sum';
    topK: number;
    perToken: boolean;
    generation: (CompletionOptions & { maxNewTokens: number; temperature: number; seed: number }) | 'given';
    spans: { minLength: number; maxOccurrences: number } | null;
    excludedRows: string[];
  };
  modelHash: Hex;
}

/**
 * Generates a completion of `prompt` (or takes `options.completion`) and attributes it: top proponent and opponent rows,
 * contributor and Datanet shares, per-token attribution on request, traced verbatim spans, and the fee split. Never throws
 * because no contributor helped: the fee split then says `paid: false` with its reason.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name at any level (with the nearest one; see
 *   {@link ATTRIBUTE_GENERATION_PARAMS}), a bad `topK`, a prompt that is not a string or `excludeRows` naming unknown rows.
 * @example
 * ```ts
 * import { attributeGeneration, type CausalLmModel, type GenerationIndex } from 'provenant/attribution';
 * import { createCharTokenizer } from 'provenant';
 * declare const model: CausalLmModel;
 * declare const index: GenerationIndex;
 * const r = attributeGeneration(model, 'The capital of Zorbania is', { index, tokenizer: createCharTokenizer(), topK: 5 });
 * r.completion; r.proponents[0].contributor; r.spans?.[0]?.rows[0].rowId; r.fee.contributorAmounts;
 * ```
 */
export function attributeGeneration(model: CausalLmModel, prompt: string, options: AttributeGenerationOptions): GenerationAttribution {
  resolve(ATTRIBUTE_GENERATION_PARAMS, options);
  const { index, tokenizer } = options;
  const topK = options.topK ?? 10;
  if (!Number.isInteger(topK) || topK < 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `topK must be a non-negative integer, got ${topK}.`);
  if (typeof prompt !== 'string') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The prompt must be a string.');
  const feeModel = resolveFeeModel(options.feeModel);
  const promptIds = tokenizer.encode(prompt);
  let completionIds: number[];
  let generation: GenerationAttribution['method']['generation'] = 'given';
  if (options.completion !== undefined) completionIds = tokenizer.encode(options.completion);
  else {
    const banned = [(tokenizer as { padId?: number }).padId, (tokenizer as { unkId?: number }).unkId].filter((x): x is number => typeof x === 'number');
    const resolved = { ...COMPLETION_DEFAULTS, bannedIds: banned, ...options.generation };
    generation = resolved;
    completionIds = generateCompletion(model, promptIds.length ? promptIds : tokenizer.encode(' '), resolved);
  }
  const completion = tokenizer.decode(completionIds);
  const n = index.store.manifest.rows;
  const rowIds = index.store.manifest.rowIds;

  // Groups: contributor × Datanet, and one extra group for excluded rows (scored, never counted).
  const excluded = new Set(options.excludeRows ?? []);
  const known = excluded.size > 0 ? new Set(rowIds) : null;
  const unknown = [...excluded].filter((id) => !known!.has(id));
  if (unknown.length) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `excludeRows names rows not in the index: ${unknown.slice(0, 5).join(', ')}.`, { data: { rows: unknown } });
  const D = index.datanetKeys.length;
  const G = index.contributorKeys.length * D;
  const groupOf = new Int32Array(n);
  const isExcluded = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    isExcluded[i] = excluded.has(rowIds[i]!) ? 1 : 0;
    groupOf[i] = isExcluded[i] ? G : index.contributorOf[i]! * D + index.datanetOf[i]!;
  }

  // One featurization of the whole answer (+ one per token on request), one tiled pass over the cached rows.
  const examples = [{ ids: [...promptIds, ...completionIds], promptLength: promptIds.length }];
  if (options.perToken) for (let k = 0; k < completionIds.length; k++) examples.push({ ids: [...promptIds, ...completionIds.slice(0, k + 1)], promptLength: promptIds.length + k });
  const f = index.featurizer.run(examples);
  const queries: FeatureMatrix = f.features;
  const { topK: tops, groups } = index.scores.query(queries, topK, groupOf, G + 1);
  const row = (r: { index: number; score: number }): GenerationRow => ({
    index: r.index,
    rowId: rowIds[r.index]!,
    contributor: index.store.manifest.contributors[r.index]!,
    datanet: index.datanetKeys[index.datanetOf[r.index]!]!,
    score: r.score,
    excluded: isExcluded[r.index] === 1,
  });
  const figures = (t: number) => {
    const cs = nullRecord(), ds = nullRecord();
    index.contributorKeys.forEach((k) => (cs[k] = 0));
    index.datanetKeys.forEach((k) => (ds[k] = 0));
    for (let g = 0; g < G; g++) {
      const v = groups!.sums[t * (G + 1) + g]!;
      cs[index.contributorKeys[Math.floor(g / D)]!]! += v;
      ds[index.datanetKeys[g % D]!]! += v;
    }
    return { cs, ds };
  };
  const { cs: contributorScores, ds: datanetScores } = figures(0);
  const answerLoss = f.loss[0]! * f.tokens[0]!;
  const perToken: TokenAttribution[] | null = options.perToken
    ? completionIds.map((token, k) => {
        const best = tops[k + 1]!.proponents[0];
        return {
          position: k,
          token,
          text: tokenizer.decode([token]),
          loss: f.loss[k + 1]! * f.tokens[k + 1]!,
          topRow: best ? row(best) : null,
          contributorScores: figures(k + 1).cs,
        };
      })
    : null;
  const spanOptions = options.spans === false || !index.spans ? null : { minLength: SPAN_TRACE_DEFAULTS.minLength, maxOccurrences: SPAN_TRACE_DEFAULTS.maxOccurrences, ...options.spans };
  const trace = spanOptions ? traceSpans(index.spans!, completionIds, spanOptions) : null;
  return {
    prompt,
    completion,
    promptTokens: promptIds.length,
    completionTokens: completionIds.length,
    logLikelihood: -answerLoss,
    proponents: tops[0]!.proponents.map(row),
    opponents: tops[0]!.opponents.map(row),
    contributorScores,
    contributorShares: shares(contributorScores),
    datanetScores,
    datanetShares: shares(datanetScores),
    perToken,
    spans: trace ? trace.spans : null,
    spanCoveredTokens: trace ? trace.coveredTokens : 0,
    fee: splitGenerationFee(feeModel, { inputTokens: promptIds.length, outputTokens: completionIds.length, contributorScores: new Map(Object.entries(contributorScores)) }),
    method: {
      influence: index.scores.preconditioner.method,
      preconditionerParams: index.scores.preconditioner.params,
      featurize: index.info,
      reduction: 'sum',
      topK,
      perToken: options.perToken ?? false,
      generation,
      spans: spanOptions,
      excludedRows: [...excluded].sort(),
    },
    modelHash: index.modelHash,
  };
}

function nullRecord(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/** Positive values normalised to sum to 1 (negative ones kept, scaled alike); null when none is positive. */
function shares(values: Record<string, number>): Record<string, number> | null {
  let positive = 0;
  for (const v of Object.values(values)) if (v > 0) positive += v;
  if (!(positive > 0) || !Number.isFinite(positive)) return null;
  const out = nullRecord();
  for (const [k, v] of Object.entries(values)) out[k] = v / positive;
  return out;
}

