/**
 * Throughput planning: can a chain carry N attribution events per second, and how? Pure functions over *measured*
 * gas (run `npm run bench:chain`, which measures our registry on anvil and feeds these functions).
 *
 * Three strategies:
 * - `per-event`:       one transaction per event (`recordAttribution`; EAS `attest` is the same shape at 277,553 gas);
 * - `batched-events`:  many logs per transaction (`recordAttributions`), packed into as few transactions as the block gas
 *                      and the node's transaction-size limit allow;
 * - `per-block-root`:  one Merkle root per block (`publishAttributionBatch`) committing to every event of the block;
 *                      gas is constant in the event rate, so capacity is bounded only by building the tree off chain.
 *
 * Capacity is given twice: at the gas *limit* (what a block can hold: a burst) and at the EIP-1559 *target*
 * = limit / elasticity (what the chain sustains without the base fee rising every block; EIP-1559, and the OP Stack's
 * elasticity 6). A strategy "holds" a load when the load fits under the target.
 */
import { assertArgument } from '../core/index.js';

export type ThroughputStrategy = 'per-event' | 'batched-events' | 'per-block-root';

export interface ChainProfile {
  /** Block gas limit. */
  gasLimit: number;
  blockTimeSeconds: number;
  /** EIP-1559 elasticity multiplier: gas target = gasLimit / elasticity (Ethereum 2, OP Stack 6). */
  elasticity: number;
}

/** OP Stack defaults: 30M gas, 2 s blocks, elasticity 6. */
export const OP_STACK_30M: ChainProfile = { gasLimit: 30_000_000, blockTimeSeconds: 2, elasticity: 6 };
/** Base after its gas-limit increases (~105M), same block time and elasticity. */
export const OP_STACK_105M: ChainProfile = { gasLimit: 105_000_000, blockTimeSeconds: 2, elasticity: 6 };
/** Gas of one EAS `attest` (the per-event reference). */
export const EAS_ATTEST_GAS = 277_553;
/** Default maximum size of one transaction a node's pool accepts (geth's txMaxSize, 128 KiB). */
export const DEFAULT_MAX_TX_BYTES = 128 * 1024;
/** Default per-transaction gas cap (EIP-7825, 2^24, as on current OP Stack chains). */
export const DEFAULT_MAX_TX_GAS = 2 ** 24;

/** Gas and serialized bytes per operation, measured on our contract (see `benchmarks/chain.ts`). */
export interface MeasuredGas {
  /** Gas of a transaction carrying one event. */
  perEventTx: number;
  /** Signed transaction size of that transaction, bytes (L1 data). */
  perEventTxBytes: number;
  /** Fixed gas of a batched-events transaction (intercept of gas vs events). */
  batchedEventsBase: number;
  /** Marginal gas per event in a batched-events transaction (slope). */
  batchedEventsPerEvent: number;
  /** Fixed bytes of a batched-events transaction. */
  batchedEventsBaseBytes: number;
  /** Bytes per event in a batched-events transaction. */
  batchedEventsPerEventBytes: number;
  /** Gas of one `publishAttributionBatch` (one root per block). */
  rootPerBlock: number;
  /** Signed size of that transaction, bytes. */
  rootTxBytes: number;
}

export interface PlanThroughputParameters {
  chain: ChainProfile;
  /** The load to carry. */
  eventsPerSecond: number;
  gas: MeasuredGas;
  /** Largest transaction the node accepts, bytes. Default 128 KiB. */
  maxTxBytes?: number;
  /** Per-transaction gas cap. Default 2^24. */
  maxTxGas?: number;
  /** Leaves per second the publisher can hash into a tree (bounds `per-block-root`). Default: unbounded. */
  offChainLeavesPerSecond?: number;
}

export interface StrategyPlan {
  strategy: ThroughputStrategy;
  /** Events per second one block's gas *limit* can carry (burst). */
  capacityAtLimit: number;
  /** Events per second the gas *target* sustains. */
  capacityAtTarget: number;
  /** `sustained`: the load fits under the target; `burst-only`: only under the limit; `no`: not even there. */
  holds: 'sustained' | 'burst-only' | 'no';
  /** Gas per second this strategy spends at the requested load. */
  gasPerSecond: number;
  /** gasPerSecond / (gas target per second): above 1 the base fee climbs. */
  targetUtilisation: number;
  /** Transactions per second at the requested load. */
  transactionsPerSecond: number;
  /** Events each transaction carries. */
  eventsPerTransaction: number;
  /** Signed transaction bytes per second posted to L1 (uncompressed; OP Stack charges for their compressed size). */
  l1BytesPerSecond: number;
}

export interface ThroughputPlan {
  chain: ChainProfile;
  eventsPerSecond: number;
  gasLimitPerSecond: number;
  gasTargetPerSecond: number;
  strategies: StrategyPlan[];
  /** The strategy that holds the load sustainably at the least gas; null when none does. */
  recommended: ThroughputStrategy | null;
}

