/**
 * The float64 loops of the reference model. Plain loops over Float64Array, in an order that walks memory forward
 * (feature j outer, class c inner), so each pass over the data costs ~n·(d + 1)·C multiply-adds.
 */
import type { ConvexLogisticProblem } from './problem.js';

/**
 * Softmax probabilities of rows R into `probs` (|R| × C) and the summed loss Σ_{i∈R} ℓ_i, by log-sum-exp.
 */
export function forwardRows(problem: ConvexLogisticProblem, theta: Float64Array, rows: Uint32Array, probs: Float64Array): number {
  const { x, d, numClasses: C, labels } = problem;
  const biasOffset = d * C;
  let lossSum = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    const z = probs.subarray(r * C, (r + 1) * C);
    for (let c = 0; c < C; c++) z[c] = theta[biasOffset + c]!;
    const xo = i * d;
    for (let j = 0; j < d; j++) {
      const xij = x[xo + j]!;
      if (xij === 0) continue;
      const wo = j * C;
      for (let c = 0; c < C; c++) z[c]! += xij * theta[wo + c]!;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (z[c]! > max) max = z[c]!;
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(z[c]! - max);
      z[c] = e;
      sum += e;
    }
    const logSum = Math.log(sum) + max;
    // ℓ = logsumexp(z) − z_y, with z_y recovered from the unnormalised exp before dividing.
    lossSum += logSum - (Math.log(z[labels[i]!]!) + max);
    for (let c = 0; c < C; c++) z[c]! /= sum;
  }
  return lossSum;
}

/** out += scale · Σ_{r} x̃_{rows[r]} ⊗ a_r, for a (|R| × C) coefficient matrix a. */
export function accumulateOuter(problem: ConvexLogisticProblem, rows: Uint32Array, a: Float64Array, scale: number, out: Float64Array): void {
  const { x, d, numClasses: C } = problem;
  const biasOffset = d * C;
  for (let r = 0; r < rows.length; r++) {
    const xo = rows[r]! * d;
    const ao = r * C;
    for (let j = 0; j < d; j++) {
      const xij = x[xo + j]! * scale;
      if (xij === 0) continue;
      const wo = j * C;
      for (let c = 0; c < C; c++) out[wo + c]! += xij * a[ao + c]!;
    }
    for (let c = 0; c < C; c++) out[biasOffset + c]! += scale * a[ao + c]!;
  }
}

/** u = Vᵀ x̃_i for one row (C values) — a row's "logit" under the direction V. */
export function projectRow(problem: ConvexLogisticProblem, i: number, v: Float64Array, u: Float64Array): void {
  const { x, d, numClasses: C } = problem;
  const biasOffset = d * C;
  for (let c = 0; c < C; c++) u[c] = v[biasOffset + c]!;
  const xo = i * d;
  for (let j = 0; j < d; j++) {
    const xij = x[xo + j]!;
    if (xij === 0) continue;
    const wo = j * C;
    for (let c = 0; c < C; c++) u[c]! += xij * v[wo + c]!;
  }
}
