/**
 * Seeded train/validation/test splits over row indices, optionally stratified by label and optionally keeping every
 * group (contributor) whole. The result is a pure function of (n, strata, groups, seed, fractions): a snapshot's rows
 * are in content-hash order, so an auditor holding the snapshot root and the seed can rebuild the exact split.
 */
import { ProvenantError, apportion, createRng, permutation, shuffle, type Rng, type Seed } from '../core/index.js';

/** Fractions of rows per split. `validation` and `test` default to 0; the three must sum to 1. */
export interface SplitFractions {
  readonly train: number;
  readonly validation?: number;
  readonly test?: number;
}

export interface SplitIndicesOptions {
  /** Number of items to split (indices 0..n-1). */
  readonly n: number;
  readonly seed: Seed;
  readonly fractions: SplitFractions;
  /** Per-index stratum key (e.g. the label): each split gets each stratum in proportion. */
  readonly strata?: readonly string[];
  /** Per-index group key (e.g. the contributor): a group's indices all land in one split. */
  readonly groups?: readonly string[];
}

/** Indices per split, each ascending; disjoint, and together exactly 0..n-1. */
export interface SplitIndices {
  readonly train: number[];
  readonly validation: number[];
  readonly test: number[];
}

const SPLITS = ['train', 'validation', 'test'] as const;

/** Checks fractions; throws `DATANET_SPLIT_INVALID`. Returns [train, validation, test]. */
export function resolveFractions(fractions: SplitFractions): [number, number, number] {
  const f: [number, number, number] = [fractions?.train, fractions?.validation ?? 0, fractions?.test ?? 0] as [number, number, number];
  const sum = f[0] + f[1] + f[2];
  if (!f.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) || Math.abs(sum - 1) > 1e-9) {
    throw new ProvenantError('DATANET_SPLIT_INVALID', 'Split fractions must be finite, non-negative and sum to 1.', {
      metaMessages: [`fractions: ${JSON.stringify(fractions)} (sum ${sum})`],
    });
  }
  return f;
}

/**
 * Splits 0..n-1 into train/validation/test.
 *
 * - Plain: a seeded permutation cut at largest-remainder sizes (sizes are exact: round(f·n) summing to n).
 * - Stratified: each stratum is permuted and cut so that per-stratum counts are within one of f·n_stratum and the
 *   split totals equal the plain sizes (a controlled rounding of the strata × splits table).
 * - Grouped: whole groups are assigned greedily, largest first (ties in a seeded order), each to the split whose
 *   squared deviation from its target counts — per stratum when stratified — grows least; in the spirit of
 *   scikit-learn's StratifiedGroupKFold. Sizes are then only as exact as the group sizes allow.
 *
 * @example
 * ```ts
 * import { splitIndices } from 'provenant/datanet';
 * splitIndices({ n: 10, seed: 1, fractions: { train: 0.8, test: 0.2 } }); // { train: [8 indices], validation: [], test: [2 indices] }
 * ```
 */
export function splitIndices(options: SplitIndicesOptions): SplitIndices {
  const { n, seed, strata, groups } = options;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ProvenantError('DATANET_SPLIT_INVALID', `The number of items to split must be a non-negative integer, got ${n}.`);
  }
  const fractions = resolveFractions(options.fractions);
  for (const [name, keys] of [['strata', strata], ['groups', groups]] as const) {
    if (keys !== undefined && keys.length !== n) {
      throw new ProvenantError('DATANET_SPLIT_INVALID', `\`${name}\` has ${keys.length} keys for ${n} items.`);
    }
  }
  const rng = createRng(seed);
  const assignment = new Uint8Array(n);
  if (groups) assignGroups(assignment, fractions, groups, strata, rng);
  else if (strata) assignStrata(assignment, fractions, strata, rng);
  else {
    const sizes = apportion(n, fractions);
    const order = permutation(n, rng);
    let offset = 0;
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < sizes[s]!; k++) assignment[order[offset + k]!] = s;
      offset += sizes[s]!;
    }
  }
  const out: SplitIndices = { train: [], validation: [], test: [] };
  for (let i = 0; i < n; i++) out[SPLITS[assignment[i]!]].push(i);
  return out;
}

