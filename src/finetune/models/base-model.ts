/**
 * The shipped base model (models/base/ in the package): save, load with no network, verify its hash.
 *
 * Layout: `model.safetensors` (every base weight, F32, by its PEFT-style name, tfjs layout [in, out]) and `config.json`
 * (architecture, `TransformerConfig`, tokenizer, `weightsSha256` = sha256 of the safetensors bytes, held-out perplexity,
 * training settings). `training-log.json` beside them is the pretraining log. `scripts/pretrain.ts` writes all three.
 */
import { ProvenantError, committedFolder, readFileChecked, readTextFileChecked, sha256, writeFolderAtomic } from '../../core/index.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { tf } from '../tf.js';
import type { Model } from './model.js';
import { loadPretrained } from '../hf/load-pretrained.js';
import type { PretrainedModel } from '../hf/pretrained-model.js';
import { configDtypeKeys } from '../hf/save-pretrained.js';
import { charTokenizerConfigJson, charTokenizerJson } from './char-tokenizer-json.js';
import { CHAR_VOCAB_SIZE, PAD_ID } from './tokenizer.js';
import { createTransformer, type TransformerConfig, type TransformerModel } from './transformer.js';

export const BASE_MODEL_FORMAT = 'provenant-base-model';

export interface BaseModelConfig {
  format: typeof BASE_MODEL_FORMAT;
  version: 2;
  name: string;
  description?: string;
  architecture: 'transformer';
  config: TransformerConfig;
  tokenizer: { kind: 'char'; vocabSize: number };
  weightsFile: string;
  /** sha256 (0x-hex) of the weights file's bytes: the base-model hash of the audit record. */
  weightsSha256: string;
  parameters: number;
  heldOut?: Record<string, unknown>;
  training?: Record<string, unknown>;
}

/**
 * Every base weight as F32 safetensors entries keyed by weight name (`fc1.weight` [in, out] in tfjs layout …), the data
 * copied out of the tensors (so later training does not change them). LoRA factors are not included (`saveAdapter`
 * writes those). The inverse of `loadModelState`.
 *
 * @example
 * ```ts
 * import { createLogisticRegression, encodeSafetensors, modelStateTensors } from 'provenant/finetune';
 *
 * const model = createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 1 });
 * const state = modelStateTensors(model); // { 'linear.weight': { dtype: 'F32', shape: [784, 10], data }, 'linear.bias': … }
 * const bytes = encodeSafetensors(state);
 * ```
 */
export function modelStateTensors(model: Model): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, v] of model.weights) out[name] = { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
  return out;
}

/**
 * Assigns base weights from safetensors entries (keyed and shaped as `modelStateTensors` writes them). Strict: a missing
 * or unexpected name, a wrong shape or a non-F32 dtype is `CHECKPOINT_INVALID`, listing every offender in
 * `metaMessages` — and nothing is assigned unless everything matches.
 *
 * @throws ProvenantError `CHECKPOINT_INVALID` listing every missing, unexpected, mis-shaped or non-F32 tensor.
 *
 * @example
 * ```ts
 * import { createLogisticRegression, loadModelState, modelStateTensors } from 'provenant/finetune';
 *
 * const trained = createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 1 });
 * const copy = createLogisticRegression({ inputSize: 784, numClasses: 10, seed: 2 });
 * loadModelState(copy, modelStateTensors(trained)); // copy now computes what `trained` does
 * ```
 */
export function loadModelState(model: Model, tensors: Record<string, SafetensorsTensor>): void {
  const problems: string[] = [];
  for (const [name, v] of model.weights) {
    const t = tensors[name];
    if (!t) problems.push(`missing: ${name}`);
    else if (t.dtype !== 'F32') problems.push(`dtype: ${name} is ${t.dtype}, expected F32`);
    else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) problems.push(`shape: ${name} is [${t.shape}], expected [${v.shape}]`);
  }
  for (const name of Object.keys(tensors)) if (!model.weights.has(name)) problems.push(`unexpected: ${name}`);
  if (problems.length) {
    throw new ProvenantError('CHECKPOINT_INVALID', `The weights do not match the model (${problems.length} problem${problems.length > 1 ? 's' : ''}).`, {
      metaMessages: problems,
      data: { problems },
    });
  }
  for (const [name, v] of model.weights) {
    tf.tidy(() => v.assign(tf.tensor(tensors[name]!.data as Float32Array, v.shape, 'float32')));
  }
}

