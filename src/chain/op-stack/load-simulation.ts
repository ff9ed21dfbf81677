/**
 * Block-by-block simulation of one attribution strategy on an OP Stack chain under an inference trace: which block each
 * event lands in (gas limit, per-transaction gas cap and size limit respected, first come first served), what the base
 * fee does in response (EIP-1559, OP Stack parameters), what each event pays (L2 gas × (base fee + tip) + L1 data fee),
 * and when it becomes unsafe, safe and finalized.
 *
 * Timing convention: block k is produced at (k + 1)·T and holds the transactions sent during window k = (k·T, (k+1)·T].
 * Events arrive uniformly within their window. Per-event transactions are sent on arrival; batched events at the end of
 * their window; a per-block root once the window's tree is built (off-chain hashing at `offChainLeavesPerSecond`, one
 * tree at a time); a periodic root at the end of each `rootIntervalSeconds`. So a per-block root adds one block time of
 * latency over a per-event transaction (T/2 on average to inclusion vs 1.5·T).
 *
 * Latencies are distributions, not means: each group of events of one window included in one block spans a uniform
 * interval of latencies, and p50/p99 are quantiles of that mixture.
 */
import { assertArgument } from '../../core/index.js';
import { gasTarget, type OpStackProfile } from './chain-profile.js';
import { nextBaseFee } from './eip1559.js';
import { blockFinality } from './finality.js';
import type { InferenceTrace } from './inference-trace.js';
import { ecotoneL1Cost, fjordL1Cost, UNSIGNED_TX_PADDING, type L1FeeParameters } from './l1-fee.js';
import type { AttributionStrategy, StrategyTransactionModel } from './strategy-model.js';

export interface SimulateAttributionLoadParameters {
  profile: OpStackProfile;
  trace: InferenceTrace;
  model: StrategyTransactionModel;
  /** Leaves per second the publisher hashes into trees (roots only). Default: unbounded. */
  offChainLeavesPerSecond?: number;
  /** `periodic-root`: seconds between roots, a multiple of the block time. Default 60. */
  rootIntervalSeconds?: number;
  /** Points kept of the base-fee series. Default 200. */
  seriesPoints?: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  mean: number;
}

export interface LoadSimulationResult {
  strategy: AttributionStrategy;
  shape: InferenceTrace['shape'];
  queriesPerSecond: number;
  eventsPerSecond: number;
  blocks: number;
  eventsArrived: number;
  eventsIncluded: number;
  transactions: number;
  /** Events arrived but not yet in a block, at the end and at worst. */
  backlogEnd: number;
  backlogMax: number;
  /** Seconds from an event's arrival to its block (unsafe), to safe, to finalized. */
  inclusionLatency: LatencySummary;
  safeLatency: LatencySummary;
  finalizedLatency: LatencySummary;
  l2GasPerEvent: number;
  l2FeePerEventWei: number;
  l1FeePerEventWei: number;
  costPerEventWei: number;
  costPerMillionEventsWei: number;
  /**
   * Exact figures for records (a JS number is inexact above 2⁵³ wei ≈ 0.009 ETH): the total fee paid, and the cost per
   * million events rounded to the nearest wei, as decimal strings (null when no event was included).
   */
  totalFeeWei: string;
  costPerMillionEventsWeiExact: string | null;
  /** Our gas per block / the gas target, averaged. */
  targetUtilisation: number;
  /** Mean gas per block (ours + background) over the gas target: above 1 the base fee climbs without end. */
  totalTargetUtilisation: number;
  baseFee: { startWei: number; endWei: number; maxWei: number; series: { timeSeconds: number; /** decimal string, exact */ baseFeeWei: string; gasUsed: number }[] };
  /** Holds: the backlog stays bounded and the chain's gas stays within its target. */
  holds: boolean;
  reason: 'ok' | 'backlog' | 'above-target';
}

interface Segment {
  lo: number;
  hi: number;
  weight: number;
}

