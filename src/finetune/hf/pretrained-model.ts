/**
 * A Hugging Face model in memory: the `Model` contract (linear modules by their transformers paths, so PEFT's
 * `target_modules` and saved adapter keys mean the same modules here) plus what the checkpoint format needs back — each
 * file tensor's name and layout, for `saveMergedPretrained`.
 */
import { ProvenantError, nearestField } from '../../core/index.js';
import type { ForwardContext, Linear } from '../linear.js';
import { uniqueName } from '../linear.js';
import type { Model } from '../models/model.js';
import { tf, type Tensor, type Tensor2D, type Variable } from '../tf.js';
import type { ArchitectureForward, HfForwardInputs, KvCache, ParamSpec, WeightLayout } from './architecture.js';
import type { HfArchitecture, HfModelConfig } from './config.js';
import { createKernelTransposes } from './kernel-transposes.js';
import { createGemmF32, gemmF32Available } from '../gemm/gemm-f32.js';
import { tfjsWasmHeap } from '../gemm/gemm-linear.js';
import { maskFromPadding } from './padding-mask.js';
import type { PretrainedTokenizer } from './tokenizer.js';

/** One tensor of the checkpoint file and the variable holding it (tfjs layout: `transpose` when the file has [out, in]). */
export interface FileTensor {
  name: string;
  variable: Variable;
  transpose: boolean;
}

export interface PretrainedModel extends Model<HfModelConfig> {
  readonly kind: HfArchitecture;
  /** The folder it was loaded from (null when built in memory). */
  readonly directory: string | null;
  readonly tokenizer: PretrainedTokenizer | null;
  /** Checkpoint layout of each linear module's weight (`conv1d` for GPT-2's Conv1D, whose LoRA needs fan_in_fan_out). */
  readonly moduleLayouts: ReadonlyMap<string, WeightLayout>;
  /** Every tensor as the checkpoint names it, in file order. */
  readonly fileTensors: readonly FileTensor[];
  /** The `config.json` object it was loaded from (written back, updated, on export). */
  readonly rawConfig: Readonly<Record<string, unknown>>;
  /** Checkpoint tensors not used by this head (e.g. `lm_head.weight` when loading an LM checkpoint for classification). */
  readonly ignoredTensors: readonly string[];
  /** Head tensors absent from the file and initialised from the seed (a new classification head). */
  readonly initializedTensors: readonly string[];
  /** PEFT's default LoRA targets for this model type. */
  readonly defaultTargetModules: readonly string[];
  /** Final hidden states [B·T, D]; extends `cache` (generation) when given. Call inside a tidy or gradient. */
  hiddenStates(inputs: HfForwardInputs, ctx?: ForwardContext, cache?: KvCache): Tensor2D;
  /** The head's output: causal LM [B·T, V], sequence classification [B, C], bare model the hidden states [B·T, D]. */
  logits(inputs: HfForwardInputs, ctx?: ForwardContext, cache?: KvCache): Tensor2D;
  /**
   * `logits({ inputIds })`, positions 0..T−1: for the decoders right padding needs no mask; for BERT the mask is derived
   * from `pad_token_id` (the `Model` contract has no mask argument).
   */
  forward(inputIds: Tensor, ctx?: ForwardContext): Tensor;
}

/**
 * Whether a model is a Hugging Face checkpoint loaded by `loadPretrained` (or built by `createPretrainedFromConfig`):
 * its `kind` is `gpt2`, `llama` or `bert`. A type guard, so the `PretrainedModel` fields (config, tokenizer, `logits`)
 * become available.
 *
 * @example
 * ```ts
 * import { isPretrainedModel, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * if (isPretrainedModel(model)) model.config.numLayers; // e.g. 2
 * ```
 */
export function isPretrainedModel(model: Model): model is PretrainedModel {
  return model.kind === 'gpt2' || model.kind === 'llama' || model.kind === 'bert';
}

/**
 * An empty key/value cache for `hiddenStates`/`logits` (one slot per layer, length 0): each call that passes it appends
 * the new positions' keys and values ([B·H_kv, S, head_dim] per layer), so incremental decoding feeds one new token per
 * step. The cached tensors are kept outside any `tf.tidy`: free them with `disposeCache`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createCache, disposeCache, loadPretrained } from 'provenant/finetune';
 *
 * const model = await loadPretrained('./tiny-llama');
 * const cache = createCache(model);
 * const prompt = model.logits({ inputIds: tf.tensor2d([[1, 5, 9]], [1, 3], 'int32') }, undefined, cache); // [3, V]; cache.length 3
 * const step = model.logits({ inputIds: tf.tensor2d([[4]], [1, 1], 'int32') }, undefined, cache); // [1, V]; cache.length 4
 * disposeCache(cache);
 * ```
 */
