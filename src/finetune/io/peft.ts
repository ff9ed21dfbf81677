/**
 * Adapters in PEFT's on-disk format, so an adapter trained here is read by `PeftModel.from_pretrained` and a PEFT LoRA
 * adapter for the same architecture loads here:
 *
 *   adapter_config.json         PEFT's `LoraConfig` fields (`peft_type: "LORA"`, `r`, `lora_alpha`, `target_modules`, …)
 *   adapter_model.safetensors   `base_model.model.<module>.lora_A.weight` [r, in], `…lora_B.weight` [out, r], and the
 *                               modules_to_save copies as `base_model.model.<module>.weight` / `.bias` (see
 *                               `../lora/state-dict.ts`), with `__metadata__` {"format": "pt", …}
 *
 * Loading is strict, as PEFT's `load_adapter(..., strict)` spirit asks and silently half-loaded adapters forbid: a
 * missing key is `ADAPTER_KEYS_MISSING`, an extra key `ADAPTER_KEYS_UNEXPECTED`, a wrong shape `LORA_SHAPE_MISMATCH`, an
 * integer or boolean tensor `ADAPTER_DTYPE_MISMATCH` — each listing every offender. F16/BF16 (exact) and F64 (rounded,
 * as PyTorch's `copy_` rounds) are read into float32. Provenant's extra facts ride in the safetensors metadata, which
 * PEFT ignores: the LoRA+ ratio, and the base model's hash, which `loadAdapter` checks so an adapter is never applied to
 * a different base (`ADAPTER_BASE_MISMATCH`).
 */
import { ProvenantError, committedFolder, describeValue, readFileChecked, resolve, withDefaults, writeFolderAtomic, type ParamTable } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { PretrainedModel } from '../hf/pretrained-model.js';
import { attachAdapterWeights, getAdapterInfo, type LoraModuleWeights } from '../lora/adapter.js';
import { resolveLoraConfig, type LoraConfig, type LoraInit } from '../lora/config.js';
import { baseModelMetadata, verifyAdapterBase } from '../lora/hash.js';
import type { ModuleValues } from '../lora/registry.js';
import { PEFT_KEY_PREFIX, adapterStateDict, convertedAdapterStateDict, loraKey, savedModuleKey, transpose } from '../lora/state-dict.js';
import { moduleRankAlpha, resolveModulesToSave, resolveTargetModules } from '../lora/target-modules.js';
import {
  bfloat16BitsToFloat32,
  decodeSafetensors,
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  type SafetensorsTensor,
} from './safetensors.js';

/** The two file names PEFT's `save_pretrained` writes and `from_pretrained` reads. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Keys of the safetensors metadata Provenant writes besides PEFT's `format: "pt"`. */
export const PEFT_METADATA_KEYS = Object.freeze({
  loraPlusLrRatio: 'provenant.lora_plus_lr_ratio',
  baseModelHash: 'provenant.base_model_hash',
  /** A classifier adapter's class names by index (JSON array), e.g. `prepareClassificationExamples`' label map. */
  labels: 'provenant.labels',
});

/** PEFT's `adapter_config.json` for a LoRA adapter (the fields Provenant writes; PEFT accepts more). */
export interface PeftLoraConfigJson {
  peft_type: 'LORA';
  task_type: string | null;
  base_model_name_or_path: string | null;
  revision: string | null;
  inference_mode: boolean;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[] | string;
  use_rslora: boolean;
  init_lora_weights: LoraInit;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  modules_to_save: string[] | null;
  bias: 'none';
  fan_in_fan_out: boolean;
  use_dora: boolean;
  layers_to_transform: null;
  layers_pattern: null;
  layer_replication: null;
  [extra: string]: unknown;
}

/** An adapter in memory, as the two files hold it. */
export interface PeftAdapterFiles {
  config: PeftLoraConfigJson;
  safetensors: Uint8Array;
}

