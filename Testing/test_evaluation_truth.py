"""`evaluate` never flatters a model: SSIM leads, a model below the baseline's SSIM is warned about, and a
run that scores nothing, or only what the model learned on, is an error or says so."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import make_package
from trainer_helpers import DATASET
from GANTranslateLib.cli import main

NORM = {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 600]}


@pytest.fixture
def t1_as_t2(tmp_path: Path):
    """T1 passed through as T2: structure of the wrong contrast, worse than the look-up table."""
    return make_package(tmp_path / "model", normalization={"T1": NORM, "T2": NORM})


def evaluate(package, out: Path, *extra: str, dataset: Path = DATASET) -> int:
    return main(["evaluate", "--dataset", str(dataset), "--source", "T1", "--target", "T2", "-m", str(package.path),
                 "-o", str(out), *extra])


def test_ssim_below_the_baselines_is_a_warning_and_ssim_leads_the_summary(tmp_path: Path, t1_as_t2, capsys) -> None:
    """A 40-step checkerboard model reported '+1.96 dB over the baseline'; only SSIM showed it was garbage."""
    out = tmp_path / "eval"
    assert evaluate(t1_as_t2, out) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["ssim"]["mean"] < summary["metrics"]["baseline_ssim"]["mean"]
    assert summary["ssim_margin"] < 0 and "below the look-up-table baseline's" in summary["warnings"][0]
    captured = capsys.readouterr()
    assert "gantranslate: warning: the model's SSIM" in captured.err
    table = (out / "summary.md").read_text(encoding="utf-8").splitlines()
    fixed_scale = table[table.index(next(line for line in table if line.startswith("| metric |"))):]  # after the scale-free section
    rows = [line.split("|")[1].strip() for line in fixed_scale if line.startswith("| ") and "---" not in line][1:]
    assert rows[:2] == ["ssim", "psnr"]
    assert table.index(next(line for line in table if line.startswith("SSIM margin"))) < \
        table.index(next(line for line in table if line.startswith("PSNR margin")))
    assert any(line.startswith("Warning: the model's SSIM") for line in table)


def test_no_target_volume_anywhere_is_an_error(tmp_path: Path, t1_as_t2, capsys) -> None:
    """`--target CT` on the sample printed an empty table, named montages that do not exist, and exited 0."""
    out = tmp_path / "eval"
    assert main(["evaluate", "--dataset", str(DATASET), "--source", "T1", "--target", "CT", "-m", str(t1_as_t2.path),
                 "-o", str(out)]) == 1
    assert "has a CT volume to score against; check --target" in capsys.readouterr().err
    assert not out.exists()


def test_a_dataset_without_held_out_subjects_is_not_scored_silently(tmp_path: Path, t1_as_t2, capsys) -> None:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    manifest = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    manifest["training"] += manifest.pop("validation")
    (root / "dataset.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert evaluate(t1_as_t2, tmp_path / "eval", dataset=root) == 1
    assert "lists no test or validation subjects" in capsys.readouterr().err
    assert evaluate(t1_as_t2, tmp_path / "eval", "--subjects", "TCGA-FG-6692-holdout", dataset=root) == 0
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text(encoding="utf-8"))
    assert any("scored on training subject(s) TCGA-FG-6692-holdout" in w for w in summary["warnings"])
    assert "these scores are optimistic" in capsys.readouterr().err
