/**
 * The one float64 matrix-product kernel every dense routine here is cast onto — C += α·A·Bᵀ with A, B and C in one heap,
 * the operands read through (row, column) strides — and the heap it runs in. Two engines compute the same thing:
 * 'wasm', a WebAssembly SIMD module (scripts/gen-linalg-wasm.py: packed A and B panels blocked for L1/L2/L3, 4×4 f64x2
 * register tiles; Goto & van de Geijn 2008) in two builds — 'relaxed-simd-fma' (each multiply-add one `f64x2.relaxed_madd`,
 * a fused multiply-add) where the runtime compiles relaxed SIMD (Node ≥ 22, Chrome ≥ 114; Node 20 only with
 * --experimental-wasm-relaxed-simd, which the library never sets), else 'simd' (SIMD 1.0: multiply, then add) — and 'js', a 2×4 register tiling in plain JavaScript, the fallback where
 * WebAssembly SIMD is missing or its 4 GiB memory cannot hold the problem. Both are tested against each other, a
 * brute-force triple loop and ml-matrix (test/attribution/linalg).
 */
import { embeddedWasm, ProvenantError } from '../../core/index.js';
import { GEMM_FMA_WASM_BASE64, GEMM_WASM_BASE64, GEMM_WASM_TILE } from './gemm-wasm.js';

export type DenseEngine = 'wasm' | 'js';

/** The two builds of the WebAssembly product kernel: SIMD 1.0 (multiply, then add) and relaxed SIMD (fused multiply-add). */
export type DenseWasmKernel = 'simd' | 'relaxed-simd-fma';

/** The product kernel a workspace runs: one of the WebAssembly builds, or the JavaScript engine. */
export type DenseKernel = DenseWasmKernel | 'js';

/** A float64 heap with a bump allocator and the product kernel over it. Offsets and strides are in elements. */
export interface DenseWorkspace {
  readonly engine: DenseEngine;
  /** The product kernel behind {@link DenseWorkspace.gemm}: 'js' for the JavaScript engine, else the WebAssembly build. */
  readonly kernel: DenseKernel;
  /** The heap as a Float64Array. Re-read after {@link DenseWorkspace.alloc}: growing a WebAssembly memory detaches old views. */
  heap(): Float64Array;
  /** Reserves `count` zeroed elements (16-byte aligned) and returns their offset. */
  alloc(count: number): number;
  /** The current allocation mark, for {@link DenseWorkspace.release}. */
  mark(): number;
  /** Frees everything allocated after `mark` (scratch space of one step). */
  release(mark: number): void;
  /**
   * C[i, j] += α Σ_p A[i, p] B[j, p] for i < m, j < n, p < k (A at `a` with row stride lda, and so on). With `lower`,
   * only the entries with j ≤ i + lower are needed (a SYRK-style update of a lower triangle): the others may or may not
   * be updated.
   */
  gemmNT(m: number, n: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, lower?: number): void;
  /**
   * {@link DenseWorkspace.gemmNT} with both operands read through strides: A(i, p) at a + i·rsa + p·csa, B(j, p) at
   * b + j·rsb + p·csb (e.g. csb = ldb, rsb = 1 reads B as k×n, a plain A·B), C row-major.
   */
  gemm(m: number, n: number, k: number, alpha: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number, lower?: number): void;
}

/** Cache blocking of the WebAssembly kernel (float64 elements): an MC×KC block of A (L2), a KC×NC block of B (L3). */
export interface GemmBlocking {
  mc: number;
  kc: number;
  nc: number;
}

/**
 * Default blocking, from a sweep at n = 1,024 on AMD EPYC (Zen 3: 32 KiB L1d, 512 KiB L2 per core; a shared, loaded
 * machine): MC/KC/NC = 128/256/2048, 64/256/2048 and 96/512/2048 within noise (14.3–14.8 GFLOP/s), 256/256 and
 * KC = 128 ~13% slower. A 4×KC micro-panel of B (8 KiB) and one of A share L1; the 128×256 A block (256 KiB) sits in L2.
 */
export const GEMM_WASM_BLOCKING: GemmBlocking = { mc: 128, kc: 256, nc: 2048 };

/** `lower` value meaning "every entry" (j ≤ i + 2³⁰ − 1 holds for any i, j a wasm32 heap can address). */
const ALL = 0x3fffffff;