export interface SaveAdapterOptions {
  /** PEFT's `base_model_name_or_path` (a hub id or path to the base); default null. */
  baseModelNameOrPath?: string | null;
  /** PEFT's `task_type`: 'SEQ_CLS' for a classifier, 'CAUSAL_LM' for a language model; default null. */
  taskType?: 'SEQ_CLS' | 'CAUSAL_LM' | 'TOKEN_CLS' | 'FEATURE_EXTRACTION' | null;
  /** Storage dtype of the weights; default 'F32' (exact). 'F16' and 'BF16' halve the file and round. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /**
   * For a PiSSA/OLoRA adapter: save it as a plain rank-2r LoRA adapter for the original base (see
   * `convertedAdapterStateDict`), so it loads onto the unmodified base model — in PEFT as here. Default false (the
   * file then needs the residual base, and its recorded base hash says so). No effect on other adapters.
   */
  convertToLora?: boolean;
  /**
   * PEFT's `fan_in_fan_out`: true when the targeted modules store their weight [in, out] (GPT-2's Conv1D). Default: read
   * from the model (`moduleLayouts` of a Hugging Face model), else false.
   */
  fanInFanOut?: boolean;
  /** Class names by index for a classifier adapter (the label map); stored in the safetensors metadata. */
  labels?: readonly string[];
}

export interface LoadAdapterOptions {
  /** Make the loaded adapter the only active one (default true). */
  activate?: boolean;
  /** Check the base-model hash recorded at save time, when the file has one (default true). */
  verifyBaseModel?: boolean;
}

/**
 * The label map saved with a classifier adapter (`SaveAdapterOptions.labels`), or null when it has none.
 *
 * @example
 * ```ts
 * import { readAdapterLabels, saveAdapter, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * const files = saveAdapter(model, 'default', { labels: ['ham', 'spam'] });
 * readAdapterLabels(files); // ['ham', 'spam']
 * ```
 */
