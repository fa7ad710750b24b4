"""The background-process contract the Slicer module relies on: command, JSON progress, cancel, errors."""
import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import DATA, make_package
from GANTranslateLib.inference_options import InferenceOptions
from GANTranslateLib.background_run import (
    RunRequest,
    child_environment,
    failure_message,
    parse_line,
    predict_command,
)


def test_command_is_an_argument_list_with_every_choice() -> None:
    options = InferenceOptions(mode="patch", device="cpu", batch_size=2, patch_size=(64, 64, 32), overlap=0.25)
    request = RunRequest(model="m", input_path="in file.nrrd", output_path="out.nrrd", source="T1", target="T2",
                         options=options)
    args = predict_command("/opt/Slicer/bin/PythonSlicer", request)
    assert args[:4] == ["/opt/Slicer/bin/PythonSlicer", "-m", "GANTranslateLib.cli", "predict"]
    assert "in file.nrrd" in args and args[args.index("--patch-size") + 1 :][:3] == ["64", "64", "32"]
    assert args[args.index("--progress") + 1] == "json"
    assert "--no-compression" in args  # scratch files: writing them fast matters, their size does not


def test_cpu_hides_gpus_and_engine_is_importable() -> None:
    env = child_environment("cpu", {"PYTHONPATH": "/x"})
    assert env["CUDA_VISIBLE_DEVICES"] == "-1" and env["PYTHONPATH"].endswith("/x")
    assert "CUDA_VISIBLE_DEVICES" not in child_environment("auto", {})


def test_progress_lines_map_to_a_monotone_fraction() -> None:
    lines = [json.dumps({"event": "progress", "stage": "loading model", "done": 0, "total": 1})]
    lines += [json.dumps({"event": "progress", "stage": "compiling", "done": 0, "total": 1})]
    lines += [json.dumps({"event": "progress", "stage": "inference", "done": i, "total": 4}) for i in range(1, 5)]
    lines += ["some warning from a library", json.dumps({"event": "done", "output": "x", "seconds": 1})]
    events = [e for e in map(parse_line, lines) if e is not None]
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and events[-1].kind == "done"
    assert len(events) == 7


def test_failure_messages() -> None:
    assert "smaller batch" in failure_message("RuntimeError: CUDA out of memory. Tried", 1)
    assert failure_message("gantranslate: error: input not found: x (check the path)\n", 1) == "input not found: x (check the path)"
    assert "killed" in failure_message("", -9)


def test_cancel_kills_the_run_and_leaves_no_output(tmp_path: Path) -> None:
    package = make_package(tmp_path / "slow", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 32}})
    out = tmp_path / "out.nrrd"
    request = RunRequest(model=str(package.path), input_path=str(DATA / "tcga_t2_brats_crop.nrrd"),
                         output_path=str(out), source="T1", target="T2",
                         options=InferenceOptions(device="cpu", batch_size=1, axis="sagittal"))
    process = subprocess.Popen(predict_command(sys.executable, request), stdout=subprocess.PIPE, text=True,
                               env=child_environment("cpu"))
    started = time.monotonic()
    for line in process.stdout:
        event = parse_line(line)
        if event and event.stage == "inference":
            break
    process.kill()  # what Cancel does
    process.wait(timeout=10)
    assert time.monotonic() - started < 120
    assert not out.exists() and list(tmp_path.glob("*.nrrd")) == []


def test_options_check_themselves_and_write_their_own_arguments() -> None:
    """One type from the panel to the engine: a bad value is an error where it is made, and the background
    command carries exactly the settings that differ from the defaults."""
    import pytest

    from GANTranslateLib.errors import GANTranslateError

    for bad in ({"mode": "3d"}, {"overlap": 1.0}, {"batch_size": 0}, {"axis": "oblique"}, {"patch_size": (64, 64)},
                {"precision": "half"}):
        with pytest.raises(GANTranslateError):
            InferenceOptions(**bad)
    assert InferenceOptions().cli_arguments() == []
    assert InferenceOptions(precision="fast", force=True, output_dtype="input").cli_arguments() == [
        "--precision", "fast", "--output-dtype", "input", "--force"]
