export { createGemmF32, gemmF32Available, gemmF32Kernel, GEMM_F32_BLOCKING } from './gemm-f32.js';
export type { GemmF32, GemmF32Kernel, GemmHeap, GemmOperand } from './gemm-f32.js';
export { gemmMatMul, gemmLinearOp, tfjsWasmHeap } from './gemm-linear.js';
export { setLinearGemm } from './set-linear-gemm.js';
export { gemmBatchMatMul, gemmBatchMatMulNT } from './gemm-batched.js';
