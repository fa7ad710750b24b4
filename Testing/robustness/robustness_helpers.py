"""Shared pieces of the robustness suite: a small full disk, a real input, one-line error checks."""
from __future__ import annotations

import contextlib
import hashlib
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import torch

from conftest import DATA

REAL_T2 = DATA / "tcga_t2_brats_crop.nrrd"  # 80 x 80 x 12, a crop of a real T2


@contextlib.contextmanager
def full_disk(tmp_path: Path, kilobytes: int = 64) -> Iterator[Path]:
    """A tiny tmpfs (a real full disk: writes fail with ENOSPC); skipped where this process may not mount."""
    mount = tmp_path / f"tmpfs-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the injected-failure tests cover the same checks")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def one_line_error(text: str, prefix: str = "gantranslate: error:") -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), text
    assert "Traceback" not in text
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    """Every file under a folder with its content hash: to show nothing was changed or removed."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def reference_checkpoint(path: Path) -> Path:
    """A pytorch-CycleGAN-and-pix2pix style generator checkpoint (tensors only)."""
    from GANTranslateLib.networks import build_generator

    torch.manual_seed(0)
    network = build_generator("resnet_generator", {"input_nc": 1, "output_nc": 1, "ngf": 4, "n_blocks": 1, "norm": "instance"})
    torch.save(network.state_dict(), path)
    return path


IMPORT_ARGS = ["--arch", "resnet_6blocks", "--norm", "instance", "--ngf", "4", "--source", "T1", "--target", "T2"]
