/**
 * Forgetting across a sequence of fine-tunes, from the matrix R with R[i][j] = the metric on task j after training
 * stage i (stage i trains on task i; T stages × T tasks). The field defines "forgetting" several ways, so each measure
 * is labelled with its source:
 *
 * Lopez-Paz & Ranzato 2017 ("Gradient Episodic Memory for Continual Learning", §2 — ACC, BWT, FWT), with b_j the metric of the
 * model before any stage:
 *   ACC = (1/T) Σ_{j=1..T} R_{T,j}
 *   BWT = (1/(T−1)) Σ_{j=1..T−1} (R_{T,j} − R_{j,j})        (negative = forgetting)
 *   FWT = (1/(T−1)) Σ_{j=2..T} (R_{j−1,j} − b_j)
 * Chaudhry et al. 2018 ("Riemannian Walk for Incremental Learning", the forgetting measure f_j^k and its average at k = T):
 *   f_j = max_{l=1..T−1} R_{l,j} − R_{T,j} for j < T,  F = (1/(T−1)) Σ_{j<T} f_j   (positive = forgetting)
 * First-minus-last forgetting (Avalanche's `Forgetting` metric): the value when task j was first learned minus the
 * final value,  f_j = R_{j,j} − R_{T,j} for j < T, averaged over j < T.
 *
 * The formulas assume a higher-is-better metric. For a lower-is-better one (perplexity, log loss) each column is read
 * as "goodness" −R, so BWT and FWT keep their sign meaning (negative BWT = forgetting) and the forgetting measures stay
 * positive when the final model is worse; ACC stays the plain mean of the final row in the metric's own units.
 */
import { ProvenantError, resolve, type ParamTable } from '../core/index.js';

/** Options of {@link forgettingMeasures}. */
export interface ForgettingOptions {
  /** b_j: the metric on task j before any stage (the base model), needed for FWT. */
  baseline?: readonly number[];
  /** Metric direction, for all tasks or per task. Default true. */
  higherIsBetter?: boolean | readonly boolean[];
}

/** Every measure, labelled by its definition. */
export interface ForgettingMeasures {
  tasks: number;
  higherIsBetter: boolean[];
  /** R_{T,j}: the final stage's row. */
  final: number[];
  lopezPazRanzato2017: {
    /** Mean of the final row (metric units). */
    acc: number;
    /** Backward transfer; null for T = 1. Negative means forgetting. */
    bwt: number | null;
    /** Forward transfer; null without a baseline or for T = 1. */
    fwt: number | null;
  };
  chaudhry2018: {
    /** Average over tasks j < T of max over earlier stages minus final; null for T = 1. Positive means forgetting. */
    forgetting: number | null;
    /** f_j for j < T. */
    perTask: number[];
  };
  firstMinusLast: {
    /** Avalanche's forgetting: mean over j < T of R_{j,j} − R_{T,j} (direction-adjusted); null for T = 1. */
    forgetting: number | null;
    perTask: number[];
  };
}

function checkMatrix(R: readonly (readonly number[])[]): number {
  if (!Array.isArray(R) || R.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'The accuracy matrix R must be a non-empty T × T array.');
  }
  const T = R.length;
  R.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== T) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `R must be square (T × T); row ${i} has ${row?.length} entries, T = ${T}.`, {
        data: { row: i, T },
      });
    }
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ProvenantError('EVAL_INPUT_INVALID', `R[${i}][${j}] must be a finite number.`, {
          metaMessages: [`R[${i}][${j}]: ${v}`],
          data: { row: i, column: j },
        });
      }
    });
  });
  return T;
}

const mean = (x: readonly number[]): number | null => (x.length ? x.reduce((a, b) => a + b, 0) / x.length : null);

/** The options of {@link forgettingMeasures}. */
const FORGETTING_PARAMS: ParamTable = Object.freeze({
  name: 'forgettingMeasures',
  fields: [
    { name: 'baseline', default: null, meaning: 'b_j: the metric on task j before any stage (the base model); null: no FWT.' },
    { name: 'higherIsBetter', default: true, meaning: 'Metric direction, for all tasks or per task.', aliases: ['greater_is_better', 'greaterIsBetter'] },
  ],
});

/**
 * ACC/BWT/FWT (Lopez-Paz & Ranzato 2017), forgetting (Chaudhry et al. 2018) and first-minus-last forgetting (Avalanche)
 * from an accuracy matrix.
 *
 * @throws ProvenantError `EVAL_INPUT_INVALID` for a matrix that is not square and finite or a bad baseline;
 *   `INVALID_ARGUMENT` for an unknown option name (with the nearest one).
 * @example
 * ```ts
 * import { forgettingMeasures } from 'provenant/eval';
 * const m = forgettingMeasures([[0.9, 0.1], [0.6, 0.8]]);
 * // m.lopezPazRanzato2017.acc === 0.7, .bwt === 0.6 − 0.9 = −0.3; m.chaudhry2018.forgetting === 0.3
 * ```
 */
export function forgettingMeasures(R: readonly (readonly number[])[], options: ForgettingOptions = {}): ForgettingMeasures {
  const used = resolve<{ higherIsBetter: boolean | readonly boolean[] }>(FORGETTING_PARAMS, options);
  const T = checkMatrix(R);
  const dir = used.higherIsBetter;
  if (Array.isArray(dir) && dir.length !== T) {
    throw new ProvenantError('EVAL_LENGTH_MISMATCH', 'higherIsBetter must have one entry per task.', {
      metaMessages: [`tasks: ${T}`, `higherIsBetter: ${dir.length}`],
    });
  }
  const higherIsBetter = Array.from({ length: T }, (_, j) => (Array.isArray(dir) ? Boolean(dir[j]) : Boolean(dir)));
  const sign = higherIsBetter.map((h) => (h ? 1 : -1));
  const A = (i: number, j: number): number => sign[j]! * R[i]![j]!;
  if (options.baseline !== undefined) {
    const b = options.baseline;
    if (!Array.isArray(b) || b.length !== T) {
      throw new ProvenantError('EVAL_LENGTH_MISMATCH', 'baseline must have one value per task.', {
        metaMessages: [`tasks: ${T}`, `baseline: ${Array.isArray(b) ? b.length : typeof b}`],
      });
    }
    b.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new ProvenantError('EVAL_INPUT_INVALID', `baseline[${j}] must be a finite number.`, { data: { index: j } });
      }
    });
  }
  const last = T - 1;
  const bwtTerms: number[] = [];
  const chaudhry: number[] = [];
  const fml: number[] = [];
  for (let j = 0; j < last; j++) {
    bwtTerms.push(A(last, j) - A(j, j));
    let best = -Infinity;
    for (let l = 0; l < last; l++) best = Math.max(best, A(l, j));
    chaudhry.push(best - A(last, j));
    fml.push(A(j, j) - A(last, j));
  }
  let fwt: number | null = null;
  if (options.baseline && T > 1) {
    const terms: number[] = [];
    for (let j = 1; j < T; j++) terms.push(A(j - 1, j) - sign[j]! * options.baseline[j]!);
    fwt = mean(terms);
  }
  return {
    tasks: T,
    higherIsBetter,
    final: R[last]!.slice(),
    lopezPazRanzato2017: { acc: mean(R[last]!)!, bwt: mean(bwtTerms), fwt },
    chaudhry2018: { forgetting: mean(chaudhry), perTask: chaudhry },
    firstMinusLast: { forgetting: mean(fml), perTask: fml },
  };
}
