#!/usr/bin/env python3
"""Generates src/finetune/gemm/gemm-f32-wasm.ts: the float32 matrix product C += A * B as a small WebAssembly SIMD module
(f32x4), embedded as base64 so nothing is fetched at run time. Needs `wat2wasm` (Debian package wabt) only to regenerate:
    python3 scripts/gen-gemm-f32-wasm.py > src/finetune/gemm/gemm-f32-wasm.ts
    python3 scripts/gen-gemm-f32-wasm.py --wat [--fma]  # the text format, to read

The float32 sibling of scripts/gen-linalg-wasm.py (the float64 kernel of src/attribution/linalg), with the same structure
(Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 34(3), 2008; the BLIS loop order,
Van Zee & van de Geijn 2015):
  gemm   - loops over column blocks of C (NC), depth blocks (KC) and row blocks (MC); packs a KC x NC block of B and an
           MC x KC block of A into contiguous micro-panels, then runs the macro-kernel. Operands are read through
           (row stride, column stride) pairs, so A, B or both may be transposed at no copy.
  pack_R - R rows x kc of a strided operand into a micro-panel: for each p, the R values side by side (zero-padded past
           the last row). When the R values are contiguous in the source (unit row stride: B = W of y = x.W, or A = x^T
           of a weight gradient) the panel is filled with v128 loads instead of scalar ones.
  macro  - micro-panel pairs; one B micro-panel (KC x NR floats, 8 KiB at KC = 256, NR = 8) stays in L1.
  micro  - an MR x NR register tile: MR*NR/4 f32x4 accumulators (MR = 4, NR = 8: 8 accumulators + 2 B vectors + 1
           broadcast A value, as the float64 kernel's 4 x 4 f64x2 tile but twice the flops per instruction), per k-step
           NR/4 vector loads of B, MR `v128.load32_splat` of A, MR*NR/4 multiplies and as many adds (no FMA in WebAssembly
           SIMD 1.0). k-loop not unrolled by default (TurboFan hoists every load of an unrolled body and spills, as
           measured for the float64 kernel; 4x8 also beat 6x8, 4x12, 8x8 and 3x16 tiles and a x2 unroll here: 30 vs
           20-23 GFLOP/s).
Two modules are emitted: the WebAssembly SIMD 1.0 one above, and the same kernel with each multiply-add as one
`f32x4.relaxed_madd` (the relaxed-SIMD proposal: a fused multiply-add where the CPU has one, V8 lowers it to vfmadd on
x64 with FMA3). The relaxed one validates on Node >= 22 / Chrome >= 114 (on Node 20 only with
--experimental-wasm-relaxed-simd); the caller uses it where it compiles and falls back to the other (measured on this
machine's EPYC, 1 thread: 41-45 vs 29-31 GFLOP/s on the bench:hf shapes).
Every function is separate (not inlined) so V8's tier-up to TurboFan replaces the hot ones between calls.
Tested against tf.matMul and a brute-force triple loop in test/finetune/gemm."""
import sys

from wasm_module import gemm_module, wat_to_base64

MR, NR, U = 4, 8, 1
for _flag in ('mr', 'nr', 'u'):  # overrides to measure other tiles: --mr 6 --nr 8
    if f'--{_flag}' in sys.argv:
        globals()[_flag.upper()] = int(sys.argv[sys.argv.index(f'--{_flag}') + 1])
assert NR % 4 == 0


