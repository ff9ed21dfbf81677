/**
 * Batched per-example gradients of a classifier's loss (or margin) with respect to its `Linear` parameters.
 *
 * One ordinary backward pass per batch: `GradientCapture` (../finetune/linear.ts) records each module's input x and
 * output gradient δ = ∂f/∂y, and because f = Σ_i f_i and examples do not interact, δ's row i is example i's own.
 * Per example (summing over positions t for sequence models, whose modules see B·T rows):
 *   dW_i = Σ_t x_{i,t}ᵀ δ_{i,t},  db_i = Σ_t δ_{i,t},  dB_i = s·Σ_t u_{i,t}ᵀ δ_{i,t},  dA_i = s·Σ_t x̃_{i,t}ᵀ (δ_{i,t} Bᵀ).
 * The backward pass is seeded with a constant logit gradient G (f = Σ z ⊙ G), computed in float64 from the logits: this
 * gives loss, margin and per-logit Jacobian rows with one mechanism (see ./conventions.ts for the targets).
 *
 * Only parameters of `Linear` modules are covered (kernels, biases, LoRA A and B); other weights (layer norms,
 * embeddings) are not part of the feature vector, and `blocks` lists exactly what is.
 */
import { ProvenantError, resolve, type ParamField, type ParamTable } from '../core/index.js';
import { createGradientCapture, disposeCapture, tf, type GradientCapture, type Linear, type Model } from '../finetune/index.js';
import type { FeatureBlock } from './feature-matrix.js';

/** Which scalar's gradient a feature is: the cross-entropy loss −log p_y, or TRAK's margin log(p_y/(1−p_y)). */
export type GradientTarget = 'loss' | 'margin';

/**
 * Which parameters form the feature vector:
 * - `trainable` (default): every `Linear` kernel/bias/adapter whose variable is trainable — LoRA A and B plus saved
 *   modules for an adapter, all weights for a fully trained model.
 * - `all`: every kernel and bias, and every active adapter's A and B, trainable or not.
 * - `adapters`: the active adapters' A and B only.
 */
export type ParameterSelection = 'trainable' | 'all' | 'adapters';

export interface ParameterOptions {
  parameters?: ParameterSelection;
  /** Restrict to these module names (default: every module of the model). */
  modules?: readonly string[];
  /**
   * Exactly these parameter names, in this order (e.g. a feature store's `info.parameters`, so queries are featurized
   * like the cached rows). Overrides `parameters` and `modules`.
   */
  names?: readonly string[];
}

/**
 * The fields of {@link ParameterOptions}, shared by every options table that selects parameters (featurize, causal
 * featurization, per-example gradients), so each refuses a misspelt name with the nearest one. Defaults here are what the
 * code uses when the option is absent (null: not given).
 */
export const PARAMETER_FIELDS: readonly ParamField[] = Object.freeze([
  { name: 'parameters', default: 'trainable', meaning: 'Which parameters form the feature vector: trainable, all or adapters.' },
  { name: 'modules', default: null, meaning: 'Restrict to these module names (null: every module of the model).', aliases: ['targetModules', 'target_modules'] },
  { name: 'names', default: null, meaning: 'Exactly these parameter names, in this order; overrides parameters and modules.' },
]);

/** The options of {@link selectParameters}: a misspelt name is refused with the nearest field, never ignored. */
const PARAMETER_PARAMS: ParamTable = Object.freeze({ name: 'selectParameters', code: 'ATTRIBUTION_INPUT_INVALID', fields: PARAMETER_FIELDS });

/** The selection fields out of a larger options object (featurize, per-example gradients), for {@link selectParameters}. */
export const parameterOptions = (o: ParameterOptions): ParameterOptions => ({ parameters: o.parameters, modules: o.modules, names: o.names });

/** The options of {@link perExampleGradients}: unknown names are refused with the nearest field. */
export const PER_EXAMPLE_GRADIENT_PARAMS: ParamTable = Object.freeze({
  name: 'perExampleGradients',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [...PARAMETER_FIELDS, { name: 'target', default: 'loss', meaning: 'Gradient of the loss −log p_y or of TRAK\'s margin log(p_y / (1 − p_y)).' }],
});

/** One parameter tensor of the feature vector. */
export interface ParameterEntry {
  /** `fc1.weight`, `fc1.bias`, `fc1.lora_A.default`, `fc1.lora_B.default`. */
  name: string;
  module: string;
  kind: 'weight' | 'bias' | 'lora_A' | 'lora_B';
  adapter?: string;
  variable: tf.Variable;
  shape: number[];
  size: number;
}

