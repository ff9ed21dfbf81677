/**
 * Featurize: per-example gradients over a whole data set, in batches, optionally projected to k dimensions
 * (dattri's `cache`, TRAK's `featurize`). The expensive, cacheable step; preconditioners and scorers take its output.
 */
import { ProvenantError, createProgressReporter, resolve, type ParamTable, type ProgressCallback } from '../core/index.js';
import { disposeCapture, tf, type Model } from '../finetune/index.js';
import type { FeatureBlock, FeatureMatrix } from './feature-matrix.js';
import {
  captureBackward,
  causalLmRefusal,
  logitGradients,
  outerSum,
  PARAMETER_FIELDS,
  parameterOptions,
  parameterBlocks,
  perExampleGradientTensors,
  rowsPerExample,
  selectParameters,
  type GradientTarget,
  type ParameterEntry,
  type ParameterOptions,
} from './per-example-gradients.js';
import { deriveSeed, projectionMatrix, validateProjection, type FactorizedProjectionSpec, type ProjectionSpec } from './projection.js';

/** Examples as plain data: `inputs` holds n examples of `exampleShape` each, row-major. */
export interface FeaturizeData {
  /** Float32 features (LR, MLP) or int32 token ids (transformer). */
  inputs: Float32Array | Int32Array;
  /** Shape of one example, e.g. [784] or [T]. */
  exampleShape: number[];
  /** Class index per example (the label the loss is taken at; for queries, the predicted class). */
  labels: ArrayLike<number>;
}

export interface FeaturizeOptions extends ParameterOptions {
  /** `loss` (default) or `margin`; see ./conventions.ts. */
  target?: GradientTarget;
  /** Examples per backward pass; default 64. */
  batchSize?: number;
  /** Dense random projection of the whole gradient to `dim` columns. */
  projection?: ProjectionSpec;
  /** Factorized per-module projection (never forms in×out gradients); exclusive with `projection`. */
  factorizedProjection?: FactorizedProjectionSpec;
  onProgress?: ProgressCallback;
}

/** The options of {@link featurize} and {@link createFeaturizer}: a misspelt name is refused with the nearest field, never ignored. */
export const FEATURIZE_PARAMS: ParamTable = Object.freeze({
  name: 'featurize',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...PARAMETER_FIELDS,
    { name: 'target', default: 'loss', meaning: 'Gradient of the loss −log p_y or of TRAK\'s margin log(p_y / (1 − p_y)) (./conventions.ts).' },
    { name: 'batchSize', default: 64, meaning: 'Examples per backward pass.', aliases: ['batch_size'] },
    { name: 'projection', default: null, meaning: 'Dense random projection of the whole gradient to dim columns (null: unprojected).', aliases: ['proj'] },
    { name: 'factorizedProjection', default: null, meaning: 'LoGra\'s per-module factorized projection (Choe et al. 2024); exclusive with projection.' },
  ],
  inputs: ['onProgress'],
});

/** How features were made: everything needed to featurize a query the same way. Stored in the feature-store manifest. */
export interface FeaturizeInfo {
  target: GradientTarget;
  /** Parameter names in feature order (before projection). */
  parameters: string[];
  /** Width of the unprojected gradient. */
  rawDim: number;
  projection: ({ type: 'dense' } & ProjectionSpec) | ({ type: 'factorized' } & FactorizedProjectionSpec) | null;
}

export interface Features {
  features: FeatureMatrix;
  /**
   * Per-example cross-entropy −ln p_y at the given label, in nats (for loss-based screening baselines). Causal features
   * (`featurizeCausal`) override it: there it is the mean over the completion tokens, while their features are gradients
   * of the sum (see `CausalFeatures`).
   */
  loss: Float32Array;
  /** Per-example p_y (TRAK's Q = diag(1 − p_y)). */
  labelProbability: Float32Array;
  info: FeaturizeInfo;
}

/**
 * Per-example gradient features of every example of `data`, projected when asked. For classifiers (one row of logits
 * per example); a causal LM's text is featurized with `featurizeCausal`.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one) or a bad option
 *   (see {@link createFeaturizer}); `ATTRIBUTION_SHAPE_MISMATCH` when `inputs` do not hold `labels.length` examples of
 *   `exampleShape`, or the model answers one row per token (a causal LM: use `featurizeCausal`).
 *
 * @example
 * ```ts
 * import { featurize } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const pixels: Int32Array | Float32Array;
 * declare const labels: ArrayLike<number>;
 * const { features } = featurize(model, { inputs: pixels, exampleShape: [784], labels }, {
 *   projection: { kind: 'rademacher', dim: 1024, seed: 7 },
 * });
 * ```
 */
export function featurize(model: Model, data: FeaturizeData, options: FeaturizeOptions = {}): Features {
  const featurizer = createFeaturizer(model, options);
  try {
    return featurizer.run(data, options.onProgress);
  } finally {
    featurizer.dispose();
  }
}

