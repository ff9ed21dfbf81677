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
import { CHAR_VOCAB_SIZE } from './tokenizer.js';
import { createTransformer, type TransformerConfig, type TransformerModel } from './transformer.js';

export const BASE_MODEL_FORMAT = 'provenant-base-model';

export interface BaseModelConfig {
  format: typeof BASE_MODEL_FORMAT;
  version: 1;
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

/** Every base weight as F32 safetensors entries keyed by weight name (copies the data out of the tensors). */
export function modelStateTensors(model: Model): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, v] of model.weights) out[name] = { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
  return out;
}

/**
 * Assigns base weights from safetensors entries. Strict: a missing or unexpected name, a wrong shape or a non-F32 dtype
 * is `CHECKPOINT_INVALID`, listing every offender.
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
 * The directory of the shipped base model: `models/base` in the package root, found by walking up from this module (so it
 * works from `src/` under tsx and from `dist/` once built).
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

/** Reads and checks models/base/config.json (or `directory`/config.json). */
export async function readBaseModelConfig(directory?: string): Promise<BaseModelConfig> {
  const { path } = await nodeModules();
  // A folder a crashed saveBaseModel committed is read from its complete pending set; a missing one is FILE_NOT_FOUND.
  const dir = await committedFolder(directory ?? (await baseModelDirectory()));
  const text = await readTextFileChecked(path.join(dir, 'config.json'), { what: 'base model config' });
  let config: BaseModelConfig;
  try {
    config = JSON.parse(text) as BaseModelConfig;
  } catch (cause) {
    throw new ProvenantError('CHECKPOINT_INVALID', `Cannot read ${path.join(dir, 'config.json')}.`, { cause });
  }
  if (config.format !== BASE_MODEL_FORMAT || config.version !== 1 || config.architecture !== 'transformer') {
    throw new ProvenantError('CHECKPOINT_INVALID', `${path.join(dir, 'config.json')} is not a Provenant base model (version 1).`);
  }
  return config;
}

export interface LoadBaseModelOptions {
  /** Directory holding config.json and the weights; default the package's models/base. */
  directory?: string;
  /** Check the weights' sha256 against config.json. Default true. */
  verifyHash?: boolean;
}

/**
 * Loads the shipped, pretrained tiny transformer from disk — no network — after checking the weights' sha256 against
 * `config.json` (`CHECKPOINT_INVALID` on mismatch). Base weights come back trainable; `attachAdapter` freezes them.
 *
 * @example
 * ```ts
 * const model = await loadBaseModel();
 * const { weightsSha256, heldOut } = await readBaseModelConfig();
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
      throw new ProvenantError('CHECKPOINT_INVALID', 'The base model weights do not match the hash in config.json.', {
        metaMessages: [`expected: ${config.weightsSha256}`, `actual:   ${actual}`],
        details: 'The file was modified or corrupted; reinstall the package or rerun `npm run pretrain`.',
      });
    }
  }
  const { tensors } = decodeSafetensors(bytes);
  const model = createTransformer(config.config);
  try {
    loadModelState(model, tensors);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Writes a transformer as a base model directory (model.safetensors + config.json); returns the config written.
 * `extra` adds descriptive fields (held-out perplexity, training settings).
 */
export async function saveBaseModel(
  model: TransformerModel,
  directory: string,
  extra: { name: string; description?: string; heldOut?: Record<string, unknown>; training?: Record<string, unknown> },
): Promise<BaseModelConfig> {
  const bytes = encodeSafetensors(modelStateTensors(model), { format: BASE_MODEL_FORMAT, config: JSON.stringify(model.config) });
  const weightsFile = 'model.safetensors';
  let parameters = 0;
  for (const v of model.weights.values()) parameters += v.size;
  const config: BaseModelConfig = {
    format: BASE_MODEL_FORMAT,
    version: 1,
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
  // Both files through one atomic folder write (issue 13): a crash leaves the old model or the new one, never a mix.
  await writeFolderAtomic(directory, { [weightsFile]: bytes, 'config.json': JSON.stringify(config, null, 2) + '\n' });
  return config;
}
