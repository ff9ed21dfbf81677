import { describe, expect, it } from 'vitest';
import {
  baseFeeSeries,
  blockFinality,
  findBreakingLoad,
  fitStrategyModel,
  inferenceTrace,
  maxEventsPerTransaction,
  nextBaseFee,
  opStackProfileParameters,
  OP_STACK_PROFILE_FIELDS,
  recordAttributionsCalldata,
  resolveOpStackProfile,
  simulateAttributionLoad,
  unsignedTransaction,
  type InferenceTrace,
  type OpStackProfile,
  type StrategyTransactionModel,
} from '../../../src/chain/index.js';
import { randomAddresses, randomHashes } from '../helpers.js';

const model = (strategy: StrategyTransactionModel['strategy'], gasBase: number, gasPerEvent: number, over: Partial<StrategyTransactionModel> = {}): StrategyTransactionModel => ({
  strategy,
  gasBase,
  gasPerEvent,
  fastLzBase: 150,
  fastLzPerEvent: strategy === 'batched-events' ? 131.5 : 0,
  calldataGasBase: 3_000,
  calldataGasPerEvent: strategy === 'batched-events' ? 2_100 : 0,
  bytesBase: 180,
  bytesPerEvent: strategy === 'batched-events' ? 160 : 0,
  ...over,
});

/** Fjord fee written out from GasPriceOracle.sol, independent of the library's helpers. */
function fjordFeeByHand(flz: number, p: OpStackProfile): bigint {
  let size = -42_585_600n + 836_500n * BigInt(flz + 68);
  if (size < 100_000_000n) size = 100_000_000n;
  return (size * (BigInt(p.baseFeeScalar) * 16n * BigInt(p.l1BaseFeeWei) + BigInt(p.blobBaseFeeScalar) * BigInt(p.blobBaseFeeWei))) / 10n ** 12n;
}

/**
 * Event-level brute force: every event is placed on its own, first come first served; a batched transaction takes events
 * one at a time until it is full (kmax) or the next one would not fit the block.
 */
function bruteForce(profile: OpStackProfile, trace: InferenceTrace, m: StrategyTransactionModel, kmax: number) {
  const t = profile.blockTimeSeconds;
  const queue: number[] = []; // arrival window of each waiting event
  let fee = BigInt(profile.initialBaseFeeWei);
  let total = 0n;
  let included = 0;
  let txs = 0;
  let latency = 0;
  const lag = m.strategy === 'batched-events' ? 1 : 0;
  const pending: number[][] = trace.eventsPerBlock.map(() => []);
  trace.eventsPerBlock.forEach((n, b) => {
    if (b + lag < pending.length) for (let i = 0; i < n; i++) pending[b + lag]!.push(b);
  });
  const gas = (n: number): number => Math.ceil(m.gasBase + m.gasPerEvent * n);
  for (let k = 0; k < trace.eventsPerBlock.length; k++) {
    queue.push(...pending[k]!);
    let room = profile.gasLimit - profile.backgroundGasPerBlock;
    let used = 0;
    while (queue.length > 0) {
      let n = 0;
      while (n < kmax && n < queue.length && gas(n + 1) <= room) n++;
      if (n === 0) break;
      for (const b of queue.splice(0, n)) latency += (k + 1) * t - (b + 0.5) * t;
      room -= gas(n);
      used += gas(n);
      total += BigInt(gas(n)) * fee + fjordFeeByHand(Math.round(m.fastLzBase + m.fastLzPerEvent * n), profile);
      included += n;
      txs++;
    }
    fee = nextBaseFee(fee, used + profile.backgroundGasPerBlock, { ...profile });
  }
  return { included, txs, costPerEvent: Number(total) / included, meanLatency: latency / included, endBaseFee: Number(fee) };
}

