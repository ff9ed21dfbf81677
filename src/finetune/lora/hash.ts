/**
 * Content hashes of a base model and of an adapter, for the audit record and the chain. Each is SHA-256 over canonical
 * bytes: first the canonical JSON of a manifest (a format tag, the configuration, and every tensor's name, dtype and
 * shape, sorted by name), then a newline, then each tensor's raw little-endian bytes in the same order. The shapes fix
 * every tensor's length, so the byte string is unambiguous; nothing in it depends on variable names, memory layout,
 * host endianness, or the order weights were created — so the same weights hash alike after a save and a load.
 *
 * - `baseModelHash` covers the model kind, its configuration less the initialisation-only fields (`seed`, `initStd`),
 *   and the base's own weights (tfjs layout): with adapters merged, the exact pre-merge kernels;
 *   with a modules_to_save copy loaded, the base's original module. (PiSSA/OLoRA replace W by its residual: that *is* a
 *   different base, and its hash says so.)
 * - `adapterHash` covers the resolved LoRA config and the adapter's PEFT state dict (`adapterStateDict`: PEFT keys and
 *   PyTorch layouts, float32), so it can be recomputed from `adapter_model.safetensors` + `adapter_config.json`.
 */
import { canonicalJson, createSha256, utf8Bytes, type Hex } from '../../core/index.js';
import type { Model } from '../models/model.js';
import type { Variable } from '../tf.js';
import { baseModuleValues } from './adapter.js';
import { getAdapter } from './registry.js';
import { adapterStateDict } from './state-dict.js';

/** Format tags inside the hashed manifests; a change of canonical bytes gets a new tag, never a silent new hash. */
export const BASE_MODEL_HASH_FORMAT = 'provenant.base-model.v1';
export const ADAPTER_HASH_FORMAT = 'provenant.adapter.v1';

/** Model-config fields that only shape the initial weights, left out of the base-model hash. */
export const INIT_ONLY_CONFIG_FIELDS: readonly string[] = Object.freeze(['seed', 'initStd']);

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
 * SHA-256 of the base model: its kind, its configuration, and every base weight (see the file comment), unaffected by
 * attached, active, merged or modules_to_save adapters.
 *
 * @example
 * ```ts
 * const before = baseModelHash(model);
 * attachAdapter(model, 'default', { r: 4 }, { seed: 1 });
 * mergeAdapter(model, 'default');
 * baseModelHash(model) === before; // true
 * ```
 */
export function baseModelHash(model: Model): Hex {
  return baseModelHashWithKernels(model, new Map());
}

/**
 * `baseModelHash` with some modules' kernels replaced (by module path) — the hash of the original base of a PiSSA/OLoRA
 * adapter, whose residual kernels are what the model holds.
 * @internal
 */
export function baseModelHashWithKernels(model: Model, kernels: ReadonlyMap<string, Float32Array>): Hex {
  const overrides = new Map<Variable, Float32Array>();
  for (const [m, linear] of model.linears) {
    const values = baseModuleValues(model, m);
    overrides.set(linear.kernel, kernels.get(m) ?? values.kernel);
    if (linear.bias && values.bias) overrides.set(linear.bias, values.bias);
  }
  const tensors = [...model.weights].map(([name, v]) => variableTensor(name, v, overrides.get(v)));
  // Initialisation-only fields do not change the function the weights compute: the same weights under another seed are
  // the same base.
  const config = Object.fromEntries(Object.entries(model.config).filter(([key]) => !INIT_ONLY_CONFIG_FIELDS.includes(key)));
  return hashTensors(BASE_MODEL_HASH_FORMAT, { kind: model.kind, config }, tensors);
}

/**
 * SHA-256 of one adapter: its resolved LoRA config and its weights in PEFT's keys and layouts. Independent of the
 * adapter's name, of whether it is active or merged, and of the base weights (bind those with `baseModelHash`).
 */
export function adapterHash(model: Model, adapterName: string): Hex {
  const record = getAdapter(model, adapterName);
  const stateDict = adapterStateDict(model, adapterName);
  const tensors = Object.entries(stateDict).map(([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.shape], data: t.data }));
  return hashTensors(ADAPTER_HASH_FORMAT, record.config, tensors);
}
