/**
 * Seeded randomness. Every random step in Provenant takes a seed and builds its own generator, so there is no
 * global state and the same seed always gives the same result on every platform.
 *
 * Generator: xoshiro128** (Blackman & Vigna, 2018) — 128-bit state, 32-bit output, passes BigCrush, and is fast in
 * JavaScript because it needs only 32-bit integer operations. The state is seeded with SplitMix32 so that nearby
 * seeds (0, 1, 2…) give unrelated streams.
 */
import { ProvenantError } from './errors.js';

export type Seed = number | string;

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
  /** Uniform float in [0, 1) with 53 bits of randomness (for float64 work). */
  nextDouble(): number;
  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number;
  /** Standard normal deviate (Box–Muller; caches the second value). */
  nextNormal(): number;
  /** An independent generator derived from this one's stream (for parallel work with reproducible results). */
  fork(label?: string): Rng;
  /** The current state, to resume a stream exactly (checkpoints). */
  getState(): [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over UTF-16 code units, so string seeds ("datanet-split") are accepted. */
function hashSeedString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Normalises a seed to a uint32, rejecting values that would silently collide (NaN, fractions, out of range).
 *
 * @example
 * ```ts
 * import { seedToUint32 } from 'provenant';
 * seedToUint32('run-7') === seedToUint32('run-7'); // true: string seeds are hashed
 * ```
 */
export function seedToUint32(seed: Seed): number {
  if (typeof seed === 'string') return hashSeedString(seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new ProvenantError('RNG_SEED_INVALID', `Seed must be a non-negative safe integer or a string, got ${seed}.`, {
      data: { seed },
    });
  }
  // Fold the high bits in so seeds above 2^32 stay distinct from their low 32 bits.
  return (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000);
}

/**
 * Creates a xoshiro128** generator from a seed, or resumes one from a saved state.
 *
 * @example
 * ```ts
 * import { createRng } from 'provenant';
 * const rng = createRng(7);
 * rng.nextFloat(); // the same number in [0, 1) for seed 7, every run
 * ```
 */
export function createRng(seed: Seed | { state: [number, number, number, number] }): Rng {
  let s0: number, s1: number, s2: number, s3: number;
  if (typeof seed === 'object') {
    [s0, s1, s2, s3] = seed.state.map((v) => v >>> 0) as [number, number, number, number];
    if ((s0 | s1 | s2 | s3) === 0) throw new ProvenantError('RNG_SEED_INVALID', 'xoshiro128** state must not be all zero.');
  } else {
    const sm = splitmix32(seedToUint32(seed));
    s0 = sm(); s1 = sm(); s2 = sm(); s3 = sm();
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  }
  let spareNormal: number | null = null;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    s0 >>>= 0; s1 >>>= 0; s2 >>>= 0; s3 >>>= 0;
    return result;
  };

  const rng: Rng = {
    nextUint32,
    nextFloat: () => nextUint32() / 0x1_0000_0000,
    nextDouble: () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n <= 0 || n > 0x1_0000_0000) {
        throw new ProvenantError('INVALID_ARGUMENT', `nextInt(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}.`);
      }
      // Lemire-style rejection: discard the biased tail of the 32-bit range.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
      for (;;) {
        const x = nextUint32();
        if (x < limit) return x % n;
      }
    },
    nextNormal(): number {
      if (spareNormal !== null) {
        const v = spareNormal;
        spareNormal = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = rng.nextDouble();
      const v = rng.nextDouble();
      const radius = Math.sqrt(-2 * Math.log(u));
      spareNormal = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
    fork(label = ''): Rng {
      const mixed = (nextUint32() ^ hashSeedString(label)) >>> 0;
      return createRng(mixed);
    },
    getState: () => [s0, s1, s2, s3],
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Fisher–Yates shuffle into a new array; the input is not modified.
 *
 * @example
 * ```ts
 * import { shuffle } from 'provenant';
 * shuffle(['a', 'b', 'c'], 1); // a seeded permutation; the input is not changed
 * ```
 */
export function shuffle<T>(items: readonly T[], seed: Seed | Rng): T[] {
  const rng = typeof seed === 'object' ? seed : createRng(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

/**
 * A random permutation of 0..n-1.
 *
 * @example
 * ```ts
 * import { permutation } from 'provenant';
 * permutation(4, 1); // Uint32Array [0, 1, 3, 2], the same for seed 1 every run
 * ```
 */
export function permutation(n: number, seed: Seed | Rng): Uint32Array {
  const rng = typeof seed === 'object' ? seed : createRng(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

/**
 * k distinct indices from 0..n-1, in random order.
 *
 * @example
 * ```ts
 * import { sampleIndices } from 'provenant';
 * sampleIndices(100, 5, 1); // Uint32Array of 5 distinct indices in [0, 100)
 * ```
 */
export function sampleIndices(n: number, k: number, seed: Seed | Rng): Uint32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ProvenantError('INVALID_ARGUMENT', `sampleIndices needs 0 ≤ k ≤ n, got k=${k}, n=${n}.`);
  }
  return permutation(n, seed).subarray(0, k).slice();
}

/**
 * Splits 0..n-1 into consecutive shuffled parts with the given fractions (which must sum to 1 within 1e-9).
 * Sizes use the largest-remainder rule so they always add up to n.
 *
 * @example
 * ```ts
 * import { randomSplit } from 'provenant';
 * declare const rows: readonly string[];
 * const [train, test] = randomSplit(rows.length, [0.8, 0.2], 1); // disjoint index arrays covering every row
 * ```
 */
export function randomSplit(n: number, fractions: readonly number[], seed: Seed | Rng): Uint32Array[] {
  const sizes = apportion(n, fractions);
  const order = permutation(n, seed);
  const parts: Uint32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    parts.push(order.slice(offset, offset + size));
    offset += size;
  }
  return parts;
}

/**
 * Integer sizes proportional to `fractions` that sum exactly to `total` (largest remainder, ties to the earlier part).
 *
 * @example
 * ```ts
 * import { apportion } from 'provenant';
 * apportion(10, [1 / 3, 1 / 3, 1 / 3]); // [4, 3, 3]: integer counts summing to 10
 * ```
 */
export function apportion(total: number, fractions: readonly number[]): number[] {
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (fractions.length === 0 || fractions.some((f) => !(f >= 0) || !Number.isFinite(f)) || Math.abs(sum - 1) > 1e-9) {
    throw new ProvenantError('INVALID_ARGUMENT', 'Fractions must be finite, non-negative and sum to 1.', {
      metaMessages: [`fractions: [${fractions.join(', ')}] (sum ${sum})`],
    });
  }
  const exact = fractions.map((f) => f * total);
  const sizes = exact.map(Math.floor);
  let remaining = total - sizes.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; remaining > 0; k++, remaining--) sizes[order[k % order.length]!.i]! += 1;
  return sizes;
}
