/**
 * A small, fast Solidity ABI encoder (`abi.encode`) for the value types Merkle leaves use: uint<M>, int<M>, address,
 * bool, bytes<M>, bytes, string, and fixed or dynamic arrays of those. It writes straight into one Uint8Array — the
 * reason our Merkle tree is much faster than one built on a general-purpose coder. Tuples are not supported (a typed
 * error says so).
 */
import { ProvenantError, describeValue } from './errors.js';
import { hexToBytes, utf8Bytes } from './hash.js';

type ParsedType =
  | { kind: 'uint' | 'int'; bits: number }
  | { kind: 'address' | 'bool' | 'bytes' | 'string' }
  | { kind: 'fixedBytes'; size: number }
  | { kind: 'array'; element: ParsedType; length: number | null };

const typeCache = new Map<string, ParsedType>();

function abiError(message: string, type: string, value?: unknown): ProvenantError {
  return new ProvenantError('ABI_ENCODING_INVALID', message, {
    metaMessages: [`type: ${type}`, ...(value === undefined ? [] : [`value: ${describeValue(value)}`])],
    data: { type },
  });
}

/**
 * Parses a Solidity ABI type string (`uint256`, `bytes32[]`, `(address,int256)[2]`) into its structure.
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` for a type Solidity does not have
 * @example
 * ```ts
 * import { parseAbiType } from 'provenant';
 * parseAbiType('uint64[]'); // { kind: 'array', … }
 * ```
 */
export function parseAbiType(type: string): ParsedType {
  const cached = typeCache.get(type);
  if (cached) return cached;
  let parsed: ParsedType;
  const arrayMatch = /^(.*)\[(\d*)\]$/.exec(type);
  if (arrayMatch) {
    const length = arrayMatch[2] === '' ? null : Number(arrayMatch[2]);
    parsed = { kind: 'array', element: parseAbiType(arrayMatch[1]!), length };
  } else if (type === 'address' || type === 'bool' || type === 'bytes' || type === 'string') {
    parsed = { kind: type };
  } else if (/^u?int\d*$/.test(type)) {
    const bits = type.replace(/^u?int/, '') === '' ? 256 : Number(type.replace(/^u?int/, ''));
    if (bits < 8 || bits > 256 || bits % 8 !== 0) throw abiError(`Unsupported integer width in ABI type "${type}".`, type);
    parsed = { kind: type.startsWith('u') ? 'uint' : 'int', bits };
  } else if (/^bytes\d+$/.test(type)) {
    const size = Number(type.slice(5));
    if (size < 1 || size > 32) throw abiError(`Unsupported ABI type "${type}".`, type);
    parsed = { kind: 'fixedBytes', size };
  } else {
    throw abiError(`Unsupported ABI type "${type}" (supported: uint<M>, int<M>, address, bool, bytes<M>, bytes, string, arrays).`, type);
  }
  typeCache.set(type, parsed);
  return parsed;
}

function isDynamic(t: ParsedType): boolean {
  if (t.kind === 'bytes' || t.kind === 'string') return true;
  if (t.kind === 'array') return t.length === null || isDynamic(t.element);
  return false;
}

function headSize(t: ParsedType): number {
  if (t.kind === 'array' && t.length !== null && !isDynamic(t)) return t.length * headSize(t.element);
  return 32;
}

function toBigInt(value: unknown, type: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw abiError('Number is not a safe integer; pass a bigint or a decimal string.', type, value);
    return BigInt(value);
  }
  if (typeof value === 'string' && /^(-?\d+|0x[0-9a-fA-F]+)$/.test(value)) return BigInt(value);
  throw abiError('Expected an integer (bigint, safe number, decimal or hex string).', type, value);
}

