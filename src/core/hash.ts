/**
 * Hashing through @noble/hashes (audited, dependency-free) so the core never loads viem.
 * `Hex` strings are lower-case, 0x-prefixed — the form OpenZeppelin's merkle-tree and viem both print.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ProvenantError } from './errors.js';

export type Hex = `0x${string}`;

const textEncoder = new TextEncoder();
const HEX_DIGITS = '0123456789abcdef';
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4]! + HEX_DIGITS[i & 15]!);

/**
 * The UTF-8 bytes of a string (what every content hash in Provenant hashes).
 *
 * @example
 * ```ts
 * import { utf8Bytes } from 'provenant';
 * utf8Bytes('é'); // Uint8Array [0xc3, 0xa9]
 * ```
 */
export function utf8Bytes(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/**
 * Lower-case `0x`-prefixed hex of bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from 'provenant';
 * bytesToHex(new Uint8Array([1, 255])); // '0x01ff'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): Hex {
  let out = '0x';
  for (let i = 0; i < bytes.length; i++) out += HEX_TABLE[bytes[i]!];
  return out as Hex;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Parses 0x-prefixed (or bare) hex; odd length or a non-hex digit is a typed error, never a silent truncation.
 *
 * @example
 * ```ts
 * import { hexToBytes } from 'provenant';
 * hexToBytes('0x01ff'); // Uint8Array [1, 255]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (body.length % 2 !== 0) {
    throw new ProvenantError('INVALID_ARGUMENT', 'Hex string has an odd number of digits.', { metaMessages: [`hex: ${hex.slice(0, 80)}`] });
  }
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(body.charCodeAt(2 * i));
    const lo = hexNibble(body.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new ProvenantError('INVALID_ARGUMENT', 'Hex string has a non-hex digit.', { metaMessages: [`hex: ${hex.slice(0, 80)}`] });
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * True when `value` is a `0x`-prefixed hex string (of exactly `byteLength` bytes when given).
 *
 * @example
 * ```ts
 * import { isHex } from 'provenant';
 * isHex('0x12ab', 2); // true
 * isHex('0x12a'); // false (odd length)
 * ```
 */
export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

type HashInput = Uint8Array | string;
const asBytes = (input: HashInput): Uint8Array => (typeof input === 'string' ? utf8Bytes(input) : input);

/**
 * keccak256 (Ethereum's hash) of bytes, or of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { keccak256Bytes } from 'provenant';
 * keccak256Bytes('').length; // 32
 * ```
 */
export function keccak256Bytes(input: HashInput): Uint8Array {
  return keccak_256(asBytes(input));
}
/**
 * keccak256 (Ethereum's hash, not NIST SHA3-256) of bytes or of a string's UTF-8 bytes, as 32-byte hex.
 *
 * @example
 * ```ts
 * import { keccak256 } from 'provenant';
 * keccak256(''); // '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
 * ```
 */
export function keccak256(input: HashInput): Hex {
  return bytesToHex(keccak_256(asBytes(input)));
}

/**
 * SHA-256 of bytes, or of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { sha256Bytes } from 'provenant';
 * sha256Bytes('abc')[0]; // 0xba
 * ```
 */
export function sha256Bytes(input: HashInput): Uint8Array {
  return nobleSha256(asBytes(input));
}
/**
 * SHA-256 of bytes or of a string's UTF-8 bytes, as 32-byte hex.
 *
 * @example
 * ```ts
 * import { sha256 } from 'provenant';
 * sha256('abc'); // '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 * ```
 */
export function sha256(input: HashInput): Hex {
  return bytesToHex(nobleSha256(asBytes(input)));
}

/**
 * Incremental SHA-256 for content too large to concatenate (model weights, feature shards).
 *
 * @example
 * ```ts
 * import { createSha256, sha256 } from 'provenant';
 * const h = createSha256();
 * h.update('a');
 * h.update('bc');
 * h.digest() === sha256('abc'); // true
 * ```
 */
export function createSha256(): { update(chunk: HashInput): void; digest(): Hex } {
  const hasher = nobleSha256.create();
  return {
    update(chunk) {
      hasher.update(asBytes(chunk));
    },
    digest: () => bytesToHex(hasher.digest()),
  };
}

/**
 * One byte array holding the parts in order.
 *
 * @example
 * ```ts
 * import { concatBytes } from 'provenant';
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Lexicographic comparison of equal-purpose byte strings (used for sorted-pair hashing and leaf sorting).
 *
 * @example
 * ```ts
 * import { compareBytes } from 'provenant';
 * compareBytes(new Uint8Array([1]), new Uint8Array([2])); // negative
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
