"""A synthetic volume as a DICOM series that cannot pass for an acquired one.

For a planner, a synthetic CT is most useful in the planning system, which reads DICOM. Written there it
must still say what it is, wherever it goes: the Series Description begins with SYNTHETIC, the Image
Type is DERIVED\\SECONDARY\\SYNTHETIC, the Derivation Description names the model, its version and the
source, and the series has a new Series Instance UID (and new SOP Instance UIDs) in the source's study
(its Study Instance UID, patient and patient position, where the input was DICOM). It shares the source's
Frame of Reference UID only when it lies on the source series' grid (same orientation, first slice on a
slice of the result): a volume moved since it was loaded (a hardened registration) gets a frame of its own,
so a planning system never takes it for registered to the source. CT is stored in Hounsfield units as
signed 16-bit integers (Rescale Slope 1, Intercept 0); MR as 16-bit integers with a Rescale Slope that
keeps the values. The geometry is the input's: Image Position and Orientation per slice, Pixel Spacing,
Slice Thickness. (A DICOM reader orders slices along row x column, so a left-handed input grid reads back
with its slices in the other order: the same voxels in the same places.)
"""
from __future__ import annotations

import datetime
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk

from .atomic_files import describe_write_error, publish_folder, temporary_folder
from .errors import GANTranslateError
from .model_card import is_ct_domain

STUDY_TAGS = {  # copied from a DICOM source so that the series joins the patient's study
    "0010|0010": "PatientName", "0010|0020": "PatientID", "0010|0030": "PatientBirthDate", "0010|0040": "PatientSex",
    "0020|000d": "StudyInstanceUID", "0008|0020": "StudyDate", "0008|0030": "StudyTime", "0008|0050": "AccessionNumber",
    "0020|0010": "StudyID", "0008|1030": "StudyDescription", "0020|0052": "FrameOfReferenceUID",
    "0008|0090": "ReferringPhysicianName", "0018|5100": "PatientPosition",
}
GRID_TOLERANCE = 1e-3  # of a voxel (position) or of a unit vector (orientation)


@dataclass(frozen=True)
class WrittenSeries:
    """Where the series went, and whose it is: the patient's study it joined ("" for a new study without a
    patient, when the input was not DICOM) and whether it shares the source's frame of reference."""
    folder: Path
    patient_id: str
    joined_study: bool
    shares_frame: bool


def new_uid() -> str:
    """A DICOM UID from a random UUID (the 2.25 root, DICOM PS3.5 B.2)."""
    return f"2.25.{uuid.uuid4().int}"


def source_header(source_dicom: Optional[Path]) -> Optional[sitk.ImageFileReader]:
    """The header of the source series' first file (``source_dicom``: the series folder or one file of it)."""
    files: list[str] = []
    if source_dicom is not None and Path(source_dicom).is_dir():
        files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(source_dicom)))
    elif source_dicom is not None and Path(source_dicom).is_file():
        files = [str(source_dicom)]
    if not files:
        return None
    reader = sitk.ImageFileReader()
    reader.SetFileName(files[0])
    reader.ReadImageInformation()
    return reader


def on_source_grid(image: sitk.Image, header: sitk.ImageFileReader) -> bool:
    """Whether ``image`` lies on the source slice's grid: same row and column directions, and the source
    slice's first pixel at (0, 0, k) of the image for a whole k."""
    try:
        position = [float(v) for v in header.GetMetaData("0020|0032").split("\\")]
        orientation = [float(v) for v in header.GetMetaData("0020|0037").split("\\")]
    except (RuntimeError, ValueError):
        return False
    d = image.GetDirection()
    if len(position) != 3 or not np.allclose(orientation, [d[0], d[3], d[6], d[1], d[4], d[7]], atol=GRID_TOLERANCE):
        return False
    i, j, k = image.TransformPhysicalPointToContinuousIndex(position)
    return abs(i) < GRID_TOLERANCE and abs(j) < GRID_TOLERANCE and abs(k - round(k)) < GRID_TOLERANCE


