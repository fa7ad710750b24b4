"""Checkpoints written atomically and read back without unpickling code (``weights_only=True``)."""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from GANTranslateLib.atomic_files import describe_write_error, publish_file, temporary_file
from GANTranslateLib.errors import GANTranslateError


def rng_state() -> dict[str, Any]:
    """Every random state the loop touches, in types that ``weights_only`` loading accepts."""
    numpy_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": list(random.getstate()[1]) + [random.getstate()[2]],
        "python_version": random.getstate()[0],
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].astype(np.int64)), *numpy_state[2:]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    python = state["python"]
    random.setstate((state["python_version"], tuple(python[:-1]), python[-1]))
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write beside the target and rename, so a kill at any moment leaves the old or the new file whole; a
    full disk is one line naming the folder, and the previous checkpoint stays."""
    tmp = temporary_file(path, ".partial")
    try:
        torch.save(state, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        publish_file(tmp, path)
    except (OSError, RuntimeError) as error:  # torch.save reports a failed write as a RuntimeError
        raise describe_write_error(error, path, _tensor_bytes(state)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _tensor_bytes(value: Any) -> int:
    """Roughly how large a checkpoint will be: its tensors' bytes."""
    if isinstance(value, torch.Tensor):
        return value.nelement() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_tensor_bytes(v) for v in value)
    return 0


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    if not path.is_file():
        raise GANTranslateError(f"no checkpoint at {path}; was the run saved at least once?")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any failure here means the file is unusable
        raise GANTranslateError(f"cannot read checkpoint {path} ({str(error).splitlines()[0]})") from None
