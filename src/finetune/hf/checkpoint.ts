/**
 * Reading a Hugging Face checkpoint's weights from disk, one tensor at a time: `model.safetensors`, or the shards listed
 * by `model.safetensors.index.json` (`{"weight_map": {"<tensor>": "<shard file>"}}`).
 *
 * Why not `decodeSafetensors` on the whole file: it holds the file's bytes and a decoded copy of every tensor at once
 * (2× the checkpoint), then tfjs copies each tensor again into its own memory. Here only the header is parsed up front;
 * each tensor is read on demand straight into a Float32Array, and a BF16/F16 tensor is read into the upper half of its
 * own float32 buffer and widened in place, front to back (element i's 4 bytes never overlap the 2-byte elements j > i
 * still to be read), so the widened values replace the file's bytes rather than sit beside them. Peak memory while
 * loading is the model in float32 plus one tensor.
 */
import { ProvenantError } from '../../core/index.js';
import type { SafetensorsDtype } from '../io/safetensors.js';
import { checkSafetensorsHeaderText, isSafetensorsDtype, safetensorsDtypeSize, SAFETENSORS_MAX_HEADER_BYTES } from '../io/safetensors.js';

/** One tensor of a checkpoint, as its header describes it. */
export interface CheckpointTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The file holding it. */
  file: string;
  /** Absolute byte offset of its data in that file. */
  offset: number;
  byteLength: number;
}

/** A checkpoint's tensor directory; `read` returns one tensor widened to float32. */
export interface Checkpoint {
  readonly tensors: ReadonlyMap<string, CheckpointTensorInfo>;
  /** The dtypes found in the files (e.g. `['BF16']`). */
  readonly dtypes: readonly SafetensorsDtype[];
  /** The tensor's values as float32 (row-major, HF layout). F32, F16, BF16 and F64 are accepted. */
  read(name: string): Promise<Float32Array>;
  /** Closes the open files. */
  close(): Promise<void>;
}

/** File names transformers' `save_pretrained` writes. */
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

type FileHandle = import('node:fs/promises').FileHandle;

function weightsError(message: string, meta: string[] = [], data: Record<string, unknown> = {}): ProvenantError {
  return new ProvenantError('PRETRAINED_WEIGHTS_MISMATCH', message, { metaMessages: meta, data });
}

async function readHeader(handle: FileHandle, file: string, size: number): Promise<CheckpointTensorInfo[]> {
  const lengthBytes = new Uint8Array(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const declared = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (size < 8 || declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES) || 8 + Number(declared) > size) {
    throw new ProvenantError('SAFETENSORS_INVALID', `${file}: header length ${declared} does not fit the ${size}-byte file.`, { data: { file } });
  }
  const headerLength = Number(declared);
  const headerBytes = new Uint8Array(headerLength);
  await handle.read(headerBytes, 0, headerLength, 8);
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    header = JSON.parse(text);
  } catch (cause) {
    throw new ProvenantError('SAFETENSORS_INVALID', `${file}: the header is not valid UTF-8 JSON.`, { cause, data: { file } });
  }
  try {
    checkSafetensorsHeaderText(text); // duplicate keys, 4.0-style offsets: refused as decodeSafetensors refuses them
  } catch (cause) {
    const error = cause as ProvenantError;
    throw new ProvenantError('SAFETENSORS_INVALID', `${file}: ${error.message}`, { cause, metaMessages: error.metaMessages, data: { file, ...error.data } });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new ProvenantError('SAFETENSORS_INVALID', `${file}: the header must be a JSON object.`, { data: { file } });
  }
  const dataStart = 8 + headerLength;
  const dataLength = size - dataStart;
  const out: CheckpointTensorInfo[] = [];
  const problems: string[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const entry = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = entry?.shape;
    const offsets = entry?.data_offsets;
    if (!isSafetensorsDtype(entry?.dtype) || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      problems.push(`${name}: bad dtype or shape (${JSON.stringify(entry)})`);
      continue;
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      problems.push(`${name}: bad data_offsets ${JSON.stringify(offsets)}`);
      continue;
    }
    const [begin, end] = offsets as [number, number];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== n * safetensorsDtypeSize(entry.dtype) || end > dataLength) {
      problems.push(`${name}: offsets [${begin}, ${end}] disagree with ${entry.dtype} [${shape.join(', ')}] or run past the data`);
      continue;
    }
    out.push({ name, dtype: entry.dtype, shape: [...(shape as number[])], file, offset: dataStart + begin, byteLength: end - begin });
  }
  if (problems.length > 0) {
    throw new ProvenantError('SAFETENSORS_INVALID', `${file}: ${problems.length} tensor entr(ies) are malformed.`, { metaMessages: problems, data: { file } });
  }
  return out;
}