async function nodeModules() {
  const [fs, path, url] = await Promise.all([import('node:fs/promises'), import('node:path'), import('node:url')]);
  return { fs, path, url };
}

/**
 * The directory of the shipped base model: `models/base` in the package root, found by walking up (at most 8 levels) from
 * this module (so it works from `src/` under tsx and from `dist/` once built). Node only.
 *
 * @throws ProvenantError `CHECKPOINT_INVALID` when no `models/base/config.json` is found.
 *
 * @example
 * ```ts
 * import { baseModelDirectory } from 'provenant/finetune';
 *
 * await baseModelDirectory(); // '/…/node_modules/provenant/models/base'
 * ```
 */
export async function baseModelDirectory(): Promise<string> {
  const { fs, path, url } = await nodeModules();
  let dir: string;
  try {
    dir = path.dirname(url.fileURLToPath(import.meta.url));
  } catch {
    // The CommonJS build has no import.meta.url.
    dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  }
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'models', 'base', 'config.json');
    try {
      await fs.access(candidate);
      return path.dirname(candidate);
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new ProvenantError('CHECKPOINT_INVALID', 'The shipped base model (models/base/config.json) was not found beside the package.', {
    details: 'Reinstall provenant, or pass { directory } to loadBaseModel; `npm run pretrain` rebuilds it in a source checkout.',
  });
}

/** The file beside the Hugging Face files that holds Provenant's own record of the base model (`BaseModelConfig`). */
export const BASE_MODEL_RECORD_FILE = 'provenant.json';

/**
 * Reads and checks the base model's record (`provenant.json`: name, sizes, weights hash, held-out figures, training)
 * from `directory` (default `baseModelDirectory()`). A folder left by a crashed `saveBaseModel` is read from its
 * complete committed set. Node only.
 *
 * @throws ProvenantError `FILE_NOT_FOUND` (no record file), `CHECKPOINT_INVALID` (not JSON, or not a version-2
 * Provenant transformer record, or no shipped model found).
 *
 * @example
 * ```ts
 * import { readBaseModelConfig } from 'provenant/finetune';
 *
 * const record = await readBaseModelConfig();
 * record.config; // { vocabSize: 98, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, mlpHidden: 256, seed: … }
 * record.weightsSha256; // '0x…': the audit record's base-model hash
 * ```
 */
export async function readBaseModelConfig(directory?: string): Promise<BaseModelConfig> {
  const { path } = await nodeModules();
  // A folder a crashed saveBaseModel committed is read from its complete pending set; a missing one is FILE_NOT_FOUND.
  const dir = await committedFolder(directory ?? (await baseModelDirectory()));
  const file = path.join(dir, BASE_MODEL_RECORD_FILE);
  const text = await readTextFileChecked(file, { what: 'base model record' });
  let config: BaseModelConfig;
  try {
    config = JSON.parse(text) as BaseModelConfig;
  } catch (cause) {
    throw new ProvenantError('CHECKPOINT_INVALID', `Cannot read ${file}.`, { cause });
  }
  if (config.format !== BASE_MODEL_FORMAT || config.version !== 2 || config.architecture !== 'transformer') {
    throw new ProvenantError('CHECKPOINT_INVALID', `${file} is not a Provenant base model record (version 2).`);
  }
  return config;
}

export interface LoadBaseModelOptions {
  /** Directory holding the Hugging Face files and provenant.json; default the package's models/base. */
  directory?: string;
  /** Check the weights' sha256 against provenant.json. Default true. */
  verifyHash?: boolean;
}

