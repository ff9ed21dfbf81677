/**
 * The one Cholesky factorisation of the code base: A = L Lᵀ for a symmetric positive definite n×n float64 matrix, and
 * triangular solves with many right-hand sides. Right-looking and blocked (Golub & Van Loan, 4th ed., Alg. 4.2.4): per
 * block column of width {@link CHOLESKY_BLOCK}, the diagonal block is factored in place, the panel below it is solved
 * against it, and the trailing lower triangle takes the rank-b update as one SYRK-style call (lower tiles only) — nearly
 * all n³/3 multiply-adds land in the product kernel (dense-workspace.ts), packed and blocked for cache and SIMD. The panel solve multiplies by the inverse of the
 * b×b diagonal factor (a triangular inverse is backward stable in practice for the well-conditioned diagonal blocks of an
 * SPD matrix; Higham 2002, §14.2) so it runs on the same kernel; the inverses are kept and reused by every solve.
 */
import { ProvenantError } from '../../core/index.js';
import { createDenseWorkspace, gemmNTBlocked, gemmNTLower, type DenseEngine, type DenseWorkspace } from './dense-workspace.js';

/** Width of a block column: large enough that the kernel's tiles amortise, small enough that a panel stays in L2. */
export const CHOLESKY_BLOCK = 128;

export interface CholeskyOptions {
  /** Added to the diagonal before factoring (λI); default 0. */
  damping?: number;
  /** 'wasm' (WebAssembly SIMD, default where available and within 4 GiB) or 'js'. */
  engine?: DenseEngine;
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
  /** Per block column: offset of the inverse of its diagonal factor, and of that inverse's transpose (b×b each). */
  inv: number[];
  invT: number[];
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
  if (!Number.isInteger(n) || n < 0 || A.length !== n * n) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Matrix has ${A.length} entries, expected ${n}² (n = ${n}).`, { data: { entries: A.length, n } });
  }
  const damping = options.damping ?? 0;
  const blocks = Math.ceil(n / CHOLESKY_BLOCK);
  // Matrix, inverses of the diagonal blocks, and the panel scratch.
  const ws = createDenseWorkspace(n * n + 2 * blocks * CHOLESKY_BLOCK * CHOLESKY_BLOCK + n * CHOLESKY_BLOCK + 16, options.engine);
  const a = ws.alloc(n * n);
  {
    const h = ws.heap();
    if (A instanceof Float64Array) h.set(A, a);
    else for (let k = 0; k < n * n; k++) h[a + k] = A[k]!;
    if (damping !== 0) for (let i = 0; i < n; i++) h[a + i * n + i]! += damping;
  }
  const layout: Layout = { ws, n, a, inv: [], invT: [] };
  factorInPlace(layout);
  return factorApi(layout);
}

function factorInPlace(L: Layout): void {
  const { ws, n, a } = L;
  const nb = CHOLESKY_BLOCK;
  for (let j0 = 0; j0 < n; j0 += nb) {
    const j1 = Math.min(n, j0 + nb);
    const b = j1 - j0;
    factorDiagonalBlock(ws.heap(), a, n, j0, b);
    const inv = ws.alloc(b * b);
    const invT = ws.alloc(b * b);
    invertLower(ws.heap(), a + j0 * n + j0, n, b, inv, invT);
    L.inv.push(inv);
    L.invT.push(invT);
    const m = n - j1;
    if (m === 0) continue;
    // Panel: A[j1:n, J] ← A[j1:n, J] · L_JJ⁻ᵀ  (C += T · Invᵀ with T a copy of the panel, the panel zeroed).
    const mark = ws.mark();
    const t = ws.alloc(m * b);
    {
      const h = ws.heap();
      for (let i = 0; i < m; i++) {
        const row = a + (j1 + i) * n + j0;
        h.copyWithin(t + i * b, row, row + b);
        h.fill(0, row, row + b);
      }
    }
    gemmNTBlocked(ws, m, b, b, 1, t, b, inv, b, a + j1 * n + j0, n);
    ws.release(mark);
    // Trailing update of the lower triangle: A[j1:n, j1:n] −= P Pᵀ (lower part) for the panel P = A[j1:n, J].
    gemmNTLower(ws, m, b, -1, a + j1 * n + j0, n, a + j1 * n + j0, n, a + j1 * n + j1, n);
  }
}

/** Unblocked Cholesky of the b×b diagonal block at (j0, j0), in place (lower triangle). */
function factorDiagonalBlock(h: Float64Array, a: number, n: number, j0: number, b: number): void {
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

/** In place on R (rows × n at `r`): R ← R L⁻ᵀ, i.e. each row b ↦ L⁻¹ b. */
function forwardInPlace(L: Layout, r: number, rows: number): void {
  const { ws, n, a } = L;
  const nb = CHOLESKY_BLOCK;
  for (let blk = 0, j0 = 0; j0 < n; blk++, j0 += nb) {
    const b = Math.min(nb, n - j0);
    gemmNTBlocked(ws, rows, b, j0, -1, r, n, a + j0 * n, n, r + j0, n);
    multiplyBlock(L, r, rows, j0, b, L.inv[blk]!);
  }
}

/** In place on R: R ← R L⁻¹, i.e. each row y ↦ L⁻ᵀ y. */
function backwardInPlace(L: Layout, r: number, rows: number): void {
  const { ws, n, a } = L;
  const nb = CHOLESKY_BLOCK;
  for (let blk = L.inv.length - 1; blk >= 0; blk--) {
    const j0 = blk * nb;
    const b = Math.min(nb, n - j0);
    const j1 = j0 + b;
    // R[:, J] −= R[:, j1:n] · L[j1:n, J]: the kernel reads L's columns through strides (B(j, p) = L[j1 + p, j0 + j]).
    if (n > j1) ws.gemm(rows, b, n - j1, -1, r + j1, n, 1, a + j1 * n + j0, 1, n, r + j0, n);
    multiplyBlock(L, r, rows, j0, b, L.invT[blk]!);
  }
}

/** R[:, j0:j0+b] ← R[:, j0:j0+b] · Mᵀ for the b×b matrix at `m`. */
function multiplyBlock(L: Layout, r: number, rows: number, j0: number, b: number, m: number): void {
  const { ws, n } = L;
  const mark = ws.mark();
  const t = ws.alloc(rows * b);
  const h = ws.heap();
  for (let i = 0; i < rows; i++) {
    const at = r + i * n + j0;
    h.copyWithin(t + i * b, at, at + b);
    h.fill(0, at, at + b);
  }
  gemmNTBlocked(ws, rows, b, b, 1, t, b, m, b, r + j0, n);
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
