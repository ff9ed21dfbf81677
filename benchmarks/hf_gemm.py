"""PyTorch side of benchmarks/hf-gemm.ts: the same float32 products, one thread, on the BLAS torch maps (OpenBLAS after
scripts/setup-openblas.sh). Prints one JSON object {label: GFLOP/s} on its last line."""
import json, sys, time

import torch

torch.set_num_threads(1)
spec = json.loads(sys.argv[1])
out = {}
for s in spec['shapes']:
    m, k, n = s['m'], s['k'], s['n']
    a = torch.randn(k, m).t() if s['ta'] else torch.randn(m, k)
    b = torch.randn(n, k).t() if s['tb'] else torch.randn(k, n)
    best = float('inf')
    for r in range(spec['reps'] + 2):
        t0 = time.perf_counter()
        torch.mm(a, b)
        ms = (time.perf_counter() - t0) * 1000
        if r >= 2:
            best = min(best, ms)
    out[s['label']] = 2 * m * k * n / best / 1e6
print(json.dumps(out))
