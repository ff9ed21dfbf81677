/**
 * keccak256 of a message shorter than one sponge block (136 bytes), in place, with no allocation: every hash a standard
 * Merkle tree needs (a 32-byte leaf pre-image, a 64-byte node pair, most ABI-encoded leaves) is exactly one Keccak-f[1600]
 * permutation. The permutation runs in a 2 KB WebAssembly module (native 64-bit lanes; ~3× our unrolled JavaScript, which
 * remains the fallback where WebAssembly is unavailable). Both are tested against @noble/hashes' keccak256.
 * Little-endian hosts only (every Node target we support); `keccakSingleBlockSupported` reports it.
 */
import { keccakF1600 } from './keccak-f1600.js';
import { KECCAK_F1600_WASM_BASE64 } from './keccak-wasm.js';
import { embeddedWasm } from './embedded-wasm.js';

const RATE = 136;
export const keccakSingleBlockSupported = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface KeccakScratch {
  /** The 200-byte state the sponge reads and writes. */
  state: Uint8Array;
  /** Applies Keccak-f[1600] to `state` in place. */
  permute(): void;
  /** Which permutation runs: 'wasm' or 'js'. */
  engine: 'wasm' | 'js';
}

// Compiled once on first use; an instance (its own 200-byte state) per scratch.
const keccakWasm = embeddedWasm<{ memory: { buffer: ArrayBuffer }; permute: () => void }>(KECCAK_F1600_WASM_BASE64);

/** A scratch state with its own permutation instance (one per tree build; never shared between concurrent users). */
export function createKeccakScratch(engine: 'wasm' | 'js' = 'wasm'): KeccakScratch {
  const exports = engine === 'wasm' ? keccakWasm.instantiate() : null;
  if (exports) {
    return { state: new Uint8Array(exports.memory.buffer, 0, 200), permute: exports.permute, engine: 'wasm' };
  }
  const state = new Uint8Array(200);
  const state32 = new Uint32Array(state.buffer);
  return { state, permute: () => keccakF1600(state32), engine: 'js' };
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
  const { state } = scratch;
  // Plain loops, no subarray views: this runs ~3 times per Merkle leaf and views are garbage.
  state.fill(0);
  for (let i = 0; i < length; i++) state[i] = input[inOffset + i]!;
  state[length] ^= 0x01; // Keccak (not SHA-3) domain padding
  state[RATE - 1] ^= 0x80;
  scratch.permute();
  for (let i = 0; i < 32; i++) out[outOffset + i] = state[i]!;
}

export const KECCAK_SINGLE_BLOCK_MAX = RATE - 1;
