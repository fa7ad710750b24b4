#!/usr/bin/env bash
# Choose a model's settings on the inner split, never on the held-out patients: train each variant on the
# training subjects minus dataset.json's inner_validation ones, score it on those against the look-up-table
# baseline fitted on the rest, and print one line per variant and direction (a unified model: every direction
# it learns, with the worst inner patient's margin, which decides whether export.directions offers it).
#   bash trainer/choose_settings.sh CONFIG STEPS VARIANT_NAME='override ...' [VARIANT_NAME='override ...' ...]
# e.g. bash trainer/choose_settings.sh trainer/configs/multisubject/t1_to_t2_pix2pix.yaml 2000 \
#        percentile='' histogram='data.normalization={method: histogram, mask: otsu}'
#      bash trainer/choose_settings.sh trainer/configs/unified_t1_t2_flair.yaml 3000 inner=''
# With --loso first: leave-one-source-out instead (the way settings are chosen since issue 23): each variant is
# trained once per source of dataset.json (subjects.*.source) on every other source (data.split=loso:<source>)
# and scored on that source with the scale-free metric, one line per left-out patient against the
# training-subjects LUT and the patient's own LUT, then the variant's mean and worst margins. LOSO_SOURCES=
# 'a b' limits the sources; RUNS_DIR (default runs) is where the runs go.
#   bash trainer/choose_settings.sh --loso trainer/configs/t1_to_t2_pix2pix_sources.yaml 3000 nearest=''
set -euo pipefail
cd "$(dirname "$0")/.."
loso=false
if [ "${1:-}" = "--loso" ]; then loso=true; shift; fi
config=$1 steps=$2
shift 2
name=$(basename "$config" .yaml)
root=$(python -c "import sys; from gantranslate_trainer.config import load_config; print(load_config(sys.argv[1])['data']['root'])" "$config")
directions=$(python -c "import sys; from gantranslate_trainer.config import load_config; from gantranslate_trainer.export import directions; print(' '.join(s + ':' + t for s, t in directions(load_config(sys.argv[1]))))" "$config")
if $loso; then
  sources=${LOSO_SOURCES:-$(python -c "import sys; from GANTranslateLib.source_split import sources_of; print(' '.join(sources_of(sys.argv[1])))" "$root")}
  for variant in "$@"; do
    label=${variant%%=*}
    overrides=${variant#*=}
    for left_out in $sources; do
      run="${RUNS_DIR:-runs}/choose_loso/$name/$label/$left_out"
      package="$run/package"
      if [ ! -f "$run/last.pt" ]; then
        # shellcheck disable=SC2086
        eval "set -- $overrides"
        gantranslate-train train "$config" --run-dir "$run" --quiet "data.split=loso:$left_out" "train.steps=$steps" \
          "train.decay_start=$((steps / 2))" "train.validate_every=$steps" export.directions=null "$@"
      fi
      [ -f "$package/model.json" ] || gantranslate-train export "$run" -o "$package" --checkpoint last
      for direction in $directions; do
        source=${direction%%:*} target=${direction##*:}
        scores="$run/evaluation_${source}_to_${target}"
        gantranslate evaluate --dataset "$root" --split "loso:$left_out" --source "$source" --target "$target" \
          -m "$package" -o "$scores" > "$scores.log"
        python trainer/loso_report.py "$label" "$left_out" "$source -> $target" "$scores/summary.json"
      done
    done
  done
  exit 0
fi
for variant in "$@"; do
  label=${variant%%=*}
  overrides=${variant#*=}
  run="runs/choose/$name/$label"
  package="$run/package"
  if [ ! -f "$run/last.pt" ]; then
    # shellcheck disable=SC2086  # each override is one key=value word; values may hold spaces inside braces
    eval "set -- $overrides"
    # every learned direction is exported and scored (export.directions=null): choosing is this script's job
    gantranslate-train train "$config" --run-dir "$run" --quiet data.split=inner "train.steps=$steps" \
      "train.decay_start=$((steps / 2))" "train.validate_every=$steps" export.directions=null "$@"
  fi
  [ -f "$package/model.json" ] || gantranslate-train export "$run" -o "$package" --checkpoint last
  for direction in $directions; do
    source=${direction%%:*} target=${direction##*:}
    scores="$run/inner_evaluation"
    [ "$directions" = "$direction" ] || scores="$run/inner_evaluation_${source}_to_${target}"
    gantranslate evaluate --dataset "$root" --inner --source "$source" --target "$target" -m "$package" \
      -o "$scores" > "$scores.log"
    python - "$label" "$source -> $target" "$scores" <<'PY'
import csv, json, sys
label, direction, folder = sys.argv[1:4]
s = json.load(open(f"{folder}/summary.json"))
m = s["metrics"]
margins = [float(r["psnr"]) - float(r["baseline_psnr"]) for r in csv.DictReader(open(f"{folder}/metrics.csv"))
           if r["status"] == "ok" and r["baseline_psnr"]]
if not margins:
    sys.exit(f"{label} {direction}: no inner-validation volume scored against the baseline; see {folder}.log")
print(f"{label:>24} {direction:>14}: PSNR {m['psnr']['mean']:.2f} ± {m['psnr']['sd']:.2f}  LUT {m['baseline_psnr']['mean']:.2f}  "
      f"margin {s['psnr_margin_db']:+.2f} dB (worst volume {min(margins):+.2f})  SSIM {m['ssim']['mean']:.3f}", flush=True)
PY
  done
done
