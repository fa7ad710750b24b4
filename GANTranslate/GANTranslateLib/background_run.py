"""The contract between the Slicer module and the engine's command line in a background process.

The module starts ``PythonSlicer -m GANTranslateLib.cli predict ... --progress json`` and reads one
JSON object per line; this file builds that command and parses those lines, so both sides are
tested without Slicer.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .inference_options import InferenceOptions

ENGINE_FOLDER = Path(__file__).resolve().parent.parent  # the folder that contains GANTranslateLib


@dataclass(frozen=True)
class RunRequest:
    model: str
    input_path: str
    output_path: str
    source: Optional[str] = None
    target: Optional[str] = None
    options: InferenceOptions = InferenceOptions()
    disagreement_path: Optional[str] = None


def predict_command(python: str, request: RunRequest) -> list[str]:
    """Argument list (never a shell string) for the background translation."""
    args = [python, "-m", "GANTranslateLib.cli", "predict", "-m", request.model, "-i", request.input_path,
            "-o", request.output_path, *request.options.cli_arguments(),
            "--progress", "json", "--no-compression"]  # scratch files: speed
    for flag, value in (("--source", request.source), ("--target", request.target),
                        ("--disagreement-map", request.disagreement_path)):
        if value is not None:
            args += [flag, str(value)]
    return args


def child_environment(device: str, base: Optional[dict] = None) -> dict[str, str]:
    """The engine importable from the child; forcing the CPU hides every GPU from it."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join([str(ENGINE_FOLDER), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"  # the parent reads UTF-8 whatever the locale
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    return env


@dataclass(frozen=True)
class ProgressEvent:
    kind: str  # progress, warning, done
    stage: str = ""
    fraction: float = 0.0
    fields: Optional[dict] = None


# How much of the whole run each stage stands for, so the bar moves steadily.
STAGE_SPAN = {"loading model": (0.0, 0.05), "resampling": (0.05, 0.1), "compiling": (0.1, 0.1), "inference": (0.1, 0.95),
              "writing": (0.95, 1.0), "done": (1.0, 1.0)}


def parse_line(line: str) -> Optional[ProgressEvent]:
    """A progress event from one stdout line, or None for anything else (warnings, logs)."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(data, dict) or "event" not in data:
        return None
    if data["event"] == "done":
        return ProgressEvent("done", "done", 1.0, data)
    if data["event"] == "warning":  # the input guard's and the engine's: shown to the user, not progress
        return ProgressEvent("warning", "", -1.0, data)
    stage = data.get("stage", "")
    low, high = STAGE_SPAN.get(stage, (0.0, 1.0))
    total = max(int(data.get("total", 1)), 1)
    return ProgressEvent("progress", stage, low + (high - low) * min(int(data.get("done", 0)), total) / total, data)


def failure_message(stderr_text: str, exit_code: int) -> str:
    """One line a user can act on, from the child's stderr and exit status."""
    lines = [l for l in stderr_text.strip().splitlines() if l.strip()]
    last = lines[-1] if lines else ""
    if "out of memory" in stderr_text.lower():
        return "out of memory: use a smaller batch size or patch size, or run on the CPU"
    if exit_code in (-9, 137) and not last:
        return "the translation process was killed (often: out of memory); use a smaller batch or patch size"
    if last.startswith("gantranslate: error: "):
        return last.removeprefix("gantranslate: error: ")
    return last or f"the translation process failed with exit code {exit_code}"