export function readAdapterLabels(files: Pick<PeftAdapterFiles, 'safetensors'>): string[] | null {
  const text = decodeSafetensors(files.safetensors).metadata[PEFT_METADATA_KEYS.labels];
  if (text === undefined) return null;
  let labels: unknown;
  try {
    labels = JSON.parse(text);
  } catch (cause) {
    throw new ProvenantError('ADAPTER_WEIGHTS_INVALID', 'The adapter\'s label map is not valid JSON.', { cause });
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new ProvenantError('ADAPTER_WEIGHTS_INVALID', 'The adapter\'s label map must be an array of strings.');
  return labels as string[];
}

/**
 * Our config → PEFT's `LoraConfig` JSON (`adapter_config.json`), field for field what PEFT 0.14's `save_pretrained`
 * writes: `alpha` → `lora_alpha`, `dropout` → `lora_dropout`, `targetModules` → `target_modules`, an empty
 * `modulesToSave` → null, the rest at PEFT's defaults. `loraPlusLrRatio` is not a PEFT field (it rides in the
 * safetensors metadata). `options` set `task_type`, `base_model_name_or_path` and `fan_in_fan_out`.
 *
 * @example
 * ```ts
 * import { loraConfigToPeft, resolveLoraConfig } from 'provenant/finetune';
 *
 * const json = loraConfigToPeft(resolveLoraConfig({ r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'] }), { taskType: 'CAUSAL_LM' });
 * // { peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'], modules_to_save: null, … }
 * ```
 */
export function loraConfigToPeft(config: LoraConfig, options: SaveAdapterOptions = {}): PeftLoraConfigJson {
  return {
    peft_type: 'LORA',
    task_type: options.taskType ?? null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    revision: null,
    inference_mode: true,
    r: config.r,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    target_modules: Array.isArray(config.targetModules) ? [...config.targetModules] : (config.targetModules as string),
    use_rslora: config.useRslora,
    init_lora_weights: config.initLoraWeights,
    rank_pattern: { ...config.rankPattern },
    alpha_pattern: { ...config.alphaPattern },
    modules_to_save: config.modulesToSave.length > 0 ? [...config.modulesToSave] : null,
    bias: 'none',
    fan_in_fan_out: options.fanInFanOut ?? false,
    use_dora: false,
    layers_to_transform: null,
    layers_pattern: null,
    layer_replication: null,
    // The remaining fields PEFT 0.14's `save_pretrained` writes, at their defaults, so the file is field-for-field PEFT's.
    auto_mapping: null,
    eva_config: null,
    exclude_modules: null,
    loftq_config: {},
    lora_bias: false,
    megatron_config: null,
    megatron_core: 'megatron.core',
  };
}

const absent = (v: unknown): boolean => v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/**
 * PEFT LoRA variants that change the forward pass (or the base weights) and that Provenant does not implement: a file
 * that sets any of them is refused with `ADAPTER_UNSUPPORTED` naming each key, never applied as plain LoRA.
 * `fan_in_fan_out` is not among them: PEFT itself overrides it by the module type (true for GPT-2's Conv1D, false for
 * nn.Linear), and the factors' shapes are the same either way.
 */
export const UNSUPPORTED_PEFT_KEYS: ReadonlyArray<readonly [string, (v: unknown) => boolean, string]> = Object.freeze([
  ['bias', (v: unknown) => v === undefined || v === null || v === 'none', 'only bias "none" is supported (biases are not trained)'],
  ['use_dora', absent, 'DoRA (weight-decomposed LoRA) is not implemented'],
  ['lora_bias', absent, 'a bias on lora_B is not implemented'],
  ['use_qalora', absent, 'QALoRA is not implemented'],
  ['layer_replication', absent, 'layer replication is not implemented'],
  ['layers_to_transform', absent, 'layers_to_transform is not implemented; list the modules in target_modules'],
  ['layers_pattern', absent, 'layers_pattern is not implemented'],
  ['exclude_modules', absent, 'exclude_modules is not implemented; list the modules in target_modules'],
  ['megatron_config', absent, 'Megatron parallel layers are not implemented'],
  ['loftq_config', absent, 'LoftQ (quantised base with a residual) is not implemented'],
  ['corda_config', absent, 'CorDA initialisation (which rewrites the base weights) is not implemented'],
  ['target_parameters', absent, 'LoRA on nn.Parameter targets is not implemented'],
  ['trainable_token_indices', absent, 'trainable token embeddings are not implemented'],
  ['alora_invocation_tokens', absent, 'activated LoRA (aLoRA) is not implemented'],
  ['arrow_config', absent, 'Arrow routing is not implemented'],
  ['use_bdlora', absent, 'block-diagonal LoRA is not implemented'],
  ['kasa_config', absent, 'KaSA (singular-value adaptation) is not implemented'],
  ['lora_ga_config', absent, 'LoRA-GA initialisation (which rewrites the base weights) is not implemented'],
  ['monteclora_config', absent, 'MonteCLoRA is not implemented'],
  ['velora_config', absent, 'VeLoRA is not implemented'],
  ['init_lora_weights', (v: unknown) => !(typeof v === 'string' && ['loftq', 'corda'].includes(v)), 'this initialisation rewrites the base weights and is not implemented'],
] as const);

/**
 * PEFT's `adapter_config.json` → our `LoraConfig` (validated). `pissa_niter_<n>` reads as 'pissa' (the weights are in
 * the file; only the base's residual matters, and the base-model hash guards that); `eva` reads as `true` (EVA only
 * chose A's starting values). `loraPlusLrRatio` is not a PEFT field: pass it from the safetensors metadata, default 1.
 * Null fields take our defaults.
 *
 * @throws ProvenantError `LORA_CONFIG_INVALID` (not an object, or a bad field value), `ADAPTER_UNSUPPORTED` (a
 * `peft_type` other than LORA, or a PEFT variant that changes the computation — DoRA, LoftQ, … — each key listed).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { loraConfigFromPeft } from 'provenant/finetune';
 *
 * const config = loraConfigFromPeft(JSON.parse(readFileSync('adapter/adapter_config.json', 'utf8')));
 * config.alpha; // PEFT's lora_alpha, e.g. 16
 * ```
 */
export function loraConfigFromPeft(json: unknown, loraPlusLrRatio = 1): LoraConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ProvenantError('LORA_CONFIG_INVALID', `adapter_config.json must hold an object, got ${describeValue(json)}.`);
  }
  const peft = json as Record<string, unknown>;
  if (peft.peft_type !== 'LORA') {
    throw new ProvenantError('ADAPTER_UNSUPPORTED', `adapter_config.json: peft_type ${describeValue(peft.peft_type)} is not supported (only "LORA").`, { data: { fields: ['peft_type'] } });
  }
  const problems: string[] = [];
  for (const [field, ok, why] of UNSUPPORTED_PEFT_KEYS) if (!ok(peft[field])) problems.push(`${field}: ${why} (got ${describeValue(peft[field])})`);
  if (problems.length > 0) {
    const fields = problems.map((p) => p.split(':')[0]!);
    throw new ProvenantError('ADAPTER_UNSUPPORTED', `adapter_config.json uses PEFT feature(s) Provenant does not implement: ${fields.join(', ')}.`, {
      metaMessages: problems,
      details: 'Applying it as plain LoRA would compute a different function, so it is refused.',
      data: { fields },
    });
  }
  let init = peft.init_lora_weights;
  if (typeof init === 'string' && /^pissa_niter_\d+$/.test(init)) init = 'pissa';
  // EVA only chooses A's starting values (from activations); the trained weights are in the file and the base is untouched.
  if (init === 'eva') init = true;
  const orDefault = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
  return resolveLoraConfig({
    r: orDefault(peft.r),
    alpha: orDefault(peft.lora_alpha),
    dropout: orDefault(peft.lora_dropout),
    targetModules: orDefault(peft.target_modules) ?? null,
    useRslora: orDefault(peft.use_rslora),
    initLoraWeights: orDefault<LoraInit>(init),
    rankPattern: orDefault(peft.rank_pattern),
    alphaPattern: orDefault(peft.alpha_pattern),
    modulesToSave: orDefault(peft.modules_to_save),
    loraPlusLrRatio,
  });
}

