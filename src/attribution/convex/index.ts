/**
 * The exact float64 convex reference: multinomial logistic regression with L2 on every parameter, trained by Newton–CG
 * to a tight gradient norm, with exact per-example gradients, Hessian-vector products, an explicit Hessian and
 * influence functions (blocked Cholesky or CG, chosen by cost; ../linalg). It is the set-up where attribution quality is limited by the method, not by
 * numerics, so LOO ≥ 0.95 and LDS ≥ 0.90 are reachable.
 */
export { createConvexLogisticProblem, parameterCount as convexParameterCount } from './problem.js';
export type { ConvexLogisticProblem, CreateConvexLogisticProblemOptions } from './problem.js';
export {
  convexLogisticLoss,
  convexLogisticObjective,
  convexHessianOperator,
  convexCurvatureOperator,
  convexLogisticHessian,
  convexExampleGradients,
  convexExampleResiduals,
  hessianFromProbabilities as convexHessianFromProbabilities,
} from './objective.js';
export type { ConvexObjective, ConvexHessianOperator } from './objective.js';
export {
  convexGradientDotScores,
  convexGradientDotSelfInfluence,
  convexDataInfScores,
  convexDataInfSelfInfluence,
  convexFisherScores,
} from './gradient-methods.js';
export type { ConvexGradientMethodOptions, ConvexGradientDotOptions, ConvexDataInfOptions, ConvexDampedScores, ConvexFisherOptions, ConvexFisherScores } from './gradient-methods.js';
export { convexInfluenceFactor } from './influence-factor.js';
export type { ConvexInfluenceFactor } from './influence-factor.js';
export { fitConvexLogistic } from './fit.js';
export type { FitConvexLogisticOptions, ConvexLogisticFit } from './fit.js';
export { convexProbabilities, convexExampleLosses, convexExampleMargins, convexAccuracy } from './outputs.js';
export { convexInfluenceScores, convexSelfInfluence, convexHessianCholesky, convexScoresFromSolutions, CONVEX_INFLUENCE_DEFAULTS, CONVEX_INFLUENCE_PARAMS } from './influence.js';
export type { ConvexInfluenceOptions, ConvexInfluenceScores } from './influence.js';
export { chooseConvexSolver, CONVEX_SOLVER_DEFAULTS } from './solver-choice.js';
export { createConvexGradientProjector } from './projected-gradients.js';
export type { ConvexGradientProjector, ConvexProjectedGradients } from './projected-gradients.js';
export type { ConvexInfluenceSolver, ConvexSolverChoice, ConvexSolverChoiceOptions } from './solver-choice.js';