describe('load simulation', () => {
  it('equals an event-level brute force (per event and batched, gas cap binding, overload, Poisson and bursty arrivals)', () => {
    const profile = resolveOpStackProfile({ gasLimit: 3_000_000, maxTxGas: 400_000, backgroundGasPerBlock: 200_000 });
    const cases: [StrategyTransactionModel, InferenceTrace][] = [
      [model('per-event', 28_387, 0), inferenceTrace({ queriesPerSecond: 4, eventsPerQuery: 10, durationSeconds: 200, blockTimeSeconds: 2, shape: 'poisson', seed: 1 })],
      [model('per-event', 28_387, 0), inferenceTrace({ queriesPerSecond: 8, eventsPerQuery: 10, durationSeconds: 200, blockTimeSeconds: 2, shape: 'bursty', seed: 2 })],
      [model('batched-events', 20_211, 4_770), inferenceTrace({ queriesPerSecond: 30, eventsPerQuery: 10, durationSeconds: 200, blockTimeSeconds: 2, shape: 'poisson', seed: 3 })],
      [model('batched-events', 20_211, 4_770), inferenceTrace({ queriesPerSecond: 100, eventsPerQuery: 5, durationSeconds: 200, blockTimeSeconds: 2, shape: 'bursty', seed: 4 })],
    ];
    for (const [m, trace] of cases) {
      const kmax = maxEventsPerTransaction(m, profile);
      const sim = simulateAttributionLoad({ profile, trace, model: m });
      const brute = bruteForce(profile, trace, m, kmax);
      expect(sim.eventsIncluded).toBe(brute.included);
      expect(sim.transactions).toBe(brute.txs);
      expect(sim.costPerEventWei).toBeCloseTo(brute.costPerEvent, 3);
      expect(sim.inclusionLatency.mean).toBeCloseTo(brute.meanLatency, 9);
      expect(sim.baseFee.endWei).toBe(brute.endBaseFee);
    }
  });

  it('respects the per-transaction gas cap and the size limit when batching', () => {
    const m = model('batched-events', 20_211, 4_770);
    // Gas cap 2^24: ⌊(16,777,216 − 20,211) / 4,770⌋ = 3,512 events; 128 KiB: (131,072 − 180) / 160 = 818 events.
    expect(maxEventsPerTransaction(m, resolveOpStackProfile())).toBe(818);
    expect(maxEventsPerTransaction(m, resolveOpStackProfile({ maxTxBytes: 10_000_000 }))).toBe(3_512);
    expect(maxEventsPerTransaction(m, resolveOpStackProfile({ maxTxGas: 1_000_000 }))).toBe(Math.floor((1_000_000 - 20_211) / 4_770));
    expect(() => simulateAttributionLoad({ profile: resolveOpStackProfile({ maxTxGas: 100_000 }), model: model('eas-per-event', 277_553, 0), trace: inferenceTrace({ queriesPerSecond: 1, durationSeconds: 10, blockTimeSeconds: 2 }) })).toThrow(/per-transaction gas cap/);
  });

  it('latency closed forms: per event T/2 to unsafe, a per-block root one block more, a periodic root half its interval; safe and finalized add the batcher and L1', () => {
    const profile = resolveOpStackProfile();
    const trace = inferenceTrace({ queriesPerSecond: 2, eventsPerQuery: 5, durationSeconds: 600, blockTimeSeconds: 2 });
    const perEvent = simulateAttributionLoad({ profile, trace, model: model('per-event', 28_387, 0) });
    expect(perEvent.inclusionLatency.mean).toBeCloseTo(1, 9);
    expect(perEvent.inclusionLatency.p50).toBeCloseTo(1, 6);
    expect(perEvent.inclusionLatency.p99).toBeCloseTo(1.98, 6);
    // Blocks at 2, 4, …, 60 s wait 58, 56, …, 0 s for the batcher (mean 29), then one L1 block (12 s), plus the event's
    // own T/2 → 42 s to safe; finalized 768 s later.
    expect(perEvent.safeLatency.mean).toBeCloseTo(42, 9);
    expect(perEvent.finalizedLatency.mean).toBeCloseTo(42 + 768, 9);
    const root = simulateAttributionLoad({ profile, trace, model: model('per-block-root', 96_844, 0) });
    expect(root.inclusionLatency.mean).toBeCloseTo(3, 9);
    expect(root.inclusionLatency.p50).toBeCloseTo(3, 6);
    expect(root.transactions).toBe(300 - 1); // the last window's root lands after the run
    // Periodic root every 60 s: window j of 30 waits (30 − j)·T, plus a block, minus half a window → 16·T = 32 s.
    const periodic = simulateAttributionLoad({ profile, trace, model: model('periodic-root', 96_844, 0), rootIntervalSeconds: 60 });
    expect(periodic.inclusionLatency.mean).toBeCloseTo(32, 6);
    expect(periodic.transactions).toBe(9);
    expect(blockFinality(10, profile)).toEqual({ unsafe: 10, safe: 72, finalized: 840 });
    expect(blockFinality(60, profile)).toEqual({ unsafe: 60, safe: 72, finalized: 840 });
  });

  it('cost per event below the target: gas × base fee + the L1 fee, the base fee resting at its floor', () => {
    const profile = resolveOpStackProfile();
    const trace = inferenceTrace({ queriesPerSecond: 1, eventsPerQuery: 3, durationSeconds: 100, blockTimeSeconds: 2 });
    const r = simulateAttributionLoad({ profile, trace, model: model('eas-per-event', 277_553, 0, { fastLzBase: 300 }) });
    expect(r.holds).toBe(true);
    expect(r.baseFee.endWei).toBe(profile.minBaseFeeWei);
    expect(r.costPerEventWei).toBe(277_553 * profile.initialBaseFeeWei + Number(fjordFeeByHand(300, profile)));
  });

  it('under sustained load above the target the base fee compounds exactly as EIP-1559 says, and the strategy does not hold', () => {
    const profile = resolveOpStackProfile();
    const m = model('per-event', 28_387, 0);
    const trace = inferenceTrace({ queriesPerSecond: 100, eventsPerQuery: 10, durationSeconds: 200, blockTimeSeconds: 2 });
    const r = simulateAttributionLoad({ profile, trace, model: m });
    const full = Math.floor(30_000_000 / 28_387) * 28_387; // 1,056 transactions fill every block
    const fees = baseFeeSeries(BigInt(profile.initialBaseFeeWei), new Array(101).fill(full), { ...profile });
    expect(r.baseFee.endWei).toBe(Number(fees[100]));
    expect(r.holds).toBe(false);
    expect(r.reason).toBe('backlog');
  });

  it('runs a day of blocks (43,200) under overload without running out of stack, backlog growing linearly', () => {
    const profile = resolveOpStackProfile();
    const trace = inferenceTrace({ queriesPerSecond: 10, eventsPerQuery: 10, durationSeconds: 86_400, blockTimeSeconds: 2, shape: 'poisson', seed: 3 });
    const r = simulateAttributionLoad({ profile, trace, model: model('eas-per-event', 277_553, 0) });
    // 108 attestations fit a 30M block: the rest of ~200 events per block waits.
    expect(r.eventsIncluded).toBe(108 * 43_200);
    expect(r.backlogEnd).toBe(r.eventsArrived - 108 * 43_200);
    expect(r.inclusionLatency.p99).toBeGreaterThan(30_000);
  });

  it('finds the breaking load of EAS-style per-event attestation at the closed form (target 5M gas / 277,553 / 2 s ≈ 9.0 events/s; limit 54)', () => {
    const b = findBreakingLoad({ profile: resolveOpStackProfile(), model: model('eas-per-event', 277_553, 0), eventsPerQuery: 1, durationSeconds: 400 });
    expect(b.sustainedEventsPerSecond).toBeGreaterThan((5_000_000 / 277_553 / 2) * 0.99);
    expect(b.sustainedEventsPerSecond).toBeLessThanOrEqual(5_000_000 / 277_553 / 2);
    expect(b.burstEventsPerSecond).toBeGreaterThan(54 * 0.99);
    expect(b.burstEventsPerSecond).toBeLessThan(54 * 1.02);
    expect(b.atLimit.holds).toBe(true);
    // A root per block is bounded by off-chain hashing only.
    const root = findBreakingLoad({ profile: resolveOpStackProfile(), model: model('per-block-root', 96_844, 0), offChainLeavesPerSecond: 20_000, durationSeconds: 400 });
    expect(root.sustainedEventsPerSecond).toBeGreaterThan(20_000 * 0.98);
    expect(root.sustainedEventsPerSecond).toBeLessThan(20_000 * 1.02);
  });
});

