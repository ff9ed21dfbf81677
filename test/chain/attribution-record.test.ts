import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { encodeAbiParameters, keccak256 as viemKeccak, parseAbiParameters } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTION_LEAF_TYPES,
  attributionBatchId,
  attributionLeafValues,
  buildAttributionBatch,
  evaluationId,
  fromFixedPoint,
  normalizeAttributionRecord,
  toFixedPoint,
  type AttributionRecordInput,
} from '../../src/chain/index.js';

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}` as `0x${string}`);
const int256 = fc.bigInt({ min: -(1n << 255n), max: (1n << 255n) - 1n });
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const recordArb = (modelRef: `0x${string}`) =>
  fc.record({ queryHash: hex(32), contributor: hex(20), score: int256, rewardWei: uint256 }).map((r): AttributionRecordInput => ({ ...r, modelRef }));

const leafParams = parseAbiParameters('bytes32, address, int256, uint256, bytes32');

describe('attribution leaves', () => {
  it('batches have OpenZeppelin StandardMerkleTree roots and proofs, and leaves hash like an independent ABI encoder', () => {
    fc.assert(
      fc.property(hex(32).chain((ref) => fc.array(recordArb(ref), { minLength: 1, maxLength: 25 })), (input) => {
        const batch = buildAttributionBatch(input);
        const values = batch.records.map((r) => [...attributionLeafValues(r)]);
        const oz = StandardMerkleTree.of(values, [...ATTRIBUTION_LEAF_TYPES]);
        expect(batch.root).toBe(oz.root);
        for (let i = 0; i < input.length; i++) {
          expect(batch.getProof(i)).toEqual(oz.getProof(i));
          expect(StandardMerkleTree.verify(batch.root, [...ATTRIBUTION_LEAF_TYPES], values[i]!, batch.getProof(i))).toBe(true);
          const r = input[i]!;
          const encoded = encodeAbiParameters(leafParams, [r.queryHash, r.contributor, r.score as bigint, r.rewardWei, r.modelRef]);
          expect(batch.tree.leafHash(values[i] as never)).toBe(viemKeccak(viemKeccak(encoded)));
        }
        expect(batch.batchId).toBe(viemKeccak(encodeAbiParameters(parseAbiParameters('bytes32, bytes32, uint64'), [oz.root as `0x${string}`, input[0]!.modelRef.toLowerCase() as `0x${string}`, BigInt(input.length)])));
        expect(attributionBatchId(batch.root, batch.modelRef, input.length)).toBe(batch.batchId);
      }),
      { numRuns: 40 },
    );
  });

  it('evaluation ids match keccak256(abi.encode(modelId, summaryHash))', () => {
    fc.assert(
      fc.property(hex(32), hex(32), (m, s) => {
        expect(evaluationId(m, s)).toBe(viemKeccak(encodeAbiParameters(parseAbiParameters('bytes32, bytes32'), [m, s])));
      }),
      { numRuns: 30 },
    );
  });

  it('rejects malformed records and mixed model references with typed errors', () => {
    const good: AttributionRecordInput = { queryHash: `0x${'11'.repeat(32)}`, contributor: `0x${'22'.repeat(20)}`, score: 1n, rewardWei: 0n, modelRef: `0x${'33'.repeat(32)}` };
    expect(() => normalizeAttributionRecord({ ...good, contributor: '0x1234' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', data: { argument: 'contributor' } }));
    expect(() => normalizeAttributionRecord({ ...good, score: 1n << 255n })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => normalizeAttributionRecord({ ...good, rewardWei: -1n })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => normalizeAttributionRecord({ ...good, score: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => buildAttributionBatch([good, { ...good, modelRef: `0x${'44'.repeat(32)}` }])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', data: { index: 1 } }));
    expect(() => buildAttributionBatch([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('fixed-point scores', () => {
  it('convert exact decimals exactly (closed form n·10^(18−k))', () => {
    expect(toFixedPoint(0.1)).toBe(10n ** 17n);
    expect(toFixedPoint(-0.25)).toBe(-25n * 10n ** 16n);
    expect(toFixedPoint(1e21)).toBe(10n ** 39n);
    expect(toFixedPoint(-1.5e-18)).toBe(-2n); // half away from zero
    expect(toFixedPoint(1.4e-18)).toBe(1n);
    expect(toFixedPoint(4e-19)).toBe(0n);
    expect(toFixedPoint(0.5, 0)).toBe(1n);
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), fc.integer({ min: 0, max: 18 }), (n, k) => {
        const x = Number(`${n}e-${k}`);
        const exact = BigInt(n) * 10n ** BigInt(18 - k);
        expect(toFixedPoint(x)).toBe(exact);
        expect(fromFixedPoint(exact)).toBe(x);
      }),
      { numRuns: 300 },
    );
  });

  it('stay within one unit in the last place of the binary value for any double', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (x) => {
        const fixed = toFixedPoint(x);
        // Independent: the exact binary value rounded to 18 decimals by toFixed, compared in units of 1e-18.
        const [whole, fraction] = Math.abs(x).toFixed(18).split('.');
        const viaToFixed = BigInt(`${whole}${fraction}`) * (x < 0 ? -1n : 1n);
        const ulp = BigInt(Math.ceil(Math.max(Number.EPSILON * Math.abs(x) * 1e18, 1)));
        const diff = fixed - viaToFixed;
        expect(diff <= ulp && -diff <= ulp).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
