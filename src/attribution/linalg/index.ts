/**
 * Dense float64 linear algebra for attribution at P in the tens of thousands: one product kernel (WebAssembly SIMD — the
 * relaxed-SIMD fused multiply-add build where it compiles, see `denseKernel()` — with a JavaScript fallback), blocked
 * Cholesky with many-right-hand-side triangular solves, products and Gram matrices, the symmetric eigen-decomposition,
 * and the one conjugate gradient.
 */
export { createDenseWorkspace, denseKernel, wasmEngineAvailable, resolveEngine, gemmNTBlocked, gemmNTLower, GEMM_BLOCK, GEMM_WASM_BLOCKING } from './dense-workspace.js';
export type { DenseEngine, DenseKernel, DenseWasmKernel, DenseWorkspace, GemmBlocking } from './dense-workspace.js';
export { choleskyFactor, CHOLESKY_BLOCK } from './cholesky.js';
export type { CholeskyFactor, CholeskyOptions } from './cholesky.js';
export { matMulNT, matMul, gram } from './matrix-product.js';
export type { MatrixProductOptions } from './matrix-product.js';
export { conjugateGradient, CONJUGATE_GRADIENT_DEFAULTS } from './conjugate-gradient.js';
export type { LinearOperator, ConjugateGradientOptions, ConjugateGradientResult } from './conjugate-gradient.js';
export { symmetricEigen } from './symmetric-eigen.js';
export type { SymmetricEigen } from './symmetric-eigen.js';
export { gemmStrassen, gemmLowerStrassen, STRASSEN_DEFAULTS } from './strassen.js';
export type { StrassenOptions } from './strassen.js';
export { gramFloat32, matMulNTFloat32, GRAM_F32_PANEL } from './float32-products.js';
export type { Float32ProductOptions } from './float32-products.js';
