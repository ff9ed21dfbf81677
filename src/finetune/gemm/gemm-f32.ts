/**
 * A float32 matrix product on WebAssembly SIMD (scripts/gen-gemm-f32-wasm.py: packed A and B panels blocked for L1/L2,
 * 4×8 f32x4 register tiles), for the linear layers and attention of the Hugging Face models. Against tfjs-wasm's own
 * matMul (XNNPACK) on the bench:hf shapes (benchmarks/hf-gemm.ts, same run, load ≈ 3): 48–51 vs 36–38 GFLOP/s on Node 20
 * (SIMD 1.0 build), 43–48 vs 34–37 on Node 22 (FMA build), i.e. only ≈ 1.3× for a plain 2-D product (OpenBLAS: 96–109);
 * the gains are elsewhere: it reads either operand transposed through strides,
 * so dy·Wᵀ and xᵀ·dy need no transposed copy, and attention's batched products run as strided 2-D products instead of
 * tfjs-wasm's depthwise convolutions between layout transposes (≈ 3×).
 *
 * A workspace owns one WebAssembly instance and its memory (grown on demand, kept until `dispose`); a model makes one and
 * passes it to its layers, so there is no process-wide state beyond the compiled module.
 */
import { embeddedWasm, ProvenantError } from '../../core/index.js';
import { GEMM_F32_FMA_WASM_BASE64, GEMM_F32_WASM_BASE64, GEMM_F32_WASM_TILE } from './gemm-f32-wasm.js';

/** Cache blocking in float32 elements: an MC×KC block of A (64 KiB at 64×256, L2), a KC×NC block of B. */
export const GEMM_F32_BLOCKING = { mc: 64, kc: 256, nc: 2048 } as const;

interface WasmExports {
  gemm: (m: number, n: number, k: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number,
    scratch: number, mcb: number, kcb: number, ncb: number, beta: number) => void;
}
/** The slice of WebAssembly.Memory used here (the project's TypeScript lib has no WebAssembly value types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
// Compiled once on first use (no WebAssembly SIMD: callers fall back to tf.matMul); an instance per workspace, its memory
// imported (env.memory): a private one, or a heap lent by its owner (`GemmHeap`). The relaxed-SIMD module (fused
// multiply-add) compiles on Node ≥ 22 and Chromium ≥ 114 (not Safari), not on Node 20 without
// --experimental-wasm-relaxed-simd.
const gemmWasm = embeddedWasm<WasmExports>(GEMM_F32_WASM_BASE64);
const gemmFmaWasm = embeddedWasm<WasmExports>(GEMM_F32_FMA_WASM_BASE64);
const PAGE = 65536;
/** wasm32 addresses 4 GiB; one page of slack. */
const MAX_ELEMENTS = (65535 * PAGE) / 4;

/**
 * Whether the float32 WebAssembly SIMD product can run in this process (the module compiles once and is cached); false
 * where WebAssembly SIMD is missing, and then `createGemmF32` throws.
 *
 * @example
 * ```ts
 * import { createGemmF32, gemmF32Available } from 'provenant/finetune';
 *
 * const gemm = gemmF32Available() ? createGemmF32() : undefined; // a workspace on Node ≥ 16.4 and current browsers
 * gemm?.dispose();
 * ```
 */
export function gemmF32Available(): boolean {
  return gemmFmaWasm.available() || gemmWasm.available();
}

/**
 * Which float32 kernel `createGemmF32()` uses by default here: `'relaxed-simd-fma'` (each multiply-add one
 * `f32x4.relaxed_madd`, fused where the CPU has FMA; Node ≥ 22, Chrome ≥ 114, Node 20 with
 * `--experimental-wasm-relaxed-simd`), `'simd'` (WebAssembly SIMD 1.0: a multiply then an add), or null without
 * WebAssembly SIMD. The fused kernel rounds once per multiply-add, so its sums differ from the other's in the last bits.
 *
 * @example
 * ```ts
 * import { gemmF32Kernel } from 'provenant/finetune';
 *
 * gemmF32Kernel(); // 'simd' on Node 20; 'relaxed-simd-fma' on Node 22
 * ```
 */
export function gemmF32Kernel(): GemmF32Kernel | null {
  return gemmFmaWasm.available() ? 'relaxed-simd-fma' : gemmWasm.available() ? 'simd' : null;
}

/** The two float32 kernels: WebAssembly SIMD 1.0 (multiply, then add) and relaxed SIMD (fused multiply-add). */
export type GemmF32Kernel = 'simd' | 'relaxed-simd-fma';