/** Quantile of a mixture of uniform distributions on [lo, hi] with weights (bisection on the CDF). */
function mixtureQuantile(segments: readonly Segment[], q: number): number {
  if (segments.length === 0) return Number.NaN;
  const total = segments.reduce((s, g) => s + g.weight, 0);
  // A loop, not Math.min(...): a long run has more segments than a spread may pass as arguments.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const g of segments) {
    if (g.lo < lo) lo = g.lo;
    if (g.hi > hi) hi = g.hi;
  }
  for (let it = 0; it < 60; it++) {
    const x = (lo + hi) / 2;
    let mass = 0;
    for (const g of segments) mass += g.weight * (g.hi <= g.lo ? (x >= g.lo ? 1 : 0) : Math.min(1, Math.max(0, (x - g.lo) / (g.hi - g.lo))));
    if (mass / total < q) lo = x;
    else hi = x;
  }
  return (lo + hi) / 2;
}

function summarise(segments: readonly Segment[]): LatencySummary {
  const total = segments.reduce((s, g) => s + g.weight, 0);
  const mean = total > 0 ? segments.reduce((s, g) => s + (g.weight * (g.lo + g.hi)) / 2, 0) / total : Number.NaN;
  return { p50: mixtureQuantile(segments, 0.5), p99: mixtureQuantile(segments, 0.99), mean };
}

/**
 * Events one transaction of this strategy may carry: 1 for `eas-per-event` and `per-event`; for the others
 * min(floor((maxTxGas − gasBase) / gasPerEvent), floor((maxTxBytes − bytesBase) / bytesPerEvent)) — Infinity when
 * neither grows with events (a root).
 *
 * @example
 * ```ts
 * import { fitStrategyModel, maxEventsPerTransaction, resolveOpStackProfile, type StrategySample } from 'provenant/chain';
 *
 * declare const samples: StrategySample[]; // receipts of recordAttributions with 1, 10, 100 events
 * const model = fitStrategyModel('batched-events', samples);
 * maxEventsPerTransaction(model, resolveOpStackProfile()); // e.g. 3500 (the 2^24 gas cap or the size limit binds)
 * ```
 */
export function maxEventsPerTransaction(model: StrategyTransactionModel, profile: Pick<OpStackProfile, 'maxTxGas' | 'maxTxBytes'>): number {
  if (model.strategy === 'eas-per-event' || model.strategy === 'per-event') return 1;
  const byGas = model.gasPerEvent > 0 ? Math.floor((profile.maxTxGas - model.gasBase) / model.gasPerEvent) : Number.POSITIVE_INFINITY;
  const byBytes = model.bytesPerEvent > 0 ? Math.floor((profile.maxTxBytes - model.bytesBase) / model.bytesPerEvent) : Number.POSITIVE_INFINITY;
  return Math.min(byGas, byBytes);
}

const l1Parameters = (p: OpStackProfile): L1FeeParameters => ({
  l1BaseFee: BigInt(p.l1BaseFeeWei),
  blobBaseFee: BigInt(p.blobBaseFeeWei),
  baseFeeScalar: p.baseFeeScalar,
  blobBaseFeeScalar: p.blobBaseFeeScalar,
  fork: p.l1FeeFork,
});

/**
 * L1 data fee in wei of one transaction of `model` carrying `events` events under `profile`'s L1 prices and fork:
 * Fjord from the fitted FastLZ size (+68), Ecotone from the fitted calldata gas, both through the `GasPriceOracle`
 * formulas ({@link estimateL1Fee}'s arithmetic on the model's sizes instead of real bytes).
 *
 * @example
 * ```ts
 * import { fitStrategyModel, resolveOpStackProfile, strategyL1Fee, type StrategySample } from 'provenant/chain';
 *
 * declare const samples: StrategySample[];
 * const model = fitStrategyModel('batched-events', samples);
 * const feeWei = strategyL1Fee(model, 100, resolveOpStackProfile()); // bigint wei for a 100-event transaction
 * ```
 */