describe('inference traces', () => {
  it('steady is exact, Poisson has mean ≈ variance, bursty keeps the mean and is over-dispersed; all seeded', () => {
    const steady = inferenceTrace({ queriesPerSecond: 3.3, eventsPerQuery: 7, durationSeconds: 1_000, blockTimeSeconds: 2 });
    expect(steady.queriesPerBlock.reduce((s, x) => s + x, 0)).toBe(3_300);
    expect(steady.eventsPerBlock.every((e, i) => e === steady.queriesPerBlock[i]! * 7)).toBe(true);
    const stats = (xs: number[]) => {
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      return { mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) };
    };
    for (const lambda of [3, 200]) {
      const p = stats(inferenceTrace({ queriesPerSecond: lambda / 2, durationSeconds: 40_000, blockTimeSeconds: 2, shape: 'poisson', seed: lambda }).queriesPerBlock);
      expect(Math.abs(p.mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / 20_000));
      expect(p.variance / lambda).toBeGreaterThan(0.9);
      expect(p.variance / lambda).toBeLessThan(1.1);
    }
    const bursty = stats(inferenceTrace({ queriesPerSecond: 50, durationSeconds: 200_000, blockTimeSeconds: 2, shape: 'bursty', seed: 9 }).queriesPerBlock);
    expect(bursty.mean / 100).toBeGreaterThan(0.9);
    expect(bursty.mean / 100).toBeLessThan(1.1);
    expect(bursty.variance / bursty.mean).toBeGreaterThan(10);
    const a = inferenceTrace({ queriesPerSecond: 10, durationSeconds: 100, blockTimeSeconds: 2, shape: 'bursty', seed: 'x' });
    expect(inferenceTrace({ queriesPerSecond: 10, durationSeconds: 100, blockTimeSeconds: 2, shape: 'bursty', seed: 'x' })).toEqual(a);
    expect(() => inferenceTrace({ queriesPerSecond: -1, durationSeconds: 10, blockTimeSeconds: 2 })).toThrow(/queriesPerSecond/);
    expect(() => inferenceTrace({ queriesPerSecond: 1, durationSeconds: 10, blockTimeSeconds: 2, shape: 'bursty', burstFactor: 20 })).toThrow(/burstFactor/);
  });
});

