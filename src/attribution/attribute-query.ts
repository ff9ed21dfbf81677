/**
 * Proof of Attribution at inference time: for a paid query, the prediction, the training rows that most supported and
 * most opposed it, per-contributor shares and the exact fee split — from the cached feature store, without touching
 * the training set. One forward and one batched backward pass per query batch (the prediction comes from the same
 * forward pass), then a tiled product against the cached
 * (preconditioned) training features.
 *
 * The query's gradient is taken at the model's own predicted class (no label exists at inference): τ(i, q) > 0 means
 * row i supports the prediction (removing it would raise the loss of the predicted class; ./conventions.ts).
 */
import { ProvenantError, describeValue, dict, resolve, type Hex, type ParamField, type ParamTable } from '../core/index.js';
import type { Model } from '../finetune/index.js';
import { contributorShares, type ScoreReduction } from './aggregate.js';
import { storeModelHash, type FeatureStore } from './feature-store.js';
import { createFeaturizer, type Featurizer } from './featurize.js';
import { logitGradients } from './per-example-gradients.js';
import { gradDot } from './precondition/identity.js';
import type { Preconditioner } from './precondition/preconditioner.js';
import { splitRewardDetailed, type RewardSplit } from './reward-split.js';
import { SCORE_INDEX_PARAMS, createScoreIndex, type ScoreIndex } from './score-index.js';

export interface AttributionIndexOptions {
  /**
   * Default Grad-Dot. Fit it on `store.features` (e.g. `fitDataInf(store.features)`). The caller owns it: call its
   * `dispose?.()` when done (the index does not).
   */
  preconditioner?: Preconditioner;
  /** Training rows per scoring tile; default 8,192. */
  tileRows?: number;
  /** Skip the check that `model` is the model the store was computed with. Default false. */
  skipModelCheck?: boolean;
  /** Examples per backward pass when featurizing query batches; default 64. */
  batchSize?: number;
}

/** The fields every attribution index shares (classification and generation): the score index's, and the model check. */
export const ATTRIBUTION_INDEX_FIELDS: readonly ParamField[] = Object.freeze([
  ...SCORE_INDEX_PARAMS.fields,
  { name: 'skipModelCheck', default: false, meaning: 'Skip the check that the model is the one the training features were computed with.' },
]);

/** The options of {@link createAttributionIndex}: a misspelt name is refused with the nearest field, never ignored. */
export const ATTRIBUTION_INDEX_PARAMS: ParamTable = Object.freeze({
  name: 'createAttributionIndex',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [...ATTRIBUTION_INDEX_FIELDS, { name: 'batchSize', default: 64, meaning: 'Examples per backward pass when featurizing query batches.', aliases: ['batch_size'] }],
});

/** A feature store made ready for queries: training side on the backend, query featurizer built. Dispose it. */
export interface AttributionIndex {
  readonly store: FeatureStore;
  readonly scores: ScoreIndex;
  readonly featurizer: Featurizer;
  /** Contributor keys in first-seen order, and each row's index into them. */
  readonly contributorKeys: string[];
  readonly contributorOf: Int32Array;
  /** Datanet versions in first-seen order and each row's index into them (one version when the store has none). */
  readonly versionKeys: string[];
  readonly versionOf: Int32Array;
  readonly modelHash: Hex;
  /** True after `dispose()`: queries on it throw `ATTRIBUTION_INDEX_DISPOSED` instead of answering from nothing. */
  readonly disposed: boolean;
  dispose(): void;
}

/**
 * Prepares a feature store for {@link attributeQuery}: checks the model hash, rebuilds the featurizer the store was
 * made with (same parameters, target and seeded projection), and uploads the preconditioned training features.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link ATTRIBUTION_INDEX_PARAMS}); `ATTRIBUTION_FEATURE_STORE_INVALID` for a causal-LM store or a store whose width
 *   the model does not featurize to.
 * @example
 * ```ts
 * import { attributeQuery, createAttributionIndex, fitDataInf, readFeatureStore } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const pixels: number[] | Int32Array | Float32Array;
 * const store = await readFeatureStore('cache/features');
 * const index = createAttributionIndex(model, store, { preconditioner: fitDataInf(store.features) });
 * const result = attributeQuery(model, pixels, { index, topK: 5, feeWei: 10n ** 15n });
 * ```
 */
