import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchedEventsPerBlock,
  batchedEventsPerTransaction,
  EAS_ATTEST_GAS,
  OP_STACK_105M,
  OP_STACK_30M,
  perEventCapacity,
  planThroughput,
  type MeasuredGas,
} from '../../src/chain/index.js';

// Round figures of the shape the benchmark measures (the benchmark feeds the real ones).
const gas: MeasuredGas = {
  perEventTx: 31_000,
  perEventTxBytes: 280,
  batchedEventsBase: 27_000,
  batchedEventsPerEvent: 4_500,
  batchedEventsBaseBytes: 180,
  batchedEventsPerEventBytes: 160,
  rootPerBlock: 99_000,
  rootTxBytes: 250,
};

/** Brute force: add events one at a time to the current transaction, opening a new one when full, until the block is. */
function bruteForceBatchedPerBlock(budget: number, base: number, perEvent: number, cap: number): number {
  let used = 0;
  let events = 0;
  let inTx = 0;
  for (;;) {
    const cost = inTx === 0 || inTx === cap ? base + perEvent : perEvent;
    if (used + cost > budget) return events;
    used += cost;
    inTx = inTx === cap ? 1 : inTx + 1;
    events++;
  }
}

describe('throughput planner', () => {
  it('EAS attest at 277,553 gas carries ≈ 54 events/s on a 30M-gas, 2 s chain (floor(30M / 277,553) / 2)', () => {
    expect(perEventCapacity(OP_STACK_30M, EAS_ATTEST_GAS)).toBe(54);
    expect(perEventCapacity(OP_STACK_105M, EAS_ATTEST_GAS)).toBe(Math.floor(105e6 / 277_553) / 2);
    expect(perEventCapacity(OP_STACK_30M, EAS_ATTEST_GAS, 'target')).toBe(Math.floor(5e6 / 277_553) / 2);
  });

  it('packs batched events exactly like a brute-force greedy packing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 30_000, max: 3_000_000 }),
        fc.integer({ min: 21_000, max: 60_000 }),
        fc.integer({ min: 500, max: 20_000 }),
        fc.integer({ min: 1, max: 300 }),
        (budget, base, perEvent, cap) => {
          expect(batchedEventsPerBlock(budget, base, perEvent, cap)).toBe(bruteForceBatchedPerBlock(budget, base, perEvent, cap));
        },
      ),
      { numRuns: 200 },
    );
    expect(batchedEventsPerTransaction(gas, 128 * 1024)).toBe(Math.floor((131072 - 180) / 160));
    // The per-transaction gas cap binds once transactions may be large: ⌊(2^24 − 27,000) / 4,500⌋ = 3,722 events.
    expect(batchedEventsPerTransaction(gas, 10_000_000)).toBe(Math.floor((2 ** 24 - 27_000) / 4_500));
    expect(batchedEventsPerTransaction(gas, 10_000_000, 1_000_000)).toBe(Math.floor((1_000_000 - 27_000) / 4_500));
  });

  it('at 10,000 events/s on 30M gas and 2 s blocks only one root per block holds, at a fixed gas per second', () => {
    const plan = planThroughput({ chain: OP_STACK_30M, eventsPerSecond: 10_000, gas });
    const by = Object.fromEntries(plan.strategies.map((s) => [s.strategy, s]));
    expect(by['per-event']!.holds).toBe('no');
    expect(by['per-event']!.capacityAtLimit).toBe(Math.floor(30e6 / 31_000) / 2);
    expect(by['batched-events']!.holds).toBe('no');
    expect(by['per-block-root']!.holds).toBe('sustained');
    expect(by['per-block-root']!.gasPerSecond).toBe(99_000 / 2);
    expect(by['per-block-root']!.eventsPerTransaction).toBe(20_000);
    expect(by['per-block-root']!.targetUtilisation).toBeCloseTo(99_000 / 5e6, 12);
    expect(by['per-block-root']!.l1BytesPerSecond).toBe(125);
    expect(by['per-event']!.l1BytesPerSecond).toBe(2_800_000);
    expect(plan.recommended).toBe('per-block-root');
    expect(plan.gasTargetPerSecond).toBe(2.5e6);
  });

  it('recommends the cheapest sustainable strategy, and nothing when none holds', () => {
    const slow = planThroughput({ chain: OP_STACK_30M, eventsPerSecond: 0.2, gas });
    // 0.2 events/s: a root per block (49.5k gas/s) costs more than one event transaction every 5 s (6.2k gas/s).
    expect(slow.recommended).toBe('per-event');
    const bounded = planThroughput({ chain: OP_STACK_30M, eventsPerSecond: 10_000, gas, offChainLeavesPerSecond: 5_000 });
    expect(bounded.recommended).toBeNull();
  });

  it('capacity never falls as the gas limit rises, and "sustained" means the load fits the target', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000_000, max: 200_000_000 }), fc.integer({ min: 0, max: 50_000_000 }), fc.double({ min: 0, max: 50_000, noNaN: true }), (limit, extra, rate) => {
        const a = planThroughput({ chain: { gasLimit: limit, blockTimeSeconds: 2, elasticity: 6 }, eventsPerSecond: rate, gas });
        const b = planThroughput({ chain: { gasLimit: limit + extra, blockTimeSeconds: 2, elasticity: 6 }, eventsPerSecond: rate, gas });
        for (let i = 0; i < 3; i++) {
          expect(b.strategies[i]!.capacityAtLimit).toBeGreaterThanOrEqual(a.strategies[i]!.capacityAtLimit);
          expect(b.strategies[i]!.capacityAtTarget).toBeGreaterThanOrEqual(a.strategies[i]!.capacityAtTarget);
          const s = a.strategies[i]!;
          if (s.holds === 'sustained') expect(rate).toBeLessThanOrEqual(s.capacityAtTarget);
          if (s.holds === 'no') expect(rate).toBeGreaterThan(s.capacityAtLimit);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rejects impossible inputs', () => {
    expect(() => planThroughput({ chain: { ...OP_STACK_30M, elasticity: 0 }, eventsPerSecond: 1, gas })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => planThroughput({ chain: OP_STACK_30M, eventsPerSecond: -1, gas })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => planThroughput({ chain: OP_STACK_30M, eventsPerSecond: 1, gas: { ...gas, rootPerBlock: 0 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