function encodeValues(data: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): SafetensorsTensor['data'] {
  if (dtype === 'F16') return float32ToFloat16Bits(data);
  if (dtype === 'BF16') return float32ToBfloat16Bits(data);
  return data;
}

/** The options of {@link saveAdapter} and `saveAdapterToDir` (unknown names refused; values checked where used). */
const SAVE_ADAPTER_PARAMS: ParamTable = Object.freeze({
  name: 'saveAdapter',
  fields: [
    { name: 'baseModelNameOrPath', default: null, meaning: "PEFT's base_model_name_or_path; null: read from a Hugging Face model, else null.", aliases: ['base_model_name_or_path', 'baseModel'] },
    { name: 'taskType', default: null, meaning: "PEFT's task_type; null: read from a Hugging Face model, else null.", aliases: ['task_type', 'task'] },
    { name: 'dtype', default: 'F32', meaning: "Storage dtype of the weights: 'F32' (exact), 'F16' or 'BF16'.", aliases: ['torch_dtype', 'torchDtype'] },
    { name: 'convertToLora', default: false, meaning: 'Save a PiSSA/OLoRA adapter as a plain rank-2r LoRA adapter for the original base.', aliases: ['convert_pissa_to_lora', 'path_initial_model_for_weight_conversion'] },
    { name: 'fanInFanOut', default: null, meaning: "PEFT's fan_in_fan_out; null: read from the model's module layouts, else false.", aliases: ['fan_in_fan_out'] },
    { name: 'labels', default: null, meaning: 'Class names by index, stored in the safetensors metadata.', aliases: ['id2label', 'label_names', 'labelNames'] },
  ],
});

/**
 * Writes one adapter in PEFT's format, in memory: the config object and the safetensors bytes.
 *
 * @example
 * ```ts
 * import { loadAdapter, saveAdapter, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * declare const otherCopyOfTheBase: Model;
 * const { config, safetensors } = saveAdapter(model, 'default', { taskType: 'SEQ_CLS' });
 * loadAdapter(otherCopyOfTheBase, 'default', { config, safetensors });
 * ```
 */
