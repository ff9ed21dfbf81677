/**
 * A reader and writer for the safetensors format (https://github.com/huggingface/safetensors), the file format of
 * PEFT adapters and Hugging Face checkpoints. No maintained npm package reads and writes it with strict validation, so
 * it is written here from the format's specification:
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  a UTF-8 JSON object: `{"__metadata__": {string: string}?, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}, …}`
 *   [rest]     the tensors' bytes, little-endian, C order; offsets are relative to the start of this section
 *
 * The writer lays tensors out as the reference (Rust) implementation does — by dtype in descending alignment, then by
 * name — and pads the header with spaces to a multiple of 8 bytes, so every tensor starts 8-byte aligned and the same
 * tensors always encode to the same bytes. The reader rejects, with `SAFETENSORS_INVALID`, everything the reference
 * implementation rejects (a header longer than 100 MB or than the file, a header that is not a JSON object, an unknown
 * dtype, offsets that leave gaps, overlap, run past the data or disagree with dtype × shape, bytes left over) and a few
 * things it tolerates (unknown fields, non-string metadata values, duplicate names), because a silently misread weight
 * is worse than a refused file.
 */
import { ProvenantError, scanJson, utf8Bytes } from '../../core/index.js';

/** The dtypes of the safetensors format (the reference implementation's classic set). */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/**
 * The typed array that holds each dtype. 16-bit floats (F16, BF16) and 8-bit floats are held as their raw bit patterns
 * (Uint16Array / Uint8Array); convert with `float16BitsToFloat32` / `bfloat16BitsToFloat32` and their inverses.
 */
