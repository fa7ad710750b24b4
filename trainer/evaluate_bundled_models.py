"""Score bundled models on their held-out data and record the scores in their cards.

    python trainer/evaluate_bundled_models.py [config-name ...]   (default: every bundled model's config)

Each config in trainer/configs names its model (export.id) and its dataset (data.root). Every direction
the card ships is evaluated with ``gantranslate evaluate``'s engine (model, LUT baseline, and for
restoration models the degraded input and a classical filter) into runs/<config>/evaluation/, and the
summaries replace the card's ``metrics.held_out_evaluation``; the fast-mode error (bf16 and fp16) is measured on
the first held-out subject and recorded too. train_bundled_models.sh runs this after each
export; run it alone to re-score the shipped models after the evaluator changes, without retraining.
"""
from __future__ import annotations

import sys
from pathlib import Path

from GANTranslateLib.evaluation import evaluate
from GANTranslateLib.model_package import load_package, write_card
from gantranslate_trainer.config import load_config

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "trainer" / "configs"
MODELS = REPO / "GANTranslate" / "Resources" / "Models"
RUNS = REPO / "runs"


def bundled_configs() -> dict[str, Path]:
    """Config name -> bundled package folder, for every config whose model is bundled."""
    found = {}
    for path in sorted(CONFIGS.glob("*.yaml")):
        package = MODELS / load_config(path)["export"]["id"]
        if (package / "model.json").is_file():
            found[path.stem] = package
    return found


def evaluate_package(package_dir: Path, dataset_root: Path, output_dir: Path) -> dict[str, dict]:
    """Every direction of the card, evaluated on the dataset's validation subjects: direction -> summary."""
    package = load_package(package_dir)
    summaries = {}
    for source, target in package.card.directions:
        _, summary = evaluate(dataset_root, source, target, output_dir / f"{source}_to_{target}", package=package)
        summaries[f"{source}->{target}"] = summary
        print(f"{package.card.id} {source} -> {target}: PSNR {summary['metrics']['psnr']['mean']:.2f} dB, "
              f"margin {summary.get('psnr_margin_db', float('nan')):+.2f} dB", flush=True)
    return summaries


def record_in_card(package_dir: Path, summaries: dict[str, dict]) -> None:
    """Replace the card's held-out evaluation (checked, written atomically)."""
    card = dict(load_package(package_dir).card.data)
    card["metrics"] = {**card.get("metrics", {}), "held_out_evaluation": summaries}
    write_card(package_dir, card)


def record_fast_mode(package_dir: Path, dataset_root: Path) -> dict:
    """bf16 and fp16 error of the model's first direction on the first held-out subject's source volume
    (gantranslate models check-fast), recorded in the card."""
    from GANTranslateLib.dataset_folder import read_dataset
    from GANTranslateLib.fast_mode import measure

    package = load_package(package_dir)
    source, target = package.card.directions[0]
    dataset = read_dataset(dataset_root)
    held_out = [s for s in dataset.test or dataset.validation if source in s.files]
    if not held_out:
        return {}
    volume = held_out[0].files[source]
    try:
        shown = volume.relative_to(REPO)
    except ValueError:
        shown = volume
    record = measure(package, [volume], source, target)
    record["volumes"] = [str(shown)]
    write_card(package_dir, {**package.card.data, "fast_mode": record})
    return record


def main(names: list[str]) -> int:
    bundled = bundled_configs()
    unknown = [name for name in names if name not in bundled]
    if unknown:
        print(f"error: no bundled model for config(s) {', '.join(unknown)}; choose from {', '.join(bundled)}", file=sys.stderr)
        return 2
    for name in names or list(bundled):
        root = Path(load_config(CONFIGS / f"{name}.yaml")["data"]["root"])
        if not (root / "dataset.json").is_file():
            print(f"error: {root} has no dataset.json; prepare the data first (see trainer/train_bundled_models.sh)",
                  file=sys.stderr)
            return 2
        record_in_card(bundled[name], evaluate_package(bundled[name], root, RUNS / name / "evaluation"))
        record_fast_mode(bundled[name], root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
