/**
 * Strassen–Winograd products on top of the packed kernel (dense-workspace.ts): C += α·A·Bᵀ in 7 half-size products and
 * 15 additions per level instead of 8 products (Winograd's variant of Strassen 1969), accumulating into C with four
 * temporaries per level (two operand sums, two products), in the spirit of the memory-efficient schedules of Boyer,
 * Dumas, Pernet & Zhou 2009. One level does 7/8 of the multiply-adds; the additions are O(n²) and run in
 * plain JavaScript over the workspace. Below a crossover the classic kernel runs unchanged.
 *
 * Numerics: Strassen–Winograd is not componentwise but normwise stable — ‖Ĉ − C‖ ≤ c_ℓ·u·‖A‖‖B‖ with c_ℓ growing
 * like 18^ℓ over ℓ levels for Winograd's variant (Higham 2002, Accuracy and Stability of Numerical Algorithms,
 * §23.2.2); at one or two levels the error stays a small multiple of the classic product's (tested against a
 * brute-force float64 product). Odd dimensions are handled by peeling the last row, column or depth slice onto the classic
 * kernel (dynamic peeling; Huss-Lederman et al. 1996).
 */
import { gemmNTLower, type DenseWorkspace } from './dense-workspace.js';

/** When a product recurses into Strassen–Winograd. */
export interface StrassenOptions {
  /** A level applies only when the depth k is at least this (the half-depth products must fill the kernel's KC blocks). */
  crossoverDepth: number;
  /** … and both m and n are at least this. */
  crossoverSide: number;
  /** Most levels of recursion (each level: 7 products of half size). */
  levels: number;
}

/**
 * Defaults, from A/Bs in one process of the WebAssembly kernel (benchmarks/kernels-strassen.ts; results in
 * benchmarks/results/kernels-strassen*.json; 2-core AMD EPYC, shared machine at load 3–8, so ±5 % is noise): square
 * products gain 0.95–1.18× up to 1,536, 1.07–1.27× at 2,048 (a second level helps there), 1.10–1.14× (one level) /
 * 1.21× (two) at 3,072 and 1.12× / 1.17–1.23× at 3,925; the scores product 5,000 × 2,250 × 785 (depth 785 = 3·256 + 17)
 * gains nothing reliable (0.91–1.09×). Inside the pipeline: the 7,850² Cholesky 1.01× / 1.09× (best of 2 and of 4
 * alternating runs), its 500 solves 0.96–0.97× (500-row products, whose halves are 250 rows) — hence depth ≥ 1,536 and
 * sides ≥ 512, which leaves the solves classic. `levels: 0` is the classic kernel.
 */
export const STRASSEN_DEFAULTS: StrassenOptions = { crossoverDepth: 1536, crossoverSide: 512, levels: 2 };

/** A matrix view in the workspace heap: element (i, j) at off + i·rs + j·cs. */
interface View {
  off: number;
  rs: number;
  cs: number;
}

/**
 * C[i, j] += α Σ_p A(i, p) B(j, p) (i < m, j < n, p < k) with A(i, p) at a + i·rsa + p·csa, B(j, p) at b + j·rsb + p·csb
 * and C row-major (ldc), exactly as {@link DenseWorkspace.gemm}, but by Strassen–Winograd where k reaches
 * `options.crossoverDepth` and m, n reach `options.crossoverSide`. Temporaries are taken from the workspace and released before it returns.
 *
 * @example
 * ```ts
 * import { createDenseWorkspace, gemmStrassen } from 'provenant/attribution';
 *
 * const ws = createDenseWorkspace(12, 'wasm');
 * const a = ws.alloc(4), b = ws.alloc(4), c = ws.alloc(4); // three 2 × 2 matrices
 * ws.heap().set([1, 2, 3, 4], a);
 * ws.heap().set([1, 0, 0, 1], b);
 * gemmStrassen(ws, 2, 2, 2, 1, a, 2, 1, b, 2, 1, c, 2, { crossoverDepth: 2, crossoverSide: 2, levels: 1 }); // one Strassen level
 * ws.heap().slice(c, c + 4); // Float64Array [1, 2, 3, 4] (A·Iᵀ)
 * ```
 */