interface WasmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  gemm: (m: number, n: number, k: number, alpha: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number,
    off: number, scratch: number, mcb: number, kcb: number, ncb: number) => void;
}
// Compiled once on first use (no WebAssembly SIMD: the JavaScript engine runs instead); an instance per workspace. The
// fused build compiles only where relaxed SIMD is enabled; where it does not, the SIMD 1.0 build runs (same results up
// to rounding: a fused multiply-add rounds once instead of twice).
const gemmWasm = embeddedWasm<WasmExports>(GEMM_WASM_BASE64);
const gemmFmaWasm = embeddedWasm<WasmExports>(GEMM_FMA_WASM_BASE64);
const PAGE = 65536;
/** wasm32 addresses 4 GiB; keep one page of slack for the allocator's alignment. */
const WASM_MAX_ELEMENTS = (65535 * PAGE) / 8;

/**
 * Whether the WebAssembly SIMD dense engine can run in this process (the module compiles once and is cached); false
 * where WebAssembly SIMD is missing, and then every dense routine runs on the JavaScript engine.
 *
 * @example
 * ```ts
 * import { wasmEngineAvailable } from 'provenant/attribution';
 *
 * const engine = wasmEngineAvailable() ? 'wasm' : 'js'; // 'wasm' on Node 20
 * ```
 */
export function wasmEngineAvailable(): boolean {
  return gemmWasm.available();
}

/**
 * The product kernel the default dense engine runs here: 'relaxed-simd-fma' where WebAssembly relaxed SIMD compiles
 * (Node ≥ 22, current browsers), else 'simd' where WebAssembly SIMD does (Node 20 without flags), else 'js'.
 *
 * @example
 * ```ts
 * import { denseKernel } from 'provenant/attribution';
 *
 * const kernel = denseKernel(); // 'simd' on Node 20, 'relaxed-simd-fma' on Node 22
 * ```
 */
export function denseKernel(): DenseKernel {
  return gemmFmaWasm.available() ? 'relaxed-simd-fma' : gemmWasm.available() ? 'simd' : 'js';
}

/**
 * The dense engine to use for `elements` float64 values: 'js' when asked for; otherwise 'wasm' when it is available and
 * the values fit its 4 GiB memory, else 'js'.
 *
 * @throws ProvenantError `BACKEND_UNAVAILABLE` when 'wasm' is requested explicitly but is missing or too small.
 * @example
 * ```ts
 * import { resolveEngine } from 'provenant/attribution';
 *
 * resolveEngine(undefined, 1_000_000); // 'wasm' where WebAssembly SIMD runs, else 'js'
 * resolveEngine('js', 1_000_000);      // 'js'
 * ```
 */
export function resolveEngine(requested: DenseEngine | undefined, elements: number): DenseEngine {
  if (requested === 'js') return 'js';
  const fits = elements <= WASM_MAX_ELEMENTS && wasmEngineAvailable();
  if (requested === 'wasm' && !fits) {
    throw new ProvenantError('BACKEND_UNAVAILABLE', `The WebAssembly SIMD engine cannot hold ${elements} float64 values here.`, {
      details: 'WebAssembly SIMD is missing in this runtime, or the problem exceeds 4 GiB: use engine "js".',
      data: { elements },
    });
  }
  return fits ? 'wasm' : 'js';
}

/**
 * A workspace able to hold `capacity` float64 values (more are allocated on demand up to the engine's limit).
 * `wasmKernel` picks the WebAssembly build (default the fastest that compiles here, see {@link denseKernel}); it is
 * ignored when the engine resolves to 'js'.
 *
 * @throws ProvenantError `BACKEND_UNAVAILABLE` when 'wasm' is requested but cannot run (see {@link resolveEngine}), or
 * `wasmKernel` names a build that does not compile here.
 * @example
 * ```ts
 * import { createDenseWorkspace } from 'provenant/attribution';
 * const ws = createDenseWorkspace(3 * 4, 'js');
 * const a = ws.alloc(4), b = ws.alloc(4), c = ws.alloc(4); // 2×2 each
 * ws.heap().set([1, 2, 3, 4], a); ws.heap().set([1, 0, 0, 1], b);
 * ws.gemmNT(2, 2, 2, 1, a, 2, b, 2, c, 2); // c = A·Bᵀ = A
 * ```
 */
export function createDenseWorkspace(capacity: number, engine?: DenseEngine, blocking: GemmBlocking = GEMM_WASM_BLOCKING, wasmKernel?: DenseWasmKernel): DenseWorkspace {
  const resolved = resolveEngine(engine, capacity + packingElements(blocking));
  if (resolved === 'js') return jsWorkspace(capacity);
  const kernel = wasmKernel ?? (gemmFmaWasm.available() ? 'relaxed-simd-fma' : 'simd');
  const exports = (kernel === 'relaxed-simd-fma' ? gemmFmaWasm : gemmWasm).instantiate();
  if (!exports) {
    throw new ProvenantError('BACKEND_UNAVAILABLE', 'WebAssembly relaxed SIMD is not enabled in this runtime: the fused multiply-add float64 kernel cannot run.', {
      details: "Use wasmKernel 'simd' (denseKernel() tells which runs here).",
      data: { kernel },
    });
  }
  return wasmWorkspace(exports, kernel, capacity, blocking);
}