describe('strategy models and the profile table', () => {
  it('fits gas and bytes lines from real serialized transactions (160 ABI bytes per record)', () => {
    const modelRef = randomHashes(3, 1)[0]!;
    const samples = [2, 10, 50, 200].map((n) => {
      const hashes = randomHashes(n, n);
      const who = randomAddresses(n, n);
      const records = hashes.map((queryHash, i) => ({ queryHash, contributor: who[i]!, score: 0.01 * i, rewardWei: BigInt(1e12 + i), modelRef }));
      return { events: n, gasUsed: 20_211 + 4_770 * n, unsignedTransaction: unsignedTransaction({ to: '0x5FbDB2315678afecb367f032d93F642f64180aa3', data: recordAttributionsCalldata(records), gas: 5_000_000n }) };
    });
    const fit = fitStrategyModel('batched-events', samples);
    expect(fit.gasBase).toBeCloseTo(20_211, 6);
    expect(fit.gasPerEvent).toBeCloseTo(4_770, 6);
    expect(Math.abs(fit.bytesPerEvent - 160)).toBeLessThan(0.1);
    // A record's random query hash and contributor (52 bytes) do not compress; the repeated modelRef and the zero
    // padding of small numbers do.
    expect(fit.fastLzPerEvent).toBeGreaterThan(52);
    expect(fit.fastLzPerEvent).toBeLessThan(100);
  });

  it('documents every profile field with a default, a unit, a source and a meaning, and records changed values', () => {
    const fields = Object.keys(resolveOpStackProfile()).sort();
    expect(OP_STACK_PROFILE_FIELDS.map((f) => f.field).sort()).toEqual(fields);
    for (const f of OP_STACK_PROFILE_FIELDS) {
      expect(f.source.length).toBeGreaterThan(10);
      expect(f.meaning.length).toBeGreaterThan(10);
    }
    const rows = opStackProfileParameters(resolveOpStackProfile({ gasLimit: 150_000_000 }));
    const limit = rows.find((r) => r.name === 'opStack.gasLimit')!;
    expect([limit.value, limit.default]).toEqual([150_000_000, 30_000_000]);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});
