/**
 * Conventions every attribution function in Provenant keeps. Stated once here; the other files refer to it.
 *
 * **Sign.** τ(i, t) > 0 means training row i is a *proponent* of test point t: removing row i from the training set
 * would *raise* the loss on t (equivalently, up-weighting i lowers it). τ(i, t) < 0 marks an *opponent*. For an
 * influence function this is τ(i, t) = g_tᵀ H⁻¹ g_i with g the gradient of the loss (Koh & Liang 2017, eq. 2, whose
 * I_up,loss = −g_tᵀ H⁻¹ g_i is the effect of *up-weighting*; removing a row is up-weighting by −1/n, so our τ is
 * n·ΔL_t(removal) to first order). The quality harness correlates Σ_{i∈S} τ(i, t) with the *negative* loss (or the margin)
 * of a model retrained on S.
 *
 * **Gradient target.** Features are per-example gradients of either the cross-entropy loss −log p_y (target `loss`) or
 * TRAK's margin log(p_y / (1 − p_y)) (target `margin`, Park et al. 2023 §3). Their logit gradients are related by
 * ∂L/∂z = −(1 − p_y)·∂m/∂z, so loss-gradient dot products and margin-gradient dot products have the same sign when both
 * sides use the same target; TRAK's Q = diag(1 − p) re-introduces the factor on the training side.
 *
 * **Score layout.** A dense score matrix is a row-major `Float32Array` (or `Float64Array`) of shape n_train × n_test:
 * `scores[i * nTest + t] = τ(i, t)`. This is the layout the quality harness (`./quality`) takes.
 *
 * **Feature layout.** A {@link FeatureMatrix} is row-major `rows × dim` float32, one row per example, the parameter blocks
 * laid side by side in the order of `blocks` (tfjs layout: a kernel block [in, out] flattened row by row).
 */
export const SCORE_LAYOUT = 'n_train × n_test, row-major: scores[i * nTest + t] = τ(train i, test t)' as const;