export function createCache(model: PretrainedModel): KvCache {
  return { layers: Array.from({ length: model.config.numLayers }, () => null), length: 0 };
}

/**
 * Frees every key/value tensor of a cache made by `createCache` and empties it (all layers null, `length` 0), so it can
 * be reused for another sequence. Safe to call twice.
 *
 * @example
 * ```ts
 * import { createCache, disposeCache, type PretrainedModel } from 'provenant/finetune';
 *
 * declare const model: PretrainedModel;
 * const cache = createCache(model);
 * try {
 *   // … model.logits({ inputIds }, undefined, cache) once per decoding step
 * } finally {
 *   disposeCache(cache); // cache.length === 0, tf.memory().numTensors back where it was
 * }
 * ```
 */
export function disposeCache(cache: KvCache): void {
  for (const layer of cache.layers) {
    layer?.key.dispose();
    layer?.value.dispose();
  }
  cache.layers.fill(null);
  cache.length = 0;
}

/** Source of a spec'd tensor's values (HF layout), or null when a head tensor must be initialised. */
export type TensorSource = (fileName: string) => Promise<Float32Array | null>;

/** Row-major transpose of a rows×cols matrix (in a new array). */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[base + j]!;
  }
  return out;
}

/** The file tensors a spec expects, with their HF shapes. */
export function expectedFileTensors(spec: ParamSpec): Array<{ name: string; shape: number[]; head: boolean }> {
  const head = spec.head === true;
  if (spec.type === 'tensor') return [{ name: spec.name, shape: spec.shape, head }];
  const out = [];
  if (spec.tiedTo) out.push({ name: spec.tiedTo, shape: [spec.outFeatures, spec.inFeatures], head });
  else out.push({ name: `${spec.module}.weight`, shape: spec.layout === 'linear' ? [spec.outFeatures, spec.inFeatures] : [spec.inFeatures, spec.outFeatures], head });
  if (spec.bias) out.push({ name: `${spec.module}.bias`, shape: [spec.outFeatures], head });
  return out;
}

export interface BuildOptions {
  config: HfModelConfig;
  rawConfig: Record<string, unknown>;
  specs: readonly ParamSpec[];
  forward: (params: import('./architecture.js').BuiltParams) => ArchitectureForward;
  source: TensorSource;
  /** Seed of initialised head tensors: N(0, initializer_range) (transformers' `_init_weights`). */
  seed: number;
  initializerRange: number;
  directory: string | null;
  tokenizer: PretrainedTokenizer | null;
  ignoredTensors: string[];
}

function variableFrom(values: Float32Array, shape: number[], name: string): Variable {
  const init = tf.tensor(values, shape, 'float32');
  const variable = tf.variable(init, false, uniqueName(name));
  // The variable shares the tensor's data; dispose the handle only (tfjs keeps the data while the variable refers to it).
  init.dispose();
  return variable;
}