export function saveAdapter(model: Model, name: string, options: SaveAdapterOptions = {}): PeftAdapterFiles {
  resolve(SAVE_ADAPTER_PARAMS, options);
  const { config } = getAdapterInfo(model, name);
  const dtype = options.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new ProvenantError('ADAPTER_DTYPE_MISMATCH', `Adapters are saved as F32, F16 or BF16, not ${describeValue(dtype)}.`);
  }
  const converted = options.convertToLora ? convertedAdapterStateDict(model, name) : null;
  const stateDict = converted?.stateDict ?? adapterStateDict(model, name);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [key, t] of Object.entries(stateDict)) {
    tensors[key] = { dtype, shape: [...t.shape], data: encodeValues(t.data, dtype) } as SafetensorsTensor;
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    [PEFT_METADATA_KEYS.loraPlusLrRatio]: String(config.loraPlusLrRatio),
    ...baseModelMetadata(model, (converted?.config ?? config).modulesToSave, converted?.originalKernels),
  };
  if (options.labels !== undefined) {
    if (!Array.isArray(options.labels) || !options.labels.every((l) => typeof l === 'string') || new Set(options.labels).size !== options.labels.length) {
      throw new ProvenantError('INVALID_ARGUMENT', 'labels must be distinct strings (class names by index).');
    }
    metadata[PEFT_METADATA_KEYS.labels] = JSON.stringify(options.labels);
  }
  const hf = model as Partial<Pick<PretrainedModel, 'moduleLayouts' | 'config' | 'rawConfig' | 'directory'>> & Model;
  const layouts = hf.moduleLayouts;
  const { modules } = getAdapterInfo(model, name);
  const defaults: SaveAdapterOptions = {};
  if (layouts) {
    defaults.fanInFanOut = modules.length > 0 && modules.every((m) => layouts.get(m) === 'conv1d');
    const task = (hf.config as { task?: string }).task;
    defaults.taskType = task === 'causal-lm' ? 'CAUSAL_LM' : task === 'sequence-classification' ? 'SEQ_CLS' : 'FEATURE_EXTRACTION';
    const nameOrPath = hf.rawConfig?._name_or_path;
    defaults.baseModelNameOrPath = typeof nameOrPath === 'string' && nameOrPath.length > 0 ? nameOrPath : (hf.directory ?? null);
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SaveAdapterOptions;
  return { config: loraConfigToPeft(converted?.config ?? config, { ...defaults, ...given }), safetensors: encodeSafetensors(tensors, metadata) };
}

function toFloat32(tensor: SafetensorsTensor): Float32Array | null {
  switch (tensor.dtype) {
    case 'F32':
      return tensor.data as Float32Array;
    case 'F16':
      return float16BitsToFloat32(tensor.data as Uint16Array);
    case 'BF16':
      return bfloat16BitsToFloat32(tensor.data as Uint16Array);
    case 'F64':
      return Float32Array.from(tensor.data as Float64Array);
    default:
      return null;
  }
}

/** The options of {@link loadAdapter} and `loadAdapterFromDir`. */
const LOAD_ADAPTER_PARAMS: ParamTable = Object.freeze({
  name: 'loadAdapter',
  fields: [
    { name: 'activate', default: true, meaning: 'Make the loaded adapter the only active one.', aliases: ['set_active', 'setActive'] },
    { name: 'verifyBaseModel', default: true, meaning: 'Check the base-model hash recorded at save time, when the file has one.', aliases: ['verify_base_model', 'verify', 'verifyBase', 'checkBaseModel'] },
  ],
});

/**
 * Loads a PEFT-format adapter onto `model` under `name`, strictly (see the file comment). Nothing is attached unless
 * every key, shape and dtype checks out. Factors arrive in PyTorch layout (`lora_A.weight` [r, in], `lora_B.weight`
 * [out, r]) and are transposed to ours; F16/BF16/F64 are widened or rounded to float32. The adapter becomes the only
 * active one unless `activate: false`.
 *
 * @throws ProvenantError `LORA_CONFIG_INVALID`, `ADAPTER_UNSUPPORTED`, `ADAPTER_BASE_MISMATCH` (recorded base hash
 * differs; every differing tensor named), `LORA_TARGET_NOT_FOUND`, `ADAPTER_KEYS_MISSING`, `ADAPTER_KEYS_UNEXPECTED`,
 * `ADAPTER_DTYPE_MISMATCH`, `LORA_SHAPE_MISMATCH`, `ADAPTER_WEIGHTS_INVALID` (NaN/Inf values), `SAFETENSORS_INVALID`,
 * `INVALID_ARGUMENT` (name already attached; an unknown option name, with the nearest one) — each listing every offender.
 *
 * @example
 * ```ts
 * import { createMlp, loadAdapter, saveAdapter, type Model } from 'provenant/finetune';
 *
 * declare const trained: Model; // an MLP with adapter 'default' attached and trained
 * const files = saveAdapter(trained, 'default'); // { config, safetensors }
 * const fresh = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 }); // the same base
 * loadAdapter(fresh, 'default', files); // fresh now computes what `trained` does
 * ```
 */