export function createAttributionIndex(model: Model, store: FeatureStore, options: AttributionIndexOptions = {}): AttributionIndex {
  resolve(ATTRIBUTION_INDEX_PARAMS, options);
  const modelHash = storeModelHash(model, store, options.skipModelCheck);
  const info = store.manifest.info;
  // A causal-LM store (completion-loss gradients, LoGra projection) scores against generated answers, not class
  // predictions: its columns can coincide in number with a classifier's and would then be scored silently wrong.
  if ((info as { task?: unknown }).task === 'causal-lm') {
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', 'This feature store holds causal-LM (generated-text) features; use attributeGeneration with it.');
  }
  const featurizer = createFeaturizer(model, {
    names: info.parameters,
    target: info.target,
    batchSize: options.batchSize,
    ...(info.projection?.type === 'dense' ? { projection: { kind: info.projection.kind, dim: info.projection.dim, seed: info.projection.seed, density: info.projection.density } } : {}),
    ...(info.projection?.type === 'factorized'
      ? { factorizedProjection: { kind: info.projection.kind, inDim: info.projection.inDim, outDim: info.projection.outDim, seed: info.projection.seed, density: info.projection.density } }
      : {}),
  });
  if (featurizer.dim !== store.features.dim) {
    featurizer.dispose();
    throw new ProvenantError('ATTRIBUTION_FEATURE_STORE_INVALID', `The model featurizes to ${featurizer.dim} columns, the store holds ${store.features.dim}.`);
  }
  const { keys: contributorKeys, of: contributorOf } = indexKeys(store.manifest.contributors);
  const { keys: versionKeys, of: versionOf } = indexKeys(store.manifest.versions ?? store.manifest.contributors.map(() => 'all'));
  let scores: ScoreIndex;
  try {
    scores = createScoreIndex(store.features, { preconditioner: options.preconditioner ?? gradDot(), tileRows: options.tileRows });
  } catch (error) {
    featurizer.dispose();
    throw error;
  }
  let disposed = false;
  return {
    store,
    scores,
    featurizer,
    contributorKeys,
    contributorOf,
    versionKeys,
    versionOf,
    modelHash,
    get disposed() {
      return disposed;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      scores.dispose();
      featurizer.dispose();
    },
  };
}

export interface AttributeQueryOptions {
  index: AttributionIndex;
  /** Proponents and opponents to return; default 10. */
  topK?: number;
  /** A fee in wei to split among contributors by their shares. */
  feeWei?: bigint;
  /** How row scores become contributor figures (./aggregate.ts); default `sum` (net influence). */
  reduction?: ScoreReduction;
  /** Shape of one example; default the store's featurizer input, inferred as [input.length] for a single query. */
  exampleShape?: number[];
  /**
   * Take each query's gradient at these classes instead of the predicted ones (e.g. a labelled evaluation query, to ask
   * which rows support its true label). One per query.
   */
  labels?: ArrayLike<number>;
}

/** The options of {@link attributeQuery} and {@link attributeQueries}: a misspelt name is refused with the nearest field. */
export const ATTRIBUTE_QUERY_PARAMS: ParamTable = Object.freeze({
  name: 'attributeQuery',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'topK', default: 10, meaning: 'Proponents and opponents to return.', aliases: ['top_k'] },
    { name: 'feeWei', default: null, meaning: 'A fee in wei (bigint) to split among contributors by their shares; null: no split.', aliases: ['fee', 'fee_wei'] },
    { name: 'reduction', default: 'sum', meaning: 'How row scores become contributor figures: sum (net influence), mean or positive-sum.' },
    { name: 'exampleShape', default: null, meaning: 'Shape of one example (null for a single query: [input.length]).', aliases: ['example_shape'] },
    { name: 'labels', default: null, meaning: 'Classes to take each query\'s gradient at, one per query (null: the predicted classes).' },
  ],
  inputs: ['index'],
});

/** Model kinds whose input is token ids (int32), not float features. */
const TOKEN_INPUT_KINDS: ReadonlySet<string> = new Set(['transformer', 'gpt2', 'llama', 'bert']);

/**
 * A query given as a plain array: token ids (int32) for a model that reads tokens — what `tokenizer.encode` returns —
 * else float features. Token ids must be non-negative integers; the first that is not is named.
 */
function queryArray(model: Model, input: readonly number[]): Float32Array | Int32Array {
  if (!TOKEN_INPUT_KINDS.has(model.kind)) return Float32Array.from(input);
  const bad = input.findIndex((v) => !Number.isInteger(v) || v < 0 || v > 0x7fffffff);
  if (bad >= 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `A ${model.kind} model reads token ids: input[${bad}] must be a non-negative integer, got ${describeValue(input[bad])}.`, {
      data: { index: bad },
    });
  }
  return Int32Array.from(input);
}

/** A training row in an attribution. */
export interface AttributedRow {
  /** Row index in the feature store. */
  index: number;
  rowId: string;
  contributor: string;
  /** τ(row, query); see ./conventions.ts. */
  score: number;
}

