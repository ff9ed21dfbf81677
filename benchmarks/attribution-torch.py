"""PyTorch side of bench:attribution's cross-check: per-example gradients of the same MNIST MLP by functorch
vmap(grad(...)), then Grad-Dot and TracInCP score matrices. Single thread (torch.set_num_threads(1) and, from the
caller, OPENBLAS_NUM_THREADS=1: Debian's OpenBLAS ignores the former).

Usage: /usr/bin/python3 benchmarks/attribution-torch.py DIR   (DIR written by benchmarks/attribution.ts)
"""
import json
import sys
import time

import numpy as np
import torch
from functorch import grad, vmap

torch.set_num_threads(1)
d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
n, m, hidden = meta["nTrain"], meta["nTest"], meta["hidden"]


def load(name, shape, dtype=np.float32):
    return torch.from_numpy(np.fromfile(f"{d}/{name}", dtype=dtype).reshape(shape))


x_train = load("x_train.f32", [n, 784])
x_test = load("x_test.f32", [m, 784])
y_train = load("y_train.i32", [n], np.int32).long()
y_test = load("y_test.i32", [m], np.int32).long()


def loss_fn(params, x, y):
    w1, b1, w2, b2 = params  # tfjs layout: kernels are [in, out]
    h = torch.relu(x @ w1 + b1)
    z = h @ w2 + b2
    return torch.nn.functional.cross_entropy(z.unsqueeze(0), y.unsqueeze(0))


per_example = vmap(grad(loss_fn), in_dims=(None, 0, 0))


def flat(grads, rows):
    return torch.cat([g.reshape(rows, -1) for g in grads], dim=1)


gd = None
tracin = torch.zeros(n, m)
featurize_s = 0.0
score_s = 0.0
for c, ck in enumerate(meta["checkpoints"]):
    params = (
        load(f"ck{c}_fc1.weight.f32", [784, hidden]),
        load(f"ck{c}_fc1.bias.f32", [hidden]),
        load(f"ck{c}_fc2.weight.f32", [hidden, 10]),
        load(f"ck{c}_fc2.bias.f32", [10]),
    )
    t0 = time.perf_counter()
    g_train = flat(per_example(params, x_train, y_train), n)
    g_test = flat(per_example(params, x_test, y_test), m)
    t1 = time.perf_counter()
    s = g_train @ g_test.T
    t2 = time.perf_counter()
    featurize_s += t1 - t0
    score_s += t2 - t1
    tracin += ck["lr"] * s
    if c == len(meta["checkpoints"]) - 1:
        gd = s
gd.numpy().astype(np.float32).tofile(f"{d}/torch_graddot.f32")
tracin.numpy().astype(np.float32).tofile(f"{d}/torch_tracin.f32")
# Debian's python3-torch reports BLAS_INFO=generic: its matmuls go through the libblas.so.3 alternative (the reference
# BLAS unless OpenBLAS is selected), which makes the dense scoring product slow; the per-example gradients are not.
blas = "generic (libblas.so.3)" if "BLAS_INFO=generic" in torch.__config__.show() else "optimized"
json.dump({"featurizeSeconds": featurize_s, "scoreSeconds": score_s, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas}, open(f"{d}/torch_times.json", "w"))
print(json.dumps({"featurizeSeconds": featurize_s, "scoreSeconds": score_s}))