/** A featurizer that keeps its projection matrices on the backend between calls (queries, shards). */
export interface Featurizer {
  readonly info: FeaturizeInfo;
  readonly blocks: FeatureBlock[];
  readonly dim: number;
  run(data: FeaturizeData, onProgress?: ProgressCallback): Features;
  /**
   * Like `run`, but the backward pass of each batch is seeded with `logitGradient(logits, classes, labels)` ([B, C]
   * row-major ∂f/∂z) instead of the target's: rows are then ∂(Σ_c G_ic z_ic)/∂θ (per-logit Jacobian combinations for
   * Gauss–Newton curvature, or gradients at the predicted class). `loss` and `labelProbability` are still filled from
   * the labels. `start` is the batch's first row.
   */
  runSeeded(data: FeaturizeData, logitGradient: (logits: Float32Array, classes: number, labels: number[], start: number) => Float32Array): Features;
  dispose(): void;
}

/**
 * Builds a reusable featurizer (dattri's `cache`, TRAK's `featurize`): selects the parameters once and materialises the
 * projection matrices on the backend once, so queries and shards are featurized into the same space without rebuilding
 * them. `run(data)` returns per-example gradient features (rows × dim, projected to `projection.dim` or, with
 * `factorizedProjection`, LoGra's per-module inDim·outDim blocks; Choe et al. 2024), each row's loss and p_y. Call
 * `dispose()` when done.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown option name (with the nearest one; see
 *   {@link FEATURIZE_PARAMS}), an unknown target, a batch size that is not a positive integer, both projections at once,
 *   an invalid projection spec, or an empty parameter selection.
 * @example
 * ```ts
 * import { createFeaturizer, type FeaturizeData } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const shard: FeaturizeData; // { inputs: Float32Array(n · 784), exampleShape: [784], labels }
 * const featurizer = createFeaturizer(model, { projection: { kind: 'rademacher', dim: 512, seed: 1 }, batchSize: 64 });
 * const { features, loss } = featurizer.run(shard); // features: n × 512, loss: Float32Array(n)
 * featurizer.dispose();
 * ```
 */