/**
 * Opens the weights of a Hugging Face model folder (single file or sharded) and reads their headers.
 *
 * @example
 * ```ts
 * import { openCheckpoint } from 'provenant/finetune';
 * const ckpt = await openCheckpoint('./tiny-llama');
 * const embed = await ckpt.read('model.embed_tokens.weight'); // Float32Array, [vocab · hidden]
 * await ckpt.close();
 * ```
 */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const { open, readFile, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const exists = async (p: string) => stat(p).then((s) => s.isFile(), () => false);
  let files: string[];
  let indexMap: Record<string, string> | null = null;
  if (await exists(join(dir, WEIGHTS_INDEX_FILE))) {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(join(dir, WEIGHTS_INDEX_FILE), 'utf8'));
    } catch (cause) {
      throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `${WEIGHTS_INDEX_FILE} is not valid JSON.`, { cause });
    }
    const map = (index as { weight_map?: unknown })?.weight_map;
    if (!map || typeof map !== 'object' || !Object.values(map).every((f) => typeof f === 'string' && !f.includes('/') && !f.includes('\\'))) {
      throw new ProvenantError('PRETRAINED_CONFIG_UNSUPPORTED', `${WEIGHTS_INDEX_FILE} needs a "weight_map" of tensor name → shard file name in the same folder.`);
    }
    indexMap = map as Record<string, string>;
    files = [...new Set(Object.values(indexMap))].sort();
  } else if (await exists(join(dir, WEIGHTS_FILE))) {
    files = [WEIGHTS_FILE];
  } else {
    throw new ProvenantError('PRETRAINED_NOT_FOUND', `${dir} has neither ${WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE}.`, {
      details: 'Provenant reads safetensors checkpoints only (not pytorch_model.bin); convert with save_pretrained(..., safe_serialization=True).',
    });
  }
  const handles = new Map<string, FileHandle>();
  const tensors = new Map<string, CheckpointTensorInfo>();
  try {
    for (const file of files) {
      const path = join(dir, file);
      if (!(await exists(path))) throw new ProvenantError('PRETRAINED_NOT_FOUND', `Shard ${file} named in ${WEIGHTS_INDEX_FILE} is missing.`, { data: { file } });
      const handle = await open(path, 'r');
      handles.set(file, handle);
      for (const info of await readHeader(handle, file, (await handle.stat()).size)) {
        if (tensors.has(info.name)) throw weightsError(`Tensor ${info.name} appears in two shards.`, [], { tensor: info.name });
        if (indexMap && indexMap[info.name] !== file) {
          throw weightsError(`Tensor ${info.name} is in ${file} but ${WEIGHTS_INDEX_FILE} maps it to ${String(indexMap[info.name])}.`);
        }
        tensors.set(info.name, info);
      }
    }
    if (indexMap) {
      const absent = Object.keys(indexMap).filter((n) => !tensors.has(n));
      if (absent.length > 0) throw weightsError(`${absent.length} tensor(s) of ${WEIGHTS_INDEX_FILE} are in no shard.`, absent.map((n) => `missing: ${n}`));
    }
  } catch (error) {
    for (const h of handles.values()) await h.close();
    throw error;
  }
  const dtypes = [...new Set([...tensors.values()].map((t) => t.dtype))].sort();

  const read = async (name: string): Promise<Float32Array> => {
    const info = tensors.get(name);
    if (!info) throw weightsError(`The checkpoint has no tensor ${name}.`, [], { tensor: name });
    const handle = handles.get(info.file)!;
    const n = info.byteLength / safetensorsDtypeSize(info.dtype);
    const out = new Float32Array(n);
    const bytes = new Uint8Array(out.buffer);
    switch (info.dtype) {
      case 'F32':
        await handle.read(bytes, 0, info.byteLength, info.offset);
        return out;
      case 'BF16': {
        await handle.read(bytes, 2 * n, info.byteLength, info.offset);
        const half = new Uint16Array(out.buffer, 2 * n, n);
        const bits = new Uint32Array(out.buffer);
        // Front to back: writing element i touches bytes [4i, 4i+4), all below element i+1's source at 2n + 2(i+1).
        for (let i = 0; i < n; i++) bits[i] = half[i]! << 16;
        return out;
      }
      case 'F16': {
        await handle.read(bytes, 2 * n, info.byteLength, info.offset);
        const half = new Uint16Array(out.buffer, 2 * n, n);
        for (let i = 0; i < n; i++) out[i] = halfToFloat(half[i]!);
        return out;
      }
      case 'F64': {
        const wide = new Float64Array(n);
        await handle.read(new Uint8Array(wide.buffer), 0, info.byteLength, info.offset);
        out.set(wide);
        return out;
      }
      default:
        throw weightsError(`Tensor ${name} is ${info.dtype}; model weights must be F32, F16, BF16 or F64.`, [], { tensor: name, dtype: info.dtype });
    }
  };
  return {
    tensors,
    dtypes,
    read,
    async close() {
      for (const h of handles.values()) await h.close();
      handles.clear();
    },
  };
}

/**
 * How many of a tensor's values are NaN or ±Infinity, and the flat (row-major) index of the first; null when all are
 * finite. Cost: one multiply-add per value (x·0 is NaN exactly when x is not finite), the exact count only for a bad
 * tensor. On bench:hf's SmolLM-135M-shaped BF16 checkpoint (134.5M values) it takes 0.17–0.18 s, 4–5 % of a whole
 * `loadPretrained` (3.7–4.3 s; `benchmarks/hf-load-scan.ts`, results/hf-load-scan.json, Node 20, load 2.0–2.6).
 *
 * @example
 * ```ts
 * import { nonFiniteValues } from 'provenant/finetune';
 * nonFiniteValues(new Float32Array([1, NaN, 2, Infinity])); // { count: 2, first: 1 }
 * ```
 */
export function nonFiniteValues(values: ArrayLike<number>): { count: number; first: number } | null {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i]! * 0;
  if (probe === 0) return null;
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) continue;
    if (count++ === 0) first = i;
  }
  return { count, first };
}

/** IEEE 754 half → float (exact). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