/**
 * The parameters `options` select, in module order then weight, bias, A, B: `trainable` (default; LoRA A and B plus
 * saved modules for an adapter, all weights for a fully trained model), `all`, or `adapters`; optionally restricted to
 * `modules`, or exactly `names` in that order (a feature store's `info.parameters`, so queries are featurized like the
 * cached rows). Names follow PEFT: `fc1.weight`, `fc1.bias`, `fc1.lora_A.default`, `fc1.lora_B.default`.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` for an unknown selection, a module or name not in the model (or
 *   whose adapter is inactive or merged), or an empty selection.
 * @example
 * ```ts
 * import { selectParameters } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model; // a LoRA-adapted classifier, adapter "default" on q and v
 * const entries = selectParameters(model, { parameters: 'adapters' });
 * entries.map((e) => e.name); // ['blocks.0.attn.q.lora_A.default', 'blocks.0.attn.q.lora_B.default', …]
 * ```
 */
export function selectParameters(model: Model, options: ParameterOptions = {}): ParameterEntry[] {
  resolve(PARAMETER_PARAMS, options);
  const selection = options.parameters ?? 'trainable';
  if (selection !== 'trainable' && selection !== 'all' && selection !== 'adapters') {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown parameter selection "${String(selection)}" (trainable, all, adapters).`);
  }
  const wanted = options.modules ? new Set(options.modules) : undefined;
  if (wanted) {
    const missing = [...wanted].filter((m) => !model.linears.has(m));
    if (missing.length) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Modules not in the model: ${missing.join(', ')}.`, {
        metaMessages: [`modules: ${[...model.linears.keys()].join(', ')}`],
      });
    }
  }
  const entries: ParameterEntry[] = [];
  const add = (layer: Linear, kind: ParameterEntry['kind'], variable: tf.Variable, adapter?: string) => {
    const suffix = kind === 'weight' || kind === 'bias' ? kind : `${kind}.${adapter}`;
    entries.push({ name: `${layer.name}.${suffix}`, module: layer.name, kind, adapter, variable, shape: [...variable.shape], size: variable.size });
  };
  for (const layer of model.linears.values()) {
    if (wanted && !wanted.has(layer.name)) continue;
    const keep = (v: tf.Variable) => selection === 'all' || (selection === 'trainable' && v.trainable);
    if (selection !== 'adapters') {
      if (keep(layer.kernel)) add(layer, 'weight', layer.kernel);
      if (layer.bias && keep(layer.bias)) add(layer, 'bias', layer.bias);
    }
    for (const name of layer.active) {
      if (layer.merged.includes(name)) continue;
      const a = layer.adapters.get(name);
      if (!a) continue;
      if (selection !== 'trainable' || a.A.trainable) add(layer, 'lora_A', a.A, name);
      if (selection !== 'trainable' || a.B.trainable) add(layer, 'lora_B', a.B, name);
    }
  }
  if (options.names) {
    const all = new Map(selectParameters(model, { parameters: 'all' }).map((e) => [e.name, e]));
    const missing = options.names.filter((n) => !all.has(n));
    if (missing.length) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Parameters not in the model (or their adapter is inactive): ${missing.join(', ')}.`);
    }
    return options.names.map((n) => all.get(n)!);
  }
  if (entries.length === 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `No parameters selected ("${selection}"): nothing to featurize.`, {
      details: 'A LoRA model with no active adapter and a frozen base has no trainable parameters; pass parameters: "all".',
    });
  }
  return entries;
}

/**
 * The feature blocks (columns) of the unprojected per-example gradient: one block per parameter entry, in order, each
 * `size` = the parameter's element count, so the gradient row is the entries' flattened gradients laid end to end.
 *
 * @example
 * ```ts
 * import { parameterBlocks, selectParameters } from 'provenant/attribution';
 * import type { Model } from 'provenant/finetune';
 *
 * declare const model: Model; // MNIST logistic regression: one Linear "fc" 784 → 10
 * parameterBlocks(selectParameters(model)); // [{ name: 'fc.weight', module: 'fc', offset: 0, size: 7840 }, { name: 'fc.bias', …, offset: 7840, size: 10 }]
 * ```
 */
export function parameterBlocks(entries: readonly ParameterEntry[]): FeatureBlock[] {
  let offset = 0;
  return entries.map((e) => {
    const b = { name: e.name, module: e.module, offset, size: e.size };
    offset += e.size;
    return b;
  });
}

/** Per-example logit gradients and the figures computed on the way (float64 softmax). */
export interface LogitGradients {
  /** [B, C] row-major ∂f_i/∂z_i. */
  grad: Float32Array;
  /** Per-example cross-entropy −log p_y. */
  loss: Float64Array;
  /** Per-example p_y. */
  labelProbability: Float64Array;
}

/**
 * Per-example gradients of the target with respect to the logits z [B, C] (row-major), computed in float64:
 * ∂(−log p_y)/∂z = p − e_y (target `loss`), or ∂ log(p_y/(1−p_y))/∂z = e_y − q with q the softmax over the classes
 * other than y (target `margin`, TRAK's model output function; Park et al. 2023). Also returns each example's
 * cross-entropy −log p_y (nats) and p_y.
 *
 * @throws ProvenantError `ATTRIBUTION_INPUT_INVALID` when a label is not a class index in [0, C).
 * @example
 * ```ts
 * import { logitGradients } from 'provenant/attribution';
 *
 * const { grad, loss, labelProbability } = logitGradients([2, 0], 2, [0], 'loss');
 * // grad ≈ [-0.1192, 0.1192] (p − e_y); loss ≈ [0.1269] nats; labelProbability ≈ [0.8808]
 * ```
 */
export function logitGradients(logits: ArrayLike<number>, classes: number, labels: ArrayLike<number>, target: GradientTarget): LogitGradients {
  const n = labels.length;
  const grad = new Float32Array(n * classes);
  const loss = new Float64Array(n);
  const labelProbability = new Float64Array(n);
  const p = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Label ${y} of example ${i} is not a class index in [0, ${classes}).`);
    }
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(logits[i * classes + c]! - max);
    for (let c = 0; c < classes; c++) p[c]! /= sum;
    labelProbability[i] = p[y]!;
    loss[i] = -(logits[i * classes + y]! - max - Math.log(sum));
    if (target === 'loss') {
      for (let c = 0; c < classes; c++) grad[i * classes + c] = p[c]! - (c === y ? 1 : 0);
    } else {
      // q_c = p_c / (1 − p_y) for c ≠ y, computed from the logits directly so p_y → 1 does not lose it.
      let rest = 0;
      for (let c = 0; c < classes; c++) if (c !== y) rest += Math.exp(logits[i * classes + c]! - max);
      for (let c = 0; c < classes; c++) grad[i * classes + c] = c === y ? 1 : -Math.exp(logits[i * classes + c]! - max) / rest;
    }
  }
  return { grad, loss, labelProbability };
}