export interface SafetensorsArrayTypes {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  F8_E5M2: Uint8Array;
  F8_E4M3: Uint8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

export type SafetensorsTypedArray = SafetensorsArrayTypes[SafetensorsDtype];

/** One tensor: dtype, shape (C order) and its elements. */
export interface SafetensorsTensor<D extends SafetensorsDtype = SafetensorsDtype> {
  dtype: D;
  shape: number[];
  data: SafetensorsArrayTypes[D];
}

export interface DecodedSafetensors {
  /** Tensors by name. Each `data` owns its own (aligned) memory, independent of the input bytes. */
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` string map (empty when the file has none). */
  metadata: Record<string, string>;
}

/** Bytes per element, and the rank of each dtype in the reference implementation's ordering (its enum order). */
const DTYPES: Record<SafetensorsDtype, { size: number; order: number; array: new (length: number) => SafetensorsTypedArray }> = {
  BOOL: { size: 1, order: 0, array: Uint8Array },
  U8: { size: 1, order: 1, array: Uint8Array },
  I8: { size: 1, order: 2, array: Int8Array },
  F8_E5M2: { size: 1, order: 3, array: Uint8Array },
  F8_E4M3: { size: 1, order: 4, array: Uint8Array },
  I16: { size: 2, order: 5, array: Int16Array },
  U16: { size: 2, order: 6, array: Uint16Array },
  F16: { size: 2, order: 7, array: Uint16Array },
  BF16: { size: 2, order: 8, array: Uint16Array },
  I32: { size: 4, order: 9, array: Int32Array },
  U32: { size: 4, order: 10, array: Uint32Array },
  F32: { size: 4, order: 11, array: Float32Array },
  F64: { size: 8, order: 12, array: Float64Array },
  I64: { size: 8, order: 13, array: BigInt64Array },
  U64: { size: 8, order: 14, array: BigUint64Array },
};

/** The dtype names this implementation reads and writes. */
export const SAFETENSORS_DTYPES = Object.freeze(Object.keys(DTYPES) as SafetensorsDtype[]);

/** The reference implementation's header limit (100 MB): a larger header is refused before it is parsed. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether a value names a dtype this implementation reads and writes (`SAFETENSORS_DTYPES`: BOOL, U8, I8, I16, U16, F16,
 * BF16, I32, U32, F32, F64, I64, U64 — safetensors' own spelling). An own-key check, so `'constructor'` is not a dtype.
 *
 * @example
 * ```ts
 * import { isSafetensorsDtype } from 'provenant/finetune';
 *
 * isSafetensorsDtype('BF16'); // true
 * isSafetensorsDtype('float32'); // false (torch's name; safetensors says 'F32')
 * ```
 */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

/**
 * Bytes per element of a dtype (a tensor's byte length in the file is this times the product of its shape).
 *
 * @example
 * ```ts
 * import { safetensorsDtypeSize } from 'provenant/finetune';
 *
 * safetensorsDtypeSize('BF16'); // 2
 * safetensorsDtypeSize('F64'); // 8
 * ```
 */
export function safetensorsDtypeSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].size;
}

function invalid(message: string, meta: string[] = [], data: Record<string, unknown> = {}): ProvenantError {
  return new ProvenantError('SAFETENSORS_INVALID', message, {
    metaMessages: meta,
    data,
    docsPath: 'https://github.com/huggingface/safetensors#format',
  });
}

function elementCount(shape: readonly number[], name: string): number {
  let n = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) throw invalid(`Tensor "${name}" has an invalid shape [${shape.join(', ')}].`, [], { tensor: name });
    n *= dim;
    if (!Number.isSafeInteger(n)) throw invalid(`Tensor "${name}" has more elements than can be addressed.`, [], { tensor: name });
  }
  return n;
}

/** Reverses the bytes of each element in place (only needed on big-endian hosts; the format is little-endian). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * Encodes tensors (and optional string metadata) as safetensors bytes.
 *
 * Tensors are laid out by dtype in descending alignment, then by name, and the header is padded with spaces to a
 * multiple of 8 bytes — the reference implementation's layout, so every tensor is 8-byte aligned and the encoding is a
 * pure function of the input. Metadata keys are written sorted (the reference implementation writes them in hash order).
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from 'provenant/finetune';
 * const bytes = encodeSafetensors({ 'fc1.lora_A.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) } }, { format: 'pt' });
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * ```
 */
export function encodeSafetensors(tensors: Record<string, SafetensorsTensor>, metadata?: Record<string, string>): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw invalid('encodeSafetensors needs an object of tensors by name.');
  const entries = Object.entries(tensors);
  for (const [name, tensor] of entries) {
    if (name === METADATA_KEY) throw invalid(`"${METADATA_KEY}" is reserved and cannot name a tensor.`);
    if (!tensor || !isSafetensorsDtype(tensor.dtype)) {
      throw invalid(`Tensor "${name}" has an unknown dtype ${JSON.stringify(tensor?.dtype)}.`, [`known: ${SAFETENSORS_DTYPES.join(', ')}`], { tensor: name });
    }
    if (!Array.isArray(tensor.shape)) throw invalid(`Tensor "${name}" needs a shape array.`, [], { tensor: name });
    const n = elementCount(tensor.shape, name);
    const Expected = DTYPES[tensor.dtype].array;
    if (!(tensor.data instanceof Expected)) {
      throw invalid(`Tensor "${name}" (${tensor.dtype}) must hold its data in a ${Expected.name}, got ${describeArray(tensor.data)}.`, [], { tensor: name });
    }
    if (tensor.data.length !== n) {
      throw invalid(`Tensor "${name}" has ${tensor.data.length} elements but shape [${tensor.shape.join(', ')}] needs ${n}.`, [], { tensor: name });
    }
  }
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('Metadata must be an object of strings.');
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw invalid(`Metadata value "${key}" must be a string, got ${typeof value}.`);
    }
  }
  entries.sort(([nameA, a], [nameB, b]) => DTYPES[b.dtype].order - DTYPES[a.dtype].order || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0));

  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    const sorted: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const key of Object.keys(metadata).sort()) sorted[key] = metadata[key]!;
    header[METADATA_KEY] = sorted;
  }
  let offset = 0;
  for (const [name, tensor] of entries) {
    const length = tensor.data.length * DTYPES[tensor.dtype].size;
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  // JSON.stringify writes integer-valued keys first regardless of insertion order; build the text by hand to keep the layout order.
  const parts = Object.entries(header).map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
  const json = utf8Bytes(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const [, tensor] of entries) {
    const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    out.set(bytes, position);
    if (!LITTLE_ENDIAN_HOST) swapBytes(out.subarray(position, position + bytes.length), DTYPES[tensor.dtype].size);
    position += bytes.length;
  }
  return out;
}

