#!/usr/bin/env bash
# Choose a model's settings on the inner split, never on the held-out patients: train each variant on the
# training subjects minus dataset.json's inner_validation ones, score it on those against the look-up-table
# baseline fitted on the rest, and print one line per variant.
#   bash trainer/choose_settings.sh CONFIG STEPS VARIANT_NAME='override ...' [VARIANT_NAME='override ...' ...]
# e.g. bash trainer/choose_settings.sh trainer/configs/multisubject/t1_to_t2_pix2pix.yaml 2000 \
#        percentile='' histogram='data.normalization={method: histogram, mask: otsu}'
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1 steps=$2
shift 2
name=$(basename "$config" .yaml)
root=$(python -c "import sys; from gantranslate_trainer.config import load_config; print(load_config(sys.argv[1])['data']['root'])" "$config")
read -r source target < <(python -c "import sys; from gantranslate_trainer.config import load_config; d=load_config(sys.argv[1])['data']; print(d['source'], d['target'])" "$config")
for variant in "$@"; do
  label=${variant%%=*}
  overrides=${variant#*=}
  run="runs/choose/$name/$label"
  package="$run/package"
  if [ ! -f "$run/last.pt" ]; then
    # shellcheck disable=SC2086  # each override is one key=value word; values may hold spaces inside braces
    eval "set -- $overrides"
    gantranslate-train train "$config" --run-dir "$run" --quiet data.split=inner "train.steps=$steps" \
      "train.decay_start=$((steps / 2))" "train.validate_every=$steps" "$@"
  fi
  [ -f "$package/model.json" ] || gantranslate-train export "$run" -o "$package" --checkpoint last
  gantranslate evaluate --dataset "$root" --inner --source "$source" --target "$target" -m "$package" \
    -o "$run/inner_evaluation" > "$run/inner_evaluation.log"
  python - "$label" "$run/inner_evaluation/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
m = s["metrics"]
print(f"{sys.argv[1]:>24}: PSNR {m['psnr']['mean']:.2f} ± {m['psnr']['sd']:.2f}  LUT {m['baseline_psnr']['mean']:.2f}  "
      f"margin {s['psnr_margin_db']:+.2f} dB  SSIM {m['ssim']['mean']:.3f}", flush=True)
PY
done