/**
 * Runs the forward pass and ONE backward pass seeded with the logit gradient `seed(logits)` (f = Σ z ⊙ G), capturing
 * each selected module's input x and output gradient δ = ∂f/∂y (the row of example i is its own, since examples do not
 * interact). Returns the capture (the caller disposes it with `disposeCapture`), the logits [B, C] and C. Variables in
 * `entries` are made trainable for the duration (so a frozen base still yields its δ), then restored. A module whose
 * output does not reach the logits gets no entry in `capture.outputGrads` (its gradient is zero).
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when the model's output is not classifier logits [B, C].
 * @example
 * ```ts
 * import { captureBackward, logitGradients, perExampleGradientTensors, selectParameters } from 'provenant/attribution';
 * import * as tf from '@tensorflow/tfjs-core';
 * import { disposeCapture, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const x: tf.Tensor2D; // [32, 784]
 * declare const labels: number[];
 * const entries = selectParameters(model);
 * const { capture } = captureBackward(model, x, entries, (logits, C) => logitGradients(logits, C, labels, 'loss').grad);
 * const grads = tf.tidy(() => perExampleGradientTensors(capture, entries, 32, model)); // [32, size] per entry
 * disposeCapture(capture);
 * ```
 */
export function captureBackward(
  model: Model,
  inputs: tf.Tensor,
  entries: readonly ParameterEntry[],
  seed: (logits: Float32Array, classes: number) => Float32Array,
): { capture: GradientCapture; logits: Float32Array; classes: number } {
  let logits: Float32Array = new Float32Array(0);
  let classes = 0;
  const capture = backwardWithCapture(entries, (capture) => {
    const z = model.forward(inputs, { capture });
    if (z.rank !== 2) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Per-example gradients need classifier logits [B, C], got [${z.shape}].`);
    }
    // A causal LM answers one row of next-token logits per position ([B·T, V]); seeding it with B label rows would fail
    // deep in tfjs ("the tensor should have … values"), so say what the model is and which function featurizes it.
    if (z.shape[0] !== inputs.shape[0]) {
      const shape = z.shape;
      z.dispose(); // the abandoned tape is released by backwardWithCapture; the output it would have freed is freed here
      throw causalLmRefusal(model, `returns [${shape}] for ${inputs.shape[0]} examples: one row per token`, { outputShape: shape, examples: inputs.shape[0] });
    }
    classes = z.shape[1]!;
    logits = z.dataSync() as Float32Array;
    const g = tf.tensor2d(seed(logits, classes), z.shape as [number, number]);
    return tf.sum(tf.mul(z, g)) as tf.Scalar;
  });
  return { capture, logits, classes };
}

/**
 * One ordinary backward pass of `objective` (a scalar built from a forward pass that records into the given capture)
 * with respect to the entries' variables, keeping only what the capture recorded: each module's input x and output
 * gradient δ. The variables are made trainable for the duration — a frozen base must still yield its δ — and their
 * flags restored afterwards, even when the pass throws; on a throw the capture is disposed too, so nothing leaks. The
 * caller disposes the returned capture with `disposeCapture`. The one tape set-up behind `captureBackward`
 * (classifiers) and causal-LM featurization (./generation/causal-featurize.ts); internal to src/attribution.
 */
export function backwardWithCapture(entries: readonly ParameterEntry[], objective: (capture: GradientCapture) => tf.Scalar): GradientCapture {
  const capture = createGradientCapture(new Set(entries.map((e) => e.module)));
  const restore = entries.map((e) => [e.variable, e.variable.trainable] as const);
  for (const e of entries) e.variable.trainable = true;
  try {
    const { value, grads } = tf.variableGrads(() => objective(capture), entries.map((e) => e.variable));
    tf.dispose([value, Object.values(grads)]);
    return capture;
  } catch (error) {
    disposeCapture(capture);
    releaseAbandonedTape();
    throw error;
  } finally {
    for (const [v, t] of restore) v.trainable = t;
  }
}

/**
 * tfjs frees the tensors its tape saved for the backward pass only when that backward pass runs; a forward pass that
 * throws inside `variableGrads` leaves them on the tape, unreachable, and the next tape replaces the list without
 * freeing them. Free them here (only at the outermost gradient level, never inside an enclosing gradient).
 */
function releaseAbandonedTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = [];
}

/**
 * Per-example gradient tensors [B, size] for each entry, from a capture (call inside `tf.tidy`): dW_i = Σ_t x_{i,t}ᵀδ_{i,t},
 * db_i = Σ_t δ_{i,t}, dB_i = s·Σ_t u_{i,t}ᵀδ_{i,t} and dA_i = s·Σ_t x_{i,t}ᵀ(δ_{i,t}Bᵀ) for LoRA (u = x·A, s = α/r), each
 * flattened row-major in the variable's layout. `batch` is the number of examples; a module that saw B·T rows is summed
 * over its T positions; a module off the path to the logits gives zeros.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when a module saw a number of rows that is not a multiple of
 *   `batch`.
 * @example
 * ```ts
 * import { perExampleGradientTensors, type ParameterEntry } from 'provenant/attribution';
 * import * as tf from '@tensorflow/tfjs-core';
 * import { type GradientCapture, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const capture: GradientCapture; // from captureBackward(model, x, entries, seed)
 * declare const entries: ParameterEntry[];
 * const rows = tf.tidy(() => tf.concat(perExampleGradientTensors(capture, entries, 32, model), 1)); // [32, Σ sizes]
 * ```
 */
export function perExampleGradientTensors(capture: GradientCapture, entries: readonly ParameterEntry[], batch: number, model: Model): tf.Tensor2D[] {
  return entries.map((e) => {
    const layer = model.linears.get(e.module)!;
    const delta = capture.outputGrads.get(e.module);
    // A module off the path to the logits (e.g. an LM head of a classifier) has no δ: its gradient is exactly zero.
    if (!delta) return tf.zeros([batch, e.size]) as tf.Tensor2D;
    const T = rowsPerExample(delta.shape[0], batch, e.module);
    if (e.kind === 'bias') return T === 1 ? delta : (delta.reshape([batch, T, layer.outFeatures]).sum(1) as tf.Tensor2D);
    if (e.kind === 'weight') return outerSum(capture.inputs.get(e.module)!, delta, batch, T);
    const adapter = layer.adapters.get(e.adapter!)!;
    const lora = capture.lora.get(`${e.module}/${e.adapter}`)!;
    if (e.kind === 'lora_B') return outerSum(lora.hidden, delta, batch, T).mul(adapter.scale) as tf.Tensor2D;
    const deltaHidden = tf.matMul(delta, tf.transpose(adapter.B) as tf.Tensor2D); // δ·Bᵀ [R, r]
    return outerSum(lora.input, deltaHidden, batch, T).mul(adapter.scale) as tf.Tensor2D;
  });
}

/** Σ_t a_{i,t}ᵀ b_{i,t} flattened row-major to [B, p·q], for a [B·T, p] and b [B·T, q]. */
export function outerSum(a: tf.Tensor, b: tf.Tensor, batch: number, T: number): tf.Tensor2D {
  const p = a.shape[1]!;
  const q = b.shape[1]!;
  if (T === 1) return tf.mul(a.reshape([batch, p, 1]), b.reshape([batch, 1, q])).reshape([batch, p * q]) as tf.Tensor2D;
  const a3 = tf.transpose(a.reshape([batch, T, p]), [0, 2, 1]) as tf.Tensor3D;
  return tf.matMul(a3, b.reshape([batch, T, q]) as tf.Tensor3D).reshape([batch, p * q]) as tf.Tensor2D;
}

export function rowsPerExample(rows: number, batch: number, module: string): number {
  if (rows % batch !== 0) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Module "${module}" saw ${rows} rows for ${batch} examples (not a multiple).`);
  }
  return rows / batch;
}

export interface PerExampleGradientOptions extends ParameterOptions {
  target?: GradientTarget;
}

export interface PerExampleGradients {
  /** [B, P] row-major. */
  data: Float32Array;
  rows: number;
  dim: number;
  blocks: FeatureBlock[];
  loss: Float64Array;
  labelProbability: Float64Array;
}

/**
 * Unprojected per-example gradients of one batch: row i is ∂f_i/∂θ over the selected parameters, f the loss or margin.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { perExampleGradients } from 'provenant/attribution';
 * import { type Model } from 'provenant';
 * declare const model: Model;
 * declare const pixels: Float32Array; // 32 MNIST images, 784 values each
 * declare const labels: ArrayLike<number>;
 * const x = tf.tensor2d(pixels, [32, 784]);
 * const { data, dim } = perExampleGradients(model, x, labels); // data: Float32Array(32 * 7850) for MNIST LR
 * ```
 */
export function perExampleGradients(model: Model, inputs: tf.Tensor, labels: ArrayLike<number>, options: PerExampleGradientOptions = {}): PerExampleGradients {
  resolve(PER_EXAMPLE_GRADIENT_PARAMS, options);
  const entries = selectParameters(model, parameterOptions(options));
  const target = options.target ?? 'loss';
  const batch = inputs.shape[0]!;
  if (labels.length !== batch) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${labels.length} labels for ${batch} inputs.`);
  let figures: LogitGradients | undefined;
  const { capture } = captureBackward(model, inputs, entries, (logits, classes) => {
    figures = logitGradients(logits, classes, labels, target);
    return figures.grad;
  });
  try {
    const out = tf.tidy(() => tf.concat(perExampleGradientTensors(capture, entries, batch, model), 1));
    const data = out.dataSync() as Float32Array;
    out.dispose();
    const blocks = parameterBlocks(entries);
    return { data, rows: batch, dim: data.length / batch, blocks, loss: figures!.loss, labelProbability: figures!.labelProbability };
  } finally {
    disposeCapture(capture);
  }
}

/**
 * The error for a causal LM given to the classifier featurizer: what the model is, why it does not fit, and the function
 * that featurizes it (internal to src/attribution).
 */
export function causalLmRefusal(model: Model, why: string, data: Record<string, unknown> = {}): ProvenantError {
  return new ProvenantError(
    'ATTRIBUTION_SHAPE_MISMATCH',
    `${modelName(model)} ${why}, not classifier logits [B, C]. A causal LM is featurized with featurizeCausal (completion-loss gradients), not featurize.`,
    { data: { model: modelName(model), ...data } },
  );
}

/** How errors name a model: its transformers class and folder for a loaded checkpoint (`GPT2LMHeadModel at models/gpt2`), else its kind. */
function modelName(model: Model): string {
  const config = model.config as { className?: unknown };
  const directory = (model as { directory?: unknown }).directory;
  const name = typeof config.className === 'string' ? `${config.className} (${model.kind})` : `The ${model.kind} model`;
  return typeof directory === 'string' ? `${name} at ${directory}` : name;
}
