"""Synthetic series made by the command line with REAL bundled models (T1 -> T2 pix2pix, T1 -> CT template)
from a DICOM source (the real Hitachi series) and from a NIfTI source (the oblique TCGA T1 crop), each run
also written as NIfTI, for the writer's tests and the real-client tests."""
from __future__ import annotations

from pathlib import Path

from GANTranslateLib.cli import main

DATA = Path(__file__).parent / "Data"
DICOM_SOURCE = DATA / "dicom_hitachi_mr"
NIFTI_SOURCE = DATA / "tcga_t1_native_oblique_crop.nii.gz"
MODELS = {"MR": "t1-to-t2-pix2pix-2d", "CT": "t1-to-ct-template-demo-2d"}
PATIENT = ["--patient-id", "GT-0001", "--patient-name", "MÜLLER^JÖRG"]


def make_exports(base: Path) -> dict[str, Path]:
    """{'CT-dicom': series folder, 'CT-dicom.nii': the same run as NIfTI, ... for CT/MR x dicom/nifti}."""
    made: dict[str, Path] = {}
    for modality, model in MODELS.items():
        for origin, source in (("dicom", DICOM_SOURCE), ("nifti", NIFTI_SOURCE)):
            name = f"{modality}-{origin}"
            extra = PATIENT if origin == "nifti" else []
            common = ["predict", "-m", model, "-i", str(source), "--progress", "none", "--compile", "never"]
            assert main([*common, "-o", str(base / name), "--dicom", *extra]) == 0
            assert main([*common, "-o", str(base / f"{name}.nii.gz")]) == 0
            made[name], made[f"{name}.nii"] = base / name, base / f"{name}.nii.gz"
    return made