function validateChain(chain: ChainProfile): void {
  assertArgument(Number.isFinite(chain.gasLimit) && chain.gasLimit > 0, 'chain.gasLimit', 'must be positive', chain.gasLimit);
  assertArgument(Number.isFinite(chain.blockTimeSeconds) && chain.blockTimeSeconds > 0, 'chain.blockTimeSeconds', 'must be positive', chain.blockTimeSeconds);
  assertArgument(Number.isFinite(chain.elasticity) && chain.elasticity >= 1, 'chain.elasticity', 'must be ≥ 1', chain.elasticity);
}

/**
 * Events one block with `gasBudget` gas holds if every transaction carries one event: floor(gasBudget / gasPerTx).
 *
 * @throws ProvenantError `INVALID_ARGUMENT` when `gasPerTx` is not positive.
 * @example
 * ```ts
 * import { perEventEventsPerBlock } from 'provenant/chain';
 *
 * perEventEventsPerBlock(30_000_000, 28_387); // 1056 events per block
 * ```
 */
export function perEventEventsPerBlock(gasBudget: number, gasPerTx: number): number {
  assertArgument(gasPerTx > 0, 'gasPerTx', 'must be positive', gasPerTx);
  return Math.floor(gasBudget / gasPerTx);
}

/**
 * Events per transaction in the batched strategy: as many as both the transaction-size limit (bytes, default 128 KiB)
 * and the per-transaction gas cap (default 2^24) allow, from the measured intercept and slope of gas and bytes; at
 * least 1.
 *
 * @example
 * ```ts
 * import { batchedEventsPerTransaction, type MeasuredGas } from 'provenant/chain';
 *
 * const gas: MeasuredGas = {
 *   perEventTx: 28_387, perEventTxBytes: 330, batchedEventsBase: 20_211, batchedEventsPerEvent: 4_770,
 *   batchedEventsBaseBytes: 200, batchedEventsPerEventBytes: 160, rootPerBlock: 96_844, rootTxBytes: 250,
 * };
 * batchedEventsPerTransaction(gas); // 817 (the 128 KiB size limit binds before the 2^24 gas cap)
 * ```
 */
export function batchedEventsPerTransaction(gas: MeasuredGas, maxTxBytes: number = DEFAULT_MAX_TX_BYTES, maxTxGas: number = DEFAULT_MAX_TX_GAS): number {
  const byBytes = Math.floor((maxTxBytes - gas.batchedEventsBaseBytes) / gas.batchedEventsPerEventBytes);
  const byGas = Math.floor((maxTxGas - gas.batchedEventsBase) / gas.batchedEventsPerEvent);
  return Math.max(1, Math.min(byBytes, byGas));
}

/**
 * Events one block with `gasBudget` gas holds when packed into batched-events transactions of at most `eventsPerTx`
 * events, each costing `base + events · perEvent` gas: full transactions first, then one partial transaction in the
 * remaining gas.
 *
 * @example
 * ```ts
 * import { batchedEventsPerBlock } from 'provenant/chain';
 *
 * batchedEventsPerBlock(30_000_000, 20_211, 4_770, 817); // 6255 events in a 30M-gas block
 * ```
 */
export function batchedEventsPerBlock(gasBudget: number, base: number, perEvent: number, eventsPerTx: number): number {
  const fullTxGas = base + eventsPerTx * perEvent;
  const fullTxs = Math.floor(gasBudget / fullTxGas);
  const remaining = gasBudget - fullTxs * fullTxGas;
  const partial = remaining > base ? Math.min(eventsPerTx, Math.floor((remaining - base) / perEvent)) : 0;
  return fullTxs * eventsPerTx + partial;
}

/**
 * Which strategies carry `eventsPerSecond` on `chain`, at what gas per second and L1 bytes.
 *
 * @example
 * ```ts
 * import { OP_STACK_30M, planThroughput, type MeasuredGas } from 'provenant/chain';
 * declare const measured: MeasuredGas;
 * const plan = planThroughput({ chain: OP_STACK_30M, eventsPerSecond: 10_000, gas: measured });
 * plan.recommended; // 'per-block-root'
 * ```
 */
