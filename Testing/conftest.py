"""Shared fixtures: real test volumes and small model packages made on the fly."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from GANTranslateLib.model_card import parse_card
from GANTranslateLib.model_package import ModelPackage, save_package
from GANTranslateLib.networks import build_generator

DATA = Path(__file__).parent / "Data"
REPO = Path(__file__).resolve().parent.parent

IDENTITY_CARD: dict[str, Any] = {
    "schema_version": 1,
    "id": "identity-test",
    "version": "1.0.0",
    "name": "Identity (pipeline check)",
    "task": "translation",
    "domains": ["T1", "T2"],
    "directions": [["T1", "T2"]],
    "conditioning": "none",
    "architecture": {"name": "identity", "args": {}},
    "mode": "2d",
    "slice": {"axis": "axial", "adjacent": 0},
    "spacing": None,
    "orientation": "LPS",
    "normalization": {
        "T1": {"method": "window", "min": -4000, "max": 4000},
        "T2": {"method": "window", "min": -4000, "max": 4000},
    },
    "license": "CC0-1.0",
}


@pytest.fixture(autouse=True, scope="session")
def private_compile_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled networks made by the tests go to a scratch cache, never the user's."""
    import os

    os.environ["GANTRANSLATE_CACHE"] = str(tmp_path_factory.mktemp("gantranslate-cache"))


def make_card(**changes: Any) -> dict[str, Any]:
    """The identity card with changes; a change to None removes the key (e.g. ``slice=None`` for 3D)."""
    card = copy.deepcopy(IDENTITY_CARD)
    card.update(changes)
    return {k: v for k, v in card.items() if v is not None or k == "spacing"}


def make_package(folder: Path, seed: int = 0, **changes: Any) -> ModelPackage:
    """A package with the card changes applied and freshly initialised (seeded) weights."""
    card = make_card(**changes)
    torch.manual_seed(seed)
    arch = card["architecture"]
    num_domains = len(card["domains"]) if card.get("conditioning") == "target_domain" else 0
    residual = parse_card(card).residual_channel
    return save_package(folder, card, build_generator(arch["name"], arch["args"], num_domains, residual))


@pytest.fixture
def identity_package(tmp_path: Path) -> ModelPackage:
    return make_package(tmp_path / "identity")


@pytest.fixture
def small_unet_package(tmp_path: Path) -> ModelPackage:
    return make_package(
        tmp_path / "unet",
        id="small-unet",
        architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance"}},
        normalization={
            "T1": {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 800]},
            "T2": {"method": "percentile", "low": 0.5, "high": 99.5, "mask": "nonzero", "reference": [0, 2000]},
        },
    )


@pytest.fixture
def oblique_t1() -> Path:
    return DATA / "tcga_t1_native_oblique_crop.nii.gz"


@pytest.fixture
def t2_nrrd() -> Path:
    return DATA / "tcga_t2_brats_crop.nrrd"


@pytest.fixture
def dicom_series() -> Path:
    return DATA / "dicom_hitachi_mr"


def assert_same_geometry(a: sitk.Image, b: sitk.Image) -> None:
    """Bit-exact: size, spacing, origin and direction."""
    assert a.GetSize() == b.GetSize()
    assert a.GetSpacing() == b.GetSpacing()
    assert a.GetOrigin() == b.GetOrigin()
    assert a.GetDirection() == b.GetDirection()


def as_saved(image: sitk.Image, path: Path) -> sitk.Image:
    """The image as it reads back from a file of ``path``'s format.

    NIfTI stores orientation in float32, so any NIfTI write rounds the direction at ~1e-9; the fair
    bit-exact check for a written output is against the input written the same way.
    """
    scratch = path.with_name("saved-for-comparison" + "".join(path.suffixes))
    sitk.WriteImage(image, str(scratch))
    try:
        return sitk.ReadImage(str(scratch))
    finally:
        scratch.unlink()


def array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


@pytest.fixture(scope="session")
def bundled_model_dicom_exports(tmp_path_factory) -> dict[str, Path]:
    """Synthetic CT and MR series (and NIfTI) by the real bundled models, made once (dicom_exports.py)."""
    from dicom_exports import make_exports

    return make_exports(tmp_path_factory.mktemp("dicom_exports"))
