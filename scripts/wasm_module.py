"""Shared by the WebAssembly generators (gen-linalg-wasm.py, gen-gemm-f32-wasm.py, gen-keccak-wasm.py): assembles a
module's text format with `wat2wasm` (Debian package wabt, needed only to regenerate) and returns it as base64, which the
generated TypeScript embeds so nothing is fetched at run time."""
import base64, os, subprocess, tempfile


def wat_to_base64(wat: str, features: tuple = ()) -> str:
    """The binary module assembled from `wat`, base64-encoded; `features` names wat2wasm proposals to enable
    (e.g. ('relaxed-simd',))."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, 'module.wat'), os.path.join(d, 'module.wasm')
        with open(src, 'w') as f:
            f.write(wat)
        subprocess.run(['wat2wasm', *(f'--enable-{f}' for f in features), src, '-o', dst], check=True)
        with open(dst, 'rb') as f:
            return base64.b64encode(f.read()).decode()


def gemm_module(micro, pack, macro, gemm, mr: int, nr: int, fma: bool, imported_memory: bool = False) -> str:
    """The text format of a packed-GEMM module (gen-linalg-wasm.py, gen-gemm-f32-wasm.py): one memory, the micro-kernel
    (with `f*.relaxed_madd` when `fma`), the packing routine of each distinct register-tile size, the macro-kernel and the
    loop nest — each part a function of the generator returning its lines. `imported_memory`: the memory is the import
    env.memory (no maximum declared, so any non-shared memory links) instead of the module's own exported one."""
    w = ['(module', '  (import "env" "memory" (memory 1))' if imported_memory else '  (memory (export "memory") 1 65536)']
    w += micro(fma)
    w += pack(mr)
    if nr != mr:
        w += pack(nr)
    w += macro()
    w += gemm()
    w.append(')')
    return '\n'.join(w)
