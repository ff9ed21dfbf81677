/**
 * The inference rate at which an attribution strategy stops holding, found by simulation: the largest steady query rate
 * whose load the chain carries with a bounded backlog *and* within its gas target (above the target the base fee
 * compounds without end — +2 % a block at full blocks, doubling in about 70 s — so a load that only fits under the
 * limit is a burst, not a rate). Also the burst limit (backlog only), and what an attribution costs at the break.
 */
import { assertArgument } from '../../core/index.js';
import type { OpStackProfile } from './chain-profile.js';
import { inferenceTrace } from './inference-trace.js';
import { simulateAttributionLoad, type LoadSimulationResult } from './load-simulation.js';
import type { StrategyTransactionModel } from './strategy-model.js';

export interface FindBreakingLoadParameters {
  profile: OpStackProfile;
  model: StrategyTransactionModel;
  /** Attribution events per query. Default 10. */
  eventsPerQuery?: number;
  /** Length of each steady run, seconds. Default 600. */
  durationSeconds?: number;
  offChainLeavesPerSecond?: number;
  rootIntervalSeconds?: number;
  /** Give up above this query rate (the strategy holds at least this much). Default 10⁷ queries/s. */
  maxQueriesPerSecond?: number;
  /** Relative precision of the bisection. Default 0.005. */
  tolerance?: number;
}

export interface BreakingLoad {
  strategy: StrategyTransactionModel['strategy'];
  /** Highest steady query rate that holds (bounded backlog, within the gas target). */
  sustainedQueriesPerSecond: number;
  sustainedEventsPerSecond: number;
  /** Highest steady query rate with a bounded backlog, ignoring the target (what fits under the gas limit). */
  burstQueriesPerSecond: number;
  burstEventsPerSecond: number;
  /** True when the search stopped at `maxQueriesPerSecond` still holding. */
  beyondSearchRange: boolean;
  /** The simulation at the sustained limit: cost per event, latencies there. */
  atLimit: LoadSimulationResult;
}

/**
 * Bisects (in log space) the steady query rate at which `model` stops holding on `profile`.
 *
 * @example
 * ```ts
 * import { findBreakingLoad, resolveOpStackProfile, type StrategyTransactionModel } from 'provenant/chain';
 * declare const easModel: StrategyTransactionModel;
 * const b = findBreakingLoad({ profile: resolveOpStackProfile(), model: easModel });
 * b.sustainedEventsPerSecond; // ≈ 9 events/s for EAS attest at 30M gas (target 5M / 277,553 gas / 2 s)
 * ```
 */
export function findBreakingLoad(parameters: FindBreakingLoadParameters): BreakingLoad {
  const { profile, model } = parameters;
  const eventsPerQuery = parameters.eventsPerQuery ?? 10;
  const durationSeconds = parameters.durationSeconds ?? 600;
  const maxQps = parameters.maxQueriesPerSecond ?? 1e7;
  const tolerance = parameters.tolerance ?? 0.005;
  assertArgument(maxQps > 0, 'maxQueriesPerSecond', 'must be positive', maxQps);
  const run = (qps: number): LoadSimulationResult =>
    simulateAttributionLoad({
      profile,
      model,
      trace: inferenceTrace({ queriesPerSecond: qps, eventsPerQuery, durationSeconds, blockTimeSeconds: profile.blockTimeSeconds, shape: 'steady' }),
      offChainLeavesPerSecond: parameters.offChainLeavesPerSecond,
      rootIntervalSeconds: parameters.rootIntervalSeconds,
      seriesPoints: 50,
    });
  const search = (holds: (r: LoadSimulationResult) => boolean): { qps: number; beyond: boolean } => {
    let lo = 0;
    let hi = 1 / (eventsPerQuery * profile.blockTimeSeconds);
    while (hi <= maxQps && holds(run(hi))) {
      lo = hi;
      hi *= 2;
    }
    if (hi > maxQps) return { qps: lo, beyond: true };
    if (lo === 0) lo = hi / 1024;
    while ((hi - lo) / hi > tolerance) {
      const mid = Math.sqrt(lo * hi);
      if (holds(run(mid))) lo = mid;
      else hi = mid;
    }
    return { qps: lo, beyond: false };
  };
  const sustained = search((r) => r.holds);
  const burst = search((r) => r.reason !== 'backlog');
  return {
    strategy: model.strategy,
    sustainedQueriesPerSecond: sustained.qps,
    sustainedEventsPerSecond: sustained.qps * eventsPerQuery,
    burstQueriesPerSecond: burst.qps,
    burstEventsPerSecond: burst.qps * eventsPerQuery,
    beyondSearchRange: sustained.beyond,
    atLimit: run(sustained.qps),
  };
}
