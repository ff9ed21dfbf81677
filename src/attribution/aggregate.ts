/**
 * Aggregation of per-row scores into per-contributor (or per-Datanet-version) figures. Raw influence scales are
 * arbitrary (they depend on the loss, the damping, the projection), so which reduction is used matters and is recorded:
 * - `sum`: Σ_{i∈group} τ(i, t) — the group's *net* influence; to first order, n× the change in the query's loss if the
 *   whole group were removed (influence is additive under the first-order approximation; Koh et al. 2019 on groups).
 *   Harmful rows cancel helpful ones. The default, and the one the reward split uses.
 * - `mean`: the sum divided by the group's row count — quality per row, independent of how much a contributor uploaded.
 * - `positive-sum`: Σ max(τ, 0) — only the help a group gave; never negative, so it cannot flag anyone.
 */
import { ProvenantError, dict, entriesOf } from '../core/index.js';

export type ScoreReduction = 'sum' | 'mean' | 'positive-sum';

export interface GroupAggregate {
  /** The reduced score per group key. */
  values: Record<string, number>;
  /** Rows per group key. */
  counts: Record<string, number>;
  reduction: ScoreReduction;
}

/**
 * Reduces one query's (or any) per-row scores by group. `groupOf[i]` is row i's group key (contributor id, version).
 *
 * @example
 * ```ts
 * import { aggregateScores } from 'provenant/attribution';
 * aggregateScores([0.5, -0.1, 0.2], ['alice', 'bob', 'alice'], 'sum').values // { alice: 0.7, bob: -0.1 }
 * ```
 */
export function aggregateScores(scores: ArrayLike<number>, groupOf: ArrayLike<string>, reduction: ScoreReduction = 'sum'): GroupAggregate {
  if (scores.length !== groupOf.length) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${scores.length} scores but ${groupOf.length} group keys.`);
  }
  if (reduction !== 'sum' && reduction !== 'mean' && reduction !== 'positive-sum') {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Unknown reduction "${String(reduction)}" (sum, mean, positive-sum).`);
  }
  // Null-prototype records: a group key is any string ("__proto__", "toString" included).
  const values = dict<number>();
  const counts = dict<number>();
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Score of row ${i} is ${s}.`);
    const key = groupOf[i]!;
    if (typeof key !== 'string') throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Group key of row ${i} is ${typeof key}, expected a string.`, { data: { row: i } });
    values[key] = (values[key] ?? 0) + (reduction === 'positive-sum' ? Math.max(s, 0) : s);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  if (reduction === 'mean') for (const key of Object.keys(values)) values[key]! /= counts[key]!;
  return { values, counts, reduction };
}

/**
 * {@link aggregateScores} keyed by each row's contributor: `sum` (default, net influence — first-order group influence
 * is additive; Koh et al. 2019), `mean` (per row) or `positive-sum` (help only). Contributor ids are data: the result is
 * a null-prototype record, so `"__proto__"` counts like any id.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when the lengths differ; `ATTRIBUTION_INPUT_INVALID` for a
 *   non-finite score, a non-string id or an unknown reduction.
 * @example
 * ```ts
 * import { aggregateByContributor } from 'provenant/attribution';
 *
 * const { values, counts } = aggregateByContributor([0.5, -0.1, 0.2], ['alice', 'bob', 'alice']);
 * // values: { alice: 0.7, bob: -0.1 }; counts: { alice: 2, bob: 1 }
 * ```
 */
export function aggregateByContributor(scores: ArrayLike<number>, contributors: ArrayLike<string>, reduction: ScoreReduction = 'sum'): GroupAggregate {
  return aggregateScores(scores, contributors, reduction);
}

/**
 * {@link aggregateScores} keyed by the Datanet version (snapshot) each row entered in; numeric versions become string
 * keys.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` when the lengths differ; `ATTRIBUTION_INPUT_INVALID` for a
 *   non-finite score or an unknown reduction.
 * @example
 * ```ts
 * import { aggregateByVersion } from 'provenant/attribution';
 *
 * aggregateByVersion([0.5, -0.1, 0.2], [1, 2, 2], 'mean').values; // { '1': 0.5, '2': 0.05 }
 * ```
 */
export function aggregateByVersion(scores: ArrayLike<number>, versions: ArrayLike<string | number>, reduction: ScoreReduction = 'sum'): GroupAggregate {
  return aggregateScores(scores, Array.from(versions as ArrayLike<string | number>, String), reduction);
}

/**
 * Shares for a reward split from aggregated values: positive values normalised to sum to 1; negative ones are kept as
 * negative numbers (so `splitRewardDetailed` flags them and pays them zero); zero stays zero. Throws
 * `REWARD_SPLIT_INVALID` when no group is positive.
 *
 * @example
 * ```ts
 * import { contributorShares } from 'provenant/attribution';
 * contributorShares({ a: 3, b: 1, c: -2 }) // { a: 0.75, b: 0.25, c: -2 / 4 }
 * ```
 */
export function contributorShares(values: Readonly<Record<string, number>> | ReadonlyMap<string, number>): Record<string, number> {
  const entries = entriesOf(values);
  let positive = 0;
  for (const [, v] of entries) if (v > 0) positive += v;
  if (!(positive > 0) || !Number.isFinite(positive)) {
    throw new ProvenantError('REWARD_SPLIT_INVALID', 'No contributor has positive influence on this query, so there are no shares.', {
      metaMessages: entries.slice(0, 10).map(([k, v]) => `${k}: ${v}`),
    });
  }
  const out = dict<number>();
  for (const [k, v] of entries) out[k] = v / positive;
  return out;
}