export function gemmStrassen(
  ws: DenseWorkspace,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: number,
  rsa: number,
  csa: number,
  b: number,
  rsb: number,
  csb: number,
  c: number,
  ldc: number,
  options: StrassenOptions = STRASSEN_DEFAULTS,
): void {
  product(ws, m, n, k, alpha, { off: a, rs: rsa, cs: csa }, { off: b, rs: rsb, cs: csb }, { off: c, rs: ldc, cs: 1 }, options, options.levels);
}

/**
 * The lower triangle of C += α·A·Bᵀ for an m×m C (A and B m×k, row-major): split in halves, the two diagonal blocks
 * recurse and the off-diagonal block C₂₁ += α·A₂·B₁ᵀ — half the multiply-adds — is a general product, by
 * {@link gemmStrassen} when large. Entries above the diagonal may or may not be updated (as the kernel's lower mode).
 *
 * @example
 * ```ts
 * import { createDenseWorkspace, gemmLowerStrassen } from 'provenant/attribution';
 *
 * const ws = createDenseWorkspace(8, 'wasm');
 * const a = ws.alloc(4), c = ws.alloc(4);
 * ws.heap().set([1, 2, 3, 4], a); // A = [[1, 2], [3, 4]]
 * gemmLowerStrassen(ws, 2, 2, 1, a, 2, a, 2, c, 2); // C += A·Aᵀ, lower triangle
 * ws.heap()[c + 2]; // 11 (= C[1][0]); C[0][0] = 5, C[1][1] = 25
 * ```
 */
export function gemmLowerStrassen(
  ws: DenseWorkspace,
  m: number,
  k: number,
  alpha: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
  options: StrassenOptions = STRASSEN_DEFAULTS,
): void {
  // Recurse only while the off-diagonal block (m/2 × m/2 × k) is itself a Strassen candidate.
  if (options.levels <= 0 || m < 2 * options.crossoverSide || k < options.crossoverDepth) {
    if (m > 0 && k > 0) gemmNTLower(ws, m, k, alpha, a, lda, b, ldb, c, ldc);
    return;
  }
  // Split on a multiple of the kernel's 4-row tile so the diagonal blocks keep whole tiles.
  const h = Math.floor(m / 8) * 4;
  gemmLowerStrassen(ws, h, k, alpha, a, lda, b, ldb, c, ldc, options);
  gemmStrassen(ws, m - h, h, k, alpha, a + h * lda, lda, 1, b, ldb, 1, c + h * ldc, ldc, options);
  gemmLowerStrassen(ws, m - h, k, alpha, a + h * lda, lda, b + h * ldb, ldb, c + h * ldc + h, ldc, options);
}

/** The classic kernel; the JavaScript engine gets depth and row blocks of 256 so its A block stays in cache (as gemmNTBlocked). */
function classic(ws: DenseWorkspace, m: number, n: number, k: number, alpha: number, A: View, B: View, C: View): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  if (ws.engine === 'wasm') {
    ws.gemm(m, n, k, alpha, A.off, A.rs, A.cs, B.off, B.rs, B.cs, C.off, C.rs);
    return;
  }
  for (let p0 = 0; p0 < k; p0 += 256) {
    const kc = Math.min(256, k - p0);
    for (let i0 = 0; i0 < m; i0 += 256) {
      const mc = Math.min(256, m - i0);
      ws.gemm(mc, n, kc, alpha, A.off + i0 * A.rs + p0 * A.cs, A.rs, A.cs, B.off + p0 * B.cs, B.rs, B.cs, C.off + i0 * C.rs, C.rs);
    }
  }
}