def micro(fma):
    """micro(kc, pa, pb, c, ldc4): C[r, 0:NR] += sum_p pa[p, r] * pb[p, 0:NR] (C at byte address c, row stride ldc4 bytes)."""
    nv = NR // 4
    accs = [f'$acc{r}_{v}' for r in range(MR) for v in range(nv)]
    w = ['  (func $micro (param $kc i32) (param $pa i32) (param $pb i32) (param $c i32) (param $ldc4 i32) (param $beta i32)']
    loc = ['$kend i32', '$kmain i32', '$a v128', '$pc i32'] + [f'$b{v} v128' for v in range(nv)] + [f'{x} v128' for x in accs]
    w.append('    ' + ' '.join(f'(local {l})' for l in loc))
    step = MR * 4  # bytes of A per k-step
    stepb = NR * 4

    def body(j):
        out = []
        for v in range(nv):
            out.append(f'        (local.set $b{v} (v128.load offset={j * stepb + 16 * v} (local.get $pb)))')
        for r in range(MR):
            out.append(f'        (local.set $a (v128.load32_splat offset={j * step + 4 * r} (local.get $pa)))')
            for v in range(nv):
                if fma:
                    out.append(f'        (local.set $acc{r}_{v} (f32x4.relaxed_madd (local.get $a) (local.get $b{v}) (local.get $acc{r}_{v})))')
                else:
                    out.append(f'        (local.set $acc{r}_{v} (f32x4.add (local.get $acc{r}_{v}) (f32x4.mul (local.get $a) (local.get $b{v}))))')
        return out

    w.append(f'    (local.set $kend (i32.add (local.get $pa) (i32.mul (local.get $kc) (i32.const {step}))))')
    w.append(f'    (local.set $kmain (i32.add (local.get $pa) (i32.mul (i32.and (local.get $kc) (i32.const {-U})) (i32.const {step}))))')
    w.append('    (if (i32.lt_u (local.get $pa) (local.get $kmain)) (then (loop $ku')
    for j in range(U):
        w += body(j)
    w.append(f'        (local.set $pa (i32.add (local.get $pa) (i32.const {U * step})))')
    w.append(f'        (local.set $pb (i32.add (local.get $pb) (i32.const {U * stepb})))')
    w.append('        (br_if $ku (i32.lt_u (local.get $pa) (local.get $kmain))))))')
    w.append('    (if (i32.lt_u (local.get $pa) (local.get $kend)) (then (loop $k1')
    w += body(0)
    w.append(f'        (local.set $pa (i32.add (local.get $pa) (i32.const {step})))')
    w.append(f'        (local.set $pb (i32.add (local.get $pb) (i32.const {stepb})))')
    w.append('        (br_if $k1 (i32.lt_u (local.get $pa) (local.get $kend))))))')
    # beta = 1: C += tile; beta = 0: C = tile (the first depth block of a product into uninitialised C: no fill, no read).
    w.append('    (if (local.get $beta) (then')
    for r in range(MR):
        w.append(f'    (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $ldc4) (i32.const {r}))))')
        for v in range(nv):
            w.append(f'    (v128.store offset={16 * v} align=4 (local.get $pc) (f32x4.add (v128.load offset={16 * v} align=4 (local.get $pc)) (local.get $acc{r}_{v})))')
    w.append('    ) (else')
    for r in range(MR):
        w.append(f'    (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $ldc4) (i32.const {r}))))')
        for v in range(nv):
            w.append(f'    (v128.store offset={16 * v} align=4 (local.get $pc) (local.get $acc{r}_{v}))')
    w.append('    ))')
    w.append('  )')
    return w