export function loadAdapter(model: Model, name: string, files: PeftAdapterFiles, options: LoadAdapterOptions = {}): void {
  resolve(LOAD_ADAPTER_PARAMS, options);
  const { tensors, metadata } = decodeSafetensors(files.safetensors);
  const ratioText = metadata[PEFT_METADATA_KEYS.loraPlusLrRatio];
  const ratio = ratioText === undefined ? 1 : Number(ratioText);
  const config = loraConfigFromPeft(files.config, ratio);
  if (options.verifyBaseModel !== false) verifyAdapterBase(model, metadata, config.modulesToSave);
  const modules = resolveTargetModules(model, config);
  const modulesToSave = resolveModulesToSave(model, config.modulesToSave);

  // Expected keys and shapes (PyTorch layout).
  const expected = new Map<string, number[]>();
  for (const m of modules) {
    const linear = model.linears.get(m)!;
    const { r } = moduleRankAlpha(config, m);
    expected.set(loraKey(m, 'A'), [r, linear.inFeatures]);
    expected.set(loraKey(m, 'B'), [linear.outFeatures, r]);
  }
  for (const m of modulesToSave) {
    const linear = model.linears.get(m)!;
    expected.set(savedModuleKey(m, 'weight'), [linear.outFeatures, linear.inFeatures]);
    if (linear.bias) expected.set(savedModuleKey(m, 'bias'), [linear.outFeatures]);
  }
  const present = Object.keys(tensors);
  const missing = [...expected.keys()].filter((k) => !(k in tensors));
  const unexpected = present.filter((k) => !expected.has(k)).sort();
  if (missing.length > 0) {
    throw new ProvenantError('ADAPTER_KEYS_MISSING', `adapter_model.safetensors lacks ${missing.length} key(s) its config requires.`, {
      metaMessages: [...missing.map((k) => `missing: ${k}`), ...unexpected.map((k) => `unexpected: ${k}`)],
      data: { keys: missing, unexpected },
    });
  }
  if (unexpected.length > 0) {
    throw new ProvenantError('ADAPTER_KEYS_UNEXPECTED', `adapter_model.safetensors has ${unexpected.length} key(s) its config does not account for.`, {
      metaMessages: unexpected.map((k) => `unexpected: ${k}`),
      details: `Keys are ${PEFT_KEY_PREFIX}<module>.lora_A.weight / .lora_B.weight for target modules and ${PEFT_KEY_PREFIX}<module>.weight / .bias for modules_to_save.`,
      data: { keys: unexpected },
    });
  }
  const badDtypes = [...expected.keys()].filter((k) => !['F32', 'F16', 'BF16', 'F64'].includes(tensors[k]!.dtype));
  if (badDtypes.length > 0) {
    throw new ProvenantError('ADAPTER_DTYPE_MISMATCH', `${badDtypes.length} adapter tensor(s) are not floating point.`, {
      metaMessages: badDtypes.map((k) => `${k}: ${tensors[k]!.dtype}`),
      data: { keys: badDtypes },
    });
  }
  const badShapes = [...expected].filter(([k, shape]) => tensors[k]!.shape.join(',') !== shape.join(','));
  if (badShapes.length > 0) {
    throw new ProvenantError('LORA_SHAPE_MISMATCH', `${badShapes.length} adapter tensor(s) do not fit this ${model.kind}.`, {
      metaMessages: badShapes.map(([k, shape]) => `${k}: file [${tensors[k]!.shape.join(', ')}], model needs [${shape.join(', ')}]`),
      data: { keys: badShapes.map(([k]) => k) },
    });
  }

  // Every value finite: a NaN or Inf weight would silently turn the model's outputs into NaN.
  const values = new Map([...expected.keys()].map((k) => [k, toFloat32(tensors[k]!)!]));
  const nonFinite = [...values].map(([k, v]) => [k, v.reduce((n, x) => (Number.isFinite(x) ? n : n + 1), 0)] as const).filter(([, n]) => n > 0);
  if (nonFinite.length > 0) {
    throw new ProvenantError('ADAPTER_WEIGHTS_INVALID', `${nonFinite.length} adapter tensor(s) hold NaN or infinite values.`, {
      metaMessages: nonFinite.map(([k, n]) => `${k}: ${n} non-finite value(s)`),
      data: { keys: nonFinite.map(([k]) => k) },
    });
  }
  const weights = new Map<string, LoraModuleWeights>();
  for (const m of modules) {
    const linear = model.linears.get(m)!;
    const { r } = moduleRankAlpha(config, m);
    weights.set(m, {
      A: transpose(values.get(loraKey(m, 'A'))!, r, linear.inFeatures),
      B: transpose(values.get(loraKey(m, 'B'))!, linear.outFeatures, r),
    });
  }
  const copies = new Map<string, ModuleValues>();
  for (const m of modulesToSave) {
    const linear = model.linears.get(m)!;
    const kernel = transpose(values.get(savedModuleKey(m, 'weight'))!, linear.outFeatures, linear.inFeatures);
    const bias = values.get(savedModuleKey(m, 'bias'));
    copies.set(m, { kernel, bias: bias ? Float32Array.from(bias) : null });
  }
  attachAdapterWeights(model, name, config, weights, { activate: options.activate, modulesToSaveWeights: copies });
}