function product(ws: DenseWorkspace, m: number, n: number, k: number, alpha: number, A: View, B: View, C: View, options: StrassenOptions, levels: number): void {
  if (levels <= 0 || m < options.crossoverSide || n < options.crossoverSide || k < options.crossoverDepth || Math.min(m, n, k) < 2) {
    classic(ws, m, n, k, alpha, A, B, C);
    return;
  }
  const m2 = m >> 1, n2 = n >> 1, k2 = k >> 1;
  winograd(ws, m2, n2, k2, alpha, A, B, C, options, levels - 1);
  // Dynamic peeling of odd dimensions onto the classic kernel: the depth slice of the core, then the last row and column.
  if (k & 1) classic(ws, 2 * m2, 2 * n2, 1, alpha, at(A, 0, 2 * k2), at(B, 0, 2 * k2), C);
  if (m & 1) classic(ws, 1, n, k, alpha, at(A, 2 * m2, 0), B, at(C, 2 * m2, 0));
  if (n & 1) classic(ws, 2 * m2, 1, k, alpha, A, at(B, 2 * n2, 0), at(C, 0, 2 * n2));
}

function at(v: View, i: number, j: number): View {
  return { off: v.off + i * v.rs + j * v.cs, rs: v.rs, cs: v.cs };
}

/**
 * One Strassen–Winograd level on the 2m×2n×2k core, in the C += A·Bᵀ form: with B' = Bᵀ (blocks B'_pq = (B_qp)ᵀ),
 * S1 = A21 + A22, S2 = S1 − A11, S3 = A11 − A21, S4 = A12 − S2; T1 = B'12 − B'11, T2 = B'22 − T1, T3 = B'22 − B'12,
 * T4 = T2 − B'21; P1 = A11B'11, P2 = A12B'21, P3 = S4B'22, P4 = A22T4, P5 = S1T1, P6 = S2T2, P7 = S3T3;
 * C11 += P1 + P2, C12 += P1 + P6 + P5 + P3, C21 += P1 + P6 + P7 − P4, C22 += P1 + P6 + P7 + P5.
 * Products used once accumulate straight into C; P1 + P6 (+ P7) builds up in U and P5 sits in W; the C-side additions
 * are fused into three passes (C11 += U; C12 += U + W; C21 += U with C22 += U + W).
 */
function winograd(ws: DenseWorkspace, m: number, n: number, k: number, alpha: number, A: View, B: View, C: View, options: StrassenOptions, levels: number): void {
  const A11 = A, A12 = at(A, 0, k), A21 = at(A, m, 0), A22 = at(A, m, k);
  // B'_pq: p over depth halves, q over B's rows (C's columns).
  const B11 = B, B12 = at(B, n, 0), B21 = at(B, 0, k), B22 = at(B, n, k);
  const C11 = C, C12 = at(C, 0, n), C21 = at(C, m, 0), C22 = at(C, m, n);
  const mark = ws.mark();
  // Temporaries take the layout of their source (so the additions walk both contiguously): S like A, T like B.
  const S = temp(ws, m, k, A);
  const T = temp(ws, n, k, B);
  const U = temp(ws, m, n, C);
  const W = temp(ws, m, n, C);
  const rec = (mm: number, nn: number, kk: number, alph: number, X: View, Y: View, Z: View) => product(ws, mm, nn, kk, alph, X, Y, Z, options, levels);

  rec(m, n, k, alpha, A11, B11, U); // U = αP1
  addRows(ws.heap(), m, n, C11, U, null, null);
  rec(m, n, k, alpha, A12, B21, C11); // C11 += αP2
  combine(ws.heap(), m, k, S, A21, A22, 1); // S1
  combine(ws.heap(), n, k, T, B12, B11, -1); // T1
  rec(m, n, k, alpha, S, T, W); // W = αP5
  combine(ws.heap(), m, k, S, S, A11, -1); // S2 = S1 − A11
  combine(ws.heap(), n, k, T, B22, T, -1); // T2 = B'22 − T1
  rec(m, n, k, alpha, S, T, U); // U = α(P1 + P6)
  addRows(ws.heap(), m, n, C12, U, W, null); // C12 += α(P1 + P6 + P5)
  combine(ws.heap(), m, k, S, A12, S, -1); // S4 = A12 − S2
  rec(m, n, k, alpha, S, B22, C12); // C12 += αP3
  combine(ws.heap(), n, k, T, T, B21, -1); // T4 = T2 − B'21
  rec(m, n, k, -alpha, A22, T, C21); // C21 −= αP4
  combine(ws.heap(), m, k, S, A11, A21, -1); // S3
  combine(ws.heap(), n, k, T, B22, B12, -1); // T3
  rec(m, n, k, alpha, S, T, U); // U = α(P1 + P6 + P7)
  addRows(ws.heap(), m, n, C21, U, W, C22); // C21 += U; C22 += U + W
  ws.release(mark);
}