/** Writes a 256-bit two's-complement big-endian word at `offset`. */
function writeWord(out: Uint8Array, offset: number, word: bigint): void {
  // Small non-negative values (lengths, offsets, most amounts) skip BigInt arithmetic entirely.
  if (word >= 0n && word <= 0xffffffffn) {
    let v = Number(word);
    for (let i = 31; i >= 28 && v > 0; i--) {
      out[offset + i] = v & 0xff;
      v >>>= 8;
    }
    return;
  }
  // 32-bit limbs from the least significant end, stopping at the first all-zero remainder (the region is zero-filled):
  // two BigInt operations per limb instead of a hex round trip.
  let w = BigInt.asUintN(256, word);
  for (let o = offset + 28; o >= offset && w > 0n; o -= 4) {
    const v = Number(w & 0xffffffffn);
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
    w >>= 32n;
  }
}

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** Parses `0x` + 2·size hex digits straight into `out`; false on any malformed input (no allocation, no regex). */
function writeHexExact(out: Uint8Array, offset: number, value: unknown, size: number): boolean {
  if (typeof value !== 'string' || value.length !== 2 + 2 * size || value.charCodeAt(0) !== 48 || (value.charCodeAt(1) | 32) !== 120) {
    return false;
  }
  for (let i = 0; i < size; i++) {
    const hi = value.charCodeAt(2 + 2 * i);
    const lo = value.charCodeAt(3 + 2 * i);
    const h = hi < 128 ? NIBBLE[hi]! : -1;
    const l = lo < 128 ? NIBBLE[lo]! : -1;
    if ((h | l) < 0) return false;
    out[offset + i] = (h << 4) | l;
  }
  return true;
}

function fixedBytes(value: unknown, size: number, type: string): Uint8Array {
  const bytes = value instanceof Uint8Array ? value : typeof value === 'string' ? safeHex(value, type) : null;
  if (!bytes || bytes.length !== size) throw abiError(`Expected exactly ${size} bytes.`, type, value);
  return bytes;
}

function safeHex(value: string, type: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]*$/.test(value)) throw abiError('Expected 0x-prefixed hex.', type, value);
  return hexToBytes(value);
}

/** Encoded size in bytes of one value (head + tail when dynamic). */
function encodedSize(t: ParsedType, value: unknown, type: string): number {
  switch (t.kind) {
    case 'bytes': {
      const n = dynamicBytes(value, type).length;
      return 32 + Math.ceil(n / 32) * 32;
    }
    case 'string': {
      if (typeof value !== 'string') throw abiError('Expected a string.', type, value);
      return 32 + Math.ceil(utf8Bytes(value).length / 32) * 32;
    }
    case 'array': {
      const items = arrayItems(t, value, type);
      let size = t.length === null ? 32 : 0;
      for (const item of items) size += isDynamic(t.element) ? 32 + encodedSize(t.element, item, type) : headSize(t.element);
      return size;
    }
    default:
      return 32;
  }
}

function dynamicBytes(value: unknown, type: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return safeHex(value, type);
  throw abiError('Expected bytes as 0x-hex or Uint8Array.', type, value);
}

function arrayItems(t: Extract<ParsedType, { kind: 'array' }>, value: unknown, type: string): unknown[] {
  if (!Array.isArray(value)) throw abiError('Expected an array.', type, value);
  if (t.length !== null && value.length !== t.length) throw abiError(`Expected an array of length ${t.length}.`, type, value);
  return value;
}

/** Encodes a static value's head, or a dynamic value's tail, at `offset`; returns bytes written. */
function encodeInto(out: Uint8Array, offset: number, t: ParsedType, value: unknown, type: string): number {
  switch (t.kind) {
    case 'uint': {
      const v = toBigInt(value, type);
      if (v < 0n || v >= 1n << BigInt(t.bits)) throw abiError(`Value out of range for uint${t.bits}.`, type, value);
      writeWord(out, offset, v);
      return 32;
    }
    case 'int': {
      const v = toBigInt(value, type);
      const half = 1n << BigInt(t.bits - 1);
      if (v < -half || v >= half) throw abiError(`Value out of range for int${t.bits}.`, type, value);
      writeWord(out, offset, v);
      return 32;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw abiError('Expected a boolean.', type, value);
      out[offset + 31] = value ? 1 : 0;
      return 32;
    case 'address':
      if (!writeHexExact(out, offset + 12, value, 20)) throw abiError('Expected a 20-byte 0x address.', type, value);
      return 32;
    case 'fixedBytes':
      if (!(value instanceof Uint8Array && value.length === t.size ? (out.set(value, offset), true) : writeHexExact(out, offset, value, t.size))) {
        throw abiError(`Expected exactly ${t.size} bytes.`, type, value);
      }
      return 32;
    case 'bytes':
    case 'string': {
      const bytes = t.kind === 'string' ? utf8Bytes(value as string) : dynamicBytes(value, type);
      writeWord(out, offset, BigInt(bytes.length));
      out.set(bytes, offset + 32);
      return 32 + Math.ceil(bytes.length / 32) * 32;
    }
    case 'array': {
      const items = arrayItems(t, value, type);
      let cursor = offset;
      if (t.length === null) {
        writeWord(out, cursor, BigInt(items.length));
        cursor += 32;
      }
      return cursor - offset + encodeSequence(out, cursor, items.map(() => t.element), items, type);
    }
  }
}

/** Head/tail encoding of a sequence (a tuple's components or an array's items) at `offset`. */
function encodeSequence(out: Uint8Array, offset: number, types: ParsedType[], values: unknown[], type: string): number {
  let headBytes = 0;
  for (const t of types) headBytes += isDynamic(t) ? 32 : headSize(t);
  let head = offset;
  let tail = offset + headBytes;
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    if (isDynamic(t)) {
      writeWord(out, head, BigInt(tail - offset));
      head += 32;
      tail += encodeInto(out, tail, t, values[i], type);
    } else {
      head += encodeInto(out, head, t, values[i], type);
    }
  }
  return tail - offset;
}

