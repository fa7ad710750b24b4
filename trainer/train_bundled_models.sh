#!/usr/bin/env bash
# Reproduce the bundled models: prepare the data, train, export, evaluate on the held-out patients (MR models)
# or slab (template CT models, super-resolution).
#   bash trainer/train_bundled_models.sh [config-name ...]     (default: all bundled models)
# Each model takes 10-30 minutes on a 2-core CPU. Needs ../shared/data (or SHARED_DATA=...).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${SHARED_DATA:-../shared/data}"
models="GANTranslate/Resources/Models"
[ -f data/mr_multisubject/dataset.json ] || python trainer/datasets/prepare_multisubject.py "$shared" data/mr_multisubject
[ -f data/mni_templates/dataset.json ] || python trainer/datasets/prepare_shared_data.py mni "$shared" data/mni_templates
grep -q LDCT data/mni_templates/dataset.json || gantranslate-train degrade data/mni_templates --kind low_dose_ct --from CT --to LDCT --dose 0.25
# through-plane super-resolution is trained and scored with a sagittal slab held out (whole z extent in each slice)
[ -f data/tcga_fg6692_sagittal/dataset.json ] || python trainer/datasets/prepare_shared_data.py tcga "$shared" data/tcga_fg6692_sagittal --holdout-axis sagittal
grep -q T1_LR data/tcga_fg6692_sagittal/dataset.json || gantranslate-train degrade data/tcga_fg6692_sagittal --kind low_resolution_mr --from T1 --to T1_LR --factor 2

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(t1_to_t2_pix2pix t2_to_t1_pix2pix unified_t1_t2_flair mr_to_ct_template_pix2pix
                                      ldct_denoise_template_pix2pix t1_superresolution_pix2pix)

for name in "${configs[@]}"; do
  config="trainer/configs/$name.yaml"
  run="runs/$name"
  if [ -f "$run/last.pt" ]; then
    # with the config, so that its export section (version, shipped directions, texts) reaches the package;
    # the trainer refuses a config whose training settings differ from the run's
    gantranslate-train train "$config" --resume "$run" --quiet
  else
    gantranslate-train train "$config" --run-dir "$run" --quiet
  fi
  id=$(python -c "import yaml,sys; print(yaml.safe_load(open('$config'))['export']['id'])")
  # the last checkpoint (the default), never one picked on the held-out data this script scores on
  gantranslate-train export "$run" -o "$models/$id" --release --force --weights-dtype float16  # what ships is what is scored
  # every direction the model ships, scored on the held-out data against the LUT baseline; recorded in its card
  python trainer/evaluate_bundled_models.py "$name"
done