/** A zeroed rows × cols temporary, row-major unless its source runs down columns (|cs| > |rs|). */
function temp(ws: DenseWorkspace, rows: number, cols: number, like: View): View {
  const off = ws.alloc(rows * cols);
  return Math.abs(like.cs) > Math.abs(like.rs) ? { off, rs: 1, cs: rows } : { off, rs: cols, cs: 1 };
}

/** out = x + s·y elementwise over rows × cols (out may alias x or y: each element is read before it is written). */
function combine(h: Float64Array, rows: number, cols: number, out: View, x: View, y: View, s: 1 | -1): void {
  // Walk along out's contiguous direction.
  if (out.cs === 1 || out.rs !== 1) {
    for (let i = 0; i < rows; i++) {
      const o = out.off + i * out.rs, xo = x.off + i * x.rs, yo = y.off + i * y.rs;
      const oc = out.cs, xc = x.cs, yc = y.cs;
      if (oc === 1 && xc === 1 && yc === 1) {
        if (s === 1) for (let j = 0; j < cols; j++) h[o + j] = h[xo + j]! + h[yo + j]!;
        else for (let j = 0; j < cols; j++) h[o + j] = h[xo + j]! - h[yo + j]!;
      } else {
        for (let j = 0; j < cols; j++) h[o + j * oc] = h[xo + j * xc]! + s * h[yo + j * yc]!;
      }
    }
  } else {
    for (let j = 0; j < cols; j++) {
      const o = out.off + j * out.cs, xo = x.off + j * x.cs, yo = y.off + j * y.cs;
      const xr = x.rs, yr = y.rs;
      if (xr === 1 && yr === 1) {
        if (s === 1) for (let i = 0; i < rows; i++) h[o + i] = h[xo + i]! + h[yo + i]!;
        else for (let i = 0; i < rows; i++) h[o + i] = h[xo + i]! - h[yo + i]!;
      } else {
        for (let i = 0; i < rows; i++) h[o + i] = h[xo + i * xr]! + s * h[yo + i * yr]!;
      }
    }
  }
}

/**
 * The C-side updates in one pass each (C's blocks, U and W all row-major with unit column stride): out += x, or
 * out += x + y, or, with `out2`, out += x and out2 += x + y — each operand read once (the additions are bound by memory).
 */
function addRows(h: Float64Array, rows: number, cols: number, out: View, x: View, y: View | null, out2: View | null): void {
  for (let i = 0; i < rows; i++) {
    const o = out.off + i * out.rs, xo = x.off + i * x.rs;
    if (y === null) {
      for (let j = 0; j < cols; j++) h[o + j]! += h[xo + j]!;
    } else if (out2 === null) {
      const yo = y.off + i * y.rs;
      for (let j = 0; j < cols; j++) h[o + j]! += h[xo + j]! + h[yo + j]!;
    } else {
      const yo = y.off + i * y.rs, o2 = out2.off + i * out2.rs;
      for (let j = 0; j < cols; j++) {
        const u = h[xo + j]!;
        h[o + j]! += u;
        h[o2 + j]! += u + h[yo + j]!;
      }
    }
  }
}