export interface AbiEncoder {
  readonly types: readonly string[];
  /** Encoded size when every type is static (the same for every value), else null. */
  readonly staticSize: number | null;
  /** Encoded size of these values. */
  size(values: readonly unknown[]): number;
  /** Writes `abi.encode(values…)` at `offset` of a zero-filled region of `out`; returns the bytes written. */
  encodeInto(values: readonly unknown[], out: Uint8Array, offset: number): number;
  encode(values: readonly unknown[]): Uint8Array;
}

/**
 * Parses the Solidity types once and returns an encoder for many values of the same shape (Merkle leaves, calldata
 * rows): `encode` is Solidity's `abi.encode(values…)`, head/tail layout, 32-byte words, big-endian.
 * `staticSize` is the encoded length in bytes when every type is static, else `null`.
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` for an unsupported type (tuples, `uint7`, `bytes33`) when created, and
 *   from `encode`/`size`/`encodeInto` for a value count that differs from the type count or a value out of range
 *   (naming the type and the value).
 * @example
 * ```ts
 * import { createAbiEncoder } from 'provenant';
 *
 * const leaf = createAbiEncoder(['address', 'uint256']);
 * leaf.staticSize; // 64 (bytes: two 32-byte words)
 * const bytes = leaf.encode(['0x1111111111111111111111111111111111111111', 5_000_000_000_000_000_000n]);
 * bytes.length; // 64
 * ```
 */
export function createAbiEncoder(types: readonly string[]): AbiEncoder {
  const parsed = types.map(parseAbiType);
  const label = types.join(',');
  const allStatic = parsed.every((t) => !isDynamic(t));
  const staticSize = allStatic ? parsed.reduce((sum, t) => sum + headSize(t), 0) : null;
  const checkArity = (values: readonly unknown[]) => {
    if (values.length !== types.length) {
      throw new ProvenantError('ABI_ENCODING_INVALID', `Got ${values.length} values for ${types.length} ABI types.`, {
        metaMessages: [`types: [${types.join(', ')}]`, `values: ${describeValue(values)}`],
      });
    }
  };
  const size = (values: readonly unknown[]): number => {
    checkArity(values);
    if (staticSize !== null) return staticSize;
    let total = 0;
    for (let i = 0; i < parsed.length; i++) {
      const t = parsed[i]!;
      total += isDynamic(t) ? 32 + encodedSize(t, values[i], types[i]!) : headSize(t);
    }
    return total;
  };
  const encodeInto = (values: readonly unknown[], out: Uint8Array, offset: number): number => {
    checkArity(values);
    return encodeSequence(out, offset, parsed, values as unknown[], label);
  };
  return {
    types: [...types],
    staticSize,
    size,
    encodeInto,
    encode(values) {
      const out = new Uint8Array(size(values));
      encodeInto(values, out, 0);
      return out;
    },
  };
}

/**
 * Solidity's `abi.encode(values…)` with the given types: a `Uint8Array` of 32-byte words (head/tail layout for
 * dynamic types). Integers may be `bigint`, safe `number`, or a decimal/hex string; addresses and `bytes<M>` are hex.
 * For many values of one shape, {@link createAbiEncoder} parses the types once.
 *
 * @throws ProvenantError `ABI_ENCODING_INVALID` for an unsupported type, a value count that differs from the type
 *   count, or a value that does not fit its type (naming both).
 * @example
 * ```ts
 * import { abiEncode, bytesToHex } from 'provenant';
 *
 * const bytes = abiEncode(['uint64', 'string'], [7n, 'spam']);
 * bytes.length;      // 128: uint64 word, string offset, string length, padded "spam"
 * bytesToHex(bytes); // '0x0000…0007…'
 * ```
 */
export function abiEncode(types: readonly string[], values: readonly unknown[]): Uint8Array {
  return createAbiEncoder(types).encode(values);
}