/** Packing space of the WebAssembly kernel: the B block, the A block, and one edge tile. */
function packingElements({ mc, kc, nc }: GemmBlocking): number {
  return kc * (nc + mc) + 2 * GEMM_WASM_TILE.mr * GEMM_WASM_TILE.nr;
}

function align(n: number): number {
  return n + (n & 1);
}

function wasmWorkspace(exports: WasmExports, kernel: DenseWasmKernel, capacity: number, blocking: GemmBlocking): DenseWorkspace {
  const { memory, gemm } = exports;
  const { mr, nr } = GEMM_WASM_TILE;
  const mcb = Math.max(mr, blocking.mc - (blocking.mc % mr));
  const kcb = Math.max(1, blocking.kc);
  const ncb = Math.max(nr, blocking.nc - (blocking.nc % nr));
  // The packing buffers sit below the heap (elements 0 … pack−1); the first allocation starts after them.
  const pack = align(packingElements({ mc: mcb, kc: kcb, nc: ncb }));
  let top = pack;
  let view = new Float64Array(memory.buffer);
  const ensure = (elements: number): void => {
    const bytes = elements * 8;
    if (bytes <= memory.buffer.byteLength) return;
    const pages = Math.ceil((bytes - memory.buffer.byteLength) / PAGE);
    try {
      memory.grow(pages);
    } catch (cause) {
      throw new ProvenantError('BACKEND_UNAVAILABLE', `WebAssembly memory cannot grow to ${elements} float64 values.`, {
        details: 'Use engine "js" for problems beyond 4 GiB or when the process is short of memory.',
        data: { elements },
        cause,
      });
    }
    view = new Float64Array(memory.buffer);
  };
  ensure(pack + capacity);
  return {
    engine: 'wasm',
    kernel,
    heap: () => (view.buffer === memory.buffer ? view : (view = new Float64Array(memory.buffer))),
    alloc(count) {
      const at = top;
      top = align(top + count);
      ensure(top);
      view.fill(0, at, at + count);
      return at;
    },
    mark: () => top,
    release(mark) {
      top = mark;
    },
    gemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc, lower) {
      if (m > 0 && n > 0 && k > 0) gemm(m, n, k, alpha, a, lda, 1, b, ldb, 1, c, ldc, lower ?? ALL, 0, mcb, kcb, ncb);
    },
    gemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc, lower) {
      if (m > 0 && n > 0 && k > 0) gemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc, lower ?? ALL, 0, mcb, kcb, ncb);
    },
  };
}

function jsWorkspace(capacity: number): DenseWorkspace {
  let heap = new Float64Array(Math.max(2, capacity));
  let top = 0;
  return {
    engine: 'js',
    kernel: 'js',
    heap: () => heap,
    alloc(count) {
      const at = top;
      top = align(top + count);
      if (top > heap.length) {
        const grown = new Float64Array(Math.max(top, Math.ceil(heap.length * 1.5)));
        grown.set(heap.subarray(0, at));
        heap = grown;
      }
      heap.fill(0, at, at + count);
      return at;
    },
    mark: () => top,
    release(mark) {
      top = mark;
    },
    gemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc) {
      gemmJs(heap, m, n, k, alpha, a, lda, 1, b, ldb, 1, c, ldc);
    },
    gemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc) {
      gemmJs(heap, m, n, k, alpha, a, rsa, csa, b, rsb, csb, c, ldc);
    },
  };
}

