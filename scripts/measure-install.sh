#!/usr/bin/env bash
# What `npm install provenant` brings: packs this package (npm pack), installs the tarball into an empty folder from the
# local npm cache (the local cache first (--prefer-offline), no scripts), and prints the size of node_modules — in total and per package, largest first.
# Writes benchmarks/results/install-size.json. Run `npm run build` first so the tarball holds dist/ (dependencies, which
# dominate the size, are the same either way).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$root" && npm pack --pack-destination "$work" --silent | tail -1)
cd "$work"
npm init -y >/dev/null
npm install "./$tarball" --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
total_kb=$(du -sk node_modules | cut -f1)
tar_kb=$(du -k "$tarball" | cut -f1)
echo "npm install provenant (from $tarball, $tar_kb KiB packed): node_modules $((total_kb / 1024)) MiB"
echo "largest packages (MiB):"
packages=$( (ls -d node_modules/@*/* 2>/dev/null; ls -d node_modules/[!@.]* 2>/dev/null) | grep -v '/\.bin$')
du -sk $packages | sort -rn | head -12 | awk '{ printf "  %6.1f  %s\n", $1 / 1024, $2 }' | sed 's|node_modules/||'
top=$(du -sk $packages | sort -rn | head -12 | awk '{ printf "%s{\"package\":\"%s\",\"mib\":%.1f}", (NR>1?",":""), substr($2, 14), $1 / 1024 }')
mkdir -p "$root/benchmarks/results"
printf '{"workload":"npm install provenant (packed tarball, prefer-offline from the local cache)","packedKiB":%s,"nodeModulesMiB":%.1f,"largest":[%s]}\n' \
  "$tar_kb" "$(echo "$total_kb / 1024" | bc -l)" "$top" > "$root/benchmarks/results/install-size.json"
