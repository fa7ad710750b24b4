"""bench/device_tree.py: the bundled weights leave the travelling tree for a device run and come back
byte for byte, also when staging fails; what travels is measured against the limit."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import device_tree  # noqa: E402
from device_tree import MODELS, STAGE, StagingError, restore, stage, travelling_bytes  # noqa: E402


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository shaped like this one: two bundled packages with 1 MiB weights, the real .gitignore."""
    root = tmp_path / "repo"
    for model_id in ("model-a", "model-b"):
        package = root / MODELS / model_id
        package.mkdir(parents=True)
        (package / "model.json").write_text(json.dumps({"id": model_id}), encoding="utf-8")
        (package / "model.safetensors").write_bytes(bytes(range(256)) * 4096)
    (root / "code.py").write_text("print('engine')\n", encoding="utf-8")
    shutil.copyfile(REPO / ".gitignore", root / ".gitignore")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    return root


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    (folder / "simpleitk-2.5-cp311-abi3-manylinux2014_x86_64.whl").write_bytes(b"w" * 100_000)
    return folder


def test_stage_moves_the_weights_out_and_restore_brings_them_back(repo: Path, wheels: Path) -> None:
    before = fingerprint(repo / MODELS)
    full = travelling_bytes(repo, [])
    manifest = stage(repo, wheels, limit_mib=1.0)
    assert not (repo / MODELS).exists() and manifest["cards"] == ["model-a", "model-b"]
    assert json.loads((repo / STAGE / "cards" / "model-a" / "model.json").read_text()) == {"id": "model-a"}
    assert (repo / STAGE / "wheels" / "simpleitk-2.5-cp311-abi3-manylinux2014_x86_64.whl").is_file()
    travelling = travelling_bytes(repo, [STAGE])
    assert travelling < 2**20 < full and manifest["travelling_mib"] == round(travelling / 2**20, 1)
    with pytest.raises(StagingError, match="not restored"):
        stage(repo, wheels)  # a second stage before restoring would lose track of the models
    assert restore(repo) and fingerprint(repo / MODELS) == before
    assert not restore(repo)  # restoring twice is harmless
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout == ""


def test_a_tree_over_the_limit_is_refused_with_the_models_back(repo: Path, wheels: Path) -> None:
    before = fingerprint(repo / MODELS)
    (repo / "large_untracked.bin").write_bytes(b"x" * 2 * 2**20)
    with pytest.raises(StagingError, match="over the 1 MiB limit"):
        stage(repo, wheels, limit_mib=1.0)
    assert fingerprint(repo / MODELS) == before and not (repo / STAGE).exists()


def test_a_failure_while_staging_leaves_everything_as_it_was(repo: Path, wheels: Path, tmp_path: Path,
                                                            monkeypatch) -> None:
    before = fingerprint(repo / MODELS)
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(StagingError, match="no .whl files"):
        stage(repo, empty)  # fails before the models move
    assert fingerprint(repo / MODELS) == before

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(device_tree, "travelling_bytes", broken)  # fails after the models were moved
    with pytest.raises(OSError, match="disk full"):
        stage(repo, wheels)
    assert fingerprint(repo / MODELS) == before and not (repo / ".device-hold").exists() and not (repo / STAGE).exists()


def test_restore_never_writes_over_a_models_folder(repo: Path, wheels: Path) -> None:
    stage(repo, wheels, limit_mib=1.0)
    (repo / MODELS).mkdir()
    (repo / MODELS / "new.txt").write_text("made meanwhile", encoding="utf-8")
    with pytest.raises(StagingError, match="keep one by hand"):
        restore(repo)
    assert (repo / ".device-hold" / "Models" / "model-a" / "model.safetensors").is_file()


def test_the_real_tree_without_its_weights_leaves_room_for_the_wheels() -> None:
    """This repository's travelling tree, bundled weights left out, against the limit less the wheels the
    device needs (SimpleITK's is the large one: 50.3 MiB for 2.5.7)."""
    weights = sum(p.stat().st_size for p in (REPO / MODELS).glob("*/model.safetensors"))
    without = travelling_bytes(REPO, []) - weights
    assert without < (device_tree.LIMIT_MIB - 55) * 2**20, f"{without / 2**20:.1f} MiB without the weights"