/** Builds the variables of every spec (reading each tensor once, in order) and wires the forward pass. */
export async function buildPretrainedModel(options: BuildOptions): Promise<PretrainedModel> {
  const { config, specs, source } = options;
  const linears = new Map<string, Linear>();
  const tensors = new Map<string, Variable>();
  const weights = new Map<string, Variable>();
  const fileTensors: FileTensor[] = [];
  const layouts = new Map<string, WeightLayout>();
  const initialized: string[] = [];
  let seedCounter = 0;
  const initial = async (name: string, shape: number[], init: 'ones' | 'zeros' | 'normal'): Promise<Float32Array> => {
    const values = await source(name);
    if (values) return values;
    initialized.push(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (init === 'ones') return new Float32Array(n).fill(1);
    if (init === 'zeros') return new Float32Array(n);
    const t = tf.randomNormal([n], 0, options.initializerRange, 'float32', (options.seed * 1_000_003 + 7919 * ++seedCounter) >>> 0);
    const data = t.dataSync() as Float32Array;
    t.dispose();
    return data;
  };
  const created: Variable[] = [];
  const transposes = createKernelTransposes();
  // Linear layers and attention on the float32 WebAssembly product where it runs (benchmarks/hf-gemm.ts; a LoRA step of
  // bench:hf's Llama-256 ≈ 1.3× faster than on tfjs-wasm's matMul); `setLinearGemm(model, undefined)` opts out. On
  // tfjs-wasm the workspace is lent tfjs's heap, so products read and write the tensors in place.
  const gemm = gemmF32Available() ? createGemmF32({ heap: tfjsWasmHeap() ?? undefined }) : undefined;
  try {
    for (const spec of specs) {
      if (spec.type === 'tensor') {
        const values = await initial(spec.name, spec.shape, spec.init);
        const v = variableFrom(values, spec.shape, spec.name);
        created.push(v);
        tensors.set(spec.name, v);
        weights.set(spec.name, v);
        fileTensors.push({ name: spec.name, variable: v, transpose: false });
        continue;
      }
      const { module, inFeatures: inF, outFeatures: outF } = spec;
      const weightName = spec.tiedTo ?? `${module}.weight`;
      let values = await initial(weightName, spec.layout === 'linear' ? [outF, inF] : [inF, outF], 'normal');
      if (spec.layout === 'linear') values = transposeMatrix(values, outF, inF);
      const kernel = variableFrom(values, [inF, outF], `${module}.weight`);
      created.push(kernel);
      let bias: Variable | null = null;
      if (spec.bias) {
        bias = variableFrom(await initial(`${module}.bias`, [outF], 'zeros'), [outF], `${module}.bias`);
        created.push(bias);
      }
      linears.set(module, { name: module, inFeatures: inF, outFeatures: outF, kernel, bias, adapters: new Map(), active: [], merged: [], kernelTranspose: () => transposes.of(kernel), gemm });
      layouts.set(module, spec.layout);
      weights.set(`${module}.weight`, kernel);
      if (bias) weights.set(`${module}.bias`, bias);
      fileTensors.push({ name: weightName, variable: kernel, transpose: spec.layout === 'linear' });
      if (bias) fileTensors.push({ name: `${module}.bias`, variable: bias, transpose: false });
    }
  } catch (error) {
    for (const v of created) v.dispose();
    gemm?.dispose();
    throw error;
  }
  const params = {
    linear(module: string): Linear {
      const l = linears.get(module);
      if (!l) throw new ProvenantError('PRETRAINED_WEIGHTS_MISMATCH', `Internal: no linear module ${module}.`);
      return l;
    },
    tensor(name: string): Variable {
      const t = tensors.get(name);
      if (!t) throw new ProvenantError('PRETRAINED_WEIGHTS_MISMATCH', `Internal: no tensor ${name}.`);
      return t;
    },
  };
  const arch = options.forward(params);
  const logits = (inputs: HfForwardInputs, ctx: ForwardContext = {}, cache?: KvCache): Tensor2D => {
    checkInputs(config, inputs, cache);
    return arch.head(arch.hidden(inputs, ctx, cache), inputs, ctx);
  };
  const model: PretrainedModel = {
    kind: config.architecture,
    config,
    linears,
    weights,
    directory: options.directory,
    tokenizer: options.tokenizer,
    moduleLayouts: layouts,
    fileTensors,
    rawConfig: options.rawConfig,
    ignoredTensors: options.ignoredTensors,
    initializedTensors: initialized,
    defaultTargetModules: arch.defaultTargets,
    hiddenStates: (inputs, ctx = {}, cache) => {
      checkInputs(config, inputs, cache);
      return arch.hidden(inputs, ctx, cache);
    },
    logits,
    // The Model contract has no mask argument; BERT's comes from its pad id (see padding-mask.ts).
    forward: (inputIds, ctx) => logits({ inputIds, attentionMask: maskFromPadding(config, inputIds.dataSync() as Int32Array, inputIds.shape[0]!, inputIds.shape[1] ?? 1) }, ctx),
    dispose() {
      transposes.dispose();
      gemm?.dispose();
      for (const v of new Set([...weights.values()])) v.dispose();
      for (const linear of linears.values()) {
        for (const a of linear.adapters.values()) {
          a.A.dispose();
          a.B.dispose();
        }
        linear.adapters.clear();
      }
    },
  };
  return model;
}

/**
 * Every id input's entries outside [0, size): one line per input naming it, the allowed range and its config field, and
 * the first offenders as row and position (a rank-2 input [B, T] read row-major).
 */
function idRangeProblems(what: string, values: ArrayLike<number>, T: number, size: number, note: string, offenders: Array<Record<string, unknown>>, noun = 'id(s)'): string[] {
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v >= 0 && v < size && Number.isInteger(v)) continue;
    count++;
    if (bad.length < 5) {
      const [row, position] = [Math.floor(i / T), i % T];
      bad.push(`row ${row}, position ${position}: ${v}`);
      offenders.push({ input: what, row, position, value: v });
    }
  }
  if (count === 0) return [];
  return [`${what}: ${count} ${noun} outside [0, ${size}) (${note}) — ${bad.join('; ')}${count > bad.length ? '; …' : ''}`];
}

