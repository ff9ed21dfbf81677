/**
 * The one Cholesky factorisation of the code base: A = L Lᵀ for a symmetric positive definite n×n float64 matrix, and
 * triangular solves with many right-hand sides. Large matrices are factored recursively (Gustavson 1997): halves, a
 * triangular solve of the off-diagonal block and one rank-n/2 update of the trailing triangle — products with all three
 * dimensions in the thousands, run by Strassen–Winograd (strassen.ts; 7/8 of the multiply-adds per level) above its
 * crossover. Below it, right-looking and blocked in two levels (Golub & Van Loan, 4th ed., Alg. 4.2.4): per
 * block column of width {@link CHOLESKY_BLOCK}, the diagonal block is factored in place (itself blocked, in leaves of
 * 64), the panel below it is solved against it, and the trailing lower triangle takes the rank-b update as one
 * SYRK-style call (lower tiles only) — all but O(n·64²) of the n³/3 multiply-adds land in the product kernel
 * (dense-workspace.ts), packed and blocked for cache and SIMD. Triangular solves recurse the same way down to 256-wide
 * ranges, which run leaf by leaf: the earlier leaves'
 * part is subtracted on the kernel, then the row block is multiplied by the leaf's inverse (a triangular inverse is
 * backward stable in practice for the well-conditioned diagonal blocks of an SPD matrix; Higham 2002, §14.2), also on
 * the kernel; the inverses are kept and reused by every solve.
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';
import { createDenseWorkspace, gemmNTBlocked, gemmNTLower, type DenseEngine, type DenseWorkspace } from './dense-workspace.js';
import { gemmLowerStrassen, gemmStrassen, STRASSEN_DEFAULTS, type StrassenOptions } from './strassen.js';

/**
 * Width of a block column of the outer loop: each trailing update is one rank-{@link CHOLESKY_BLOCK} SYRK, so the
 * trailing matrix (out of cache at P in the thousands) is read and written n / CHOLESKY_BLOCK times in all.
 */
export const CHOLESKY_BLOCK = 256;
/**
 * Width of the diagonal leaves factored and inverted by scalar code. A diagonal block is itself factored right-looking
 * in leaves of this width, its inner updates and every triangular solve on the product kernel: of the n³/3
 * multiply-adds only n·LEAF²/3 (+ as many for the inverses) stay scalar.
 */
const LEAF = 64;

/** The options of {@link choleskyFactor}: a misspelt name is refused with the nearest field, never ignored. */
const CHOLESKY_PARAMS: ParamTable = Object.freeze({
  name: 'choleskyFactor',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'damping', default: 0, meaning: 'Added to the diagonal before factoring (λI).', aliases: ['lambda'] },
    { name: 'engine', default: null, meaning: 'wasm (WebAssembly SIMD, where available and within 4 GiB) or js (null: wasm where available).' },
    { name: 'strassen', default: STRASSEN_DEFAULTS, meaning: 'Strassen–Winograd settings of the large updates (levels: 0 keeps every product classic).' },
  ],
});

export interface CholeskyOptions {
  /** Added to the diagonal before factoring (λI); default 0. */
  damping?: number;
  /** 'wasm' (WebAssembly SIMD, default where available and within 4 GiB) or 'js'. */
  engine?: DenseEngine;
  /**
   * Strassen–Winograd in the large updates of the factorisation and of every solve; default {@link STRASSEN_DEFAULTS}.
   * `levels: 0` keeps every product classic (componentwise error bounds).
   */
  strassen?: StrassenOptions;
}

