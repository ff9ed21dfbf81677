import { beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import {
  buildAttributionBatch,
  calldataGas,
  easAttestCalldata,
  EAS_PREDEPLOY,
  estimateL1Fee,
  flzCompressLength,
  l1FeeUpperBound,
  publishRootCalldata,
  recordAttributionsCalldata,
  unsignedTransaction,
  type AttributionRecordInput,
  type L1FeeParameters,
} from '../../../src/chain/index.js';
import { bytesToHex, createRng, type Rng } from '../../../src/core/index.js';
import { anvilUrl, randomAddresses, randomHashes } from '../helpers.js';
import { installGasPriceOracle, type GasPriceOracleHandle, type L1BlockValues } from './gas-price-oracle.js';

/** Seeded payloads of many sizes and compressibilities (each kind exercises a different FastLZ path). */
function payload(rng: Rng, size: number, kind: number): Uint8Array {
  const out = new Uint8Array(size);
  const byte = (): number => rng.nextUint32() & 0xff;
  switch (kind % 6) {
    case 0: // incompressible
      for (let i = 0; i < size; i++) out[i] = byte();
      break;
    case 1: // long runs (matches longer than 262 bytes)
      for (let i = 0; i < size; ) {
        const run = 1 + rng.nextInt(600);
        out.fill(rng.nextInt(4) === 0 ? byte() : 0, i, i + run);
        i += run;
      }
      break;
    case 2: // small alphabet
      for (let i = 0; i < size; i++) out[i] = 0x61 + rng.nextInt(3);
      break;
    case 3: {
      // a period near the 8,191-byte match window, mutated
      const period = [8190, 8191, 8192, 8193, 37, 300][rng.nextInt(6)]!;
      for (let i = 0; i < size; i++) out[i] = i < period ? byte() : rng.nextInt(50) === 0 ? byte() : out[i - period]!;
      break;
    }
    case 4: {
      // text-like: words from a small vocabulary
      const words = ['attribution', 'contributor', 'reward', ' ', 'the', 'model', '0x', 'score', '\n'];
      let i = 0;
      while (i < size) for (const c of words[rng.nextInt(words.length)]!) if (i < size) out[i++] = c.charCodeAt(0);
      break;
    }
    default: // ABI-like: 32-byte words, mostly zero-padded small numbers and some random hashes
      for (let w = 0; w * 32 < size; w++) {
        const word = new Uint8Array(32);
        if (rng.nextInt(3) === 0) for (let j = 0; j < 32; j++) word[j] = byte();
        else word[31] = byte();
        out.set(word.subarray(0, Math.min(32, size - w * 32)), w * 32);
      }
  }
  return out;
}

function payloads(seed: number, count: number): Uint8Array[] {
  const rng = createRng(seed);
  // Edge sizes around FastLZ's 13-byte tail and 32-byte literal runs, then log-uniform sizes up to 16 KiB.
  const edges = [0, 1, 12, 13, 14, 15, 16, 17, 31, 32, 33, 64, 65];
  const sizes = [...edges, ...Array.from({ length: count - edges.length }, () => Math.floor(Math.exp(rng.nextDouble() * Math.log(16_384))))];
  return sizes.map((size, i) => payload(rng, size, i));
}

function attributionRecords(seed: number, n: number): AttributionRecordInput[] {
  const rng = createRng(seed);
  const hashes = randomHashes(seed, n + 1);
  const contributors = randomAddresses(seed + 1, Math.min(n, 20));
  return Array.from({ length: n }, (_, i) => ({
    queryHash: hashes[i]!,
    contributor: contributors[i % contributors.length]!,
    score: (rng.nextDouble() - 0.3) * 0.8,
    rewardWei: BigInt(Math.floor(rng.nextDouble() * 1e16)),
    modelRef: hashes[n]!,
  }));
}

/** The project's own transactions, unsigned, as `getL1Fee` takes them. */
function projectTransactions(): { label: string; data: Hex }[] {
  const registry = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const schema = randomHashes(99, 1)[0]!;
  const out: { label: string; data: Hex }[] = [];
  const one = attributionRecords(1, 1);
  out.push({ label: 'EAS attest, one event', data: unsignedTransaction({ to: EAS_PREDEPLOY, data: easAttestCalldata(one[0]!, schema) }) });
  out.push({ label: 'recordAttribution, one event', data: unsignedTransaction({ to: registry, data: recordAttributionsCalldata(one) }) });
  for (const n of [2, 10, 100, 400]) {
    out.push({ label: `recordAttributions, ${n} events`, data: unsignedTransaction({ to: registry, data: recordAttributionsCalldata(attributionRecords(n, n)), gas: 5_000_000n, nonce: n }) });
  }
  for (const n of [1, 20_000]) {
    const batch = buildAttributionBatch(attributionRecords(7 + n, n));
    out.push({ label: `publishAttributionBatch, root of ${n}`, data: unsignedTransaction({ to: registry, data: publishRootCalldata(batch), gas: 120_000n }) });
  }
  return out;
}

/** L1 prices seen on OP Stack chains (Base's and OP Mainnet's scalars, quiet and busy L1), plus edge values. */
const PRICES: L1BlockValues[] = [
  { baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, l1BaseFee: 5_000_000_000n, blobBaseFee: 1n },
  { baseFeeScalar: 5227, blobBaseFeeScalar: 1_014_213, l1BaseFee: 31_415_926_535n, blobBaseFee: 987_654_321n },
  { baseFeeScalar: 0, blobBaseFeeScalar: 0xffff_ffff, l1BaseFee: 1n, blobBaseFee: 10n ** 30n },
  { baseFeeScalar: Math.floor(0xffff_ffff / 16), blobBaseFeeScalar: 0, l1BaseFee: 10n ** 40n, blobBaseFee: 0n },
];

const params = (v: L1BlockValues, fork: 'ecotone' | 'fjord'): L1FeeParameters => ({ ...v, fork });

describe('estimateL1Fee equals the real GasPriceOracle.getL1Fee (contracts-bedrock artifacts on anvil)', () => {
  let oracle: GasPriceOracleHandle;
  const own = projectTransactions();
  const random = payloads(20261130, 110);

  beforeAll(async () => {
    oracle = await installGasPriceOracle(anvilUrl());
  });

  it('Ecotone: calldata gas × scalars, to the wei, for our transactions and random payloads', async () => {
    await oracle.activate('ecotone');
    for (const prices of PRICES) {
      await oracle.setL1Values(prices);
      for (const { label, data } of own) expect([label, estimateL1Fee(data, params(prices, 'ecotone'))]).toEqual([label, await oracle.getL1Fee(data)]);
      for (const bytes of random.slice(0, 40)) {
        const data = bytesToHex(bytes);
        expect(estimateL1Fee(bytes, params(prices, 'ecotone'))).toBe(await oracle.getL1Fee(data));
      }
    }
  });

  it("Fjord: FastLZ length equals solady's LibZip.flzCompress, read back through the oracle's linear regression", async () => {
    await oracle.activate('fjord');
    expect(await oracle.isFjord()).toBe(true);
    // 16 · 1,000,000 · 62,500 = 10¹², so getL1Fee returns the regression's estimate itself: −42,585,600 + 836,500·(flz + 68).
    await oracle.setL1Values({ baseFeeScalar: 1_000_000, blobBaseFeeScalar: 0, l1BaseFee: 62_500n, blobBaseFee: 0n });
    let aboveFloor = 0;
    // Plus 60 payloads of 300 B – 16 KiB, so most lengths clear the floor and are read back exactly.
    const large = payloads(7, 73).slice(13).map((b, i) => (b.length >= 300 ? b : payload(createRng(i), 300 + 50 * i, i)));
    for (const bytes of [...random, ...large, ...own.map((t) => Uint8Array.from(Buffer.from(t.data.slice(2), 'hex')))]) {
      const estimate = await oracle.getL1Fee(bytesToHex(bytes));
      if (estimate === 100_000_000n) {
        // At the 100-byte floor the length is not recoverable; it must then lie below the regression's crossing.
        expect(-42_585_600 + 836_500 * (flzCompressLength(bytes) + 68)).toBeLessThanOrEqual(100_000_000);
        continue;
      }
      aboveFloor++;
      expect((estimate + 42_585_600n) % 836_500n).toBe(0n);
      expect(flzCompressLength(bytes)).toBe(Number((estimate + 42_585_600n) / 836_500n) - 68);
    }
    expect(aboveFloor).toBeGreaterThan(100);
  });

  it('Fjord: fee to the wei for our transactions (per event, batched, one root) and 110 random payloads, at four price settings', async () => {
    await oracle.activate('fjord');
    for (const prices of PRICES) {
      await oracle.setL1Values(prices);
      for (const { label, data } of own) expect([label, estimateL1Fee(data, params(prices, 'fjord'))]).toEqual([label, await oracle.getL1Fee(data)]);
      for (const bytes of random) expect(estimateL1Fee(bytes, params(prices, 'fjord'))).toBe(await oracle.getL1Fee(bytesToHex(bytes)));
      for (const size of [0n, 1n, 100n, 161n, 1_000n, 100_000n]) expect(l1FeeUpperBound(size, params(prices, 'fjord'))).toBe(await oracle.getL1FeeUpperBound(size));
    }
  });

  it('matches the oracle at the 100-byte floor and just above it', async () => {
    await oracle.activate('fjord');
    const prices = PRICES[0]!;
    await oracle.setL1Values(prices);
    // Random bytes of n compress to n + 1 (one literal run); the floor ends where 836,500·(n + 1 + 68) > 142,585,600.
    const rng = createRng(5);
    for (let n = 95; n <= 110; n++) {
      const bytes = payload(rng, n, 0);
      expect(estimateL1Fee(bytes, params(prices, 'fjord'))).toBe(await oracle.getL1Fee(bytesToHex(bytes)));
    }
  });
});

describe('estimateL1Fee without a node', () => {
  const fjord: L1FeeParameters = { l1BaseFee: 5_000_000_000n, blobBaseFee: 1n, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, fork: 'fjord' };

  it('takes hex or bytes alike, and counts calldata gas by hand for a tiny input', () => {
    expect(estimateL1Fee('0x00ff', fjord)).toBe(estimateL1Fee(new Uint8Array([0, 255]), fjord));
    expect(calldataGas('0x00ff00')).toBe(4n + 16n + 4n + 68n * 16n);
    // Ecotone by hand: (1,112 gas) · (16·2269·5e9 + 1,055,762·1) / 16e6.
    expect(estimateL1Fee('0x00ff00', { ...fjord, fork: 'ecotone' })).toBe((1112n * (16n * 2269n * 5_000_000_000n + 1_055_762n)) / 16_000_000n);
  });

  it('a FastLZ length by hand: literals cost one control byte per 32', () => {
    // Under 16 bytes FastLZ emits literals only: n bytes + 1 control byte.
    expect(flzCompressLength(new Uint8Array(15).fill(9))).toBe(16);
    expect(flzCompressLength(new Uint8Array(0))).toBe(0);
  });

  it('rejects bad input with INVALID_ARGUMENT naming the field', () => {
    expect(() => estimateL1Fee('0x0', fjord)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => estimateL1Fee('abcd', fjord)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => estimateL1Fee('0x', { ...fjord, l1BaseFee: -1n })).toThrow(/l1BaseFee/);
    expect(() => estimateL1Fee('0x', { ...fjord, baseFeeScalar: 0x1000_0000 })).toThrow(/baseFeeScalar/);
    expect(() => estimateL1Fee('0x', { ...fjord, blobBaseFeeScalar: 1.5 })).toThrow(/blobBaseFeeScalar/);
    expect(() => estimateL1Fee('0x', { ...fjord, fork: 'bedrock' as 'fjord' })).toThrow(/fork/);
    expect(() => l1FeeUpperBound(10, { ...fjord, fork: 'ecotone' })).toThrow(/fork/);
  });
});
