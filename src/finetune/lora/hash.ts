/**
 * Content hashes of a base model and of an adapter, for the audit record and the chain.
 *
 * - `baseModelHash` (format `provenant.base-model.v2`) is SHA-256 over the canonical JSON of a manifest: the format tag,
 *   the model kind, its configuration less initialisation-only and head-only fields, and for every base tensor (sorted
 *   by name) its name, dtype, shape and the SHA-256 of its raw little-endian bytes. The per-tensor digests make a
 *   mismatch nameable: an adapter records them (`baseTensorDigests`), and `verifyAdapterBase` lists the tensors that
 *   differ. It covers the *frozen base* only: a classification head (a linear module named `classifier` or `score`, and
 *   the config fields that describe it) is not part of the base — it is new or probe-trained per task, and travels in
 *   the adapter as a modules_to_save copy; when an adapter does not carry it, `headHash` binds it separately. With
 *   adapters merged the hash sees the exact pre-merge kernels; with a modules_to_save copy loaded, the base's original
 *   module. (PiSSA/OLoRA replace W by its residual: that *is* a different base, and its hash says so.)
 * - `adapterHash` covers the resolved LoRA config and the adapter's PEFT state dict (`adapterStateDict`: PEFT keys and
 *   PyTorch layouts, float32), so it can be recomputed from `adapter_model.safetensors` + `adapter_config.json`: SHA-256
 *   of the manifest JSON (tag, config, names, dtypes, shapes), a newline, then every tensor's bytes in name order.
 *
 * Nothing in either depends on variable names, memory layout, host endianness, or the order weights were created — so
 * the same weights hash alike after a save and a load.
 */
import { canonicalJson, createSha256, ProvenantError, sha256, utf8Bytes, type Hex } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { Variable } from '../tf.js';
import { baseModuleValues } from './adapter.js';
import { getAdapter } from './registry.js';
import { adapterStateDict } from './state-dict.js';
import { resolveModulesToSave } from './target-modules.js';

/** Format tags inside the hashed manifests; a change of canonical bytes gets a new tag, never a silent new hash. */
export const BASE_MODEL_HASH_FORMAT = 'provenant.base-model.v2';
export const ADAPTER_HASH_FORMAT = 'provenant.adapter.v1';
export const HEAD_HASH_FORMAT = 'provenant.head.v1';

/** Model-config fields that only shape the initial weights, left out of the base-model hash. */
export const INIT_ONLY_CONFIG_FIELDS: readonly string[] = Object.freeze(['seed', 'initStd']);

/**
 * Config fields that describe a classification head rather than the base (the zoo transformer's `numClasses` and
 * `pooling`; a Hugging Face model's class name, task, label count and label names), left out of the base-model hash.
 */
export const HEAD_CONFIG_FIELDS: readonly string[] = Object.freeze(['numClasses', 'pooling', 'className', 'task', 'numLabels', 'id2label', 'label2id']);
// (Only for models with a separable head: the zoo's logistic regression and MLP keep numClasses — their output layer is the base.)

/** Module names that are classification heads wherever they appear (transformers' `*ForSequenceClassification` heads). */
const CLASSIFICATION_HEAD_NAMES: readonly string[] = ['classifier', 'score'];

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of a 4-byte typed array (a view on little-endian hosts, a swapped copy otherwise). */
function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) for (let k = 0; k < 4; k++) out[i + k] = bytes[i + 3 - k]!;
  return out;
}