/** One operand: row-major data [rows, cols], read transposed when `transpose` is set. */
export interface GemmOperand {
  data: Float32Array;
  rows: number;
  cols: number;
  transpose?: boolean;
}

/**
 * A WebAssembly memory lent to a workspace by its owner, with the owner's allocator: tfjs-wasm's heap
 * (`tfjsWasmHeap()`), whose tensors the product then reads and writes in place.
 */
export interface GemmHeap {
  /** The WebAssembly.Memory (not shared). */
  memory: WasmMemory;
  /** Allocates `bytes` in it; returns the byte address (unsigned; 0 when it cannot). */
  malloc(bytes: number): number;
  /** Frees an address `malloc` returned. */
  free(address: number): void;
}

export interface GemmF32 {
  /** The kernel this workspace runs (see `gemmF32Kernel`). */
  readonly kernel: GemmF32Kernel;
  /**
   * C = op(A)·op(B) (+ bias on every row), with op(A) [m, k] and op(B) [k, n], written into `into` [m·n] row-major when
   * given (and `into` returned), else into the workspace's memory (a view returned, valid until the next call: copy it
   * out before calling again). When the workspace has a heap and A, B and `into` are all views of it, nothing is copied:
   * the kernel packs A and B from where they are and writes C into `into`.
   */
  product(a: GemmOperand, b: GemmOperand, bias?: Float32Array | null, into?: Float32Array): Float32Array;
  /** Products run so far: in place on the lent heap, and through the private memory (operands and result copied). */
  readonly counts: { readonly inPlace: number; readonly copied: number };
  /** Frees the WebAssembly memory (the workspace must not be used afterwards). */
  dispose(): void;
}

/**
 * A float32 matrix-product workspace: `product(a, b, bias?)` computes op(A)·op(B) (+ bias) in WebAssembly SIMD, with
 * either operand read transposed at no copy. Memory grows to the largest problem seen (A, B, C and the packing space)
 * and is kept until `dispose()`.
 *
 * `options.kernel` picks the kernel; default the fastest that compiles here (`gemmF32Kernel()`). `options.heap` lends a
 * memory (tfjs-wasm's: `tfjsWasmHeap()`): products whose operands and output are views of it run in place there, with no
 * copy in or out (the packing space, ≈ 2.1 MiB, is allocated in it once and freed by `dispose`); other products use the
 * workspace's private memory as before.
 *
 * @throws ProvenantError `BACKEND_UNAVAILABLE` when WebAssembly SIMD is missing (check `gemmF32Available()` first), the
 * requested kernel does not compile here, or the problem exceeds the 4 GiB of a wasm32 memory.
 *
 * @example
 * ```ts
 * import { createGemmF32 } from 'provenant/finetune';
 *
 * const gemm = createGemmF32();
 * const c = gemm.product({ data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 }, { data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 });
 * Array.from(c); // [1, 2, 3, 4]
 * gemm.dispose();
 * ```
 */