/**
 * Loads the shipped base model: a standard Hugging Face GPT-2 folder (`config.json`, `model.safetensors`,
 * `tokenizer.json`) read by `loadPretrained`, returned as the zoo transformer the pipeline trains (the same function:
 * GPT-2's blocks are exactly its pre-LayerNorm blocks, `c_attn` split into q, k, v). No network.
 *
 * @example
 * ```ts
 * import { createCharTokenizer, generateText, loadBaseModel } from 'provenant/finetune';
 * const model = await loadBaseModel();
 * generateText(model, createCharTokenizer(), 'Call me ', { seed: 1 });
 * ```
 */
export async function loadBaseModel(options: LoadBaseModelOptions = {}): Promise<TransformerModel> {
  const { path } = await nodeModules();
  const dir = await committedFolder(options.directory ?? (await baseModelDirectory()));
  const config = await readBaseModelConfig(dir);
  const bytes = await readFileChecked(path.join(dir, config.weightsFile), { what: 'base model weights' });
  if (options.verifyHash !== false) {
    const actual = sha256(bytes);
    if (actual !== config.weightsSha256) {
      throw new ProvenantError('CHECKPOINT_INVALID', `The base model weights do not match the hash in ${BASE_MODEL_RECORD_FILE}.`, {
        metaMessages: [`expected: ${config.weightsSha256}`, `actual:   ${actual}`],
        details: 'The file was modified or corrupted; reinstall the package or rerun `npm run pretrain`.',
      });
    }
  }
  const pretrained = await loadPretrained(dir, { tokenizer: false });
  try {
    const model = createTransformer(config.config);
    try {
      loadModelState(model, gpt2ToTransformerTensors(pretrained, config.config));
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    pretrained.dispose();
  }
}

/** The transformer's weights under GPT-2's names and layouts (`GPT2LMHeadModel`, untied head). */
export function transformerToGpt2Tensors(model: TransformerModel): Record<string, SafetensorsTensor> {
  const { dModel: D, nLayers: L } = model.config;
  const value = (name: string) => Float32Array.from(model.weights.get(name)!.dataSync() as Float32Array);
  const tensor = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F32', shape, data });
  const out: Record<string, SafetensorsTensor> = {
    'transformer.wte.weight': tensor([model.config.vocabSize, D], value('embed_tokens.weight')),
    'transformer.wpe.weight': tensor([model.config.maxSeqLen, D], value('embed_positions.weight')),
    'transformer.ln_f.weight': tensor([D], value('ln_f.weight')),
    'transformer.ln_f.bias': tensor([D], value('ln_f.bias')),
    // nn.Linear stores [out, in]; the transformer's kernel is [in, out].
    'lm_head.weight': tensor([model.config.vocabSize, D], transposed(value('lm_head.weight'), D, model.config.vocabSize)),
  };
  const hidden = model.config.mlpHidden ?? 4 * D;
  for (let i = 0; i < L; i++) {
    const b = `blocks.${i}`;
    const h = `transformer.h.${i}`;
    // Conv1D keeps [in, out]: c_attn is q, k, v side by side on the output axis.
    const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((m) => value(`${b}.attn.${m}.weight`));
    const fused = new Float32Array(D * 3 * D);
    for (let r = 0; r < D; r++) {
      fused.set(q!.subarray(r * D, (r + 1) * D), r * 3 * D);
      fused.set(k!.subarray(r * D, (r + 1) * D), r * 3 * D + D);
      fused.set(v!.subarray(r * D, (r + 1) * D), r * 3 * D + 2 * D);
    }
    const fusedBias = new Float32Array(3 * D);
    ['q_proj', 'k_proj', 'v_proj'].forEach((m, j) => fusedBias.set(value(`${b}.attn.${m}.bias`), j * D));
    Object.assign(out, {
      [`${h}.ln_1.weight`]: tensor([D], value(`${b}.ln1.weight`)),
      [`${h}.ln_1.bias`]: tensor([D], value(`${b}.ln1.bias`)),
      [`${h}.attn.c_attn.weight`]: tensor([D, 3 * D], fused),
      [`${h}.attn.c_attn.bias`]: tensor([3 * D], fusedBias),
      [`${h}.attn.c_proj.weight`]: tensor([D, D], value(`${b}.attn.o_proj.weight`)),
      [`${h}.attn.c_proj.bias`]: tensor([D], value(`${b}.attn.o_proj.bias`)),
      [`${h}.ln_2.weight`]: tensor([D], value(`${b}.ln2.weight`)),
      [`${h}.ln_2.bias`]: tensor([D], value(`${b}.ln2.bias`)),
      [`${h}.mlp.c_fc.weight`]: tensor([D, hidden], value(`${b}.mlp.fc_in.weight`)),
      [`${h}.mlp.c_fc.bias`]: tensor([hidden], value(`${b}.mlp.fc_in.bias`)),
      [`${h}.mlp.c_proj.weight`]: tensor([hidden, D], value(`${b}.mlp.fc_out.weight`)),
      [`${h}.mlp.c_proj.bias`]: tensor([D], value(`${b}.mlp.fc_out.bias`)),
    });
  }
  return out;
}

/** The inverse of `transformerToGpt2Tensors`, read from a loaded GPT-2 model: the transformer's weights by name. */
function gpt2ToTransformerTensors(pretrained: PretrainedModel, config: TransformerConfig): Record<string, SafetensorsTensor> {
  const D = config.dModel;
  const byFileName = new Map(pretrained.fileTensors.map((t) => [t.name, t]));
  const value = (name: string) => {
    const t = byFileName.get(name);
    if (!t) throw new ProvenantError('CHECKPOINT_INVALID', `The base model folder lacks ${name}.`);
    return Float32Array.from(t.variable.dataSync() as Float32Array);
  };
  const tensor = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F32', shape, data });
  const out: Record<string, SafetensorsTensor> = {
    'embed_tokens.weight': tensor([config.vocabSize, D], value('transformer.wte.weight')),
    'embed_positions.weight': tensor([config.maxSeqLen, D], value('transformer.wpe.weight')),
    'ln_f.weight': tensor([D], value('transformer.ln_f.weight')),
    'ln_f.bias': tensor([D], value('transformer.ln_f.bias')),
    // The loaded lm_head kernel is already [in, out].
    'lm_head.weight': tensor([D, config.vocabSize], value('lm_head.weight')),
  };
  const hidden = config.mlpHidden ?? 4 * D;
  for (let i = 0; i < config.nLayers; i++) {
    const b = `blocks.${i}`;
    const h = `transformer.h.${i}`;
    const fused = value(`${h}.attn.c_attn.weight`);
    const fusedBias = value(`${h}.attn.c_attn.bias`);
    ['q_proj', 'k_proj', 'v_proj'].forEach((m, j) => {
      const kernel = new Float32Array(D * D);
      for (let r = 0; r < D; r++) kernel.set(fused.subarray(r * 3 * D + j * D, r * 3 * D + (j + 1) * D), r * D);
      out[`${b}.attn.${m}.weight`] = tensor([D, D], kernel);
      out[`${b}.attn.${m}.bias`] = tensor([D], fusedBias.slice(j * D, (j + 1) * D));
    });
    Object.assign(out, {
      [`${b}.ln1.weight`]: tensor([D], value(`${h}.ln_1.weight`)),
      [`${b}.ln1.bias`]: tensor([D], value(`${h}.ln_1.bias`)),
      [`${b}.attn.o_proj.weight`]: tensor([D, D], value(`${h}.attn.c_proj.weight`)),
      [`${b}.attn.o_proj.bias`]: tensor([D], value(`${h}.attn.c_proj.bias`)),
      [`${b}.ln2.weight`]: tensor([D], value(`${h}.ln_2.weight`)),
      [`${b}.ln2.bias`]: tensor([D], value(`${h}.ln_2.bias`)),
      [`${b}.mlp.fc_in.weight`]: tensor([D, hidden], value(`${h}.mlp.c_fc.weight`)),
      [`${b}.mlp.fc_in.bias`]: tensor([hidden], value(`${h}.mlp.c_fc.bias`)),
      [`${b}.mlp.fc_out.weight`]: tensor([hidden, D], value(`${h}.mlp.c_proj.weight`)),
      [`${b}.mlp.fc_out.bias`]: tensor([D], value(`${h}.mlp.c_proj.bias`)),
    });
  }
  return out;
}

function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** transformers' `GPT2Config` for the transformer (untied head, gelu_new, LayerNorm ε as configured). */
export function gpt2ConfigOf(config: TransformerConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.maxSeqLen,
    n_embd: config.dModel,
    n_layer: config.nLayers,
    n_head: config.nHeads,
    n_inner: config.mlpHidden ?? 4 * config.dModel,
    activation_function: 'gelu_new',
    layer_norm_epsilon: config.layerNormEps ?? 1e-5,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: false,
    pad_token_id: config.padId ?? PAD_ID,
    bos_token_id: null,
    eos_token_id: null,
    initializer_range: 0.02,
    use_cache: true,
    // The weights are F32; transformers 5 reads `dtype`, 4.x `torch_dtype`.
    ...configDtypeKeys('F32'),
  };
}

