#!/usr/bin/env bash
# Set-up for bench:kernels: OpenBLAS as the system BLAS/LAPACK (Debian's torch links the libblas.so.3 alternative; with
# only libblas3 it would run the reference BLAS, ~0.4 GFLOP/s, and every ratio would be meaningless) and Debian's torch on
# top of it. Installs only what is missing (apt needs root); KERNELS_VENV=1 also puts pip's PyTorch (bundles MKL) in
# .venv-ref as a second reference. Idempotent; never needed by tests.
set -u
if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1 || ! dpkg -s python3-torch >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends libopenblas0-pthread python3-torch) >/dev/null 2>&1 \
    || echo 'kernels-setup: apt-get could not install libopenblas0-pthread / python3-torch' >&2
fi
if [ "${KERNELS_VENV:-0}" = 1 ] && { [ ! -x .venv-ref/bin/python ] || ! .venv-ref/bin/python -c 'import torch' 2>/dev/null; }; then
  python3 -m venv .venv-ref && .venv-ref/bin/pip install -q --retries 0 --timeout 2 torch \
    || echo 'kernels-setup: pip could not install torch into .venv-ref' >&2
fi
exit 0