const SAVE_ADAPTER_TO_DIR_PARAMS = withDefaults(SAVE_ADAPTER_PARAMS, {}, 'saveAdapterToDir');

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` into `dir` (created if missing) — the folder
 * `PeftModel.from_pretrained(base, dir)` reads. Node only (imports node:fs lazily). Crash-safe: both files are written as
 * one atomic folder write, so a kill leaves the previous adapter or the new one, never a mix.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` (no such adapter), `ADAPTER_DTYPE_MISMATCH` (dtype not F32/F16/BF16),
 * `INVALID_ARGUMENT` (labels not distinct strings; an unknown option name, with the nearest one).
 *
 * @example
 * ```ts
 * import { saveAdapterToDir, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * await saveAdapterToDir(model, 'default', './adapter', { taskType: 'SEQ_CLS', labels: ['ham', 'spam'] });
 * // ./adapter/adapter_config.json, ./adapter/adapter_model.safetensors — PeftModel.from_pretrained(base, './adapter')
 * ```
 */
export async function saveAdapterToDir(model: Model, name: string, dir: string, options: SaveAdapterOptions = {}): Promise<void> {
  resolve(SAVE_ADAPTER_TO_DIR_PARAMS, options);
  const files = saveAdapter(model, name, options);
  // Crash-safe (issue 13): a kill at any point leaves the previous adapter or the new one readable, never a mix.
  await writeFolderAtomic(dir, { [ADAPTER_CONFIG_FILE]: `${JSON.stringify(files.config, null, 2)}\n`, [ADAPTER_WEIGHTS_FILE]: files.safetensors });
}

const LOAD_ADAPTER_FROM_DIR_PARAMS = withDefaults(LOAD_ADAPTER_PARAMS, {}, 'loadAdapterFromDir');

/**
 * Reads a PEFT adapter folder (`adapter_config.json` + `adapter_model.safetensors`, e.g. from PEFT's `save_pretrained`)
 * onto `model` under `name`, strictly, as `loadAdapter`. Node only.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` (an unknown option name, with the nearest one), `ADAPTER_NOT_FOUND` (no
 * folder or file), `LORA_CONFIG_INVALID` (config not JSON), and every error of `loadAdapter`.
 *
 * @example
 * ```ts
 * import { computeLogits, loadAdapterFromDir, loadPretrained } from 'provenant/finetune';
 *
 * const model = await loadPretrained('./tiny-llama');
 * await loadAdapterFromDir(model, 'default', './tiny-llama-lora'); // a PEFT adapter folder
 * const { shape } = computeLogits(model, { inputIds: [[1, 5, 9]] }); // [1, 3, vocab], with the adapter
 * ```
 */
export async function loadAdapterFromDir(model: Model, name: string, dir: string, options: LoadAdapterOptions = {}): Promise<void> {
  // Refused before any file is read: a typo must not cost a load, nor silently skip the base-model check.
  resolve(LOAD_ADAPTER_FROM_DIR_PARAMS, options);
  const { join } = await import('node:path');
  let config: unknown;
  // Typed errors for a missing folder or file (issue 13); read the complete set a crashed save left committed.
  const from = await committedFolder(dir, 'ADAPTER_NOT_FOUND');
  const readFile = async (file: string) => readFileChecked(join(from, file), { code: 'ADAPTER_NOT_FOUND', what: 'adapter file' });
  const configText = Buffer.from(await readFile(ADAPTER_CONFIG_FILE)).toString('utf8');
  try {
    config = JSON.parse(configText);
  } catch (cause) {
    throw new ProvenantError('LORA_CONFIG_INVALID', `${join(dir, ADAPTER_CONFIG_FILE)} is not valid JSON.`, { cause });
  }
  const safetensors = await readFile(ADAPTER_WEIGHTS_FILE);
  loadAdapter(model, name, { config: config as PeftLoraConfigJson, safetensors }, options);
}
