/**
 * What one transaction of an attribution strategy costs, as lines in the number of events it carries — fitted from
 * real transactions (gas from receipts, bytes from the unsigned serialization `getL1Fee` takes), so the load simulation
 * runs on measured figures, not guesses.
 */
import { assertArgument, hexToBytes, type Hex } from '../../core/index.js';
import { flzCompressLength } from './fastlz.js';
import { calldataGas } from './l1-fee.js';

/**
 * - `eas-per-event`: one EAS `attest` per event (the per-event reference, ≈ 277,553 gas);
 * - `per-event`: one `recordAttribution` per event on our registry;
 * - `batched-events`: `recordAttributions`, many events per transaction, sent at the end of each block window;
 * - `per-block-root`: one Merkle root per block over that block window's events (records kept off chain);
 * - `periodic-root`: off-chain records, one on-chain root every `rootIntervalSeconds`.
 */
export type AttributionStrategy = 'eas-per-event' | 'per-event' | 'batched-events' | 'per-block-root' | 'periodic-root';

export const ATTRIBUTION_STRATEGIES: readonly AttributionStrategy[] = ['eas-per-event', 'per-event', 'batched-events', 'per-block-root', 'periodic-root'];

/** Per-transaction cost lines: value(n events) = base + perEvent · n. */
export interface StrategyTransactionModel {
  strategy: AttributionStrategy;
  /** L2 gas used. */
  gasBase: number;
  gasPerEvent: number;
  /** FastLZ length of the unsigned transaction (Fjord's input, before the oracle's +68). */
  fastLzBase: number;
  fastLzPerEvent: number;
  /** Ecotone calldata gas (16 per non-zero byte, 4 per zero, the 68·16 padding included). */
  calldataGasBase: number;
  calldataGasPerEvent: number;
  /** Unsigned transaction size, bytes (bounded by the node's txMaxSize). */
  bytesBase: number;
  bytesPerEvent: number;
}

/** One observed transaction: events it carried, its receipt's gasUsed, its unsigned serialization. */
export interface StrategySample {
  events: number;
  gasUsed: number;
  unsignedTransaction: Hex | Uint8Array;
}

function line(xs: number[], ys: number[]): { base: number; perEvent: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  // One distinct event count (per-event, roots): a constant cost, no slope.
  if (sxx === 0) return { base: Math.max(...ys), perEvent: 0 };
  const perEvent = sxy / sxx;
  return { base: my - perEvent * mx, perEvent };
}

/**
 * Least-squares lines of gas, FastLZ size, calldata gas and bytes against events per transaction. Samples that all carry
 * the same number of events (one per transaction; a root) give a constant: the largest observed value.
 *
 * @throws ProvenantError INVALID_ARGUMENT when there are no samples or a sample is malformed.
 * @example
 * ```ts
 * import { fitStrategyModel, type StrategySample } from 'provenant/chain';
 * declare const samples: readonly StrategySample[]; // { events, gasUsed, unsignedTransaction } from real receipts
 * const model = fitStrategyModel('batched-events', samples); // gas = base + perEvent · events
 * ```
 */
export function fitStrategyModel(strategy: AttributionStrategy, samples: readonly StrategySample[]): StrategyTransactionModel {
  assertArgument(samples.length > 0, 'samples', 'needs at least one sample', samples.length);
  const events: number[] = [];
  const gas: number[] = [];
  const flz: number[] = [];
  const cdg: number[] = [];
  const bytes: number[] = [];
  samples.forEach((s, i) => {
    assertArgument(Number.isSafeInteger(s.events) && s.events >= 1, `samples[${i}].events`, 'must be an integer ≥ 1', s.events);
    assertArgument(Number.isFinite(s.gasUsed) && s.gasUsed > 0, `samples[${i}].gasUsed`, 'must be positive', s.gasUsed);
    const raw = typeof s.unsignedTransaction === 'string' ? hexToBytes(s.unsignedTransaction) : s.unsignedTransaction;
    events.push(s.events);
    gas.push(s.gasUsed);
    flz.push(flzCompressLength(raw));
    cdg.push(Number(calldataGas(raw)));
    bytes.push(raw.length);
  });
  const g = line(events, gas);
  const f = line(events, flz);
  const c = line(events, cdg);
  const b = line(events, bytes);
  return {
    strategy,
    gasBase: g.base,
    gasPerEvent: g.perEvent,
    fastLzBase: f.base,
    fastLzPerEvent: f.perEvent,
    calldataGasBase: c.base,
    calldataGasPerEvent: c.perEvent,
    bytesBase: b.base,
    bytesPerEvent: b.perEvent,
  };
}