/** L with A = L Lᵀ, held for repeated solves. Right-hand sides are rows (rows × n, row-major), as queries are. */
export interface CholeskyFactor {
  readonly n: number;
  readonly engine: DenseEngine;
  /** X with A Xᵀ = Bᵀ (each row of X is A⁻¹ times that row of B); `rows` × n. */
  solveRows(B: ArrayLike<number>, rows: number): Float64Array;
  /** Y with L Yᵀ = Bᵀ (each row is L⁻¹ b): ‖L⁻¹ b‖² = bᵀA⁻¹b, e.g. self-influence, in half the work of a solve. */
  forwardRows(B: ArrayLike<number>, rows: number): Float64Array;
  /** The lower factor L as a new n×n row-major array (upper triangle zero). */
  lower(): Float64Array;
  /** log det A = 2 Σ log L_ii. */
  logDeterminant(): number;
}

interface Layout {
  ws: DenseWorkspace;
  n: number;
  /** Offset of the n×n matrix: L in the lower triangle (the upper one holds scratch values of the updates). */
  a: number;
  /** Per leaf (LEAF-wide diagonal block, in order): offset of the inverse of its factor, and of that inverse's transpose. */
  inv: number[];
  invT: number[];
  strassen: StrassenOptions;
}

/**
 * Factors A + damping·I (A n×n row-major, n ≥ 0; only its lower triangle is read). Throws `ATTRIBUTION_INPUT_INVALID` naming the
 * first non-positive pivot when the matrix is not positive definite to float64 precision (or holds NaN/∞), and
 * `ATTRIBUTION_SHAPE_MISMATCH` when A does not have n² entries.
 *
 * @example
 * ```ts
 * import { choleskyFactor } from 'provenant/attribution';
 * const chol = choleskyFactor(Float64Array.from([4, 2, 2, 3]), 2);
 * chol.solveRows([1, 0], 1); // first row of A⁻¹ = [0.375, -0.25]
 * ```
 */
