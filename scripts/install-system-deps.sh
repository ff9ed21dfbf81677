#!/usr/bin/env bash
# System packages the test suite needs beyond npm: Debian's Chromium (the HTML report is tested in a real headless browser)
# and Jupyter's nbconvert (the tslab notebooks are executed so they cannot rot). Idempotent; needs root (CI and dev machines
# here run as root). Skips quietly when everything is present.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/jupyter ] || need+=(jupyter-nbconvert python3-jupyter-client jupyter-client)
if [ ${#need[@]} -eq 0 ]; then
  echo "system deps: present"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "system deps missing (${need[*]}) and not root: install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system deps: installed ${need[*]}"