export function strategyL1Fee(model: StrategyTransactionModel, events: number, profile: OpStackProfile): bigint {
  const parameters = l1Parameters(profile);
  if (profile.l1FeeFork === 'fjord') return fjordL1Cost(Math.round(model.fastLzBase + model.fastLzPerEvent * events) + Number(UNSIGNED_TX_PADDING), parameters);
  return ecotoneL1Cost(Math.round(model.calldataGasBase + model.calldataGasPerEvent * events), parameters);
}

interface Cohort {
  window: number;
  remaining: number;
  readyBlock: number;
}

interface Root {
  readyBlock: number;
  parts: { window: number; count: number }[];
  events: number;
}

/**
 * Simulates `model` carrying `trace` on `profile`, block by block.
 *
 * @throws ProvenantError INVALID_ARGUMENT when one transaction of the strategy cannot fit the per-transaction gas cap or
 *   the block, or the root interval is not a multiple of the block time.
 * @example
 * ```ts
 * import { inferenceTrace, resolveOpStackProfile, simulateAttributionLoad, type StrategyTransactionModel } from 'provenant/chain';
 * declare const model: StrategyTransactionModel;
 * const trace = inferenceTrace({ queriesPerSecond: 1000, eventsPerQuery: 10, durationSeconds: 600, blockTimeSeconds: 2 });
 * const result = simulateAttributionLoad({ profile: resolveOpStackProfile(), trace, model });
 * result.costPerEventWei; result.inclusionLatency.p99; result.holds;
 * ```
 */
