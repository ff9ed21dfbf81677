/**
 * A seeded inference load, block by block: queries per block and the attribution events they emit (each query attributes
 * its top-k rows or contributors, `eventsPerQuery` events). Shapes:
 * - `steady`: exactly `queriesPerSecond`, fractional queries carried to the next block (deterministic);
 * - `poisson`: independent arrivals, queries per block ~ Poisson(qps · blockTime);
 * - `bursty`: a two-state Markov-modulated Poisson process (Fischer & Meier-Hellstern 1993): bursts at `burstFactor` ×
 *   the rate for a `burstFraction` of the time, lasting `meanBurstSeconds` on average, and a calmer rate between them so the
 *   long-run mean stays `queriesPerSecond`.
 */
import { assertArgument, createRng, type Rng, type Seed } from '../../core/index.js';

export type LoadShape = 'steady' | 'poisson' | 'bursty';

export interface InferenceTraceOptions {
  queriesPerSecond: number;
  /** Attribution events per query (top-k). Default 10. */
  eventsPerQuery?: number;
  durationSeconds: number;
  blockTimeSeconds: number;
  /** Default 'steady'. */
  shape?: LoadShape;
  /** Bursty: rate multiplier during a burst. Default 5. */
  burstFactor?: number;
  /** Bursty: share of time in bursts; burstFactor · burstFraction must be < 1. Default 0.1. */
  burstFraction?: number;
  /** Bursty: mean burst length, seconds. Default 30. */
  meanBurstSeconds?: number;
  /** Default 0. */
  seed?: Seed;
}

export interface InferenceTrace {
  shape: LoadShape;
  queriesPerSecond: number;
  eventsPerQuery: number;
  blockTimeSeconds: number;
  /** Queries arriving during block window i (between block i − 1 and block i). */
  queriesPerBlock: number[];
  /** Attribution events arriving during block window i. */
  eventsPerBlock: number[];
}

/** Poisson(λ): Knuth's product method for small λ; for λ > 30 the normal approximation N(λ, λ) rounded (error O(λ^-1/2)). */
function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.nextNormal()));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng.nextDouble();
  while (p > limit) {
    k++;
    p *= rng.nextDouble();
  }
  return k;
}

/**
 * Builds the per-block load of an inference service.
 *
 * @throws ProvenantError INVALID_ARGUMENT for a negative rate, a non-integer eventsPerQuery, or bursts that leave no
 *   room for a calmer rate (burstFactor · burstFraction ≥ 1).
 * @example
 * ```ts
 * import { inferenceTrace } from 'provenant/chain';
 * const trace = inferenceTrace({ queriesPerSecond: 1000, eventsPerQuery: 10, durationSeconds: 600, blockTimeSeconds: 2, shape: 'poisson', seed: 1 });
 * trace.eventsPerBlock.length; // 300
 * ```
 */
export function inferenceTrace(options: InferenceTraceOptions): InferenceTrace {
  const { queriesPerSecond: qps, durationSeconds, blockTimeSeconds: t } = options;
  const shape = options.shape ?? 'steady';
  const eventsPerQuery = options.eventsPerQuery ?? 10;
  assertArgument(Number.isFinite(qps) && qps >= 0, 'queriesPerSecond', 'must be a finite number ≥ 0', qps);
  assertArgument(Number.isSafeInteger(eventsPerQuery) && eventsPerQuery >= 1, 'eventsPerQuery', 'must be an integer ≥ 1', eventsPerQuery);
  assertArgument(Number.isFinite(t) && t > 0, 'blockTimeSeconds', 'must be positive', t);
  assertArgument(Number.isFinite(durationSeconds) && durationSeconds >= t, 'durationSeconds', 'must be at least one block', durationSeconds);
  assertArgument(['steady', 'poisson', 'bursty'].includes(shape), 'shape', "must be 'steady', 'poisson' or 'bursty'", shape);
  const blocks = Math.floor(durationSeconds / t);
  const rng = createRng(options.seed ?? 0);
  const queries: number[] = [];
  if (shape === 'steady') {
    let carry = 0;
    for (let i = 0; i < blocks; i++) {
      carry += qps * t;
      const q = Math.floor(carry + 1e-9);
      queries.push(q);
      carry -= q;
    }
  } else if (shape === 'poisson') {
    for (let i = 0; i < blocks; i++) queries.push(poisson(rng, qps * t));
  } else {
    const factor = options.burstFactor ?? 5;
    const fraction = options.burstFraction ?? 0.1;
    const meanBurst = options.meanBurstSeconds ?? 30;
    assertArgument(factor >= 1 && fraction > 0 && fraction < 1 && factor * fraction < 1, 'burstFactor', 'needs burstFactor ≥ 1, 0 < burstFraction < 1 and burstFactor · burstFraction < 1', { factor, fraction });
    assertArgument(meanBurst >= t, 'meanBurstSeconds', 'must be at least one block', meanBurst);
    const calmRate = (qps * (1 - factor * fraction)) / (1 - fraction);
    const leaveBurst = t / meanBurst;
    const enterBurst = (leaveBurst * fraction) / (1 - fraction); // stationary share of bursts = fraction
    let inBurst = rng.nextDouble() < fraction;
    for (let i = 0; i < blocks; i++) {
      queries.push(poisson(rng, (inBurst ? qps * factor : calmRate) * t));
      inBurst = inBurst ? rng.nextDouble() >= leaveBurst : rng.nextDouble() < enterBurst;
    }
  }
  return { shape, queriesPerSecond: qps, eventsPerQuery, blockTimeSeconds: t, queriesPerBlock: queries, eventsPerBlock: queries.map((q) => q * eventsPerQuery) };
}
