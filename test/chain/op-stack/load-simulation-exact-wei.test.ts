/**
 * The chain-load figures that reach the audit record (`sections.chainLoad`) carry wei exactly, as decimal strings: a
 * JS number is inexact above 2⁵³ wei (≈ 0.009 ETH), and a cost per million attributions is far above that. Checked
 * against EIP-1559 and Fjord's L1 fee written out by hand, then through `buildAuditRecord` → JSON → `verifyAuditRecord`.
 */
import { describe, expect, it } from 'vitest';
import { chainChartSpecs, sealAuditRecord, verifyAuditRecord, type AuditRecord, type ChainChartData } from '../../../src/audit/index.js';
import { inferenceTrace, resolveOpStackProfile, simulateAttributionLoad, type OpStackProfile, type StrategyTransactionModel } from '../../../src/chain/index.js';
import { sampleAuditRecord } from '../../fixtures/audit/sample-record.js';

const perEvent: StrategyTransactionModel = {
  strategy: 'per-event',
  gasBase: 28_387,
  gasPerEvent: 0,
  fastLzBase: 150,
  fastLzPerEvent: 0,
  calldataGasBase: 3_000,
  calldataGasPerEvent: 0,
  bytesBase: 180,
  bytesPerEvent: 0,
};

/** Fjord's L1 fee from GasPriceOracle.sol (FastLZ size + 68 padding, linear regression, 100-byte floor). */
function fjordFeeByHand(flz: number, p: OpStackProfile): bigint {
  let size = -42_585_600n + 836_500n * BigInt(flz + 68);
  if (size < 100_000_000n) size = 100_000_000n;
  return (size * (BigInt(p.baseFeeScalar) * 16n * BigInt(p.l1BaseFeeWei) + BigInt(p.blobBaseFeeScalar) * BigInt(p.blobBaseFeeWei))) / 10n ** 12n;
}

describe('chain load: wei carried exactly for the audit record', () => {
  // Start the base fee at 2⁵³ − 1 wei and keep every block full: from block 1 on every fee is above 2⁵³.
  const start = Number.MAX_SAFE_INTEGER;
  const profile = resolveOpStackProfile({ initialBaseFeeWei: start, minBaseFeeWei: start });
  const trace = inferenceTrace({ queriesPerSecond: 100, eventsPerQuery: 10, durationSeconds: 40, blockTimeSeconds: 2 });
  const sim = simulateAttributionLoad({ profile, trace, model: perEvent, seriesPoints: 1_000 });

  // By hand: 1,056 transactions of 28,387 gas fill each 30M block; base fee +⌊fee·(used − target)/target/250⌋ per block.
  const perBlock = Math.floor(30_000_000 / 28_387);
  const used = BigInt(perBlock * 28_387);
  const target = 30_000_000n / 6n;
  const fees: bigint[] = [BigInt(start)];
  for (let k = 1; k < 20; k++) fees.push(fees[k - 1]! + (fees[k - 1]! * (used - target)) / target / 250n);
  const l1 = fjordFeeByHand(150, profile);

  it('the base-fee series holds each block’s fee exactly (beyond 2⁵³), as decimal strings', () => {
    expect(sim.eventsIncluded).toBe(perBlock * 20);
    expect(sim.baseFee.series.length).toBe(20);
    for (const point of sim.baseFee.series) {
      const k = point.timeSeconds / 2 - 1;
      expect(point.baseFeeWei).toBe(fees[k]!.toString());
    }
    // A number could not have held them: 2⁵³ + an odd amount is not representable.
    expect(fees.slice(1).some((f) => BigInt(Number(f)) !== f)).toBe(true);
  });

  it('the total fee and the cost per million events are exact (nearest wei)', () => {
    const total = fees.reduce((s, fee) => s + BigInt(perBlock) * (28_387n * fee + l1), 0n);
    expect(sim.totalFeeWei).toBe(total.toString());
    const n = BigInt(sim.eventsIncluded);
    const exact = (total * 1_000_000n) / n;
    const remainder = (total * 1_000_000n) % n;
    expect(sim.costPerMillionEventsWeiExact).toBe((2n * remainder >= n ? exact + 1n : exact).toString());
    const none = simulateAttributionLoad({ profile, trace: inferenceTrace({ queriesPerSecond: 0, durationSeconds: 10, blockTimeSeconds: 2 }), model: perEvent });
    expect(none.costPerMillionEventsWeiExact).toBeNull();
  });

  it('a record carrying the chart data round-trips through JSON exactly and verifies; the charts still plot', async () => {
    const chainLoad: ChainChartData = {
      costByLoad: [{ strategy: sim.strategy, eventsPerSecond: sim.eventsPerSecond, costPerMillionEventsWei: sim.costPerMillionEventsWeiExact, holds: sim.holds }],
      finality: [{ strategy: sim.strategy, stage: 'safe', p50Seconds: sim.safeLatency.p50, p99Seconds: sim.safeLatency.p99 }],
      baseFee: sim.baseFee.series.map((p) => ({ strategy: sim.strategy, timeSeconds: p.timeSeconds, baseFeeWei: p.baseFeeWei })),
    };
    // The sample record's own proof example does not verify (it is a shape fixture): compare against its failures.
    const { integrity: _i, ...sample } = sampleAuditRecord();
    const baseline = (await verifyAuditRecord({ ...sample, integrity: sealAuditRecord(sample) } as AuditRecord)).failures;
    const body = { ...sample, sections: { chainLoad } } as AuditRecord;
    const record = JSON.parse(JSON.stringify({ ...body, integrity: sealAuditRecord(body) })) as AuditRecord & { sections: { chainLoad: ChainChartData } };
    expect((await verifyAuditRecord(record)).failures).toEqual(baseline);
    // The digest covers the exact strings: one wei more is caught.
    const edited = JSON.parse(JSON.stringify(record)) as typeof record;
    edited.sections.chainLoad.baseFee[5]!.baseFeeWei = (BigInt(edited.sections.chainLoad.baseFee[5]!.baseFeeWei) + 1n).toString();
    expect((await verifyAuditRecord(edited)).failures.map((f) => f.field)).toContain('sections');
    const carried = record.sections.chainLoad as ChainChartData;
    expect(carried.baseFee.map((p) => BigInt(p.baseFeeWei))).toEqual(fees);
    expect(carried.costByLoad[0]!.costPerMillionEventsWei).toBe(sim.costPerMillionEventsWeiExact);
    const plotted = (chainChartSpecs(carried).chainBaseFee as { data: { values: { baseFeeGwei: number }[] } }).data.values;
    expect(plotted[19]!.baseFeeGwei).toBeCloseTo(Number(fees[19]!) / 1e9, 3);
  });
});