function describeArray(value: unknown): string {
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return value === null ? 'null' : typeof value;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Decodes safetensors bytes, validating everything before any tensor is returned.
 * Throws `SAFETENSORS_INVALID` (with the offending tensor in `data.tensor` where there is one) on any malformed input.
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from 'provenant/finetune';
 * import { readFile } from 'node:fs/promises';
 * const { tensors } = decodeSafetensors(new Uint8Array(await readFile('adapter_model.safetensors')));
 * tensors['base_model.model.fc1.lora_A.weight'].shape; // [r, in]
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw invalid(`decodeSafetensors needs a Uint8Array, got ${describeArray(bytes)}.`);
  if (bytes.length < 8) throw invalid(`File is ${bytes.length} bytes: too short for the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw invalid(`Header length ${declared} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit.`, [], { headerLength: declared.toString() });
  }
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.length) {
    throw invalid(`Header length ${headerLength} runs past the end of the ${bytes.length}-byte file (truncated?).`, [], { headerLength });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw invalid('Header is not valid UTF-8.', [], { headerLength });
  }
  if (!text.startsWith('{')) throw invalid('Header must start with "{".', [`header begins: ${JSON.stringify(text.slice(0, 40))}`]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalid(`Header is not valid JSON: ${(cause as Error).message}`, [`header begins: ${JSON.stringify(text.slice(0, 80))}`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Header must be a JSON object.');
  checkSafetensorsHeaderText(text);

  // Null-prototype records: a tensor or metadata key named "__proto__" is data, not the object's prototype.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) throw invalid(`"${METADATA_KEY}" must be an object of strings.`);
      for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
        if (typeof value !== 'string') throw invalid(`Metadata "${key}" must be a string, got ${JSON.stringify(value)}.`);
        metadata[key] = value;
      }
      continue;
    }
    entries.push(parseEntry(name, info));
  }

  // Offsets must tile the data section exactly, in some order: sort by offset and walk.
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const entry of byOffset) {
    if (entry.begin !== expectedBegin) {
      const what = entry.begin < expectedBegin ? 'overlaps the previous tensor' : 'leaves a gap after the previous tensor';
      throw invalid(`Tensor "${entry.name}" ${what} (starts at ${entry.begin}, expected ${expectedBegin}).`, [], { tensor: entry.name });
    }
    if (entry.end > dataLength) {
      throw invalid(`Tensor "${entry.name}" ends at ${entry.end}, past the ${dataLength}-byte data section (truncated?).`, [], { tensor: entry.name });
    }
    expectedBegin = entry.end;
  }
  if (expectedBegin !== dataLength) {
    throw invalid(`The data section has ${dataLength - expectedBegin} byte(s) no tensor accounts for.`, [], { dataLength, used: expectedBegin });
  }

  const tensors: Record<string, SafetensorsTensor> = Object.create(null) as Record<string, SafetensorsTensor>;
  for (const entry of entries) {
    const { size, array } = DTYPES[entry.dtype];
    const data = new array((entry.end - entry.begin) / size);
    // Copy into fresh, aligned memory: the data section need not be aligned for a typed-array view of the input.
    const target = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    target.set(bytes.subarray(dataStart + entry.begin, dataStart + entry.end));
    if (!LITTLE_ENDIAN_HOST) swapBytes(target, size);
    tensors[entry.name] = { dtype: entry.dtype, shape: entry.shape, data } as SafetensorsTensor;
  }
  return { tensors, metadata };
}

/**
 * What JSON.parse lets through in a safetensors header and the reference reader (Rust's serde, `usize` fields) refuses:
 * a key named twice (JSON.parse keeps the last), and a shape or offset written `4.0`, `4e0` or `-0` (read as 4 and 0).
 * Every reader of headers calls this on the header text after JSON.parse accepted it: `decodeSafetensors` and the
 * checkpoint reader of `loadPretrained` (hf/checkpoint.ts).
 *
 * @throws ProvenantError `SAFETENSORS_INVALID` naming the duplicated keys, or the tensor and the token that is not a
 *   JSON integer.
 */
export function checkSafetensorsHeaderText(text: string): void {
  const { duplicates, nonInteger } = scanHeader(text);
  if (duplicates.length > 0) throw invalid(`Header names ${duplicates.length} key(s) twice.`, duplicates.map((k) => `duplicate: ${k}`), { keys: duplicates });
  if (nonInteger) {
    throw invalid(
      `Tensor "${nonInteger.tensor}" has an invalid shape or data_offsets: ${JSON.stringify(nonInteger.token)} is not a JSON integer (no fraction, exponent or sign).`,
      [],
      { tensor: nonInteger.tensor, token: nonInteger.token },
    );
  }
}

function parseEntry(name: string, info: unknown): HeaderEntry {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw invalid(`Tensor "${name}" must be described by an object.`, [], { tensor: name });
  const record = info as Record<string, unknown>;
  const unknownFields = Object.keys(record).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
  if (unknownFields.length > 0) throw invalid(`Tensor "${name}" has unknown field(s): ${unknownFields.join(', ')}.`, [], { tensor: name });
  if (!isSafetensorsDtype(record.dtype)) {
    throw invalid(`Tensor "${name}" has an unknown dtype ${JSON.stringify(record.dtype)}.`, [`known: ${SAFETENSORS_DTYPES.join(', ')}`], { tensor: name });
  }
  if (!Array.isArray(record.shape)) throw invalid(`Tensor "${name}" needs a "shape" array.`, [], { tensor: name });
  const shape = record.shape as number[];
  const n = elementCount(shape, name);
  const offsets = record.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw invalid(`Tensor "${name}" needs "data_offsets": [begin, end] of non-negative integers.`, [`got: ${JSON.stringify(offsets)}`], { tensor: name });
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw invalid(`Tensor "${name}" ends (${end}) before it begins (${begin}).`, [], { tensor: name });
  const expected = n * DTYPES[record.dtype].size;
  if (end - begin !== expected) {
    throw invalid(`Tensor "${name}" spans ${end - begin} bytes but ${record.dtype} [${shape.join(', ')}] needs ${expected}.`, [], { tensor: name });
  }
  return { name, dtype: record.dtype, shape: [...shape], begin, end };
}

/**
 * One pass over the (already valid JSON) header text (core's {@link scanJson}):
 * - `duplicates`: top-level keys named twice — JSON.parse keeps the last of two equal keys, so a safetensors header with
 *   a tensor name twice is ambiguous;
 * - `nonInteger`: the first number token that is not a plain non-negative JSON integer (`4.0`, `4e0`, `-0`, `1E3`), with
 *   the top-level key (tensor name) it belongs to — every number in a valid header is a dimension or an offset.
 */
function scanHeader(text: string): { duplicates: string[]; nonInteger: { tensor: string; token: string } | null } {
  const duplicates: string[] = [];
  let nonInteger: { tensor: string; token: string } | null = null;
  scanJson(text, {
    key: (key, { depth, duplicate }) => {
      if (depth === 1 && duplicate) duplicates.push(key);
    },
    number: (token, { topKey }) => {
      // Negative integers are left to the shape/offset checks, which say what is wrong with them; -0 parses as 0.
      if (nonInteger === null && (!/^-?(0|[1-9][0-9]*)$/.test(token) || token === '-0')) nonInteger = { tensor: topKey, token };
    },
  });
  return { duplicates, nonInteger };
}

// ---- 16-bit float conversions (PEFT adapters are often saved in F16 or BF16) ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE 754 half-precision bits → float32 (exact: every half is a float), subnormals, ±Infinity and NaN included. How
 * F16 checkpoints and adapters are widened on load.
 *
 * @example
 * ```ts
 * import { float16BitsToFloat32 } from 'provenant/finetune';
 *
 * float16BitsToFloat32(new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001])); // Float32Array [1, -2, Infinity, 5.96e-8]
 * ```
 */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/**
 * float32 → IEEE 754 half-precision bits, rounding to nearest even (as `torch.Tensor.half()` does; overflow → ±Infinity,
 * underflow → subnormals, then ±0; NaN stays NaN).
 *
 * @example
 * ```ts
 * import { float16BitsToFloat32, float32ToFloat16Bits } from 'provenant/finetune';
 *
 * const bits = float32ToFloat16Bits([1, 0.1, 65520, -2]); // Uint16Array [0x3c00, 0x2e66, 0x7c00, 0xc000]
 * float16BitsToFloat32(bits); // [1, 0.0999755859375, Infinity, -2]
 * ```
 */
export function float32ToFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - e;
      let half = mantissa >>> shift;
      const rest = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rest > halfway || (rest === halfway && half & 1)) half++;
      out[i] = sign | half;
    } else {
      let half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
      out[i] = sign | half;
    }
  }
  return out;
}

/**
 * bfloat16 bits → float32 (exact: bfloat16 is the top half of a float32). How BF16 checkpoints are widened on load.
 *
 * @example
 * ```ts
 * import { bfloat16BitsToFloat32 } from 'provenant/finetune';
 *
 * bfloat16BitsToFloat32(new Uint16Array([0x3f80, 0x4049])); // Float32Array [1, 3.140625]
 * ```
 */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
  return out;
}

/**
 * float32 → bfloat16 bits, rounding to nearest even (as `torch.Tensor.bfloat16()` does; NaN stays NaN, quieted).
 *
 * @example
 * ```ts
 * import { float32ToBfloat16Bits } from 'provenant/finetune';
 *
 * float32ToBfloat16Bits([1, 0.1, 3.14159]); // Uint16Array [0x3f80, 0x3dcd, 0x4049]  (0.1 → 0.10009765625)
 * ```
 */
export function float32ToBfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}