export function simulateAttributionLoad(parameters: SimulateAttributionLoadParameters): LoadSimulationResult {
  const { profile, trace, model } = parameters;
  const t = profile.blockTimeSeconds;
  assertArgument(Math.abs(trace.blockTimeSeconds - t) < 1e-9, 'trace.blockTimeSeconds', `must equal the profile's block time (${t} s)`, trace.blockTimeSeconds);
  const leafRate = parameters.offChainLeavesPerSecond ?? Number.POSITIVE_INFINITY;
  assertArgument(leafRate > 0, 'offChainLeavesPerSecond', 'must be positive', leafRate);
  const intervalBlocks = Math.round((parameters.rootIntervalSeconds ?? 60) / t);
  assertArgument(intervalBlocks >= 1 && Math.abs(intervalBlocks * t - (parameters.rootIntervalSeconds ?? 60)) < 1e-9, 'rootIntervalSeconds', 'must be a positive multiple of the block time', parameters.rootIntervalSeconds);
  const available = profile.gasLimit - profile.backgroundGasPerBlock;
  const target = gasTarget(profile);
  const smallestTx = model.gasBase + model.gasPerEvent;
  assertArgument(smallestTx <= profile.maxTxGas, 'model.gasBase', `one transaction (${Math.ceil(smallestTx)} gas) exceeds the per-transaction gas cap ${profile.maxTxGas}`, smallestTx);
  assertArgument(smallestTx <= available, 'model.gasBase', `one transaction (${Math.ceil(smallestTx)} gas) does not fit the block gas left to us (${available})`, smallestTx);
  const perTxMax = maxEventsPerTransaction(model, profile);
  assertArgument(perTxMax >= 1, 'model', 'not even one event fits one transaction under maxTxGas / maxTxBytes', perTxMax);
  const isRoot = model.strategy === 'per-block-root' || model.strategy === 'periodic-root';
  const sentOnArrival = model.strategy === 'eas-per-event' || model.strategy === 'per-event';

  const blocks = trace.eventsPerBlock.length;
  const priority = BigInt(profile.priorityFeeWei);
  const floor = BigInt(profile.minBaseFeeWei);
  let baseFee = BigInt(profile.initialBaseFeeWei) < floor ? floor : BigInt(profile.initialBaseFeeWei);
  const startBaseFee = baseFee;
  let maxBaseFee = baseFee;
  const l1FeeCache = new Map<number, bigint>();
  const l1Fee = (n: number): bigint => {
    let fee = l1FeeCache.get(n);
    if (fee === undefined) l1FeeCache.set(n, (fee = strategyL1Fee(model, n, profile)));
    return fee;
  };
  const txGas = (n: number): number => Math.ceil(model.gasBase + model.gasPerEvent * n);

  // FIFO of waiting events by window; `head` is the oldest with events left, `queued` their total. Readiness is
  // non-decreasing along the queue, so the ready cohorts are a prefix (kept O(1) per block under any backlog).
  const cohorts: Cohort[] = [];
  let head = 0;
  let queued = 0;
  const roots: Root[] = [];
  let builderFree = 0;
  let periodParts: { window: number; count: number }[] = [];
  const inclusion: Segment[] = [];
  const safe: Segment[] = [];
  const finalized: Segment[] = [];
  let arrived = 0;
  let included = 0;
  let transactions = 0;
  let l2Gas = 0;
  let l2Fee = 0n;
  let l1FeeTotal = 0n;
  let ourGasTotal = 0;
  let gasTotal = 0;
  let backlogMax = 0;
  let backlogEarlier = 0;
  // The backlog is compared at the same phase of the root period, three quarters of a run apart (a periodic root's
  // backlog saws).
  const period = model.strategy === 'periodic-root' ? intervalBlocks : 1;
  const earlierIndex = blocks - 1 - period * Math.floor((3 * blocks) / 4 / period);
  const series: LoadSimulationResult['baseFee']['series'] = [];
  const every = Math.max(1, Math.ceil(blocks / (parameters.seriesPoints ?? 200)));

  const record = (window: number, count: number, block: number): void => {
    const producedAt = (block + 1) * t;
    const f = blockFinality(producedAt, profile);
    const start = window * t;
    const end = (window + 1) * t;
    inclusion.push({ lo: producedAt - end, hi: producedAt - start, weight: count });
    safe.push({ lo: f.safe - end, hi: f.safe - start, weight: count });
    finalized.push({ lo: f.finalized - end, hi: f.finalized - start, weight: count });
    included += count;
  };
  const releaseRoot = (parts: { window: number; count: number }[], closesAt: number): void => {
    const events = parts.reduce((s, p) => s + p.count, 0);
    if (events === 0) return;
    const done = Math.max(closesAt, builderFree) + events / leafRate;
    builderFree = done;
    roots.push({ readyBlock: Math.floor(done / t + 1e-9), parts, events });
  };

  for (let k = 0; k < blocks; k++) {
    const count = trace.eventsPerBlock[k]!;
    arrived += count;
    if (isRoot) {
      periodParts.push({ window: k, count });
      const closes = model.strategy === 'per-block-root' || (k + 1) % intervalBlocks === 0;
      if (closes) {
        releaseRoot(periodParts, (k + 1) * t);
        periodParts = [];
      }
    } else if (count > 0) {
      cohorts.push({ window: k, remaining: count, readyBlock: sentOnArrival ? k : k + 1 });
      queued += count;
    }

    let room = available;
    let ourGas = 0;
    const charge = (events: number): void => {
      const gas = txGas(events);
      room -= gas;
      ourGas += gas;
      l2Gas += gas;
      l2Fee += BigInt(gas) * (baseFee + priority);
      l1FeeTotal += l1Fee(events);
      transactions++;
    };
    if (isRoot) {
      while (roots.length > 0 && roots[0]!.readyBlock <= k && txGas(roots[0]!.events) <= room) {
        const root = roots.shift()!;
        charge(root.events);
        for (const part of root.parts) if (part.count > 0) record(part.window, part.count, k);
      }
    } else {
      // First come, first served: transactions of up to perTxMax events while gas remains.
      const take = (n: number): void => {
        let left = n;
        for (let i = head; left > 0; i++) {
          const c = cohorts[i]!;
          const part = Math.min(c.remaining, left);
          c.remaining -= part;
          left -= part;
          if (part > 0) record(c.window, part, k);
        }
        queued -= n;
        while (head < cohorts.length && cohorts[head]!.remaining === 0) head++;
      };
      for (;;) {
        // Only the newest cohort can be not yet ready (batched events wait for their window to close).
        const last = cohorts[cohorts.length - 1];
        const ready = queued - (last && last.readyBlock > k ? last.remaining : 0);
        if (ready <= 0) break;
        let m = Math.min(ready, perTxMax);
        if (txGas(m) > room) m = model.gasPerEvent > 0 ? Math.min(m, Math.floor((room - model.gasBase) / model.gasPerEvent)) : 0;
        if (m < 1 || txGas(m) > room) break;
        if (sentOnArrival) {
          // m = 1 per transaction: charge in bulk for speed (identical transactions).
          const n = Math.min(ready, Math.floor(room / txGas(1)));
          take(n);
          const gas = txGas(1) * n;
          room -= gas;
          ourGas += gas;
          l2Gas += gas;
          l2Fee += BigInt(gas) * (baseFee + priority);
          l1FeeTotal += l1Fee(1) * BigInt(n);
          transactions += n;
        } else {
          take(m);
          charge(m);
        }
      }
    }
    const used = ourGas + profile.backgroundGasPerBlock;
    ourGasTotal += ourGas;
    gasTotal += used;
    if (k % every === 0 || k === blocks - 1) series.push({ timeSeconds: (k + 1) * t, baseFeeWei: baseFee.toString(), gasUsed: used });
    baseFee = nextBaseFee(baseFee, used, { ...profile, minBaseFeeWei: floor });
    if (baseFee > maxBaseFee) maxBaseFee = baseFee;
    backlogMax = Math.max(backlogMax, arrived - included);
    if (k === earlierIndex) backlogEarlier = arrived - included;
  }

  // Bounded backlog: what is still waiting at the end is no more than the release lag's worth of arrivals (+2 blocks),
  // and it did not grow over the last three quarters of the run (same phase of the root period) by more than the
  // largest window's arrivals — so a load 1 % above capacity fails a 300-block run.
  const meanBuild = blocks > 0 ? arrived / blocks / leafRate : 0;
  const lag = sentOnArrival ? 0 : model.strategy === 'batched-events' ? 1 : model.strategy === 'per-block-root' ? 1 + Math.ceil(meanBuild / t) : intervalBlocks + Math.ceil(meanBuild / t);
  const recent = trace.eventsPerBlock.slice(Math.max(0, blocks - lag - 2)).reduce((s, x) => s + x, 0);
  const backlogEnd = arrived - included;
  const totalTargetUtilisation = blocks > 0 ? gasTotal / blocks / target : 0;
  const grew = backlogEnd - backlogEarlier > trace.eventsPerBlock.reduce((m, x) => Math.max(m, x), 0);
  const reason: LoadSimulationResult['reason'] = backlogEnd > recent || grew ? 'backlog' : totalTargetUtilisation > 1 ? 'above-target' : 'ok';
  const totalFee = l2Fee + l1FeeTotal;
  const per = (x: bigint | number): number => (included > 0 ? Number(x) / included : Number.NaN);
  return {
    strategy: model.strategy,
    shape: trace.shape,
    queriesPerSecond: trace.queriesPerSecond,
    eventsPerSecond: trace.queriesPerSecond * trace.eventsPerQuery,
    blocks,
    eventsArrived: arrived,
    eventsIncluded: included,
    transactions,
    backlogEnd,
    backlogMax,
    inclusionLatency: summarise(inclusion),
    safeLatency: summarise(safe),
    finalizedLatency: summarise(finalized),
    l2GasPerEvent: per(l2Gas),
    l2FeePerEventWei: per(l2Fee),
    l1FeePerEventWei: per(l1FeeTotal),
    costPerEventWei: per(totalFee),
    costPerMillionEventsWei: per(totalFee) * 1e6,
    totalFeeWei: totalFee.toString(),
    // Nearest wei, half up: ⌊(2·fee·10⁶ + n) / 2n⌋.
    costPerMillionEventsWeiExact: included > 0 ? ((2n * totalFee * 1_000_000n + BigInt(included)) / (2n * BigInt(included))).toString() : null,
    targetUtilisation: blocks > 0 ? ourGasTotal / blocks / target : 0,
    totalTargetUtilisation,
    baseFee: { startWei: Number(startBaseFee), endWei: Number(baseFee), maxWei: Number(maxBaseFee), series },
    holds: reason === 'ok',
    reason,
  };
}
