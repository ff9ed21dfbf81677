"""The BLAS libraries actually mapped into this process after a matmul: Debian's torch takes whatever the libblas.so.3
alternative points at (OpenBLAS or the ~0.4 GFLOP/s reference BLAS), so every PyTorch comparison names what it ran on.
Shared by hf_torch.py and train_torch.py (both run as scripts from benchmarks/, so this module is on sys.path)."""
import os
import re


def mapped_blas_libraries():
    import torch
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r'blas|mkl|lapack', os.path.basename(path)):
                libs.add(os.path.realpath(path))
    return sorted(libs)
