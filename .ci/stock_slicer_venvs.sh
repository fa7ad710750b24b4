#!/usr/bin/env bash
# Virtual environments holding exactly the PyPI packages a stock 3D Slicer ships (../shared/slicer-python/
# packages-<version>.txt), for Testing/test_stock_slicer.py: what the module imports at panel set-up must be
# there. SimpleITK stands for the one Slicer's SuperBuild builds; slicer-core (Slicer's real MRML, Python >= 3.10)
# is added to 5.10's only. Each is cached under .stock-slicer-venvs/ and rebuilt only when its list changes.
# Usage: .ci/stock_slicer_venvs.sh [5.10.0|5.8.1]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared/slicer-python

build() {  # version, python, extra packages...
  local version=$1 python=$2; shift 2
  local list="$shared/packages-$version.txt" dir=".stock-slicer-venvs/$version"
  if [ ! -f "$list" ]; then echo "no $list: the stock-Slicer environment $version is not built" >&2; return 0; fi
  if [ -z "$python" ]; then echo "no Python for Slicer $version here: the stock-Slicer environment is not built" >&2; return 0; fi
  local key
  key=$( (cat "$list"; echo "$python $*") | sha256sum | cut -c1-16)
  if [ -f "$dir/stock-key" ] && [ "$(cat "$dir/stock-key")" = "$key" ]; then return 0; fi
  rm -rf "$dir"
  "$python" -m venv "$dir"
  grep -v '^#' "$list" | grep -v '^$' > "$dir/requirements.txt"
  printf '%s\n' "$@" >> "$dir/requirements.txt"
  "$dir/bin/python" -m pip install -q --no-cache-dir -r "$dir/requirements.txt"
  echo "$key" > "$dir/stock-key"
}

first() { ls -d "$@" 2>/dev/null | sort -V | tail -1 || true; }
python312=$(first /root/.pyenv/versions/3.12.*/bin/python)
python39=$(first /root/.pyenv/versions/3.9.*/bin/python)
for version in "${@:-5.10.0 5.8.1}"; do
  for v in $version; do
    case $v in
      5.10.0) build 5.10.0 "$python312" "SimpleITK==2.5.*" "slicer-core==5.13.31053.0" ;;
      5.8.1) build 5.8.1 "$python39" "SimpleITK==2.3.*" ;;
      *) echo "unknown Slicer version $v" >&2; exit 2 ;;
    esac
  done
done