export interface QueryAttribution {
  /** The predicted class and the class probabilities. */
  prediction: { label: number; probabilities: number[] };
  /** The class the query's gradient was taken at: the predicted one unless `labels` was given. */
  attributedLabel: number;
  /** Rows that most support the prediction, strongest first. */
  proponents: AttributedRow[];
  /** Rows that most oppose it, strongest (most negative) first. */
  opponents: AttributedRow[];
  /** Reduced score per contributor (`reduction`). */
  contributorScores: Record<string, number>;
  /** Reduced score per Datanet version the rows entered in (`reduction`; key `all` when the store has no versions). */
  versionScores: Record<string, number>;
  /** Positive scores normalised to sum to 1; negative ones stay negative (flagged by the split). Null if none is positive. */
  shares: Record<string, number> | null;
  /** The exact split of `feeWei` (when given). */
  split?: RewardSplit;
  method: string;
  reduction: ScoreReduction;
  modelHash: Hex;
}

/**
 * Attributes one query (one example: e.g. 784 pixels, or T token ids). A plain `number[]` is read as token ids (int32)
 * for a model that reads tokens (`transformer`, `gpt2`, `llama`, `bert`: e.g. `model.tokenizer.encode(text)`), else as
 * float features.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link ATTRIBUTE_QUERY_PARAMS}) or a `number[]` for a token model holding a value that is not a non-negative integer;
 *   the errors of {@link attributeQueries}; `REWARD_SPLIT_INVALID` when a fee is given and no contributor has positive
 *   influence on the query.
 * @example
 * ```ts
 * import { attributeQuery, type AttributionIndex } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const pixels: Float32Array;
 * declare const index: AttributionIndex;
 * const r = attributeQuery(model, pixels, { index, topK: 5, feeWei: 1_000_000_000_000_000n });
 * r.prediction.label; r.proponents[0].rowId; r.split?.amounts['alice']; // amounts in wei (bigint)
 * ```
 */
export function attributeQuery(model: Model, input: Float32Array | Int32Array | number[], options: AttributeQueryOptions): QueryAttribution {
  resolve(ATTRIBUTE_QUERY_PARAMS, options);
  const data = input instanceof Int32Array || input instanceof Float32Array ? input : queryArray(model, input);
  return attributeQueries(model, data, { ...options, exampleShape: options.exampleShape ?? [data.length] })[0]!;
}

/**
 * The batch form of {@link attributeQuery}: `inputs` holds m examples of `exampleShape`, row-major. One forward pass,
 * batched backward passes and one tiled pass over the cached training features for the whole batch; each query gets its
 * prediction, top-`topK` proponents and opponents (τ > 0: proponent), contributor and version scores, shares and, with
 * `feeWei`, the exact fee split.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one), without an
 *   index or for an unknown reduction;
 *   `ATTRIBUTION_INDEX_DISPOSED` for a disposed index; `ATTRIBUTION_SHAPE_MISMATCH` when `inputs` is not a positive
 *   multiple of the example size or `labels` does not have one entry per query; `REWARD_SPLIT_INVALID` when a fee is
 *   given and no contributor has positive influence on a query.
 * @example
 * ```ts
 * import { attributeQueries, type AttributionIndex } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const index: AttributionIndex; // createAttributionIndex(model, store)
 * declare const pixels: Float32Array;   // 8 MNIST digits, 8 · 784 values
 * const answers = attributeQueries(model, pixels, { index, exampleShape: [784], topK: 5, feeWei: 10n ** 15n });
 * answers[0]!.proponents[0]?.contributor; // the contributor of the strongest supporting row
 * ```
 */
