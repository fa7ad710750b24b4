#!/usr/bin/env bash
# Run the module's own self-test (GANTranslateTest) inside a real 3D Slicer:
#   bash Testing/run_slicer_selftest.sh /path/to/Slicer
# Slicer loads the module from this checkout (no build needed for a scripted module).
set -euo pipefail
slicer="${1:?usage: run_slicer_selftest.sh /path/to/Slicer}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$slicer" --no-splash --no-main-window --testing \
  --additional-module-paths "$repo/GANTranslate" \
  --python-code "import slicer.testing; slicer.testing.runUnitTest(['$repo/GANTranslate'], 'GANTranslate')"
