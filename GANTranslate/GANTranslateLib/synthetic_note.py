"""The whole synthetic note beside a NIfTI output, in a JSON sidecar (``synthetic_T2.json``, as BIDS names them).

Why: NIfTI's description field holds 80 bytes, so it carries a short note (model_card.fitting_note); NRRD and
MHA headers hold the whole note themselves. ITK writes no NIfTI extensions, so the sidecar is where the rest goes.
"""
from __future__ import annotations

import json
from pathlib import Path

import SimpleITK as sitk

from .atomic_files import publish_file, temporary_file
from .errors import GANTranslateError
from .nifti_check import is_nifti

NOTE_KEY = "GANTranslate_synthetic"


def sidecar_path(volume: Path) -> Path | None:
    """``x.nii.gz`` -> ``x.json``; None for formats whose header holds the whole note."""
    if not is_nifti(volume):
        return None
    stem = volume.name[: -len(".nii.gz")] if volume.name.lower().endswith(".gz") else volume.name[: -len(".nii")]
    return volume.with_name(stem + ".json")


def check_sidecar_free(volume: Path, replace: bool) -> None:
    """Before any work: the sidecar name is free, GANTranslate's own, or may be replaced (a BIDS sidecar of an
    acquired image may already be there)."""
    path = sidecar_path(volume)
    if path is None or replace or not path.exists() or _is_ours(path):
        return
    raise GANTranslateError(f"{path} exists and was not written by GANTranslate; the synthetic note of {volume.name} "
                            "goes there: choose another output name, or pass --force-overwrite to replace it")


def _is_ours(path: Path) -> bool:
    try:
        return NOTE_KEY in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def write_sidecar(image: sitk.Image, volume: Path) -> Path | None:
    """Write the image's whole note beside a NIfTI file (atomically); nothing for other formats."""
    path = sidecar_path(Path(volume))
    if path is None or not image.HasMetaDataKey(NOTE_KEY):
        return None
    record = {NOTE_KEY: image.GetMetaData(NOTE_KEY), "Synthetic": True, "Describes": Path(volume).name}
    temporary = temporary_file(path, ".json")
    try:
        temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        publish_file(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