export function choleskyFactor(A: ArrayLike<number>, n: number, options: CholeskyOptions = {}): CholeskyFactor {
  resolve(CHOLESKY_PARAMS, options);
  if (!Number.isInteger(n) || n < 0 || A.length !== n * n) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Matrix has ${A.length} entries, expected ${n}² (n = ${n}).`, { data: { entries: A.length, n } });
  }
  const damping = options.damping ?? 0;
  const leaves = Math.ceil(n / LEAF);
  // Matrix, inverses of the leaves, and the panel scratch.
  const ws = createDenseWorkspace(n * n + 2 * leaves * LEAF * LEAF + n * LEAF + 16, options.engine);
  const a = ws.alloc(n * n);
  {
    const h = ws.heap();
    if (A instanceof Float64Array) h.set(A, a);
    else for (let k = 0; k < n * n; k++) h[a + k] = A[k]!;
    if (damping !== 0) for (let i = 0; i < n; i++) h[a + i * n + i]! += damping;
  }
  const layout: Layout = { ws, n, a, inv: [], invT: [], strassen: options.strassen ?? STRASSEN_DEFAULTS };
  factorInPlace(layout, 0, n);
  return factorApi(layout);
}

/**
 * Recursive Cholesky (Gustavson 1997; Elmroth et al. 2004, SIAM Review 46(1)) on [s0, s1)²: factor the leading
 * half, solve the block below it against it ({@link trsmRight}), take the rank-|s0:mid| update of the trailing lower
 * triangle ({@link gemmLowerStrassen}), factor the trailing half. The updates are then products with all three
 * dimensions in the thousands — where Strassen–Winograd pays — instead of rank-256 SYRKs; below
 * twice the Strassen crossover the right-looking blocked loop ({@link factorBlocked}) runs.
 */
function factorInPlace(L: Layout, s0: number, s1: number): void {
  const { ws, n, a, strassen } = L;
  // Recurse while the halves are Strassen candidates (and at least one block column wide).
  if (strassen.levels <= 0 || s1 - s0 < 2 * strassen.crossoverDepth || s1 - s0 <= CHOLESKY_BLOCK) {
    factorBlocked(L, s0, s1);
    return;
  }
  const mid = s0 + Math.ceil((s1 - s0) / 2 / CHOLESKY_BLOCK) * CHOLESKY_BLOCK;
  factorInPlace(L, s0, mid);
  trsmRight(L, a + mid * n, n, s1 - mid, s0, mid);
  gemmLowerStrassen(ws, s1 - mid, mid - s0, -1, a + mid * n + s0, n, a + mid * n + s0, n, a + mid * n + mid, n, strassen);
  factorInPlace(L, mid, s1);
}

/**
 * Right-looking blocked Cholesky in two levels (Golub & Van Loan, 4th ed., Alg. 4.2.4, applied to the diagonal block
 * again) of the diagonal block [s0, s1)²: per block column J, the diagonal block is factored leaf by leaf, the panel below
 * it (down to s1) solved against it ({@link forwardBlock}), and the trailing lower triangle takes one rank-|J| update.
 */
function factorBlocked(L: Layout, s0: number, s1: number): void {
  const { ws, n, a } = L;
  for (let j0 = s0; j0 < s1; j0 += CHOLESKY_BLOCK) {
    const j1 = Math.min(s1, j0 + CHOLESKY_BLOCK);
    factorDiagonalBlock(L, j0, j1);
    const m = s1 - j1;
    if (m === 0) continue;
    // Panel: each row p of A[j1:s1, J] ← L_JJ⁻¹ p (i.e. the panel times L_JJ⁻ᵀ).
    forwardBlock(L, a + j1 * n, n, m, j0, j1);
    // Trailing update of the lower triangle: A[j1:s1, j1:s1] −= P Pᵀ (lower part) for the panel P = A[j1:s1, J].
    gemmNTLower(ws, m, j1 - j0, -1, a + j1 * n + j0, n, a + j1 * n + j0, n, a + j1 * n + j1, n);
  }
}

/**
 * Columns [j0, j1) of R (rows × ·, row stride ldr, column 0 at `r`), L_JJ factored: R_J ← R_J L_JJ⁻ᵀ (each row
 * x ↦ L_JJ⁻¹ x), recursively — solve the leading half, subtract its part from the trailing half (one product, by
 * Strassen–Winograd when large), solve the trailing half; 256-wide ranges go leaf by leaf ({@link forwardBlock}).
 */
function trsmRight(L: Layout, r: number, ldr: number, rows: number, j0: number, j1: number): void {
  const { ws, n, a, strassen } = L;
  if (j1 - j0 <= CHOLESKY_BLOCK) {
    forwardBlock(L, r, ldr, rows, j0, j1);
    return;
  }
  const mid = j0 + Math.ceil((j1 - j0) / 2 / CHOLESKY_BLOCK) * CHOLESKY_BLOCK;
  trsmRight(L, r, ldr, rows, j0, mid);
  // R[:, mid:j1] −= R[:, j0:mid] · L[mid:j1, j0:mid]ᵀ
  gemmStrassen(ws, rows, j1 - mid, mid - j0, -1, r + j0, ldr, 1, a + mid * n + j0, n, 1, r + mid, ldr, strassen);
  trsmRight(L, r, ldr, rows, mid, j1);
}

/** Columns [j0, j1) of R: R_J ← R_J L_JJ⁻¹ (each row y ↦ L_JJ⁻ᵀ y), recursively from the trailing half. */
function trsmRightTransposed(L: Layout, r: number, ldr: number, rows: number, j0: number, j1: number): void {
  const { ws, n, a, strassen } = L;
  if (j1 - j0 <= CHOLESKY_BLOCK) {
    backwardBlock(L, r, ldr, rows, j0, j1);
    return;
  }
  const mid = j0 + Math.ceil((j1 - j0) / 2 / CHOLESKY_BLOCK) * CHOLESKY_BLOCK;
  trsmRightTransposed(L, r, ldr, rows, mid, j1);
  // R[:, j0:mid] −= R[:, mid:j1] · L[mid:j1, j0:mid]: the kernel reads L's columns through strides (B(j, p) = L[mid + p, j0 + j]).
  gemmStrassen(ws, rows, mid - j0, j1 - mid, -1, r + mid, ldr, 1, a + mid * n + j0, 1, n, r + j0, ldr, strassen);
  trsmRightTransposed(L, r, ldr, rows, j0, mid);
}

/** The diagonal block [j0, j1)² in place, right-looking by leaves: factor and invert a leaf, solve below it, update. */
function factorDiagonalBlock(L: Layout, j0: number, j1: number): void {
  const { ws, n, a } = L;
  for (let l0 = j0; l0 < j1; l0 += LEAF) {
    const l1 = Math.min(j1, l0 + LEAF);
    const b = l1 - l0;
    factorLeaf(ws.heap(), a, n, l0, b);
    const inv = ws.alloc(b * b);
    const invT = ws.alloc(b * b);
    invertLower(ws.heap(), a + l0 * n + l0, n, b, inv, invT);
    L.inv.push(inv);
    L.invT.push(invT);
    const m = j1 - l1;
    if (m === 0) continue;
    multiplyBlock(L, a + l1 * n, n, m, l0, b, inv);
    gemmNTLower(ws, m, b, -1, a + l1 * n + l0, n, a + l1 * n + l0, n, a + l1 * n + l1, n);
  }
}

/** Unblocked Cholesky of the b×b leaf at (j0, j0), in place (lower triangle). */
function factorLeaf(h: Float64Array, a: number, n: number, j0: number, b: number): void {
  for (let j = 0; j < b; j++) {
    const rj = a + (j0 + j) * n + j0;
    let diag = h[rj + j]!;
    for (let k = 0; k < j; k++) diag -= h[rj + k]! * h[rj + k]!;
    if (!(diag > 0)) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Cholesky: pivot ${j0 + j} is ${diag}; the matrix is not positive definite.`, {
        details: 'Add damping (λI), regularise every parameter (bias included: softmax is shift-invariant), or check the input for NaN/∞.',
        data: { pivot: j0 + j, value: diag },
      });
    }
    const l = Math.sqrt(diag);
    h[rj + j] = l;
    for (let i = j + 1; i < b; i++) {
      const ri = a + (j0 + i) * n + j0;
      let s = h[ri + j]!;
      for (let k = 0; k < j; k++) s -= h[ri + k]! * h[rj + k]!;
      h[ri + j] = s / l;
    }
  }
}