export function createGemmF32(options: { kernel?: GemmF32Kernel; heap?: GemmHeap } = {}): GemmF32 {
  const kernel = options.kernel ?? gemmF32Kernel() ?? 'simd';
  const wasm = kernel === 'relaxed-simd-fma' ? gemmFmaWasm : gemmWasm;
  const Memory = (globalThis as unknown as { WebAssembly?: { Memory: new (limits: { initial: number; maximum: number }) => WasmMemory } }).WebAssembly?.Memory;
  const memory = wasm.available() && Memory ? new Memory({ initial: 1, maximum: 65536 }) : null;
  let instance: WasmExports | null = memory ? wasm.instantiate({ env: { memory } }) : null;
  if (!instance || !memory) {
    throw new ProvenantError(
      'BACKEND_UNAVAILABLE',
      kernel === 'simd'
        ? 'WebAssembly SIMD is not available in this runtime: the float32 product cannot run.'
        : 'WebAssembly relaxed SIMD is not enabled in this runtime: the fused multiply-add float32 kernel cannot run.',
      { details: kernel === 'simd' ? 'Use tf.matMul instead (gemmF32Available() tells beforehand).' : "Use kernel: 'simd' (gemmF32Kernel() tells which runs here).", data: { kernel } },
    );
  }
  const { mr, nr } = GEMM_F32_WASM_TILE;
  const { mc, kc, nc } = GEMM_F32_BLOCKING;
  const mcb = mc - (mc % mr);
  const ncb = nc - (nc % nr);
  const packing = kc * (ncb + mcb) + mr * nr;
  // The lent heap: a second instance on its memory, with the packing space (≈ 2.1 MiB) allocated there once. A memory
  // that does not link (a shared one, under tfjs's threaded build) leaves the workspace on its private memory only.
  let lent: { instance: WasmExports; memory: WasmMemory; address: number; scratch: number; free: (address: number) => void } | null = null;
  if (options.heap) {
    let onHeap: WasmExports | null = null;
    try {
      onHeap = wasm.instantiate({ env: { memory: options.heap.memory } });
    } catch {
      onHeap = null;
    }
    if (onHeap) {
      const address = options.heap.malloc(packing * 4 + 16);
      // Arithmetic, not bitwise: above 2 GiB a bitwise mask would turn the address negative.
      if (address > 0) lent = { instance: onHeap, memory: options.heap.memory, address, scratch: Math.ceil(address / 16) * 4, free: options.heap.free };
    }
  }
  let heap = new Float32Array(memory.buffer);
  const ensure = (elements: number): void => {
    if (elements > MAX_ELEMENTS) {
      throw new ProvenantError('BACKEND_UNAVAILABLE', `The float32 product needs ${elements} values, beyond a WebAssembly memory's 4 GiB.`, { data: { elements } });
    }
    if (elements * 4 > memory.buffer.byteLength) memory.grow(Math.ceil((elements * 4 - memory.buffer.byteLength) / PAGE));
    if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
  };
  const up4 = (n: number): number => (n + 3) & ~3;
  const counts = { inPlace: 0, copied: 0 };
  return {
    kernel,
    counts,
    product(a, b, bias, into) {
      const [m, k] = a.transpose ? [a.cols, a.rows] : [a.rows, a.cols];
      const [k2, n] = b.transpose ? [b.cols, b.rows] : [b.rows, b.cols];
      if (k !== k2 || a.data.length !== a.rows * a.cols || b.data.length !== b.rows * b.cols || (bias && bias.length !== n) || (into && into.length !== m * n)) {
        throw new ProvenantError(
          'LORA_SHAPE_MISMATCH',
          `Float32 product: cannot multiply [${m}, ${k}] by [${k2}, ${n}]${bias ? ` with a bias of ${bias.length}` : ''}${into ? ` into ${into.length} values` : ''}.`,
          { data: { a: [a.rows, a.cols, Boolean(a.transpose)], b: [b.rows, b.cols, Boolean(b.transpose)] } },
        );
      }
      if (!instance) throw new ProvenantError('BACKEND_UNAVAILABLE', 'This float32 product workspace was disposed.');
      // A(i, p) and B(j, p) through (row, column) strides: a transposed operand is read in place.
      const [rsa, csa] = a.transpose ? [1, m] : [k, 1];
      const [rsb, csb] = b.transpose ? [k, 1] : [1, n];
      // Without a bias the kernel overwrites C (beta 0: its first depth block stores rather than adds), so C is neither
      // zeroed nor read back: bench:hf's eight product shapes (Node 22, three interleaved runs at load ≈ 2)
      // took 57.7–59.5 vs 59.5–60.4 ms in all (2–4 % less).
      const overwrite = !bias && k > 0;
      const start = (c: Float32Array): void => {
        if (bias) for (let i = 0; i < m; i++) c.set(bias, i * n);
        else if (!overwrite) c.fill(0);
      };
      const onHeap = lent && into && [a.data, b.data, into].every((x) => x.buffer === lent!.memory.buffer);
      if (onHeap) {
        // In place on the lent heap: element offsets of the views themselves.
        start(into);
        counts.inPlace++;
        if (k > 0 && m > 0 && n > 0) {
          lent!.instance.gemm(m, n, k, a.data.byteOffset / 4, rsa, csa, b.data.byteOffset / 4, rsb, csb, into.byteOffset / 4, n, lent!.scratch, mcb, kc, ncb, overwrite ? 0 : 1);
        }
        return into;
      }
      // Layout of the private memory: packing space, then A, B, C, each 16-byte aligned.
      const pa = up4(packing);
      const pb = up4(pa + a.data.length);
      const pc = up4(pb + b.data.length);
      ensure(pc + m * n);
      counts.copied++;
      heap.set(a.data, pa);
      heap.set(b.data, pb);
      const c = heap.subarray(pc, pc + m * n);
      start(c);
      if (k > 0 && m > 0 && n > 0) instance.gemm(m, n, k, pa, rsa, csa, pb, rsb, csb, pc, n, 0, mcb, kc, ncb, overwrite ? 0 : 1);
      if (!into) return c;
      into.set(c);
      return into;
    },
    dispose() {
      instance = null;
      heap = new Float32Array(0);
      if (lent) lent.free(lent.address);
      lent = null;
    },
  };
}