function bucketsOf(keys: readonly string[]): Map<string, number[]> {
  const buckets = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const bucket = buckets.get(key);
    if (bucket) bucket.push(i);
    else buckets.set(key, [i]);
  });
  // Sorted keys make the result independent of the order in which strata first appear.
  return new Map([...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function assignStrata(assignment: Uint8Array, fractions: readonly number[], strata: readonly string[], rng: Rng): void {
  const buckets = [...bucketsOf(strata).values()];
  const totals = apportion(strata.length, fractions);
  // Controlled rounding (Cox & Ernst, 1982): floor every cell, then raise exactly rowLeft[l] fractional cells of each
  // stratum by one so that every split total is met. That is a bipartite flow problem (strata → splits, unit edges
  // on fractional cells), solved with augmenting paths; the graph has at most 3·L edges.
  const cells = buckets.map((b) => fractions.map((f) => Math.floor(f * b.length)));
  const rowLeft = buckets.map((b, l) => b.length - cells[l]!.reduce((a, c) => a + c, 0));
  const colLeft = totals.map((t, s) => t - cells.reduce((a, row) => a + row[s]!, 0));
  const fractional = buckets.map((b) => fractions.map((f) => f * b.length - Math.floor(f * b.length) > 1e-12));
  const raised = buckets.map(() => [false, false, false]);
  const augment = (l: number, seen: boolean[][]): boolean => {
    // Try to give stratum l one more unit in some split s, re-routing other strata along an alternating path.
    for (let s = 0; s < 3; s++) {
      if (!fractional[l]![s] || raised[l]![s] || seen[l]![s]) continue;
      seen[l]![s] = true;
      if (colLeft[s]! > 0) {
        colLeft[s]! -= 1;
        raised[l]![s] = true;
        return true;
      }
      for (let m = 0; m < buckets.length; m++) {
        if (m !== l && raised[m]![s]) {
          raised[m]![s] = false;
          if (augment(m, seen)) {
            raised[l]![s] = true;
            return true;
          }
          raised[m]![s] = true;
        }
      }
    }
    return false;
  };
  for (let l = 0; l < buckets.length; l++) {
    while (rowLeft[l]! > 0 && augment(l, buckets.map(() => [false, false, false]))) rowLeft[l]! -= 1;
  }
  raised.forEach((row, l) => row.forEach((up, s) => (cells[l]![s]! += up ? 1 : 0)));
  // Should the flow ever fall short, settle the remainder anywhere a split still has room (sizes stay exact).
  for (let l = 0; l < buckets.length; l++) {
    for (let s = 0; s < 3 && rowLeft[l]! > 0; s++) {
      while (rowLeft[l]! > 0 && colLeft[s]! > 0) {
        cells[l]![s]! += 1;
        rowLeft[l]! -= 1;
        colLeft[s]! -= 1;
      }
    }
  }
  buckets.forEach((bucket, l) => {
    const order = shuffle(bucket, rng);
    let offset = 0;
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < cells[l]![s]!; k++) assignment[order[offset + k]!] = s;
      offset += cells[l]![s]!;
    }
  });
}

function assignGroups(
  assignment: Uint8Array,
  fractions: readonly number[],
  groups: readonly string[],
  strata: readonly string[] | undefined,
  rng: Rng,
): void {
  const buckets = bucketsOf(groups);
  const strataKeys = strata ? [...bucketsOf(strata).keys()] : ['*'];
  const stratumOf = new Map(strataKeys.map((k, i) => [k, i]));
  const L = strataKeys.length;
  const stratumSizes = new Array<number>(L).fill(0);
  for (let i = 0; i < groups.length; i++) stratumSizes[strata ? stratumOf.get(strata[i]!)! : 0]! += 1;
  const target = fractions.map((f) => stratumSizes.map((size) => f * size));
  const count = fractions.map(() => new Array<number>(L).fill(0));

  const ordered = shuffle([...buckets.entries()], rng).sort((a, b) => b[1].length - a[1].length);
  for (const [, members] of ordered) {
    const g = new Array<number>(L).fill(0);
    for (const i of members) g[strata ? stratumOf.get(strata[i]!)! : 0]! += 1;
    let best = -1;
    let bestDelta = Infinity;
    for (let s = 0; s < 3; s++) {
      if (fractions[s] === 0) continue;
      // Increase of Σ_l (count − target)² if this group joins split s.
      let delta = 0;
      for (let l = 0; l < L; l++) delta += g[l]! * (2 * (count[s]![l]! - target[s]![l]!) + g[l]!);
      if (delta < bestDelta) {
        bestDelta = delta;
        best = s;
      }
    }
    for (let l = 0; l < L; l++) count[best]![l]! += g[l]!;
    for (const i of members) assignment[i] = best;
  }
}
