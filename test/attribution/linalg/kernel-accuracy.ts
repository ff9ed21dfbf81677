/**
 * Accuracy of one build of the float64 product kernel against the definition, shared by the kernel tests and run in a
 * child process for the relaxed-SIMD build where this Node needs a flag for it:
 *
 *   node --experimental-wasm-relaxed-simd --import tsx test/attribution/linalg/kernel-accuracy.ts relaxed-simd-fma
 *
 * prints one JSON line: the build asked for and the one the workspace ran, the default build in this process, the worst
 * product error (brute-force triple loop; odd shapes, transposes, the lower bound, tiny and default blocks), and the
 * worst Cholesky residuals ‖LLᵀ − A‖/‖A‖ and ‖A x − b‖/(‖A‖‖x‖) of choleskyFactor (default engine) at sizes on and off
 * the block edges.
 */
import { fileURLToPath } from 'node:url';
import { choleskyFactor, createDenseWorkspace, denseKernel, type DenseWasmKernel } from '../../../src/attribution/linalg/index.js';
import { choleskyResidual, randomMatrix, randomSpd } from './random-matrices.js';

export interface KernelAccuracy {
  requested: DenseWasmKernel;
  kernel: string;
  defaultKernel: string;
  productWorst: number;
  choleskyWorst: number;
  solveWorst: number;
}

/** Worst |C − (C0 + α·A·Bᵀ)| over shapes and block sizes that make every loop of the kernel run its partial cases. */
function productWorst(kernel: DenseWasmKernel): { worst: number; used: string } {
  const cases: Array<{ m: number; n: number; k: number; tA: boolean; tB: boolean; lower?: number; blocks?: { mc: number; kc: number; nc: number } }> = [
    { m: 1, n: 1, k: 1, tA: false, tB: false },
    { m: 7, n: 5, k: 3, tA: true, tB: false, blocks: { mc: 4, kc: 2, nc: 4 } },
    { m: 23, n: 19, k: 17, tA: false, tB: true, lower: -2, blocks: { mc: 8, kc: 5, nc: 8 } },
    { m: 37, n: 37, k: 9, tA: true, tB: true, lower: 0, blocks: { mc: 12, kc: 7, nc: 20 } },
    { m: 9, n: 2053, k: 37, tA: false, tB: false },
    { m: 133, n: 9, k: 261, tA: false, tB: false },
  ];
  let worst = 0, used = '';
  for (const [ci, { m, n, k, tA, tB, lower, blocks }] of cases.entries()) {
    const ldc = n + 1;
    const Araw = randomMatrix(m, k, 3 * ci), Braw = randomMatrix(n, k, 3 * ci + 1), C0 = randomMatrix(m, ldc, 3 * ci + 2);
    const A = (i: number, p: number) => Araw[tA ? p * m + i : i * k + p]!;
    const B = (j: number, p: number) => Braw[tB ? p * n + j : j * k + p]!;
    const ws = createDenseWorkspace(Araw.length + Braw.length + C0.length, 'wasm', blocks, kernel);
    used = ws.kernel;
    const a = ws.alloc(Araw.length), b = ws.alloc(Braw.length), c = ws.alloc(C0.length);
    ws.heap().set(Araw, a);
    ws.heap().set(Braw, b);
    ws.heap().set(C0, c);
    ws.gemm(m, n, k, -0.75, a, tA ? 1 : k, tA ? m : 1, b, tB ? 1 : k, tB ? n : 1, c, ldc, lower);
    const h = ws.heap();
    for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
      if (j === n) {
        if (h[c + i * ldc + j] !== C0[i * ldc + j]) worst = Infinity; // the column past C stays untouched
        continue;
      }
      if (lower !== undefined && j > i + lower) continue;
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(j, p);
      worst = Math.max(worst, Math.abs(h[c + i * ldc + j]! - (C0[i * ldc + j]! - 0.75 * s)) / (1 + Math.abs(C0[i * ldc + j]!)));
    }
  }
  return { worst, used };
}

/** Worst residuals of choleskyFactor (default engine and kernel) and of its solve, by brute force. */
function choleskyWorst(): { factor: number; solve: number } {
  let factor = 0, solve = 0;
  for (const n of [3, 65, 257, 300, 530]) {
    const A = randomSpd(n, 40 + n, 0.1, 5);
    const f = choleskyFactor(A, n);
    const { rel, lowerOk } = choleskyResidual(f.lower(), A, n);
    factor = Math.max(factor, lowerOk ? rel : Infinity);
    const b = randomMatrix(1, n, 7 + n);
    const x = f.solveRows(b, 1);
    let r2 = 0, x2 = 0, a2 = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) {
        s += A[i * n + j]! * x[j]!;
        a2 += A[i * n + j]! ** 2;
      }
      r2 += (s - b[i]!) ** 2;
      x2 += x[i]! ** 2;
    }
    solve = Math.max(solve, Math.sqrt(r2 / (a2 * x2)));
  }
  return { factor, solve };
}

export function kernelAccuracy(requested: DenseWasmKernel): KernelAccuracy {
  const product = productWorst(requested);
  const chol = choleskyWorst();
  return { requested, kernel: product.used, defaultKernel: denseKernel(), productWorst: product.worst, choleskyWorst: chol.factor, solveWorst: chol.solve };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(kernelAccuracy(process.argv[2] as DenseWasmKernel)));
}