export function attributeQueries(
  model: Model,
  inputs: Float32Array | Int32Array,
  options: AttributeQueryOptions & { exampleShape: number[] },
): QueryAttribution[] {
  resolve(ATTRIBUTE_QUERY_PARAMS, options);
  const { index } = options;
  if (!index || typeof index !== 'object' || !index.scores) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'attributeQuery needs `index` (createAttributionIndex).');
  if (index.disposed) {
    throw new ProvenantError('ATTRIBUTION_INDEX_DISPOSED', 'The attribution index was disposed; it can no longer answer queries.', {
      details: 'Create a new index with createAttributionIndex(model, store, …) — an answer from a disposed index would be empty, not "no influence".',
    });
  }
  const topK = options.topK ?? 10;
  const reduction = options.reduction ?? 'sum';
  if (reduction !== 'sum' && reduction !== 'mean' && reduction !== 'positive-sum') {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown reduction "${String(reduction)}".`);
  }
  const exampleSize = options.exampleShape.reduce((a, b) => a * b, 1);
  if (exampleSize < 1 || inputs.length % exampleSize !== 0 || inputs.length === 0) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `inputs hold ${inputs.length} values, not a positive multiple of ${exampleSize}.`);
  }
  const m = inputs.length / exampleSize;
  const dtype = inputs instanceof Int32Array ? 'int32' : 'float32';
  if (options.labels && options.labels.length !== m) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${options.labels.length} labels for ${m} queries.`);
  }
  // One forward pass serves both the prediction and the gradient: the backward pass is seeded from the logits it
  // produced, at the given label or else at the predicted class.
  let classes = 0;
  let probs = new Float32Array(0);
  const labels = new Int32Array(m);
  const target = index.store.manifest.info.target;
  const { features } = index.featurizer.runSeeded({ inputs, exampleShape: options.exampleShape, labels: new Int32Array(m) }, (logits, C, _dummy, start) => {
    if (classes === 0) {
      classes = C;
      probs = new Float32Array(m * C);
    }
    const rows = logits.length / C;
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, logits[r * C + c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(logits[r * C + c]! - max);
      for (let c = 0; c < C; c++) probs[(start + r) * C + c] = Math.exp(logits[r * C + c]! - max) / sum;
      labels[start + r] = options.labels ? options.labels[start + r]! : argmax(logits, r * C, C);
    }
    return logitGradients(logits, C, labels.subarray(start, start + rows), target).grad;
  });
  // One pass over the tiles with composite groups (contributor × version); both aggregations are sums over them.
  const V = index.versionKeys.length;
  const G = index.contributorKeys.length * V;
  const composite = new Int32Array(index.contributorOf.length);
  for (let i = 0; i < composite.length; i++) composite[i] = index.contributorOf[i]! * V + index.versionOf[i]!;
  const { topK: tops, groups } = index.scores.query(features, topK, composite, G);
  const { rowIds, contributors } = index.store.manifest;
  const row = (r: { index: number; score: number }): AttributedRow => ({ index: r.index, rowId: rowIds[r.index]!, contributor: contributors[r.index]!, score: r.score });
  const reduce = (sum: number, positive: number, count: number) => (reduction === 'sum' ? sum : reduction === 'mean' ? (count > 0 ? sum / count : 0) : positive);

  return tops.map((top, t) => {
    const cSum = new Float64Array(index.contributorKeys.length), cPos = new Float64Array(cSum.length), cCount = new Float64Array(cSum.length);
    const vSum = new Float64Array(V), vPos = new Float64Array(V), vCount = new Float64Array(V);
    for (let g = 0; g < G; g++) {
      const c = Math.floor(g / V), v = g % V, at = t * G + g;
      cSum[c]! += groups!.sums[at]!;
      cPos[c]! += groups!.positiveSums[at]!;
      cCount[c]! += groups!.counts[g]!;
      vSum[v]! += groups!.sums[at]!;
      vPos[v]! += groups!.positiveSums[at]!;
      vCount[v]! += groups!.counts[g]!;
    }
    const contributorScores = dict<number>();
    index.contributorKeys.forEach((key, c) => (contributorScores[key] = reduce(cSum[c]!, cPos[c]!, cCount[c]!)));
    const versionScores = dict<number>();
    index.versionKeys.forEach((key, v) => (versionScores[key] = reduce(vSum[v]!, vPos[v]!, vCount[v]!)));
    const anyPositive = Object.values(contributorScores).some((v) => v > 0);
    const shares = anyPositive ? contributorShares(contributorScores) : null;
    const result: QueryAttribution = {
      prediction: { label: argmax(probs, t * classes, classes), probabilities: Array.from(probs.subarray(t * classes, (t + 1) * classes)) },
      attributedLabel: labels[t]!,
      proponents: top.proponents.map(row),
      opponents: top.opponents.map(row),
      contributorScores,
      versionScores,
      shares,
      method: index.scores.preconditioner.method,
      reduction,
      modelHash: index.modelHash,
    };
    if (options.feeWei !== undefined) {
      if (!shares) {
        throw new ProvenantError('REWARD_SPLIT_INVALID', `No contributor has positive influence on query ${t}; the fee cannot be split.`, { data: { query: t } });
      }
      result.split = splitRewardDetailed(options.feeWei, shares);
    }
    return result;
  });
}

function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

/** Distinct keys in first-seen order and, per row, the index of its key (contributor or Datanet tables of a store). */
export function indexKeys(values: readonly string[]): { keys: string[]; of: Int32Array } {
  const keys: string[] = [];
  const seen = new Map<string, number>();
  const of = new Int32Array(values.length);
  values.forEach((value, i) => {
    let k = seen.get(value);
    if (k === undefined) {
      k = keys.length;
      seen.set(value, k);
      keys.push(value);
    }
    of[i] = k;
  });
  return { keys, of };
}
