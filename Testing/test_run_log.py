"""What a training run writes for people: the JSONL log and image grids always, TensorBoard events when
TensorBoard is installed (the ``train`` extra; the test extra installs it too, so this is exercised)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from trainer_helpers import tiny_config
from gantranslate_trainer.training import train


def test_tensorboard_receives_the_losses_validation_scores_and_image_grids(tmp_path: Path) -> None:
    train(tiny_config("pix2pix", "train.validate_every=2", "train.image_every=2", steps=2), tmp_path / "run", quiet=True)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/G_L1", "train/D", "train/lr", "validation/psnr", "validation/T1->T2/ssim"} <= set(tags["scalars"])
    logged = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    last_train = [row for row in logged if row["kind"] == "train"][-1]
    tensorboard_last = events.Scalars("train/G_L1")[-1]
    assert tensorboard_last.step == last_train["step"] and abs(tensorboard_last.value - last_train["G_L1"]) < 1e-5
    assert tags["images"] == ["source|synthetic|target"]
    grid = events.Images("source|synthetic|target")[-1]
    assert grid.step == 2 and grid.height == 4 * 32 and grid.width == 3 * 32  # 4 rows of source | synthetic | target


def test_without_tensorboard_the_run_still_logs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed: import fails
    train(tiny_config("pix2pix", "train.image_every=2", steps=2), tmp_path / "run", quiet=True)
    assert not (tmp_path / "run" / "tensorboard").exists()
    assert (tmp_path / "run" / "log.jsonl").read_text(encoding="utf-8").count('"kind": "train"') == 2
    assert sorted(path.name for path in (tmp_path / "run" / "images").iterdir()) == ["step_0000002.png"]