/**
 * Writes a transformer as the base model folder: Hugging Face's `config.json` (`GPT2LMHeadModel`), `model.safetensors`
 * under GPT-2's tensor names, `tokenizer.json` + `tokenizer_config.json` for the character vocabulary, and Provenant's
 * record `provenant.json` (name, sizes, the weights' sha256, held-out figures, training). Returns the record. All files
 * are written as one atomic folder write: a crash leaves the old model or the new one, never a mix. Node only.
 *
 * @throws ProvenantError `CHECKPOINT_INVALID` when the model still has a classification head (a base model is a
 * language model).
 *
 * @example
 * ```ts
 * import { createTransformer, saveBaseModel } from 'provenant/finetune';
 *
 * const model = createTransformer({ vocabSize: 98, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, mlpHidden: 256, seed: 1 });
 * // … pretrain it
 * const record = await saveBaseModel(model, './models/base', { name: 'my-char-transformer' });
 * record.weightsSha256; // '0x…' (sha256 of model.safetensors)
 * ```
 */
export async function saveBaseModel(
  model: TransformerModel,
  directory: string,
  extra: { name: string; description?: string; heldOut?: Record<string, unknown>; training?: Record<string, unknown> },
): Promise<BaseModelConfig> {
  if (model.config.numClasses !== undefined) throw new ProvenantError('CHECKPOINT_INVALID', 'A base model is a language model; remove the classifier head first.');
  const bytes = encodeSafetensors(transformerToGpt2Tensors(model), { format: 'pt' });
  const weightsFile = 'model.safetensors';
  let parameters = 0;
  for (const v of model.weights.values()) parameters += v.size;
  const config: BaseModelConfig = {
    format: BASE_MODEL_FORMAT,
    version: 2,
    name: extra.name,
    ...(extra.description ? { description: extra.description } : {}),
    architecture: 'transformer',
    config: { ...model.config },
    tokenizer: { kind: 'char', vocabSize: CHAR_VOCAB_SIZE },
    weightsFile,
    weightsSha256: sha256(bytes),
    parameters,
    ...(extra.heldOut ? { heldOut: extra.heldOut } : {}),
    ...(extra.training ? { training: extra.training } : {}),
  };
  // Every file through one atomic folder write (issue 13): a crash leaves the old model or the new one, never a mix.
  await writeFolderAtomic(directory, {
    [weightsFile]: bytes,
    'config.json': `${JSON.stringify(gpt2ConfigOf(model.config), null, 2)}\n`,
    'tokenizer.json': `${JSON.stringify(charTokenizerJson(), null, 2)}\n`,
    'tokenizer_config.json': `${JSON.stringify(charTokenizerConfigJson(model.config.maxSeqLen), null, 2)}\n`,
    [BASE_MODEL_RECORD_FILE]: JSON.stringify(config, null, 2) + '\n',
  });
  return config;
}