interface HashTensor {
  name: string;
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

function hashTensors(format: string, config: unknown, tensors: HashTensor[]): Hex {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const manifest = canonicalJson({ format, config, tensors: sorted.map((t) => [t.name, t.dtype, t.shape]) });
  const hasher = createSha256();
  hasher.update(utf8Bytes(`${manifest}\n`));
  for (const t of sorted) hasher.update(littleEndianBytes(t.data));
  return hasher.digest();
}

function variableTensor(name: string, variable: Variable, override?: Float32Array): HashTensor {
  if (variable.dtype === 'int32') return { name, dtype: 'I32', shape: [...variable.shape], data: Int32Array.from(variable.dataSync() as Int32Array) };
  return { name, dtype: 'F32', shape: [...variable.shape], data: override ?? Float32Array.from(variable.dataSync() as Float32Array) };
}

/**
 * The classification-head modules of a model: linear modules whose last path segment is `classifier` or `score`
 * (the zoo transformer's `addClassificationHead`, transformers' BERT/GPT-2/Llama sequence-classification heads).
 *
 * @example
 * ```ts
 * import { addClassificationHead, classificationHeadModules, type TransformerModel } from 'provenant/finetune';
 * declare const model: TransformerModel;
 * addClassificationHead(model, 2, { seed: 1 });
 * classificationHeadModules(model); // ['classifier']
 * ```
 */
export function classificationHeadModules(model: Model): string[] {
  if (!hasSeparableHead(model)) return [];
  return [...model.linears.keys()].filter((m) => CLASSIFICATION_HEAD_NAMES.includes(m.slice(m.lastIndexOf('.') + 1)));
}

/**
 * Whether the model's classes come from a head separate from its base (transformers: yes; the zoo's logistic regression
 * and MLP: no — their output layer *is* the model, and its class count part of the base).
 */
function hasSeparableHead(model: Model): boolean {
  return model.kind !== 'logistic-regression' && model.kind !== 'mlp';
}

/** The per-tensor fingerprint of a base model: the hash and each tensor's own SHA-256, by weight name. */
export interface BaseModelFingerprint {
  /** `baseModelHash`. */
  hash: Hex;
  /** SHA-256 of each base tensor's little-endian bytes, by weight name (head tensors excluded). */
  tensors: Map<string, Hex>;
  /** The weight names left out as the classification head. */
  headTensors: string[];
}

/** The head's variables (kernel and bias of every classification-head module), by identity. */
function headVariables(model: Model): Set<Variable> {
  const vars = new Set<Variable>();
  for (const m of classificationHeadModules(model)) {
    const linear = model.linears.get(m)!;
    vars.add(linear.kernel);
    if (linear.bias) vars.add(linear.bias);
  }
  return vars;
}

/**
 * The base tensors with their hashed values: merged adapters and loaded modules_to_save copies undone, kernels replaced
 * where `kernels` says (by module path).
 */
function baseTensors(model: Model, kernels: ReadonlyMap<string, Float32Array>): { body: HashTensor[]; head: HashTensor[] } {
  const overrides = new Map<Variable, Float32Array>();
  for (const [m, linear] of model.linears) {
    const values = baseModuleValues(model, m);
    overrides.set(linear.kernel, kernels.get(m) ?? values.kernel);
    if (linear.bias && values.bias) overrides.set(linear.bias, values.bias);
  }
  const head = headVariables(model);
  const body: HashTensor[] = [];
  const headTensors: HashTensor[] = [];
  for (const [name, v] of model.weights) (head.has(v) ? headTensors : body).push(variableTensor(name, v, overrides.get(v)));
  return { body, head: headTensors };
}

/**
 * `baseModelHash` with each tensor's own digest, so a mismatch can name the tensors that differ. `kernels` replaces
 * some modules' kernels (by module path) — the original base of a PiSSA/OLoRA adapter, whose residual kernels are what
 * the model holds.
 *
 * @example
 * ```ts
 * import { baseModelFingerprint, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * const { hash, tensors } = baseModelFingerprint(model);
 * tensors.get('blocks.0.attn.q_proj.weight'); // '9f2c…' (64 hex digits)
 * ```
 */
export function baseModelFingerprint(model: Model, kernels: ReadonlyMap<string, Float32Array> = new Map()): BaseModelFingerprint {
  const { body, head } = baseTensors(model, kernels);
  const sorted = body.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tensors = new Map<string, Hex>();
  for (const t of sorted) tensors.set(t.name, sha256(littleEndianBytes(t.data)));
  // Initialisation-only fields do not change the function the weights compute (the same weights under another seed are
  // the same base); head-only fields describe the head, which is not the base.
  const headFields = hasSeparableHead(model) ? HEAD_CONFIG_FIELDS : [];
  const config = Object.fromEntries(
    Object.entries(model.config).filter(([key]) => !INIT_ONLY_CONFIG_FIELDS.includes(key) && !headFields.includes(key)),
  );
  const manifest = canonicalJson({
    format: BASE_MODEL_HASH_FORMAT,
    config: { kind: model.kind, config },
    tensors: sorted.map((t) => [t.name, t.dtype, t.shape, tensors.get(t.name)!]),
  });
  return { hash: sha256(utf8Bytes(manifest)), tensors, headTensors: head.map((t) => t.name).sort() };
}

/**
 * SHA-256 of the frozen base model: its kind, its configuration, and every base weight (see the file comment) —
 * not the classification head, and unaffected by attached, active, merged or modules_to_save adapters.
 *
 * @example
 * ```ts
 * import { addClassificationHead, attachAdapter, baseModelHash, mergeAdapter, type TransformerModel } from 'provenant/finetune';
 * declare const model: TransformerModel;
 * const before = baseModelHash(model);
 * attachAdapter(model, 'default', { r: 4 }, { seed: 1 });
 * mergeAdapter(model, 'default');
 * baseModelHash(model) === before; // true
 * addClassificationHead(model, 2, { seed: 1 });
 * baseModelHash(model) === before; // true: the head is not the base
 * ```
 */
export function baseModelHash(model: Model): Hex {
  return baseModelFingerprint(model).hash;
}

/**
 * `baseModelHash` with some modules' kernels replaced (by module path) — the hash of the original base of a PiSSA/OLoRA
 * adapter, whose residual kernels are what the model holds.
 * @internal
 */
export function baseModelHashWithKernels(model: Model, kernels: ReadonlyMap<string, Float32Array>): Hex {
  return baseModelFingerprint(model, kernels).hash;
}

/**
 * The `provenant.base-model.v1` hash (head included, one stream of bytes), which adapters saved before v2 recorded.
 * Only `verifyAdapterBase` uses it, so those adapters still load onto their own base.
 */
function legacyBaseModelHashV1(model: Model): Hex {
  const { body, head } = baseTensors(model, new Map());
  const config = Object.fromEntries(Object.entries(model.config).filter(([key]) => !INIT_ONLY_CONFIG_FIELDS.includes(key)));
  return hashTensors('provenant.base-model.v1', { kind: model.kind, config }, [...body, ...head]);
}

/**
 * SHA-256 of the classification head alone (its config fields and tensors, format `provenant.head.v1`), or null when
 * the model has none. Recorded with an adapter that does not carry the head, so it is never applied over another head.
 * `0x`-prefixed, 64 hex digits. The zoo's LR and MLP have no separable head (their output layer is the base): null.
 *
 * @example
 * ```ts
 * import { createTransformer, headHash } from 'provenant/finetune';
 *
 * const model = createTransformer({ vocabSize: 98, dModel: 64, nHeads: 4, nLayers: 2, maxSeqLen: 64, numClasses: 2, seed: 1 });
 * headHash(model); // '0x2b5f…' (the `classifier` head); null for a model without a head
 * ```
 */
export function headHash(model: Model): Hex | null {
  const { head } = baseTensors(model, new Map());
  if (head.length === 0) return null;
  const config = Object.fromEntries(Object.entries(model.config).filter(([key]) => HEAD_CONFIG_FIELDS.includes(key)));
  return hashTensors(HEAD_HASH_FORMAT, { kind: model.kind, config }, head);
}

/** Safetensors-metadata keys with which an adapter records its base (PEFT ignores them). */
export const BASE_METADATA_KEYS = Object.freeze({
  baseModelHash: 'provenant.base_model_hash',
  /** JSON object: base weight name → first 16 hex digits of its SHA-256 (enough to name what changed). */
  baseTensorDigests: 'provenant.base_tensor_digests',
  /** `headHash`, present when the model has a classification head that the adapter does not carry. */
  headHash: 'provenant.head_hash',
});

const SHORT_DIGEST = 16;

/**
 * The metadata an adapter saved from `model` carries about its base: the base hash, each base tensor's digest, and the
 * head's hash when the adapter's `modulesToSave` does not carry the head.
 *
 * @example
 * ```ts
 * import { baseModelMetadata, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * const metadata = { format: 'pt', ...baseModelMetadata(model, ['classifier']) };
 * ```
 */
export function baseModelMetadata(model: Model, modulesToSave: readonly string[], kernels: ReadonlyMap<string, Float32Array> = new Map()): Record<string, string> {
  const { hash, tensors } = baseModelFingerprint(model, kernels);
  const digests = Object.fromEntries([...tensors].map(([name, d]) => [name, d.slice(2, 2 + SHORT_DIGEST)]));
  const out: Record<string, string> = {
    [BASE_METADATA_KEYS.baseModelHash]: hash,
    [BASE_METADATA_KEYS.baseTensorDigests]: JSON.stringify(digests),
  };
  const carried = new Set(resolveModulesToSave(model, modulesToSave));
  const uncarried = classificationHeadModules(model).filter((m) => !carried.has(m));
  const head = headHash(model);
  if (uncarried.length > 0 && head) out[BASE_METADATA_KEYS.headHash] = head;
  return out;
}

/** Which recorded base tensors differ from the model's, are missing from it, or are new in it. */
export interface BaseTensorDiff {
  changed: string[];
  missing: string[];
  unexpected: string[];
}

/**
 * Compares recorded per-tensor digests (`baseModelMetadata`'s short hex prefixes, name → digest) with the model's
 * (`baseModelFingerprint(model).tensors`, name → `0x` + 64 hex): a recorded prefix that differs is `changed`, a recorded
 * name the model lacks `missing`, a model tensor not recorded `unexpected`. Every list sorted.
 *
 * @example
 * ```ts
 * import { baseModelFingerprint, diffBaseTensors, type Model } from 'provenant/finetune';
 *
 * declare const model: Model;
 * declare const recorded: Record<string, string>; // JSON.parse(metadata['provenant.base_tensor_digests'])
 * diffBaseTensors(recorded, baseModelFingerprint(model).tensors); // { changed: ['fc2.weight'], missing: [], unexpected: [] }
 * ```
 */
export function diffBaseTensors(recorded: Readonly<Record<string, string>>, actual: ReadonlyMap<string, Hex>): BaseTensorDiff {
  const changed: string[] = [];
  const missing: string[] = [];
  const recordedNames = new Set(Object.keys(recorded));
  for (const name of [...recordedNames].sort()) {
    const mine = actual.get(name);
    if (mine === undefined) missing.push(name);
    else if (mine.slice(2, 2 + recorded[name]!.length) !== recorded[name]) changed.push(name);
  }
  const unexpected = [...actual.keys()].filter((n) => !recordedNames.has(n)).sort();
  return { changed, missing, unexpected };
}

function listed(label: string, names: readonly string[], max = 20): string[] {
  if (names.length === 0) return [];
  const shown = names.slice(0, max).map((n) => `  ${n}`);
  return [`${label} (${names.length}):`, ...shown, ...(names.length > max ? [`  … and ${names.length - max} more`] : [])];
}

/**
 * Checks that `model` is the base an adapter was saved from, by the metadata `baseModelMetadata` wrote. Throws
 * `ADAPTER_BASE_MISMATCH` naming every base tensor that differs, is missing or is new (when the adapter recorded
 * per-tensor digests), or the head when the adapter relies on the model's head and that head differs. An adapter with
 * no recorded base passes.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, verifyAdapterBase, type Model } from 'provenant/finetune';
 * declare const model: Model;
 * declare const bytes: Uint8Array; // adapter_model.safetensors
 * verifyAdapterBase(model, decodeSafetensors(bytes).metadata, ['classifier']); // throws ADAPTER_BASE_MISMATCH on another base
 * ```
 */
export function verifyAdapterBase(model: Model, metadata: Readonly<Record<string, string>>, modulesToSave: readonly string[]): void {
  const recorded = metadata[BASE_METADATA_KEYS.baseModelHash];
  const details = 'Load it onto the base it was trained on (PiSSA/OLoRA adapters need the residual base), or pass verifyBaseModel: false.';
  if (recorded !== undefined) {
    const fingerprint = baseModelFingerprint(model);
    const legacy = metadata[BASE_METADATA_KEYS.baseTensorDigests] === undefined && recorded === legacyBaseModelHashV1(model);
    if (fingerprint.hash !== recorded && !legacy) {
      let digests: Record<string, string> | null = null;
      try {
        const parsed = JSON.parse(metadata[BASE_METADATA_KEYS.baseTensorDigests] ?? 'null') as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) digests = Object.assign(Object.create(null) as Record<string, string>, parsed);
      } catch {
        digests = null;
      }
      const diff = digests ? diffBaseTensors(digests, fingerprint.tensors) : null;
      const named = diff ? [...listed('tensors that differ', diff.changed), ...listed('tensors the model lacks', diff.missing), ...listed('tensors the adapter did not see', diff.unexpected)] : [];
      throw new ProvenantError('ADAPTER_BASE_MISMATCH', 'This adapter was trained on a different base model.', {
        metaMessages: [
          `recorded base: ${recorded}`,
          `this model:    ${fingerprint.hash}`,
          ...(diff ? (named.length > 0 ? named : ['every tensor matches: the configuration differs']) : ['(the adapter recorded no per-tensor digests, so the differing tensors cannot be named)']),
        ],
        details,
        data: { expected: recorded, actual: fingerprint.hash, ...(diff ?? {}) },
      });
    }
  }
  const recordedHead = metadata[BASE_METADATA_KEYS.headHash];
  if (recordedHead !== undefined) {
    const carried = new Set(resolveModulesToSave(model, modulesToSave));
    const relied = classificationHeadModules(model).filter((m) => !carried.has(m));
    const actualHead = headHash(model);
    if (relied.length > 0 && actualHead !== recordedHead) {
      const { headTensors } = baseModelFingerprint(model);
      throw new ProvenantError('ADAPTER_BASE_MISMATCH', 'This adapter was trained over another classification head, and does not carry its own.', {
        metaMessages: [`recorded head: ${recordedHead}`, `this model:    ${actualHead ?? 'no head'}`, ...listed('head tensors that differ', headTensors)],
        details: 'Load it onto the model with the head it was trained over, or train it with the head in modulesToSave so the head travels in the adapter.',
        data: { expected: recordedHead, actual: actualHead, changed: headTensors },
      });
    }
  }
}

