/**
 * Pareto fronts for learning-versus-forgetting sweeps: a point is on the front when no other point is at least as good
 * in every objective and strictly better in one. Equal points do not dominate each other, so duplicates stay together.
 * O(n² · objectives), ample for sweeps of a few hundred runs.
 */
import { ProvenantError } from '../core/index.js';

/** One objective: how to read it from a point and which way is better. */
export interface ParetoObjective<T> {
  value: (point: T) => number;
  goal: 'maximize' | 'minimize';
}

/** True when a dominates b (≥ in all, > in one, after orienting every objective to "larger is better"). */
function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let k = 0; k < a.length; k++) {
    if (a[k]! < b[k]!) return false;
    if (a[k]! > b[k]!) strictly = true;
  }
  return strictly;
}

/**
 * Indices of the non-dominated points, ordered best-first by the first objective (ties by the next objectives, then
 * by index).
 *
 * @example
 * ```ts
 * import { paretoFront } from 'provenant/eval';
 * paretoFront([{ g: 1, f: 1 }, { g: 2, f: 3 }, { g: 1, f: 2 }], [
 *   { value: (p) => p.g, goal: 'maximize' },
 *   { value: (p) => p.f, goal: 'minimize' },
 * ]); // [1, 0]
 * ```
 */
export function paretoFront<T>(points: readonly T[], objectives: readonly ParetoObjective<T>[]): number[] {
  if (!Array.isArray(objectives) || objectives.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'paretoFront needs at least one objective.');
  }
  const oriented = points.map((p, i) =>
    objectives.map((o, k) => {
      const v = o.value(p);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ProvenantError('EVAL_INPUT_INVALID', `Point ${i} has a non-finite value for objective ${k}.`, {
          metaMessages: [`value: ${v}`],
          data: { index: i, objective: k },
        });
      }
      return o.goal === 'maximize' ? v : -v;
    }),
  );
  const front: number[] = [];
  for (let i = 0; i < oriented.length; i++) {
    let dominated = false;
    for (let j = 0; j < oriented.length && !dominated; j++) if (j !== i && dominates(oriented[j]!, oriented[i]!)) dominated = true;
    if (!dominated) front.push(i);
  }
  return front.sort((a, b) => {
    for (let k = 0; k < objectives.length; k++) {
      const d = oriented[b]![k]! - oriented[a]![k]!;
      if (d !== 0) return d;
    }
    return a - b;
  });
}

/** A sweep point: how much the domain metric gained and how much the retained ability was lost. */
export interface LearningForgettingPoint {
  /** Domain gain (e.g. tuned − base macro-F1); larger is better. */
  gain: number;
  /** Forgetting (e.g. relative perplexity increase on general text); smaller is better. */
  forgetting: number;
}

/**
 * The learning-versus-forgetting front: maximise `gain`, minimise `forgetting`. Returns the front's points (best gain
 * first) and their indices in the input; the other fields of each point are kept, so a sweep can carry its settings.
 *
 * @example
 * ```ts
 * import { learningForgettingFront } from 'provenant/eval';
 * declare const runs: readonly { name: string; f1Delta: number; pplIncrease: number }[];
 * const { front } = learningForgettingFront(runs.map((r) => ({ ...r, gain: r.f1Delta, forgetting: r.pplIncrease })));
 * ```
 */
export function learningForgettingFront<T extends LearningForgettingPoint>(points: readonly T[]): { front: T[]; indices: number[] } {
  const indices = paretoFront(points, [
    { value: (p) => p.gain, goal: 'maximize' },
    { value: (p) => p.forgetting, goal: 'minimize' },
  ]);
  return { front: indices.map((i) => points[i]!), indices };
}
