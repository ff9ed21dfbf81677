/**
 * keccak256 of a message shorter than one sponge block (136 bytes), in place, with no allocation: every hash a standard
 * Merkle tree needs (a 32-byte leaf pre-image, a 64-byte node pair, most ABI-encoded leaves) is exactly one Keccak-f[1600]
 * permutation. The permutation is our unrolled Keccak-f[1600], tested against @noble/hashes' keccak256 on random inputs.
 * Little-endian hosts only (every Node target we support); `keccakSingleBlockSupported` reports it.
 */
import { keccakF1600 } from './keccak-f1600.js';

const RATE = 136;
export const keccakSingleBlockSupported = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface KeccakScratch {
  state: Uint8Array;
  state32: Uint32Array;
}

export function createKeccakScratch(): KeccakScratch {
  const state = new Uint8Array(200);
  return { state, state32: new Uint32Array(state.buffer) };
}

/** Writes keccak256(input[inOffset, inOffset+length)) into out[outOffset, outOffset+32). Requires length < 136. */
export function keccak256Into(
  scratch: KeccakScratch,
  input: Uint8Array,
  inOffset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
): void {
  const { state, state32 } = scratch;
  // Plain loops, no subarray views: this runs ~3 times per Merkle leaf and views are garbage.
  state32.fill(0);
  for (let i = 0; i < length; i++) state[i] = input[inOffset + i]!;
  state[length] ^= 0x01; // Keccak (not SHA-3) domain padding
  state[RATE - 1] ^= 0x80;
  keccakF1600(state32);
  for (let i = 0; i < 32; i++) out[outOffset + i] = state[i]!;
}

export const KECCAK_SINGLE_BLOCK_MAX = RATE - 1;