export function createFeaturizer(model: Model, options: FeaturizeOptions = {}): Featurizer {
  resolve(FEATURIZE_PARAMS, options);
  // A checkpoint loaded with its LM head says so in its config: refuse before selecting parameters (a frozen base would
  // otherwise report "no parameters selected", which hides the real mistake).
  if ((model.config as { task?: unknown }).task === 'causal-lm') throw causalLmRefusal(model, 'is a causal LM (its head gives next-token logits, one row per token)');
  const target = options.target ?? 'loss';
  if (target !== 'loss' && target !== 'margin') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown gradient target "${String(target)}".`);
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `batchSize must be a positive integer, got ${batchSize}.`);
  if (options.projection && options.factorizedProjection) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'Pass either `projection` or `factorizedProjection`, not both.');
  }
  const entries = selectParameters(model, parameterOptions(options));
  const rawBlocks = parameterBlocks(entries);
  const rawDim = rawBlocks.reduce((a, b) => a + b.size, 0);
  const kept: tf.Tensor[] = [];
  let info: FeaturizeInfo;
  let blocks: FeatureBlock[];
  let project: (capture: Parameters<typeof perExampleGradientTensors>[0], batch: number) => tf.Tensor2D;

  if (options.projection) {
    const p = options.projection;
    validateProjection(p.kind, [p.dim], p.density);
    const P = tf.keep(tf.tensor2d(projectionMatrix(p.kind, rawDim, p.dim, p.seed, p.density), [rawDim, p.dim]));
    kept.push(P);
    info = { target, parameters: entries.map((e) => e.name), rawDim, projection: { type: 'dense', ...p } };
    blocks = [{ name: 'projected', module: 'projected', offset: 0, size: p.dim }];
    project = (capture, batch) => tf.matMul(tf.concat(perExampleGradientTensors(capture, entries, batch, model), 1) as tf.Tensor2D, P as tf.Tensor2D);
  } else if (options.factorizedProjection) {
    const f = options.factorizedProjection;
    validateProjection(f.kind, [f.inDim, f.outDim], f.density);
    const sides = new Map<string, { pIn: tf.Tensor2D; pOut: tf.Tensor2D }>();
    for (const module of new Set(entries.map((e) => e.module))) {
      const layer = model.linears.get(module)!;
      const pIn = tf.keep(tf.tensor2d(projectionMatrix(f.kind, layer.inFeatures, f.inDim, deriveSeed(f.seed, `${module}/in`), f.density), [layer.inFeatures, f.inDim]));
      const pOut = tf.keep(tf.tensor2d(projectionMatrix(f.kind, layer.outFeatures, f.outDim, deriveSeed(f.seed, `${module}/out`), f.density), [layer.outFeatures, f.outDim]));
      kept.push(pIn, pOut);
      sides.set(module, { pIn, pOut });
    }
    info = { target, parameters: entries.map((e) => e.name), rawDim, projection: { type: 'factorized', ...f } };
    let offset = 0;
    blocks = entries.map((e) => {
      const size = factorizedSize(e, f);
      const b = { name: e.name, module: e.module, offset, size };
      offset += size;
      return b;
    });
    project = (capture, batch) => tf.concat(entries.map((e) => factorizedBlock(model, capture, e, batch, sides.get(e.module)!)), 1) as tf.Tensor2D;
  } else {
    info = { target, parameters: entries.map((e) => e.name), rawDim, projection: null };
    blocks = rawBlocks;
    project = (capture, batch) => tf.concat(perExampleGradientTensors(capture, entries, batch, model), 1) as tf.Tensor2D;
  }
  const dim = blocks.reduce((a, b) => a + b.size, 0);

  return {
    info,
    blocks,
    dim,
    run(data, onProgress) {
      return runBatches(data, onProgress);
    },
    runSeeded(data, logitGradient) {
      return runBatches(data, undefined, logitGradient);
    },
    dispose() {
      tf.dispose(kept);
      kept.length = 0;
    },
  };

  function runBatches(
    data: FeaturizeData,
    onProgress?: ProgressCallback,
    logitGradient?: (logits: Float32Array, classes: number, labels: number[], start: number) => Float32Array,
  ): Features {
    const n = data.labels.length;
    const exampleSize = data.exampleShape.reduce((a, b) => a * b, 1);
    if (data.inputs.length !== n * exampleSize) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `inputs hold ${data.inputs.length} values, expected ${n} × ${exampleSize}.`);
    }
    const out = new Float32Array(n * dim);
    const loss = new Float32Array(n);
    const labelProbability = new Float32Array(n);
    const progress = createProgressReporter('featurize', n, onProgress);
    const dtype = data.inputs instanceof Int32Array ? 'int32' : 'float32';
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const batch = end - start;
      const labels = Array.prototype.slice.call(data.labels, start, end) as number[];
      const x = tf.tensor(data.inputs.subarray(start * exampleSize, end * exampleSize), [batch, ...data.exampleShape], dtype);
      try {
        const { capture } = captureBackward(model, x, entries, (logits, classes) => {
          const g = logitGradients(logits, classes, labels, target);
          loss.set(g.loss, start);
          labelProbability.set(g.labelProbability, start);
          return logitGradient ? logitGradient(logits, classes, labels, start) : g.grad;
        });
        try {
          const t = tf.tidy(() => project(capture, batch));
          out.set(t.dataSync() as Float32Array, start * dim);
          t.dispose();
        } finally {
          disposeCapture(capture);
        }
      } finally {
        x.dispose();
      }
      progress.tick(end);
    }
    return { features: { rows: n, dim, data: out, blocks: blocks.map((b) => ({ ...b })) }, loss, labelProbability, info };
  }
}

function factorizedSize(e: ParameterEntry, f: FactorizedProjectionSpec): number {
  if (e.kind === 'weight') return f.inDim * f.outDim;
  if (e.kind === 'bias') return f.outDim;
  if (e.kind === 'lora_A') return f.inDim * e.shape[1]!; // [in, r] → [kIn, r]
  return e.shape[0]! * f.outDim; // lora_B [r, out] → [r, kOut]
}

/**
 * One entry's projected per-example gradient, LoGra-style: each side of the outer product is projected before the
 * product, so a kernel block costs B·T·(in·kIn + out·kOut + kIn·kOut) instead of B·in·out.
 */
function factorizedBlock(
  model: Model,
  capture: Parameters<typeof perExampleGradientTensors>[0],
  e: ParameterEntry,
  batch: number,
  { pIn, pOut }: { pIn: tf.Tensor2D; pOut: tf.Tensor2D },
): tf.Tensor2D {
  const size = factorizedSize(e, { kind: 'gaussian', seed: 0, inDim: pIn.shape[1], outDim: pOut.shape[1] });
  const delta = capture.outputGrads.get(e.module);
  if (!delta) return tf.zeros([batch, size]) as tf.Tensor2D;
  const T = rowsPerExample(delta.shape[0], batch, e.module);
  const deltaP = tf.matMul(delta, pOut);
  if (e.kind === 'bias') return T === 1 ? (deltaP as tf.Tensor2D) : (deltaP.reshape([batch, T, pOut.shape[1]]).sum(1) as tf.Tensor2D);
  if (e.kind === 'weight') return outerSum(tf.matMul(capture.inputs.get(e.module)!, pIn), deltaP, batch, T);
  const layer = model.linears.get(e.module)!;
  const adapter = layer.adapters.get(e.adapter!)!;
  const lora = capture.lora.get(`${e.module}/${e.adapter}`)!;
  if (e.kind === 'lora_B') return outerSum(lora.hidden, deltaP, batch, T).mul(adapter.scale) as tf.Tensor2D;
  const deltaHidden = tf.matMul(delta, tf.transpose(adapter.B) as tf.Tensor2D);
  return outerSum(tf.matMul(lora.input, pIn), deltaHidden, batch, T).mul(adapter.scale) as tf.Tensor2D;
}