export function planThroughput(parameters: PlanThroughputParameters): ThroughputPlan {
  const { chain, gas, eventsPerSecond } = parameters;
  validateChain(chain);
  assertArgument(Number.isFinite(eventsPerSecond) && eventsPerSecond >= 0, 'eventsPerSecond', 'must be ≥ 0', eventsPerSecond);
  for (const [key, value] of Object.entries(gas)) assertArgument(Number.isFinite(value) && value > 0, `gas.${key}`, 'must be a positive number', value);
  const maxTxBytes = parameters.maxTxBytes ?? DEFAULT_MAX_TX_BYTES;
  const leafRate = parameters.offChainLeavesPerSecond ?? Number.POSITIVE_INFINITY;
  const target = chain.gasLimit / chain.elasticity;
  const t = chain.blockTimeSeconds;
  const gasTargetPerSecond = target / t;

  const classify = (atLimit: number, atTarget: number): StrategyPlan['holds'] =>
    eventsPerSecond <= atTarget ? 'sustained' : eventsPerSecond <= atLimit ? 'burst-only' : 'no';

  // per-event
  const perEvent: StrategyPlan = (() => {
    const atLimit = perEventEventsPerBlock(chain.gasLimit, gas.perEventTx) / t;
    const atTarget = perEventEventsPerBlock(target, gas.perEventTx) / t;
    const gasPerSecond = eventsPerSecond * gas.perEventTx;
    return {
      strategy: 'per-event',
      capacityAtLimit: atLimit,
      capacityAtTarget: atTarget,
      holds: classify(atLimit, atTarget),
      gasPerSecond,
      targetUtilisation: gasPerSecond / gasTargetPerSecond,
      transactionsPerSecond: eventsPerSecond,
      eventsPerTransaction: 1,
      l1BytesPerSecond: eventsPerSecond * gas.perEventTxBytes,
    };
  })();

  // batched events
  const batched: StrategyPlan = (() => {
    const k = batchedEventsPerTransaction(gas, maxTxBytes, parameters.maxTxGas ?? DEFAULT_MAX_TX_GAS);
    const atLimit = batchedEventsPerBlock(chain.gasLimit, gas.batchedEventsBase, gas.batchedEventsPerEvent, k) / t;
    const atTarget = batchedEventsPerBlock(target, gas.batchedEventsBase, gas.batchedEventsPerEvent, k) / t;
    // At the requested load, each block's events go into ceil(events / k) transactions.
    const eventsPerBlock = eventsPerSecond * t;
    const txPerBlock = eventsPerBlock > 0 ? Math.ceil(eventsPerBlock / k) : 0;
    const gasPerSecond = (txPerBlock * gas.batchedEventsBase + eventsPerBlock * gas.batchedEventsPerEvent) / t;
    return {
      strategy: 'batched-events',
      capacityAtLimit: atLimit,
      capacityAtTarget: atTarget,
      holds: classify(atLimit, atTarget),
      gasPerSecond,
      targetUtilisation: gasPerSecond / gasTargetPerSecond,
      transactionsPerSecond: txPerBlock / t,
      eventsPerTransaction: txPerBlock > 0 ? eventsPerBlock / txPerBlock : 0,
      l1BytesPerSecond: (txPerBlock * gas.batchedEventsBaseBytes + eventsPerBlock * gas.batchedEventsPerEventBytes) / t,
    };
  })();

  // one root per block: fits iff one root transaction fits the budget; then events are limited off chain only.
  const root: StrategyPlan = (() => {
    const atLimit = gas.rootPerBlock <= chain.gasLimit ? leafRate : 0;
    const atTarget = gas.rootPerBlock <= target ? leafRate : 0;
    const gasPerSecond = eventsPerSecond > 0 ? gas.rootPerBlock / t : 0;
    return {
      strategy: 'per-block-root',
      capacityAtLimit: atLimit,
      capacityAtTarget: atTarget,
      holds: classify(atLimit, atTarget),
      gasPerSecond,
      targetUtilisation: gasPerSecond / gasTargetPerSecond,
      transactionsPerSecond: eventsPerSecond > 0 ? 1 / t : 0,
      eventsPerTransaction: eventsPerSecond * t,
      l1BytesPerSecond: eventsPerSecond > 0 ? gas.rootTxBytes / t : 0,
    };
  })();

  const strategies = [perEvent, batched, root];
  const sustained = strategies.filter((s) => s.holds === 'sustained').sort((a, b) => a.gasPerSecond - b.gasPerSecond);
  return {
    chain: { ...chain },
    eventsPerSecond,
    gasLimitPerSecond: chain.gasLimit / t,
    gasTargetPerSecond,
    strategies,
    recommended: sustained[0]?.strategy ?? null,
  };
}

/**
 * Events per second a per-event design at `gasPerEvent` gas carries: floor(budget / gasPerEvent) / blockTimeSeconds,
 * where the budget is the block gas limit (`'limit'`, a burst) or the EIP-1559 target = limit / elasticity
 * (`'target'`, sustained). E.g. EAS `attest`: ≈ 54 events/s at 30M gas and 2 s blocks.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for a non-positive gas limit, block time or gas per event, or an elasticity
 *   below 1.
 * @example
 * ```ts
 * import { EAS_ATTEST_GAS, OP_STACK_30M, perEventCapacity } from 'provenant/chain';
 *
 * perEventCapacity(OP_STACK_30M, EAS_ATTEST_GAS);           // 54 events/s at the 30M limit
 * perEventCapacity(OP_STACK_30M, EAS_ATTEST_GAS, 'target'); // 9 events/s sustained (target 5M)
 * ```
 */
export function perEventCapacity(chain: ChainProfile, gasPerEvent: number, budget: 'limit' | 'target' = 'limit'): number {
  validateChain(chain);
  const gasBudget = budget === 'limit' ? chain.gasLimit : chain.gasLimit / chain.elasticity;
  return perEventEventsPerBlock(gasBudget, gasPerEvent) / chain.blockTimeSeconds;
}