const FORWARD_INPUTS = ['inputIds', 'attentionMask', 'tokenTypeIds', 'positionIds'];

function checkInputs(config: HfModelConfig, inputs: HfForwardInputs, cache?: KvCache): void {
  const ids = inputs.inputIds;
  const problems: string[] = [];
  // A misspelt input (`attention_mask`) would run the model without it.
  for (const key of Object.keys(inputs)) {
    if (FORWARD_INPUTS.includes(key) || (inputs as unknown as Record<string, unknown>)[key] === undefined) continue;
    const near = nearestField(key, FORWARD_INPUTS);
    problems.push(`${key}: unknown input${near ? ` (did you mean "${near}"?)` : ''}; known: ${FORWARD_INPUTS.join(', ')}`);
  }
  if (!ids || ids.rank !== 2 || ids.dtype !== 'int32') {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `inputIds must be int32 [B, T], got ${ids?.dtype} [${ids?.shape}].`);
  }
  const [B, T] = ids.shape as [number, number];
  const S = (cache?.length ?? 0) + T;
  const offenders: Array<Record<string, unknown>> = [];
  problems.push(...idRangeProblems('inputIds', ids.dataSync() as Int32Array, T, config.vocabSize, `vocab_size ${config.vocabSize}`, offenders));
  if (inputs.attentionMask && inputs.attentionMask.length !== B * S) problems.push(`attentionMask has ${inputs.attentionMask.length} entries, expected B·S = ${B}·${S}`);
  // transformers inverts the mask as 1 − m: any value but 0 or 1 would weight keys, not mask them.
  else if (inputs.attentionMask) problems.push(...idRangeProblems('attentionMask', inputs.attentionMask, S, 2, '1 = token, 0 = padding', offenders, 'value(s)'));
  if (inputs.positionIds && inputs.positionIds.length !== B * T) problems.push(`positionIds has ${inputs.positionIds.length} entries, expected B·T = ${B}·${T}`);
  if (inputs.tokenTypeIds && inputs.tokenTypeIds.shape.join(',') !== `${B},${T}`) problems.push(`tokenTypeIds must be [${B}, ${T}], got [${inputs.tokenTypeIds.shape}]`);
  else if (inputs.tokenTypeIds && config.architecture === 'bert') {
    problems.push(...idRangeProblems('tokenTypeIds', inputs.tokenTypeIds.dataSync() as Int32Array, T, config.typeVocabSize, `type_vocab_size ${config.typeVocabSize}`, offenders));
  }
  // GPT-2 and BERT look positions up in a learned table; Llama's rotary positions have no table to fall out of.
  if (config.architecture !== 'llama') {
    const field = config.architecture === 'gpt2' ? 'n_positions' : 'max_position_embeddings';
    if (inputs.positionIds && inputs.positionIds.length === B * T) problems.push(...idRangeProblems('positionIds', inputs.positionIds, T, config.maxPositions, `${field} ${config.maxPositions}`, offenders));
    else if (!inputs.positionIds && S > config.maxPositions) problems.push(`positionIds (default 0..${S - 1}) reach ${S - 1}, past the ${config.maxPositions} learned positions (${field} ${config.maxPositions}): shorten the input`);
  }
  if (problems.length > 0) {
    throw new ProvenantError('MODEL_CONFIG_INVALID', `Invalid inputs for this ${config.modelType} model: ${[...new Set(problems.map((p) => p.split(/[: ]/)[0]))].join(', ')}.`, {
      metaMessages: problems,
      data: { offenders },
    });
  }
}
