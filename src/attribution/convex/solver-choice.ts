/**
 * Which inverse-Hessian route an influence computation takes, decided by estimated cost rather than by a size
 * threshold: an explicit Cholesky factorisation costs a fixed Hessian build and P³/3 once, then 2P² per query; conjugate
 * gradient costs nothing up front and `iterations` Hessian-vector products per query. The factorisation wins as soon as
 * enough queries share it (for raw-pixel MNIST, P = 7,850 and 5,000 rows: from about four queries, by the defaults below), and is refused
 * only when its P² doubles exceed the memory budget. The returned choice is plain data an audit record can carry.
 */
import { ProvenantError, resolve, type ParamField, type ParamTable } from '../../core/index.js';

export type ConvexInfluenceSolver = 'explicit' | 'cg';

/** Defaults of {@link ConvexSolverChoiceOptions}. */
export const CONVEX_SOLVER_DEFAULTS = {
  /**
   * CG iterations assumed per query at relative residual 1e-10 with the Jacobi preconditioner: 150, the order measured on
   * raw-pixel MNIST-10 at λ = 1e-3 (bench:attribution records the actual count).
   */
  cgIterations: 150,
  /**
   * How many times faster a flop runs in the blocked dense kernel than in the Hessian-vector product's row loops (WebAssembly
   * SIMD tiles vs scalar JavaScript; bench:kernels measures both). 4 is conservative.
   */
  kernelSpeedup: 4,
  /** Largest explicit Hessian held: 8 GiB of doubles (P ≈ 32,000). */
  maxExplicitBytes: 8 * 2 ** 30,
} as const;

/** The fields of {@link ConvexSolverChoiceOptions}, shared with the influence functions' option tables. */
export const CONVEX_SOLVER_FIELDS: readonly ParamField[] = Object.freeze([
  { name: 'solver', default: null, meaning: 'Force a route, explicit or cg (null: the cheaper by the cost model).' },
  { name: 'cgIterations', default: CONVEX_SOLVER_DEFAULTS.cgIterations, meaning: 'CG iterations assumed per query by the cost model.' },
  { name: 'kernelSpeedup', default: CONVEX_SOLVER_DEFAULTS.kernelSpeedup, meaning: 'How many times faster a dense-kernel flop runs than a Hessian-vector-product flop.' },
  { name: 'maxExplicitBytes', default: CONVEX_SOLVER_DEFAULTS.maxExplicitBytes, meaning: 'Largest explicit Hessian (bytes) the explicit route may form.' },
]);

/** The options of {@link chooseConvexSolver}: a misspelt name is refused with the nearest field. */
const CONVEX_SOLVER_PARAMS: ParamTable = Object.freeze({ name: 'chooseConvexSolver', code: 'ATTRIBUTION_INPUT_INVALID', fields: CONVEX_SOLVER_FIELDS });

export interface ConvexSolverChoiceOptions {
  /** Force a route (the choice then says so). */
  solver?: ConvexInfluenceSolver;
  /** Default {@link CONVEX_SOLVER_DEFAULTS}.cgIterations. */
  cgIterations?: number;
  /** Default {@link CONVEX_SOLVER_DEFAULTS}.kernelSpeedup. */
  kernelSpeedup?: number;
  /** Default {@link CONVEX_SOLVER_DEFAULTS}.maxExplicitBytes. */
  maxExplicitBytes?: number;
}

/** The route taken and why: plain data for the audit record. */
export interface ConvexSolverChoice {
  solver: ConvexInfluenceSolver;
  /** One sentence: forced, memory-bound, or which estimate was lower. */
  reason: string;
  /** Estimated cost of each route in dense-kernel flop-equivalents (row-loop flops × kernelSpeedup). */
  estimatedCost: { explicit: number; cg: number };
  parameters: number;
  trainingRows: number;
  queries: number;
  cgIterations: number;
  kernelSpeedup: number;
  explicitBytes: number;
}

/**
 * Chooses the route for `queries` inverse-Hessian solves of multinomial logistic regression with d features, C classes
 * and n training rows (P = (d + 1)·C).
 *
 * @example
 * ```ts
 * import { chooseConvexSolver } from 'provenant/attribution';
 * chooseConvexSolver({ d: 784, numClasses: 10, trainingRows: 5000, queries: 500 }).solver; // 'explicit'
 * ```
 */
export function chooseConvexSolver(
  shape: { d: number; numClasses: number; trainingRows: number; queries: number },
  options: ConvexSolverChoiceOptions = {},
): ConvexSolverChoice {
  resolve(CONVEX_SOLVER_PARAMS, options);
  const { d, numClasses: C, trainingRows: n, queries } = shape;
  // Each count named, so a NaN or negative shape is refused rather than turned into a meaningless cost comparison.
  for (const [name, value, least] of [['d', d, 1], ['numClasses', C, 2], ['trainingRows', n, 1], ['queries', queries, 1]] as const) {
    if (!Number.isSafeInteger(value) || value < least) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `chooseConvexSolver: ${name} must be an integer ≥ ${least}, got ${String(value)}.`);
    }
  }
  if (options.solver !== undefined && options.solver !== 'explicit' && options.solver !== 'cg') {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `solver must be 'explicit' or 'cg', got ${JSON.stringify(options.solver)}.`);
  }
  const D = d + 1;
  const P = D * C;
  const cgIterations = options.cgIterations ?? CONVEX_SOLVER_DEFAULTS.cgIterations;
  const kernelSpeedup = options.kernelSpeedup ?? CONVEX_SOLVER_DEFAULTS.kernelSpeedup;
  const maxBytes = options.maxExplicitBytes ?? CONVEX_SOLVER_DEFAULTS.maxExplicitBytes;
  if (!(cgIterations > 0) || !(kernelSpeedup > 0) || !(maxBytes > 0)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'cgIterations, kernelSpeedup and maxExplicitBytes must be positive.', { data: { cgIterations, kernelSpeedup, maxBytes } });
  }
  // Hessian build: C(C+1)/2 half-Grams of D² n flops; Cholesky P³/3; per query a forward and a backward solve (2P²).
  const explicit = ((C * (C + 1)) / 2) * D * D * n + P ** 3 / 3 + queries * 2 * P * P;
  // One Hessian-vector product: a forward and a backward pass over the rows, 2 flops per multiply-add (4·n·D·C).
  const cg = queries * cgIterations * 4 * n * D * C * kernelSpeedup;
  // The Hessian and the factor's workspace copy.
  const explicitBytes = 2 * 8 * P * P;
  const base = { estimatedCost: { explicit, cg }, parameters: P, trainingRows: n, queries, cgIterations, kernelSpeedup, explicitBytes };
  const fmt = (v: number) => v.toExponential(1);
  if (options.solver) {
    return { solver: options.solver, reason: `forced by the caller (estimates: explicit ${fmt(explicit)}, CG ${fmt(cg)} flop-equivalents)`, ...base };
  }
  if (explicitBytes > maxBytes) {
    return { solver: 'cg', reason: `the explicit Hessian needs ${fmt(explicitBytes)} bytes, over the ${fmt(maxBytes)}-byte budget`, ...base };
  }
  return explicit <= cg
    ? { solver: 'explicit', reason: `${queries} queries amortise the factorisation: explicit ${fmt(explicit)} ≤ CG ${fmt(cg)} flop-equivalents`, ...base }
    : { solver: 'cg', reason: `too few queries (${queries}) to amortise a factorisation: CG ${fmt(cg)} < explicit ${fmt(explicit)} flop-equivalents`, ...base };
}
