/**
 * Accuracy of a float32 product kernel against the definition, shared by the GEMM tests and run in a child process for
 * the relaxed-SIMD kernel where this Node needs a flag for it:
 *
 *   node --experimental-wasm-relaxed-simd --import tsx test/finetune/gemm/kernel-accuracy.ts relaxed-simd-fma
 *
 * prints one JSON line { kernel, worst } (worst: the largest error relative to 1 + |reference|, over odd shapes, every
 * transpose pair, with and without a bias).
 */
import { fileURLToPath } from 'node:url';
import { createGemmF32, type GemmF32Kernel } from '../../../src/finetune/index.js';

/** Deterministic values in [−1, 1). */
export function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** op(A)·op(B) + bias in float64, by the definition. */
export function bruteForce(a: Float32Array, ar: number, ac: number, ta: boolean, b: Float32Array, br: number, bc: number, tb: boolean, bias?: Float32Array): Float64Array {
  const [m, k] = ta ? [ac, ar] : [ar, ac];
  const n = tb ? br : bc;
  const A = (i: number, p: number) => (ta ? a[p * ac + i]! : a[i * ac + p]!);
  const B = (p: number, j: number) => (tb ? b[j * bc + p]! : b[p * bc + j]!);
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j]! : 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      out[i * n + j] = s;
    }
  }
  return out;
}

export const maxRelErr = (ours: ArrayLike<number>, ref: ArrayLike<number>): number => {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)));
  return worst;
};

/** Edge tiles (m % 4, n % 8), depth beyond one KC block (k > 256), columns beyond one NC block (n > 2048). */
export const ODD_SHAPES: ReadonlyArray<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [5, 9, 13], [37, 300, 19], [6, 3, 2051], [70, 513, 33]];

/**
 * The worst error of `kernel` over ODD_SHAPES × transposes × bias, each scaled by its bound 2e-6·√k + 1e-6 (so ≤ 1 passes).
 */
export function kernelErrorRatio(kernel: GemmF32Kernel): { kernel: string; worst: number } {
  const gemm = createGemmF32({ kernel });
  let worst = 0;
  for (const [m, k, n] of ODD_SHAPES) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const [ar, ac] = ta ? [k, m] : [m, k];
        const [br, bc] = tb ? [n, k] : [k, n];
        const a = seeded(m * k, m + 31 * k);
        const b = seeded(k * n, n + 17 * k);
        const bias = seeded(n, 5 + n);
        const bound = 2e-6 * Math.sqrt(k) + 1e-6;
        for (const withBias of [true, false]) {
          const c = gemm.product({ data: a, rows: ar, cols: ac, transpose: ta }, { data: b, rows: br, cols: bc, transpose: tb }, withBias ? bias : null);
          if (c.length !== m * n) throw new Error(`product of [${m}, ${k}]·[${k}, ${n}] has ${c.length} values`);
          worst = Math.max(worst, maxRelErr(c, bruteForce(a, ar, ac, ta, b, br, bc, tb, withBias ? bias : undefined)) / bound);
        }
      }
    }
  }
  const used = gemm.kernel;
  gemm.dispose();
  return { kernel: used, worst };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(kernelErrorRatio(process.argv[2] as GemmF32Kernel)));
}
