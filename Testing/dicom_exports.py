"""Synthetic series made with REAL bundled models (T1 -> T2 pix2pix, T1 -> CT template) from a DICOM source
(the real Hitachi series) and from a NIfTI source (the oblique TCGA T1 crop), each translation also written
as NIfTI, for the writer's tests and the real-client tests."""
from __future__ import annotations

from pathlib import Path

from GANTranslateLib.cli import main
from GANTranslateLib.dicom_export import Patient, write_dicom_series
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.model_registry import find_package

DATA = Path(__file__).parent / "Data"
DICOM_SOURCE = DATA / "dicom_hitachi_mr"
NIFTI_SOURCE = DATA / "tcga_t1_native_oblique_crop.nii.gz"
MODELS = {"MR": "t1-to-t2-pix2pix-2d", "CT": "t1-to-ct-template-demo-2d"}
PATIENT = Patient("GT-0001", "MÜLLER^JÖRG")


def make_exports(base: Path) -> dict[str, Path]:
    """{'CT-dicom': series folder, 'CT-dicom.nii': the same translation as NIfTI, ... for CT/MR x dicom/nifti}.

    From the DICOM source, ``predict --dicom`` (and ``predict`` to NIfTI); from the NIfTI source, the path the
    Slicer module takes (its result as a file, then the engine's writer with the node's model id, version and
    patient), which spares a run per series."""
    made: dict[str, Path] = {}
    for modality, model in MODELS.items():
        for origin, source in (("dicom", DICOM_SOURCE), ("nifti", NIFTI_SOURCE)):
            name = f"{modality}-{origin}"
            common = ["predict", "-m", model, "-i", str(source), "--progress", "none", "--compile", "never"]
            assert main([*common, "-o", str(base / f"{name}.nii.gz")]) == 0
            if origin == "dicom":
                assert main([*common, "-o", str(base / name), "--dicom"]) == 0
            else:
                card = find_package(model).card
                write_dicom_series(read_volume(base / f"{name}.nii.gz"), base / name, card.id, card.version, "T1",
                                   modality if modality == "CT" else "T2", None, patient=PATIENT)
            made[name], made[f"{name}.nii"] = base / name, base / f"{name}.nii.gz"
    card = find_package(MODELS["CT"]).card  # the oblique Hitachi sCT on an axial grid (--dicom-axial)
    write_dicom_series(read_volume(made["CT-dicom.nii"]), base / "CT-axial", card.id, card.version, "T1", "CT",
                       DICOM_SOURCE, axial=True)
    made["CT-axial"] = base / "CT-axial"
    return made
