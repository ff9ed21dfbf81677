/**
 * The two builds of the float64 product kernel (scripts/gen-linalg-wasm.py): WebAssembly SIMD 1.0 and relaxed SIMD
 * (f64x2.relaxed_madd, a fused multiply-add), each against brute-force products and Cholesky residuals
 * (kernel-accuracy.ts). Node 20 compiles the fused build only with --experimental-wasm-relaxed-simd, so there it is
 * checked in a child process started with that flag; the library itself sets no flags and falls back to SIMD 1.0.
 * To run every dense test on the fused build as Node ≥ 22 does:
 *   npx vitest run test/attribution/linalg test/attribution/convex --execArgv=--experimental-wasm-relaxed-simd
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { choleskyFactor, createDenseWorkspace, denseKernel } from '../../../src/attribution/linalg/index.js';
import { kernelAccuracy, type KernelAccuracy } from './kernel-accuracy.js';

function expectAccurate(r: KernelAccuracy): void {
  expect(r.productWorst).toBeLessThan(1e-12);
  expect(r.choleskyWorst).toBeLessThan(1e-14);
  expect(r.solveWorst).toBeLessThan(1e-14);
}

describe('float64 product kernel builds', () => {
  it('the SIMD 1.0 build equals the brute-force product, and Cholesky on the default build has rounding-level residuals', () => {
    const r = kernelAccuracy('simd');
    expect(r.kernel).toBe('simd');
    expectAccurate(r);
  });

  it('the relaxed-SIMD fused multiply-add build equals the brute-force product and is the default where it compiles (child process with the flag where Node needs one)', () => {
    const r: KernelAccuracy =
      denseKernel() === 'relaxed-simd-fma'
        ? kernelAccuracy('relaxed-simd-fma')
        : (JSON.parse(
            execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', 'test/attribution/linalg/kernel-accuracy.ts', 'relaxed-simd-fma'], { encoding: 'utf8' })
              .trim()
              .split('\n')
              .pop()!,
          ) as KernelAccuracy);
    expect(r.kernel).toBe('relaxed-simd-fma');
    // choleskyFactor ran on the default build, which is the fused one wherever that compiles.
    expect(r.defaultKernel).toBe('relaxed-simd-fma');
    expectAccurate(r);
  }, 60_000);

  it('the default is the fused build only where relaxed SIMD compiles; asking for it elsewhere is a typed error; the JavaScript engine says so', () => {
    const kernel = denseKernel();
    expect(['simd', 'relaxed-simd-fma']).toContain(kernel);
    const flagged = process.execArgv.some((a) => a.startsWith('--experimental-wasm-relaxed-simd'));
    if (process.versions.node.startsWith('20.') && !flagged) expect(kernel).toBe('simd'); // plain Node 20: unchanged fallback
    expect(createDenseWorkspace(16, 'wasm').kernel).toBe(kernel);
    expect(createDenseWorkspace(16, 'wasm', undefined, 'simd').kernel).toBe('simd');
    expect(createDenseWorkspace(16, 'js', undefined, 'relaxed-simd-fma').kernel).toBe('js');
    if (kernel === 'simd') {
      expect(() => createDenseWorkspace(16, 'wasm', undefined, 'relaxed-simd-fma')).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
    }
    // Whichever build runs, a 2×2 factor is exact: A = [[4, 2], [2, 5]] → L = [[2, 0], [1, 2]].
    expect(Array.from(choleskyFactor([4, 2, 2, 5], 2).lower())).toEqual([2, 0, 1, 2]);
  });
});