/** inv = L⁻¹ (lower, b×b) of the lower-triangular block at `l` (stride n), and invT = its transpose. */
function invertLower(h: Float64Array, l: number, n: number, b: number, inv: number, invT: number): void {
  for (let c = 0; c < b; c++) {
    // Column c of L⁻¹ by forward substitution of e_c.
    h[inv + c * b + c] = 1 / h[l + c * n + c]!;
    for (let i = c + 1; i < b; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s -= h[l + i * n + k]! * h[inv + k * b + c]!;
      h[inv + i * b + c] = s / h[l + i * n + i]!;
    }
  }
  for (let i = 0; i < b; i++) for (let c = 0; c <= i; c++) h[invT + c * b + i] = h[inv + i * b + c]!;
}

/**
 * Columns [j0, j1) (factored diagonal block, j0 on a leaf boundary) of the rows × n matrix at `r` (row stride ldr,
 * column 0 at `r`): each row x ↦ L_JJ⁻¹ x, leaf by leaf — subtract the earlier leaves' part on the kernel, multiply by
 * the leaf's inverse on the kernel.
 */
function forwardBlock(L: Layout, r: number, ldr: number, rows: number, j0: number, j1: number): void {
  const { ws, n, a } = L;
  for (let l0 = j0; l0 < j1; l0 += LEAF) {
    const b = Math.min(LEAF, j1 - l0);
    // R[:, leaf] −= R[:, j0:l0] · L[leaf, j0:l0]ᵀ
    if (l0 > j0) gemmNTBlocked(ws, rows, b, l0 - j0, -1, r + j0, ldr, a + l0 * n + j0, n, r + l0, ldr);
    multiplyBlock(L, r, ldr, rows, l0, b, L.inv[l0 / LEAF]!);
  }
}

