#!/usr/bin/env python3
"""Generates src/attribution/linalg/gemm-wasm.ts: the float64 matrix-product kernel C += alpha * A * B^T as a small
WebAssembly SIMD module (f64x2), embedded as base64 so nothing is fetched at run time. Needs `wat2wasm` (Debian package
wabt) only to regenerate:
    python3 scripts/gen-linalg-wasm.py > src/attribution/linalg/gemm-wasm.ts

Layout: A (m x k), B (n x k) and C (m x n) are row-major float64 in the module's memory, addressed by byte offsets, with
row strides lda, ldb, ldc in elements. Both operands run along k contiguously, so the kernel vectorises over k: a
register tile of MR rows of A times NR rows of B keeps MR*NR f64x2 accumulators (MR*NR + MR + NR <= 16 vector registers
on x86-64), each k-step loads MR + NR vectors and issues MR*NR multiplies and adds; the two lanes are summed once per
tile. Every other shape (Cholesky's panels and trailing updates, triangular solves with many right-hand sides, Gram
matrices) is cast onto this one kernel by the TypeScript drivers, which also block for cache. Tested against the pure-JS
kernel and against ml-matrix in test/attribution/linalg."""
import base64, os, subprocess, sys, tempfile

MR, NR = 2, 4


def tile(mr, nr, label):
    """One mr x nr register tile at rows i.. of A and rows j.. of B, accumulated into C (alpha-scaled)."""
    w = []
    accs = [f'$acc{r}{c}' for r in range(mr) for c in range(nr)]
    for r in range(mr):
        w.append(f'      (local.set $pa{r} (i32.add (local.get $a) (i32.mul (i32.add (local.get $i) (i32.const {r})) (local.get $lda8))))')
    for c in range(nr):
        w.append(f'      (local.set $pb{c} (i32.add (local.get $b) (i32.mul (i32.add (local.get $j) (i32.const {c})) (local.get $ldb8))))')
    for acc in accs:
        w.append(f'      (local.set {acc} (v128.const f64x2 0 0))')
    w.append('      (local.set $p (i32.const 0))')
    w.append(f'      (block $kdone{label} (loop $k{label}')
    w.append(f'        (br_if $kdone{label} (i32.ge_u (local.get $p) (local.get $k2)))')
    for r in range(mr):
        w.append(f'        (local.set $va{r} (v128.load (i32.add (local.get $pa{r}) (local.get $p))))')
    for c in range(nr):
        w.append(f'        (local.set $vb{c} (v128.load (i32.add (local.get $pb{c}) (local.get $p))))')
    for r in range(mr):
        for c in range(nr):
            w.append(f'        (local.set $acc{r}{c} (f64x2.add (local.get $acc{r}{c}) (f64x2.mul (local.get $va{r}) (local.get $vb{c}))))')
    w.append('        (local.set $p (i32.add (local.get $p) (i32.const 16)))')
    w.append(f'        (br $k{label})))')
    # Odd k: the last column enters lane 0 only.
    w.append('      (if (local.get $kodd) (then')
    for r in range(mr):
        w.append(f'        (local.set $va{r} (v128.load64_zero (i32.add (local.get $pa{r}) (local.get $p))))')
    for c in range(nr):
        w.append(f'        (local.set $vb{c} (v128.load64_zero (i32.add (local.get $pb{c}) (local.get $p))))')
    for r in range(mr):
        for c in range(nr):
            w.append(f'        (local.set $acc{r}{c} (f64x2.add (local.get $acc{r}{c}) (f64x2.mul (local.get $va{r}) (local.get $vb{c}))))')
    w.append('      ))')
    # Horizontal sums, two columns at a time: [acc_c.lo, acc_c+1.lo] + [acc_c.hi, acc_c+1.hi].
    for r in range(mr):
        w.append(f'      (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (i32.add (local.get $i) (i32.const {r})) (local.get $ldc8)) (i32.shl (local.get $j) (i32.const 3)))))')
        for c in range(0, nr - 1, 2):
            lo = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23'
            hi = '8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31'
            s = (f'(f64x2.add (i8x16.shuffle {lo} (local.get $acc{r}{c}) (local.get $acc{r}{c + 1})) '
                 f'(i8x16.shuffle {hi} (local.get $acc{r}{c}) (local.get $acc{r}{c + 1})))')
            w.append(f'      (v128.store offset={8 * c} (local.get $pc) (f64x2.add (v128.load offset={8 * c} (local.get $pc)) (f64x2.mul (local.get $valpha) {s})))')
        if nr % 2 == 1:
            c = nr - 1
            s = f'(f64.add (f64x2.extract_lane 0 (local.get $acc{r}{c})) (f64x2.extract_lane 1 (local.get $acc{r}{c})))'
            w.append(f'      (f64.store offset={8 * c} (local.get $pc) (f64.add (f64.load offset={8 * c} (local.get $pc)) (f64.mul (local.get $alpha) {s})))')
    return w


