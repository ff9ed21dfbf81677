"""PyTorch float64 side of bench:kernels, run as a server so the reference and ours alternate step by step in one process
pair (the machine is shared: interleaving exposes both to the same load). Single thread: torch.set_num_threads(1) and,
from the caller, OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=OMP_NUM_THREADS=1 (Debian's OpenBLAS ignores the former).

Protocol: one JSON command per stdin line, one JSON reply per stdout line. Data arrive as raw little-endian files in DIR
(written by benchmarks/kernels.ts); nothing needs numpy.
Usage: python benchmarks/kernels-torch.py DIR
"""
import ctypes
import json
import os
import sys
import time

import torch

torch.set_num_threads(1)
d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
n, m, D, C, lam = meta["nTrain"], meta["nTest"], meta["D"], meta["C"], meta["lambda"]
P = D * C


def load(name, shape):
    raw = bytearray(open(os.path.join(d, name), "rb").read())
    return torch.frombuffer(raw, dtype=torch.float64).reshape(shape).clone()


def blas_info():
    cfg = torch.__config__.show()
    info = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for key in ("BLAS_INFO", "LAPACK_INFO"):
        k = cfg.find(key + "=")
        info[key] = cfg[k + len(key) + 1:].split(",")[0] if k >= 0 else "?"
    # Debian's torch links the libblas.so.3 / liblapack.so.3 alternatives: name the library they resolve to.
    for lib in ("libblas.so.3", "liblapack.so.3"):
        path = f"/usr/lib/x86_64-linux-gnu/{lib}"
        if os.path.exists(path):
            info[lib] = os.path.realpath(path)
    return info


Xa = load("xa_train.f64", [n, D])
probs = load("probs_train.f64", [n, C])
res_train = load("res_train.f64", [n, C])
Xa_test = load("xa_test.f64", [m, D])
res_test = load("res_test.f64", [m, C])
state = {}


def hessian():
    H = torch.zeros(D, C, D, C, dtype=torch.float64)
    for c in range(C):
        for c2 in range(c, C):
            w = (probs[:, c] * ((1.0 if c == c2 else 0.0) - probs[:, c2])) / n
            G = (Xa * w[:, None]).T @ Xa
            H[:, c, :, c2] = G
            if c2 != c:
                H[:, c2, :, c] = G.T
    H = H.reshape(P, P)
    H.diagonal().add_(lam)
    state["H"] = H


def cholesky():
    state["L"] = torch.linalg.cholesky(state["H"])


def solve():
    # ∇ℓ_t = x̃_t ⊗ r_t in the (j, c) layout, then V = H⁻¹ Gᵀ by two triangular solves against L.
    G = (Xa_test[:, :, None] * res_test[:, None, :]).reshape(m, P)
    state["V"] = torch.cholesky_solve(G.T.contiguous(), state["L"]).T.contiguous()


def score():
    V = state["V"].reshape(m, D, C)
    W = V.permute(1, 0, 2).reshape(D, m * C)
    out = (Xa @ W).reshape(n, m, C)
    state["scores"] = (out * res_train[:, None, :]).sum(-1)


def synthetic(cmd):
    """Candidate comparison at a smaller size: same matrices as ours (generated from a closed form on both sides)."""
    k = cmd["n"]
    i = torch.arange(k, dtype=torch.float64)
    if cmd["op"] == "syn-gemm":
        A = torch.sin(i[:, None] * 0.37 + i[None, :] * 0.11)
        B = torch.cos(i[:, None] * 0.23 - i[None, :] * 0.19)
        t = time.process_time()
        A @ B.T
        return time.process_time() - t
    S = torch.sin(i[:, None] * 0.37 + i[None, :] * 0.11)
    A = S @ S.T / k + torch.eye(k, dtype=torch.float64)
    t = time.process_time()
    if cmd["op"] == "syn-cholesky":
        torch.linalg.cholesky(A)
    elif cmd["op"] == "syn-eigh":
        torch.linalg.eigh(A)
    return time.process_time() - t


steps = {"hessian": hessian, "cholesky": cholesky, "solve": solve, "score": score}
print(json.dumps({"ready": True, "blas": blas_info()}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "quit":
        break
    if cmd["op"] in steps:
        t, c = time.perf_counter(), time.process_time()
        steps[cmd["op"]]()
        print(json.dumps({"seconds": time.perf_counter() - t, "cpuSeconds": time.process_time() - c}), flush=True)
    elif cmd["op"] == "save":
        # Raw bytes through ctypes: no numpy needed.
        S = state["scores"].contiguous()
        with open(os.path.join(d, "torch_scores.f64"), "wb") as f:
            f.write(ctypes.string_at(S.data_ptr(), S.numel() * 8))
        print(json.dumps({"saved": True}), flush=True)
    else:
        print(json.dumps({"seconds": synthetic(cmd)}), flush=True)
