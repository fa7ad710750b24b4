#!/usr/bin/env bash
# Set up (once) and run the demo: translate the bundled held-out T1 into T2 and its T2 into FLAIR, score
# against the real T2 and FLAIR, and write NIfTI volumes, montages and a metrics table into demo-output/.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/gantranslate ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # CPU PyTorch; with an NVIDIA GPU install your CUDA build of torch into .venv first (README).
  .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e .  # the engine and its command line; the tests need ".[test]"
fi
bin=.venv/bin
sample=GANTranslate/Resources/SampleData
out=demo-output
mkdir -p "$out"
"$bin/gantranslate" models list
"$bin/gantranslate" predict -m t1-to-t2-pix2pix-2d -i "$sample/TCGA-FG-6692-holdout/T1.nii.gz" -o "$out/T1_to_T2.nii.gz"
"$bin/gantranslate" predict -m unified-mr-t1-t2-flair-2d --source T2 --target FLAIR \
  -i "$sample/TCGA-FG-6692-holdout/T2.nii.gz" -o "$out/T2_to_FLAIR.nii.gz"
"$bin/gantranslate" evaluate --dataset "$sample" --source T1 --target T2 -m t1-to-t2-pix2pix-2d -o "$out/T2"
"$bin/gantranslate" evaluate --dataset "$sample" --source T2 --target FLAIR -m unified-mr-t1-t2-flair-2d -o "$out/FLAIR"
echo
echo "Done. In $out/: T1_to_T2.nii.gz, T2_to_FLAIR.nii.gz (synthetic volumes on the input's grid),"
echo "T2/ and FLAIR/: metrics.csv, summary.md, montage_TCGA-FG-6692-holdout.png (source | synthetic | real | error)."
