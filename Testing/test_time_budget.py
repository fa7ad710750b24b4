"""train.max_minutes: a run past its time budget checkpoints and stops cleanly, and resumes to the end."""
import json
from pathlib import Path

import pytest
import torch

from trainer_helpers import tiny_config
from GANTranslateLib.errors import GANTranslateError
from gantranslate_trainer.checkpoint import load_checkpoint
from gantranslate_trainer.training import train


def test_a_spent_time_budget_stops_with_a_checkpoint_and_the_run_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(tiny_config("pix2pix", "train.max_minutes=0.000001", "train.checkpoint_every=1000", steps=8), run, quiet=True)
    stopped = load_checkpoint(run / "last.pt", torch.device("cpu"))
    assert stopped["step"] == 1  # the budget is spent after the first step; checkpointed though not due
    events = [json.loads(line) for line in (run / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(e["kind"] == "event" and "stopped at step 1 of 8" in e["message"] for e in events)
    # the budget is not part of the experiment: the same run resumes without it and ends at its last step
    train(tiny_config("pix2pix", "train.checkpoint_every=1000", steps=8), run, resume=True, quiet=True)
    assert load_checkpoint(run / "last.pt", torch.device("cpu"))["step"] == 8


def test_a_bad_budget_is_refused() -> None:
    with pytest.raises(GANTranslateError, match="max_minutes"):
        tiny_config("pix2pix", "train.max_minutes=0")