/** The JavaScript engine: 2×4 register tiles over k in scalar float64, operands through strides (as the wasm kernel). */
export function gemmJs(h: Float64Array, m: number, n: number, k: number, alpha: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = b + j * rsb, b1 = b0 + rsb, b2 = b1 + rsb, b3 = b2 + rsb;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = a + i * rsa, a1 = a0 + rsa;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += csa, pb += csb) {
        const x0 = h[a0 + pa]!, x1 = h[a1 + pa]!;
        const y0 = h[b0 + pb]!, y1 = h[b1 + pb]!, y2 = h[b2 + pb]!, y3 = h[b3 + pb]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      const c0 = c + i * ldc + j, c1 = c0 + ldc;
      h[c0] += alpha * s00; h[c0 + 1] += alpha * s01; h[c0 + 2] += alpha * s02; h[c0 + 3] += alpha * s03;
      h[c1] += alpha * s10; h[c1 + 1] += alpha * s11; h[c1 + 2] += alpha * s12; h[c1 + 3] += alpha * s13;
    }
    for (; i < m; i++) {
      const a0 = a + i * rsa;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += csa, pb += csb) {
        const x0 = h[a0 + pa]!;
        s0 += x0 * h[b0 + pb]!; s1 += x0 * h[b1 + pb]!; s2 += x0 * h[b2 + pb]!; s3 += x0 * h[b3 + pb]!;
      }
      const c0 = c + i * ldc + j;
      h[c0] += alpha * s0; h[c0 + 1] += alpha * s1; h[c0 + 2] += alpha * s2; h[c0 + 3] += alpha * s3;
    }
  }
  for (; j < n; j++) {
    const b0 = b + j * rsb;
    for (let i = 0; i < m; i++) {
      const a0 = a + i * rsa;
      let s = 0;
      for (let p = 0; p < k; p++) s += h[a0 + p * csa]! * h[b0 + p * csb]!;
      h[c + i * ldc + j] += alpha * s;
    }
  }
}

/** Row and depth block sizes of the JavaScript engine's cache blocking: an A block of 256×256 float64 (512 KiB) in L2. */
export const GEMM_BLOCK = 256;

/**
 * C += α·A·Bᵀ blocked for cache. The WebAssembly kernel blocks and packs by itself; the JavaScript one gets depth in
 * chunks of {@link GEMM_BLOCK} and rows of A in chunks of the same, streaming B's rows against an A block in L2.
 *
 * @example
 * ```ts
 * import { createDenseWorkspace, gemmNTBlocked } from 'provenant/attribution';
 *
 * const ws = createDenseWorkspace(12, 'js');
 * const a = ws.alloc(4), b = ws.alloc(4), c = ws.alloc(4); // three 2 × 2 matrices
 * ws.heap().set([1, 2, 3, 4], a);
 * ws.heap().set([1, 0, 0, 1], b);
 * gemmNTBlocked(ws, 2, 2, 2, 1, a, 2, b, 2, c, 2);
 * ws.heap().slice(c, c + 4); // Float64Array [1, 2, 3, 4] (A·Iᵀ)
 * ```
 */
export function gemmNTBlocked(ws: DenseWorkspace, m: number, n: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number): void {
  if (ws.engine === 'wasm') {
    ws.gemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc);
    return;
  }
  for (let p0 = 0; p0 < k; p0 += GEMM_BLOCK) {
    const kc = Math.min(GEMM_BLOCK, k - p0);
    for (let i0 = 0; i0 < m; i0 += GEMM_BLOCK) {
      const mc = Math.min(GEMM_BLOCK, m - i0);
      ws.gemmNT(mc, n, kc, alpha, a + i0 * lda + p0, lda, b + p0, ldb, c + i0 * ldc, ldc);
    }
  }
}

/**
 * The lower triangle of C += α·A·Bᵀ for an m×m C (a SYRK-style update when B = A): entries with j ≤ i are updated,
 * the others may or may not be (the WebAssembly kernel skips tiles wholly above the diagonal, the JavaScript one works
 * by row blocks of {@link GEMM_BLOCK}, each including its diagonal square). A is m × k and B is m × k, row-major at heap
 * offsets `a`, `b`, with leading dimensions in elements; half the flops of a full product.
 *
 * @example
 * ```ts
 * import { createDenseWorkspace, gemmNTLower } from 'provenant/attribution';
 *
 * const ws = createDenseWorkspace(12, 'js');
 * const a = ws.alloc(4), c = ws.alloc(4);
 * ws.heap().set([1, 2, 3, 4], a); // A = [[1, 2], [3, 4]]
 * gemmNTLower(ws, 2, 2, 1, a, 2, a, 2, c, 2); // C += A·Aᵀ, lower triangle
 * ws.heap()[c + 2]; // 11 (= C[1][0]); C[0][0] = 5, C[1][1] = 25
 * ```
 */
export function gemmNTLower(ws: DenseWorkspace, m: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number): void {
  if (ws.engine === 'wasm') {
    ws.gemmNT(m, m, k, alpha, a, lda, b, ldb, c, ldc, 0);
    return;
  }
  for (let i0 = 0; i0 < m; i0 += GEMM_BLOCK) {
    const i1 = Math.min(m, i0 + GEMM_BLOCK);
    gemmNTBlocked(ws, i1 - i0, i1, k, alpha, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc);
  }
}