/** Columns [j0, j1) of R: each row y ↦ L_JJ⁻ᵀ y, leaf by leaf from the last. */
function backwardBlock(L: Layout, r: number, ldr: number, rows: number, j0: number, j1: number): void {
  const { ws, n, a } = L;
  const first = Math.floor((j1 - 1) / LEAF) * LEAF;
  for (let l0 = first; l0 >= j0; l0 -= LEAF) {
    const l1 = Math.min(j1, l0 + LEAF);
    // R[:, leaf] −= R[:, l1:j1] · L[l1:j1, leaf]: L's columns read through strides.
    if (j1 > l1) ws.gemm(rows, l1 - l0, j1 - l1, -1, r + l1, ldr, 1, a + l1 * n + l0, 1, n, r + l0, ldr);
    multiplyBlock(L, r, ldr, rows, l0, l1 - l0, L.invT[l0 / LEAF]!);
  }
}

/** In place on R (rows × n at `r`): R ← R L⁻ᵀ, i.e. each row b ↦ L⁻¹ b. */
function forwardInPlace(L: Layout, r: number, rows: number): void {
  trsmRight(L, r, L.n, rows, 0, L.n);
}

/** In place on R: R ← R L⁻¹, i.e. each row y ↦ L⁻ᵀ y. */
function backwardInPlace(L: Layout, r: number, rows: number): void {
  trsmRightTransposed(L, r, L.n, rows, 0, L.n);
}

/** R[:, j0:j0+b] ← R[:, j0:j0+b] · Mᵀ for the b×b matrix at `m` (R: rows × ·, row stride ldr). */
function multiplyBlock(L: Layout, r: number, ldr: number, rows: number, j0: number, b: number, m: number): void {
  const { ws } = L;
  const mark = ws.mark();
  const t = ws.alloc(rows * b);
  const h = ws.heap();
  for (let i = 0; i < rows; i++) {
    const at = r + i * ldr + j0;
    h.copyWithin(t + i * b, at, at + b);
    h.fill(0, at, at + b);
  }
  gemmNTBlocked(ws, rows, b, b, 1, t, b, m, b, r + j0, ldr);
  ws.release(mark);
}

/** Right-hand sides go through the workspace in chunks, so a solve for 10⁵ rows never holds more than this many rows. */
const SOLVE_CHUNK = 512;

function factorApi(L: Layout): CholeskyFactor {
  const { ws, n, a } = L;
  const run = (B: ArrayLike<number>, rows: number, backward: boolean): Float64Array => {
    if (!Number.isInteger(rows) || rows < 0 || B.length !== rows * n) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Right-hand sides have ${B.length} entries, expected ${rows} × ${n}.`, { data: { entries: B.length, rows, n } });
    }
    const out = new Float64Array(rows * n);
    for (let s = 0; s < rows; s += SOLVE_CHUNK) {
      const count = Math.min(SOLVE_CHUNK, rows - s);
      const mark = ws.mark();
      const r = ws.alloc(count * n);
      let h = ws.heap();
      if (B instanceof Float64Array) h.set(B.subarray(s * n, (s + count) * n), r);
      else for (let k = 0; k < count * n; k++) h[r + k] = B[s * n + k]!;
      forwardInPlace(L, r, count);
      if (backward) backwardInPlace(L, r, count);
      h = ws.heap();
      out.set(h.subarray(r, r + count * n), s * n);
      ws.release(mark);
    }
    return out;
  };
  return {
    n,
    engine: ws.engine,
    solveRows: (B, rows) => run(B, rows, true),
    forwardRows: (B, rows) => run(B, rows, false),
    lower() {
      const h = ws.heap();
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++) out.set(h.subarray(a + i * n, a + i * n + i + 1), i * n);
      return out;
    },
    logDeterminant() {
      const h = ws.heap();
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.log(h[a + i * n + i]!);
      return 2 * s;
    },
  };
}