def study_of(header: Optional[sitk.ImageFileReader], image: sitk.Image) -> tuple[dict[str, str], bool]:
    """The patient and study tags to write (the source's, or a new study without a patient) and whether the
    source's frame of reference is kept (only when ``image`` lies on its grid)."""
    tags = {key: header.GetMetaData(key) for key in STUDY_TAGS if header.HasMetaDataKey(key)} if header else {}
    shares_frame = "0020|0052" in tags and on_source_grid(image, header)
    if not shares_frame:
        tags["0020|0052"] = new_uid()
    tags.setdefault("0020|000d", new_uid())
    return tags, shares_frame


def write_dicom_series(image: sitk.Image, folder: Path, model_id: str, model_version: str, source: str, target: str,
                       source_dicom: Optional[Path] = None) -> WrittenSeries:
    """Write ``image`` (the translation by model ``model_id`` ``model_version``, on the input's grid) as a new
    DICOM series in ``folder`` (new or empty), atomically; ``source_dicom``: the input's series (folder or
    one of its files), whose patient and study the new series joins."""
    if image.GetDimension() != 3:
        image = sitk.JoinSeries(image)
    folder = Path(folder).resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GANTranslateError(f"{folder} is not a new or empty folder; a DICOM series is written into a folder of its own")
    values = sitk.GetArrayFromImage(image).astype(np.float64)
    if is_ct_domain(target):
        stored, slope = np.clip(np.rint(values), -32768, 32767).astype(np.int16), 1.0
    else:
        top = max(float(values.max()), 1e-6)
        slope = top / 65535.0 if top > 65535 or not np.allclose(values, np.rint(values)) else 1.0
        stored = np.clip(np.rint(values / slope), 0, 65535).astype(np.uint16)
    now = datetime.datetime.now()
    header = source_header(source_dicom)
    study, shares_frame = study_of(header, image)
    series = {
        **study,
        "0020|000e": new_uid(),  # SeriesInstanceUID: always new
        "0008|0060": "CT" if is_ct_domain(target) else "MR",
        "0008|103e": f"SYNTHETIC {target} ({model_id} {model_version})"[:64],
        "0008|0008": "DERIVED\\SECONDARY\\SYNTHETIC",
        "0008|2111": f"SYNTHETIC {target} from {source} by GANTranslate model {model_id} {model_version}"[:1024],
        "0008|0070": "GANTranslate", "0008|1090": model_id[:64], "0018|1020": model_version,
        "0020|0011": "9001", "0008|0021": now.strftime("%Y%m%d"), "0008|0031": now.strftime("%H%M%S"),
        "0028|1052": "0", "0028|1053": f"{slope:.10g}", "0028|1054": "HU" if is_ct_domain(target) else "US",
    }
    direction = image.GetDirection()
    orientation = "\\".join(f"{v:.10g}" for v in (direction[0], direction[3], direction[6], direction[1], direction[4], direction[7]))
    staged = temporary_folder(folder)
    try:
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        for index in range(image.GetDepth()):
            plane = sitk.GetImageFromArray(stored[index])
            position = image.TransformIndexToPhysicalPoint((0, 0, index))
            for key, value in {**series,
                               "0008|0018": new_uid(), "0020|0013": str(index + 1),
                               "0020|0032": "\\".join(f"{p:.10g}" for p in position), "0020|0037": orientation,
                               "0028|0030": f"{image.GetSpacing()[1]:.10g}\\{image.GetSpacing()[0]:.10g}",
                               "0018|0050": f"{image.GetSpacing()[2]:.10g}"}.items():
                plane.SetMetaData(key, value)
            plane.SetSpacing(image.GetSpacing()[:2])
            writer.SetFileName(str(staged / f"slice{index + 1:04d}.dcm"))
            writer.Execute(plane)
        publish_folder(staged, folder, force=False, is_replaceable=lambda path: False, what="DICOM series")
    except (OSError, RuntimeError) as error:
        raise describe_write_error(error, folder / "slice0001.dcm") from None
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
    joined = header is not None and header.HasMetaDataKey("0020|000d")
    return WrittenSeries(folder, study.get("0010|0020", "").strip() if joined else "", joined, shares_frame)
