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

export function utf8Bytes(text: string): Uint8Array {
  return textEncoder.encode(text);
}

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

/** Parses 0x-prefixed (or bare) hex; odd length or a non-hex digit is a typed error, never a silent truncation. */
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

export function isHex(value: unknown, byteLength?: number): value is Hex {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0) return false;
  return byteLength === undefined || value.length === 2 + 2 * byteLength;
}

type HashInput = Uint8Array | string;
const asBytes = (input: HashInput): Uint8Array => (typeof input === 'string' ? utf8Bytes(input) : input);

/** keccak256 (Ethereum's hash) of bytes, or of a string's UTF-8 bytes. */
export function keccak256Bytes(input: HashInput): Uint8Array {
  return keccak_256(asBytes(input));
}
export function keccak256(input: HashInput): Hex {
  return bytesToHex(keccak_256(asBytes(input)));
}

/** SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256Bytes(input: HashInput): Uint8Array {
  return nobleSha256(asBytes(input));
}
export function sha256(input: HashInput): Hex {
  return bytesToHex(nobleSha256(asBytes(input)));
}

/** Incremental SHA-256 for content too large to concatenate (model weights, feature shards). */
export function createSha256(): { update(chunk: HashInput): void; digest(): Hex } {
  const hasher = nobleSha256.create();
  return {
    update(chunk) {
      hasher.update(asBytes(chunk));
    },
    digest: () => bytesToHex(hasher.digest()),
  };
}

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

/** Lexicographic comparison of equal-purpose byte strings (used for sorted-pair hashing and leaf sorting). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
