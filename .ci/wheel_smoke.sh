#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment (not editable, no source tree on the path)
# and run the three commands a user of the wheel runs first: it catches a module left out of the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m pip wheel -q --no-deps -w "$work/dist" .
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q torch==2.13.0
"$work/venv/bin/python" -m pip install -q "$work"/dist/*.whl
cd "$work"  # away from the source tree, so only the installed wheel can be imported
bin="$work/venv/bin"
"$bin/gantranslate" models list
"$bin/gantranslate-train" --help > /dev/null
"$bin/gantranslate-train" train --help > /dev/null
# a tiny predict: an identity model package written by the installed engine, on the bundled sample T1
"$bin/python" - <<'PY'
from GANTranslateLib.model_package import save_package
from GANTranslateLib.networks import build_generator
window = {"method": "window", "min": -4000, "max": 4000}
save_package("identity", {"schema_version": 1, "id": "identity", "version": "1.0.0", "name": "identity", "task": "translation",
                          "domains": ["T1", "T2"], "directions": [["T1", "T2"]], "architecture": {"name": "identity", "args": {}},
                          "mode": "2d", "slice": {"axis": "axial"}, "orientation": "LPS",
                          "normalization": {"T1": window, "T2": window}, "license": "CC0-1.0"}, build_generator("identity", {}))
PY
sample="$OLDPWD/GANTranslate/Resources/SampleData/TCGA-FG-6692-holdout/T1.nii.gz"
"$bin/gantranslate" predict -m identity -i "$sample" -o out.nii.gz --progress none
"$bin/python" -c "import SimpleITK as s, sys; a, b = s.ReadImage(sys.argv[1]), s.ReadImage('out.nii.gz'); assert a.GetSize() == b.GetSize()" "$sample"
echo "wheel smoke test: passed (models list, gantranslate-train --help, predict from the installed wheel)"