w = []
w.append('(module')
w.append('  (memory (export "memory") 1 65536)')
w.append('  (func (export "gemm_nt") (param $m i32) (param $n i32) (param $k i32) (param $alpha f64) (param $a i32) (param $lda i32)')
w.append('        (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)')
locals_ = ['$i i32', '$j i32', '$p i32', '$k2 i32', '$kodd i32', '$lda8 i32', '$ldb8 i32', '$ldc8 i32', '$pc i32', '$valpha v128']
locals_ += [f'$pa{r} i32' for r in range(MR)] + [f'$pb{c} i32' for c in range(NR)]
locals_ += [f'$va{r} v128' for r in range(MR)] + [f'$vb{c} v128' for c in range(NR)]
locals_ += [f'$acc{r}{c} v128' for r in range(MR) for c in range(NR)]
w.append('    ' + ' '.join(f'(local {l})' for l in locals_))
w.append('    (local.set $lda8 (i32.shl (local.get $lda) (i32.const 3)))')
w.append('    (local.set $ldb8 (i32.shl (local.get $ldb) (i32.const 3)))')
w.append('    (local.set $ldc8 (i32.shl (local.get $ldc) (i32.const 3)))')
w.append('    (local.set $k2 (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))')
w.append('    (local.set $kodd (i32.and (local.get $k) (i32.const 1)))')
w.append('    (local.set $valpha (f64x2.splat (local.get $alpha)))')
# Columns of C in groups of NR (B's NR rows stay in L1 while A streams), then a remainder of single columns.
w.append('    (local.set $j (i32.const 0))')
w.append('    (block $jdone (loop $jloop')
w.append(f'      (br_if $jdone (i32.gt_s (i32.add (local.get $j) (i32.const {NR})) (local.get $n)))')
w.append('      (local.set $i (i32.const 0))')
w.append('      (block $idone (loop $iloop')
w.append(f'        (br_if $idone (i32.gt_s (i32.add (local.get $i) (i32.const {MR})) (local.get $m)))')
w += ['  ' + l for l in tile(MR, NR, 'main')]
w.append(f'        (local.set $i (i32.add (local.get $i) (i32.const {MR})))')
w.append('        (br $iloop)))')
w.append('      (block $irdone (loop $irloop')
w.append('        (br_if $irdone (i32.ge_s (local.get $i) (local.get $m)))')
w += ['  ' + l for l in tile(1, NR, 'rowrest')]
w.append('        (local.set $i (i32.add (local.get $i) (i32.const 1)))')
w.append('        (br $irloop)))')
w.append(f'      (local.set $j (i32.add (local.get $j) (i32.const {NR})))')
w.append('      (br $jloop)))')
w.append('    (block $jrdone (loop $jrloop')
w.append('      (br_if $jrdone (i32.ge_s (local.get $j) (local.get $n)))')
w.append('      (local.set $i (i32.const 0))')
w.append('      (block $i1done (loop $i1loop')
w.append('        (br_if $i1done (i32.ge_s (local.get $i) (local.get $m)))')
w += ['  ' + l for l in tile(1, 1, 'rest')]
w.append('        (local.set $i (i32.add (local.get $i) (i32.const 1)))')
w.append('        (br $i1loop)))')
w.append('      (local.set $j (i32.add (local.get $j) (i32.const 1)))')
w.append('      (br $jrloop)))')
w.append('  ))')
wat = '\n'.join(w)
if '--wat' in sys.argv:
    print(wat)
    sys.exit(0)
with tempfile.TemporaryDirectory() as d:
    src, dst = os.path.join(d, 'g.wat'), os.path.join(d, 'g.wasm')
    open(src, 'w').write(wat)
    subprocess.run(['wat2wasm', src, '-o', dst], check=True)
    wasm = open(dst, 'rb').read()
b64 = base64.b64encode(wasm).decode()
print('// Generated by scripts/gen-linalg-wasm.py — do not edit by hand.')
print(f'/** C += alpha·A·Bᵀ in float64 as WebAssembly SIMD (f64x2, {MR}×{NR} register tiles over k). See the generator for the source. */')
print(f"export const GEMM_NT_WASM_BASE64 = '{b64}';")
