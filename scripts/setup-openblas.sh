#!/usr/bin/env bash
# Makes every PyTorch comparison run on OpenBLAS (used by bench:train and bench:hf; idempotent).
# With only libblas3 installed, Debian's python3-torch uses the reference BLAS (~0.4 GFLOP/s, measured) and every
# ratio against it is meaningless; libopenblas0-pthread registers itself as the libblas.so.3 alternative.
# Prints the libblas.so.3 alternative in use. Exit 0 when OpenBLAS is (now) installed, 1 when it could not be.
set -u
if dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "setup-openblas: libopenblas0-pthread already installed"
else
  echo "setup-openblas: installing libopenblas0-pthread"
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y libopenblas0-pthread >/dev/null || { apt-get update >/dev/null && apt-get install -y libopenblas0-pthread >/dev/null; } || { echo "setup-openblas: apt-get failed" >&2; exit 1; }
  else
    sudo -n apt-get install -y libopenblas0-pthread >/dev/null || { echo "setup-openblas: needs root to apt-get install libopenblas0-pthread" >&2; exit 1; }
  fi
fi
arch_triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
current=$(update-alternatives --query "libblas.so.3-${arch_triplet}" 2>/dev/null | awk '/^Value:/ {print $2}')
echo "setup-openblas: libblas.so.3 -> ${current:-unknown}"
case "$current" in
  *openblas*) exit 0 ;;
  *) echo "setup-openblas: libblas.so.3 is not OpenBLAS; run: update-alternatives --set libblas.so.3-${arch_triplet} <openblas libblas.so.3>" >&2; exit 1 ;;
esac