def pack(R):
    """pack_R(src, rs4, cs4, rows, kc, dst): rows x kc of the operand at byte address src (element (i, p) at
    src + i*rs4 + p*cs4) into ceil(rows/R) micro-panels of kc x R, zero-padded. Unit row stride (rs4 = 4): v128 copies."""
    w = [f'  (func $pack{R} (param $src i32) (param $rs4 i32) (param $cs4 i32) (param $rows i32) (param $kc i32) (param $dst i32)']
    loc = ['$i i32', '$p i32', '$r i32', '$s i32'] + [f'$s{r} i32' for r in range(R)]
    w.append('    ' + ' '.join(f'(local {l})' for l in loc))
    w.append('    (block $done (loop $panels')
    w.append(f'      (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const {R})) (local.get $rows)))')
    w.append('      (local.set $p (i32.const 0))')
    # Contiguous rows: one source pointer, R/4 vector copies per p.
    w.append(f'      (if (i32.and (i32.eq (local.get $rs4) (i32.const 4)) (i32.eqz (i32.and (i32.const {R}) (i32.const 3)))) (then')
    w.append('        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))')
    w.append('        (block $vd (loop $vl')
    w.append('          (br_if $vd (i32.ge_s (local.get $p) (local.get $kc)))')
    for q in range(R // 4):
        w.append(f'          (v128.store offset={16 * q} align=4 (local.get $dst) (v128.load offset={16 * q} align=4 (local.get $s)))')
    w.append('          (local.set $s (i32.add (local.get $s) (local.get $cs4)))')
    w.append(f'          (local.set $dst (i32.add (local.get $dst) (i32.const {4 * R})))')
    w.append('          (local.set $p (i32.add (local.get $p) (i32.const 1)))')
    w.append('          (br $vl))))')
    w.append('      (else')
    for r in range(R):
        w.append(f'        (local.set $s{r} (i32.add (local.get $src) (i32.mul (i32.add (local.get $i) (i32.const {r})) (local.get $rs4))))')
    w.append('        (block $pd (loop $pl')
    w.append('          (br_if $pd (i32.ge_s (local.get $p) (local.get $kc)))')
    for r in range(R):
        w.append(f'          (f32.store offset={4 * r} (local.get $dst) (f32.load (local.get $s{r})))')
        w.append(f'          (local.set $s{r} (i32.add (local.get $s{r}) (local.get $cs4)))')
    w.append(f'          (local.set $dst (i32.add (local.get $dst) (i32.const {4 * R})))')
    w.append('          (local.set $p (i32.add (local.get $p) (i32.const 1)))')
    w.append('          (br $pl)))))')
    w.append(f'      (local.set $i (i32.add (local.get $i) (i32.const {R})))')
    w.append('      (br $panels)))')
    # Last, partial panel: rows i..rows-1, zeros after.
    w.append('    (if (i32.lt_s (local.get $i) (local.get $rows)) (then')
    w.append('      (local.set $p (i32.const 0))')
    w.append('      (block $pd2 (loop $pl2')
    w.append('        (br_if $pd2 (i32.ge_s (local.get $p) (local.get $kc)))')
    w.append('        (local.set $r (i32.const 0))')
    w.append('        (local.set $s (i32.add (local.get $src) (i32.add (i32.mul (local.get $i) (local.get $rs4)) (i32.mul (local.get $p) (local.get $cs4)))))')
    w.append('        (block $rd (loop $rl')
    w.append(f'          (br_if $rd (i32.ge_s (local.get $r) (i32.const {R})))')
    w.append('          (f32.store (local.get $dst) (if (result f32) (i32.lt_s (i32.add (local.get $i) (local.get $r)) (local.get $rows))'
             ' (then (f32.load (local.get $s))) (else (f32.const 0))))')
    w.append('          (local.set $s (i32.add (local.get $s) (local.get $rs4)))')
    w.append('          (local.set $dst (i32.add (local.get $dst) (i32.const 4)))')
    w.append('          (local.set $r (i32.add (local.get $r) (i32.const 1)))')
    w.append('          (br $rl)))')
    w.append('        (local.set $p (i32.add (local.get $p) (i32.const 1)))')
    w.append('        (br $pl2)))')
    w.append('    ))')
    w.append('  )')
    return w


def macro():
    """macro(mc, nc, kc, pa, pb, c, ldc4, tmp): every MR x NR tile of the packed block pair; edge tiles go through tmp."""
    w = ['  (func $macro (param $mc i32) (param $nc i32) (param $kc i32) (param $pa i32) (param $pb i32)'
         ' (param $c i32) (param $ldc4 i32) (param $tmp i32) (param $beta i32)']
    loc = ['$i i32', '$j i32', '$mr i32', '$nr i32', '$pbj i32', '$cj i32', '$r i32', '$q i32', '$at i32']
    w.append('    ' + ' '.join(f'(local {l})' for l in loc))
    w.append('    (block $jd (loop $jl')
    w.append('      (br_if $jd (i32.ge_s (local.get $j) (local.get $nc)))')
    w.append(f'      (local.set $nr (select (i32.const {NR}) (i32.sub (local.get $nc) (local.get $j)) (i32.ge_s (i32.sub (local.get $nc) (local.get $j)) (i32.const {NR}))))')
    w.append('      (local.set $pbj (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $j) (local.get $kc)) (i32.const 2))))')
    w.append('      (local.set $cj (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))))')
    w.append('      (local.set $i (i32.const 0))')
    w.append('      (block $id (loop $il')
    w.append('        (br_if $id (i32.ge_s (local.get $i) (local.get $mc)))')
    w.append(f'        (local.set $mr (select (i32.const {MR}) (i32.sub (local.get $mc) (local.get $i)) (i32.ge_s (i32.sub (local.get $mc) (local.get $i)) (i32.const {MR}))))')
    w.append(f'        (if (i32.and (i32.eq (local.get $mr) (i32.const {MR})) (i32.eq (local.get $nr) (i32.const {NR}))) (then')
    w.append('          (call $micro (local.get $kc) (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 2))) (local.get $pbj)'
             ' (i32.add (local.get $cj) (i32.mul (local.get $i) (local.get $ldc4))) (local.get $ldc4) (local.get $beta)))')
    w.append('        (else')
    for q in range(MR * NR // 4):
        w.append(f'          (v128.store offset={16 * q} (local.get $tmp) (v128.const i32x4 0 0 0 0))')
    w.append('          (call $micro (local.get $kc) (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 2))) (local.get $pbj)'
             f' (local.get $tmp) (i32.const {NR * 4}) (i32.const 1))')
    w.append('          (local.set $r (i32.const 0))')
    w.append('          (block $rd (loop $rl')
    w.append('            (br_if $rd (i32.ge_s (local.get $r) (local.get $mr)))')
    w.append('            (local.set $q (i32.const 0))')
    w.append('            (block $qd (loop $ql')
    w.append('              (br_if $qd (i32.ge_s (local.get $q) (local.get $nr)))')
    w.append('              (local.set $at (i32.add (i32.add (local.get $cj) (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $ldc4))) (i32.shl (local.get $q) (i32.const 2))))')
    w.append(f'              (f32.store (local.get $at) (f32.add (select (f32.load (local.get $at)) (f32.const 0) (local.get $beta)) (f32.load (i32.add (local.get $tmp) (i32.shl (i32.add (i32.mul (local.get $r) (i32.const {NR})) (local.get $q)) (i32.const 2))))))')
    w.append('              (local.set $q (i32.add (local.get $q) (i32.const 1)))')
    w.append('              (br $ql)))')
    w.append('            (local.set $r (i32.add (local.get $r) (i32.const 1)))')
    w.append('            (br $rl)))')
    w.append('        ))')
    w.append(f'        (local.set $i (i32.add (local.get $i) (i32.const {MR})))')
    w.append('        (br $il)))')
    w.append(f'      (local.set $j (i32.add (local.get $j) (i32.const {NR})))')
    w.append('      (br $jl)))')
    w.append('  )')
    return w


def gemm():
    """gemm(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, scratch, mcb, kcb, ncb, beta): C[i, j] (+)= sum_p A(i, p) B(j, p) for
    i < m, j < n, with A(i, p) at element a + i*rsa + p*csa, B(j, p) at b + j*rsb + p*csb (so B = W of C = A.W has
    rsb = 1, csb = n), C row-major at c with row stride ldc (all in float32 elements). scratch: element offset of a free
    region of kcb*(ncb + mcb) + MR*NR floats, 16-byte aligned (ncb a multiple of NR, mcb of MR). beta = 0 overwrites C
    instead (C = A.B^T: the first depth block stores its tiles, later ones add), so C need not be zeroed first."""
    w = ['  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $rsa i32) (param $csa i32)'
         ' (param $b i32) (param $rsb i32) (param $csb i32) (param $c i32) (param $ldc i32) (param $scratch i32)'
         ' (param $mcb i32) (param $kcb i32) (param $ncb i32) (param $beta i32)']
    loc = ['$jc i32', '$pc i32', '$ic i32', '$nc i32', '$kc i32', '$mc i32', '$pbuf i32', '$pabuf i32', '$tmp i32']
    w.append('    ' + ' '.join(f'(local {l})' for l in loc))
    for x in ['a', 'rsa', 'csa', 'b', 'rsb', 'csb', 'c', 'ldc', 'scratch']:
        w.append(f'    (local.set ${x} (i32.shl (local.get ${x}) (i32.const 2)))')
    w.append('    (local.set $pbuf (local.get $scratch))')
    w.append('    (local.set $pabuf (i32.add (local.get $pbuf) (i32.shl (i32.mul (local.get $kcb) (local.get $ncb)) (i32.const 2))))')
    w.append('    (local.set $tmp (i32.add (local.get $pabuf) (i32.shl (i32.mul (local.get $kcb) (local.get $mcb)) (i32.const 2))))')
    w.append('    (block $jd (loop $jl')
    w.append('      (br_if $jd (i32.ge_s (local.get $jc) (local.get $n)))')
    w.append('      (local.set $nc (select (local.get $ncb) (i32.sub (local.get $n) (local.get $jc)) (i32.ge_s (i32.sub (local.get $n) (local.get $jc)) (local.get $ncb))))')
    w.append('      (local.set $pc (i32.const 0))')
    w.append('      (block $pd (loop $pl')
    w.append('        (br_if $pd (i32.ge_s (local.get $pc) (local.get $k)))')
    w.append('        (local.set $kc (select (local.get $kcb) (i32.sub (local.get $k) (local.get $pc)) (i32.ge_s (i32.sub (local.get $k) (local.get $pc)) (local.get $kcb))))')
    w.append(f'        (call $pack{NR} (i32.add (local.get $b) (i32.add (i32.mul (local.get $jc) (local.get $rsb)) (i32.mul (local.get $pc) (local.get $csb))))'
             ' (local.get $rsb) (local.get $csb) (local.get $nc) (local.get $kc) (local.get $pbuf))')
    w.append('        (local.set $ic (i32.const 0))')
    w.append('        (block $id (loop $il')
    w.append('          (br_if $id (i32.ge_s (local.get $ic) (local.get $m)))')
    w.append('          (local.set $mc (select (local.get $mcb) (i32.sub (local.get $m) (local.get $ic)) (i32.ge_s (i32.sub (local.get $m) (local.get $ic)) (local.get $mcb))))')
    w.append(f'          (call $pack{MR} (i32.add (local.get $a) (i32.add (i32.mul (local.get $ic) (local.get $rsa)) (i32.mul (local.get $pc) (local.get $csa))))'
             ' (local.get $rsa) (local.get $csa) (local.get $mc) (local.get $kc) (local.get $pabuf))')
    w.append('          (call $macro (local.get $mc) (local.get $nc) (local.get $kc) (local.get $pabuf) (local.get $pbuf)'
             ' (i32.add (local.get $c) (i32.add (i32.mul (local.get $ic) (local.get $ldc)) (i32.shl (local.get $jc) (i32.const 2))))'
             ' (local.get $ldc) (local.get $tmp) (select (local.get $beta) (i32.const 1) (i32.eqz (local.get $pc))))')
    w.append('          (local.set $ic (i32.add (local.get $ic) (local.get $mcb)))')
    w.append('          (br $il)))')
    w.append('        (local.set $pc (i32.add (local.get $pc) (local.get $kcb)))')
    w.append('        (br $pl)))')
    w.append('      (local.set $jc (i32.add (local.get $jc) (local.get $ncb)))')
    w.append('      (br $jl)))')
    w.append('  )')
    return w


def module(fma):
    # The memory is imported: the caller passes either a private memory or tfjs-wasm's own, whose tensors the kernel then
    # reads and writes in place (no copy of A, B or C).
    return gemm_module(micro, pack, macro, gemm, MR, NR, fma, imported_memory=True)


if '--wat' in sys.argv:
    print(module('--fma' in sys.argv))
    sys.exit(0)
print('// Generated by scripts/gen-gemm-f32-wasm.py — do not edit by hand.')
print(f'/** C += A·Bᵀ in float32 as WebAssembly SIMD: packed panels, {MR}×{NR} register tiles (f32x4), k unrolled ×{U}; memory imported as env.memory. See the generator for the source. */')
print(f"export const GEMM_F32_WASM_BASE64 = '{wat_to_base64(module(False))}';")
print('/** The same kernel with `f32x4.relaxed_madd` (relaxed SIMD: fused multiply-add); compiles only where relaxed SIMD is enabled. */')
print(f"export const GEMM_F32_FMA_WASM_BASE64 = '{wat_to_base64(module(True), ('relaxed-simd',))}';")
print('/** Register tile of the kernel (rows of A × rows of B): block sizes are multiples of these. */')
print(f'export const GEMM_F32_WASM_TILE = {{ mr: {MR}, nr: {NR} }} as const;')