/**
 * SHA-256 of one adapter: its resolved LoRA config and its weights in PEFT's keys and layouts (see the file comment:
 * recomputable from `adapter_model.safetensors` + `adapter_config.json`). Independent of the adapter's name, of whether
 * it is active or merged, and of the base weights (bind those with `baseModelHash`). `0x` + 64 hex digits.
 *
 * @throws ProvenantError `ADAPTER_NOT_FOUND` when no adapter of that name is attached.
 *
 * @example
 * ```ts
 * import { adapterHash, attachAdapter, createMlp } from 'provenant/finetune';
 *
 * const model = createMlp({ inputSize: 16, hiddenSizes: [32], numClasses: 2, seed: 1 });
 * attachAdapter(model, 'spam', { r: 4, targetModules: ['fc1'] }, { seed: 7 });
 * adapterHash(model, 'spam'); // '0x0264e58e…' — the same after saveAdapter + loadAdapter
 * ```
 */
export function adapterHash(model: Model, adapterName: string): Hex {
  const record = getAdapter(model, adapterName);
  const stateDict = adapterStateDict(model, adapterName);
  const tensors = Object.entries(stateDict).map(([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.shape], data: t.data }));
  return hashTensors(ADAPTER_HASH_FORMAT, record.config, tensors);
}
