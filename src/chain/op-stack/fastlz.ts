/**
 * The length of FastLZ (level 1) compression exactly as solady's `LibZip.flzCompress` produces it — the size the OP Stack
 * `GasPriceOracle` (Fjord) feeds its L1-fee regression with (`LibZip.flzCompress(_data).length + 68`). op-geth charges
 * with the same number (its `FlzCompressLen`), so an estimate off by one byte is an L1 fee off by ~0.8 bytes of Brotli.
 *
 * Only the *length* is needed, so literals and matches are counted, never written. The algorithm (FastLZ by A. Hidayat,
 * as solady encodes it):
 * - a 13-bit hash table of 3-byte windows (`(v · 2654435769) >>> 19`, low 13 bits) keyed to their last position;
 * - a match is taken when the 3 bytes at the hashed position equal the current 3 and lie ≤ 8191 bytes back;
 * - literals cost 1 control byte per run of ≤ 32 plus the bytes; a match costs 2 bytes (length < 7 after the 3-byte
 *   minimum) or 3, plus 3 per further 262 bytes of length;
 * - the last 13 bytes (and inputs under 16 bytes) are always literals.
 * The check against the real contract is `test/chain/op-stack/l1-fee.test.ts` (GasPriceOracle on anvil).
 */

const HASH_MASK = 0x1fff;
const MAX_DISTANCE = 0x1fff;

/** `hash(v)` of solady: bits 19..31 of v · 2654435769 (Knuth's multiplicative hash). */
const hash24 = (v: number): number => (Math.imul(v, 2654435769 | 0) >>> 19) & HASH_MASK;

/**
 * Bytes of `LibZip.flzCompress(data)` (solady), without building the compressed bytes.
 *
 * @param data the bytes to compress (any length).
 * @returns the compressed length in bytes; 0 for empty input.
 * @example
 * ```ts
 * import { flzCompressLength } from 'provenant/chain';
 * flzCompressLength(new Uint8Array(1000)); // 21: a run of zeros collapses to a few matches
 * ```
 */
export function flzCompressLength(data: Uint8Array): number {
  const ib = data;
  const n = ib.length;
  let out = 0;
  const table = new Uint32Array(HASH_MASK + 1);
  const u24 = (i: number): number => ib[i]! | (ib[i + 1]! << 8) | (ib[i + 2]! << 16);
  const literals = (runs: number): void => {
    out += 0x21 * Math.floor(runs / 0x20);
    const rest = runs % 0x20;
    if (rest !== 0) out += rest + 1;
  };
  const match = (length: number): void => {
    const l = length - 1;
    out += 3 * Math.floor(l / 262);
    out += l % 262 >= 6 ? 3 : 2;
  };
  // Bytes equal from p and q onward, counted as solady's `cmp` does: the first mismatch is included in the count.
  const compare = (p: number, q: number, end: number): number => {
    let e = end - q;
    let l = 0;
    for (; l < e; l++) if (ib[p + l] !== ib[q + l]) e = 0;
    return l;
  };
  const setNextHash = (ip: number): number => {
    table[hash24(u24(ip))] = ip;
    return ip + 1;
  };

  let anchor = 0;
  const ipLimit = n < 13 ? 0 : n - 13;
  for (let ip = anchor + 2; ip < ipLimit; ) {
    let ref = 0;
    let distance = 0;
    for (;;) {
      const s = u24(ip);
      const h = hash24(s);
      ref = table[h]!;
      table[h] = ip;
      distance = ip - ref;
      if (ip >= ipLimit) break;
      ip++;
      if (distance <= MAX_DISTANCE && s === u24(ref)) break;
    }
    if (ip >= ipLimit) break;
    ip--;
    if (ip > anchor) literals(ip - anchor);
    const length = compare(ref + 3, ip + 3, ipLimit + 9);
    match(length);
    ip = setNextHash(setNextHash(ip + length));
    anchor = ip;
  }
  literals(n - anchor);
  return out;
}
