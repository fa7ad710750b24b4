"""A synthetic volume as a DICOM series that real clients accept and no one can mistake for an acquired one.

Written with pydicom as a complete CT Image or MR Image IOD (dciodvfy: no errors), in UTF-8 (Specific
Character Set ISO_IR 192; a source's names are decoded from its own character set). It says what it is
in every place DICOM has for it: the Series Description (SYNTHETIC, and NOT FOR CLINICAL USE when the
model's card does not clear it), Image Type DERIVED\\SECONDARY\\AXIAL|OTHER\\SYNTHETIC, the Derivation
Description (model, version, source series), the Image Comments, a Source Image Sequence to the source
images (121322), a Contributing Equipment Sequence (109100 Synthesizing Equipment), Burned In
Annotation NO. It joins the source's patient and study (a new series, new instances); an input that is
not DICOM needs the patient's ID and name. It shares the source's frame of reference only when its
positions are the source's: read from that series by this process, or lying on its slices.

Pixels: CT as signed 16-bit HU (slope 1, intercept 0, brain and bone windows); MR (whose IOD has no
rescale) as 16-bit integers: the output rounded, or the output times a stated power of ten when its
range is too small (fractional, below 256) or too large (65535 and beyond, 32767 with negative values) for
whole numbers. Geometry: the input's (per-slice Image Position, one
Image Orientation, Pixel Spacing, Slice Thickness and, for MR, Spacing Between Slices = the slice step),
or, on request, an axial grid holding the same volume (a planning system that imports axial CT only).
"""
from __future__ import annotations

import datetime
import shutil
from warnings import catch_warnings, simplefilter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk

from .axial_grid import is_axial, resample_axial
from .atomic_files import describe_write_error, publish_folder, temporary_folder
from .clinical_use import NOT_FOR_CLINICAL_USE, card_intended_use, cleared_for_clinical_use
from .dicom_dataset import new_uid, save, slice_dataset
from .dicom_headers import SourceSeries, source_series
from .errors import GANTranslateError
from .model_card import is_ct_domain

STUDY_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                  "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")
OPTIONAL_STUDY_KEYWORDS = ("StudyDescription", "IssuerOfPatientID", "BodyPartExamined")
PATIENT_POSITIONS = ("HFS", "HFP", "FFS", "FFP", "HFDR", "HFDL", "FFDR", "FFDL")
CT_WINDOWS = (("BRAIN", 40, 80), ("BONE", 400, 2000))  # explanation, center, width (HU): head sCT
GRID_TOLERANCE = 1e-3  # of a voxel (position) or of a unit vector (orientation)


@dataclass(frozen=True)
class Patient:
    """Whose series it is, for an input that is not DICOM (a DICOM source names its own)."""
    id: str
    name: str
    position: Optional[str] = None  # Patient Position; HFS with a warning when not given


@dataclass(frozen=True)
class WrittenSeries:
    """Where the series went and whose it is: the Patient ID written, whether it joined the source's study (or
    is a new study), whether it shares the source's frame of reference, and what a planner must know about it."""
    folder: Path
    patient_id: str
    joined_study: bool
    shares_frame: bool
    series_number: int = 0
    series_uid: str = ""
    not_for_clinical_use: bool = True
    axial: bool = False  # resampled onto an axial grid (an axial input is written on its own grid)
    warnings: tuple[str, ...] = ()


_last_series_number = {True: 0, False: 0}


def next_series_number(now: datetime.datetime, ct: bool) -> int:
    """CT 8hhmmss, MR 9hhmmss: unlike the source's numbers and each export's own; two exports of one process in
    the same second still get distinct numbers (the later one counts on)."""
    number = max(int(now.strftime(f"{8 if ct else 9}%H%M%S")), _last_series_number[ct] + 1)
    _last_series_number[ct] = number
    return number


def on_source_grid(image: sitk.Image, source: SourceSeries) -> bool:
    """Whether every source image lies on a slice of ``image``: the same row and column directions, and its
    first pixel at (0, 0, k) of the image for a whole k."""
    d = image.GetDirection()
    orientation = [d[0], d[3], d[6], d[1], d[4], d[7]]
    for header in source.slices:
        if header.position is None or header.orientation is None or \
                not np.allclose(header.orientation, orientation, atol=GRID_TOLERANCE):
            return False
        i, j, k = image.TransformPhysicalPointToContinuousIndex([float(v) for v in header.position])
        if abs(i) > GRID_TOLERANCE or abs(j) > GRID_TOLERANCE or abs(k - round(k)) > GRID_TOLERANCE:
            return False
    return True


def write_dicom_series(image: sitk.Image, folder: Path, model_id: str, model_version: str, source: str, target: str,
                       source_dicom: Optional[Path] = None, *, patient: Optional[Patient] = None,
                       intended_use: Optional[str] = None, axial: bool = False,
                       positions_from_source: bool = False, echo: Optional[str] = None) -> WrittenSeries:
    """Write ``image`` (the translation by model ``model_id`` ``model_version``, on the input's grid) as a new
    DICOM series in ``folder`` (new or empty), atomically.

    ``source_dicom``: the input's series (folder or one of its files), whose patient and study the series
    joins; ``patient``: whose it is when there is no DICOM source; ``intended_use``: the card's (looked up
    among the installed models when None); ``axial``: resample onto an axial grid; ``positions_from_source``:
    the image was read from ``source_dicom`` by this process (its positions are the source's even where a
    tilt was resampled), so it shares the source's frame of reference; ``echo``: the source's echo that was
    translated (the Source Image Sequence references its images only)."""
    if image.GetDimension() != 3:
        image = sitk.JoinSeries(image)
    folder = Path(folder).resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GANTranslateError(f"{folder} is not a new or empty folder; a DICOM series is written into a folder of its own")
    origin = source_series(source_dicom, echo)
    if origin is None and patient is None:
        raise GANTranslateError("a DICOM series needs its patient: the input is not a DICOM series, so give the patient's "
                                "ID and name (--patient-id and --patient-name), or translate the DICOM series itself")
    if intended_use is None:
        intended_use = card_intended_use(model_id, model_version)
    not_clinical = not cleared_for_clinical_use(intended_use)
    ct = is_ct_domain(target)
    now = datetime.datetime.now()
    study, warnings = study_tags(origin, patient)
    shares_frame = "FrameOfReferenceUID" in study and (positions_from_source or on_source_grid(image, origin))
    if not shares_frame:
        study["FrameOfReferenceUID"] = new_uid()
    resampled = bool(axial) and not is_axial(image)  # an axial input is already on an axial grid: kept as it is
    if resampled:
        image = resample_axial(image, -1024.0 if ct else float(sitk.GetArrayViewFromImage(image).min()))
    stored, factor = stored_pixels(sitk.GetArrayFromImage(image).astype(np.float64), ct)
    series_number = next_series_number(now, ct)
    series = series_tags(study, ct, model_id, model_version, source, target, origin, now, series_number,
                         not_clinical, intended_use, resampled, factor, image, stored)
    staged = temporary_folder(folder)
    try:
        for index in range(image.GetDepth()):
            dataset = slice_dataset(series, image, index, stored[index], ct, origin)
            save(dataset, staged / f"slice{index + 1:04d}.dcm")
        publish_folder(staged, folder, force=False, is_replaceable=lambda path: False, what="DICOM series")
    except (OSError, RuntimeError) as error:
        raise describe_write_error(error, folder / "slice0001.dcm") from None
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
    joined = origin is not None
    return WrittenSeries(folder, str(study.get("PatientID", "")).strip(), joined, shares_frame,
                         series_number, series["SeriesInstanceUID"], not_clinical, resampled, tuple(warnings))


def study_tags(origin: Optional[SourceSeries], patient: Optional[Patient]) -> tuple[dict, list[str]]:
    """Patient, study and frame-of-reference attributes: the source's (as text, decoded from its character
    set), or a new study of ``patient``."""
    warnings: list[str] = []
    if origin is not None:
        first = origin.first
        with catch_warnings():  # pydicom's note on text it cannot decode: check_decoded says it in one line
            simplefilter("ignore", UserWarning)
            tags = {key: _as_text(first.get(key)) for key in STUDY_KEYWORDS}
            tags.update({key: _as_text(first.get(key)) for key in OPTIONAL_STUDY_KEYWORDS if first.get(key)})
            for key in ("FrameOfReferenceUID", "PositionReferenceIndicator", "Laterality"):
                if first.get(key):
                    tags[key] = _as_text(first.get(key))
            position = _as_text(first.get("PatientPosition"))
        check_decoded(tags, _as_text(first.get("SpecificCharacterSet")) or "ISO_IR 6 (default)")
    else:
        today = datetime.datetime.now()
        tags = {"PatientName": patient.name, "PatientID": patient.id, "PatientBirthDate": "", "PatientSex": "",
                "StudyInstanceUID": new_uid(), "StudyDate": today.strftime("%Y%m%d"), "StudyTime": today.strftime("%H%M%S"),
                "ReferringPhysicianName": "", "StudyID": today.strftime("%y%m%d%H%M%S"), "AccessionNumber": ""}
        position = patient.position or ""
    if not tags.get("StudyInstanceUID"):
        tags["StudyInstanceUID"] = new_uid()
    if position not in PATIENT_POSITIONS:
        fix = "the source series does not state it" if origin is not None else \
            "give --patient-position if the patient lay otherwise"
        warnings.append(f"Patient Position not known{f' ({position!r})' if position else ''}: wrote HFS (head first "
                        f"supine); {fix}")
        position = "HFS"
    tags["PatientPosition"] = position
    tags.setdefault("PositionReferenceIndicator", "")
    return tags, warnings


def check_decoded(tags: dict, character_set: str) -> None:
    """Refuse a source whose patient or study text is not valid in its own character set (Latin-1 bytes
    labelled UTF-8 are common): decoded, it would be a different name (U+FFFD in place of each letter), so
    the synthetic series would name the patient otherwise than its source does."""
    wrong = [key for key, value in tags.items() if "\ufffd" in value]
    if wrong:
        raise GANTranslateError(f"the source's {', '.join(wrong)} is not valid text in its Specific Character Set "
                                f"({character_set}), so it cannot be copied exactly; correct the source's character "
                                "set (e.g. dcmodify -m \"SpecificCharacterSet=ISO_IR 100\" for Latin-1) and export again")


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def printable(text: Optional[str]) -> str:
    """``text`` with control characters (a hostile card's escape sequences) replaced by spaces."""
    return "".join(" " if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in (text or "")).strip()


def stored_pixels(values: np.ndarray, ct: bool) -> tuple[np.ndarray, float]:
    """The pixel values to store and the factor they were multiplied by (1 unless stated)."""
    if ct:
        return np.clip(np.rint(values), -32768, 32767).astype(np.int16), 1.0
    top = float(np.abs(values).max()) if values.size else 0.0
    limit = 65535 if values.size and float(values.min()) >= 0 else 32767  # unsigned when nothing is negative
    factor = 1.0
    whole = np.allclose(values, np.rint(values))
    while top * factor >= limit and factor > 1e-6:
        factor /= 10
    while not whole and 0 < top * factor < 256 and factor < 1e6:  # fractional: keep at least 8 bits of range
        factor *= 10
    scaled = np.rint(values * factor)
    if scaled.min() >= 0:
        return np.clip(scaled, 0, 65535).astype(np.uint16), factor
    return np.clip(scaled, -32768, 32767).astype(np.int16), factor


def series_tags(study: dict, ct: bool, model_id: str, model_version: str, source: str, target: str,
                origin: Optional[SourceSeries], now: datetime.datetime, series_number: int, not_clinical: bool,
                intended_use: Optional[str], axial: bool, factor: float, image: sitk.Image, stored: np.ndarray) -> dict:
    """The attributes every file of the series shares."""
    warning = f" {NOT_FOR_CLINICAL_USE}" if not_clinical else ""
    description = f"SYNTHETIC {target}{warning}{' AXIAL' if axial else ''} ({model_id} {model_version})"
    source_name = ""
    if origin is not None:
        named = _as_text(origin.first.get("SeriesDescription"))
        number, uid = _as_text(origin.first.get("SeriesNumber")), _as_text(origin.first.get("SeriesInstanceUID"))
        source_name = " ".join(["", "series"] + [part for part in (repr(named) if named else "", number,
                                                                      f"({uid})" if uid else "") if part])
    steps = []
    if axial:
        steps.append("resampled onto an axial grid (linear interpolation)")
    if factor != 1:
        steps.append(f"pixel value = model output x {factor:g}")
    derivation = (f"SYNTHETIC {target} from {source}{source_name} by GANTranslate model {model_id} {model_version}"
                  + "".join(f"; {s}" for s in steps))
    comments = f"SYNTHETIC {target} from {source} by {model_id} {model_version}; not an acquired image."
    if not_clinical:
        comments += f" {NOT_FOR_CLINICAL_USE}: the model's stated intended use is: {printable(intended_use) or 'none stated'}"
    if steps:
        comments += " " + "; ".join(steps).capitalize() + "."
    tags = {**study,
            "SeriesInstanceUID": new_uid(), "SeriesNumber": series_number, "Modality": "CT" if ct else "MR",
            "SeriesDescription": description[:64], "SeriesDate": now.strftime("%Y%m%d"), "SeriesTime": now.strftime("%H%M%S"),
            "ContentDate": now.strftime("%Y%m%d"), "ContentTime": now.strftime("%H%M%S"),
            "InstanceCreationDate": now.strftime("%Y%m%d"), "InstanceCreationTime": now.strftime("%H%M%S"),
            "ImageType": ["DERIVED", "SECONDARY", "AXIAL" if ct else "OTHER", "SYNTHETIC"],
            "DerivationDescription": derivation[:1024], "ImageComments": comments[:10240],
            "BurnedInAnnotation": "NO", "Laterality": study.get("Laterality", ""),
            "Manufacturer": "GANTranslate", "ManufacturerModelName": model_id[:64], "SoftwareVersions": model_version[:64]}
    if ct:
        tags.update(KVP="", AcquisitionNumber="", RescaleIntercept=0, RescaleSlope=1,
                    WindowCenter=[c for _, c, _ in CT_WINDOWS], WindowWidth=[w for _, _, w in CT_WINDOWS],
                    WindowCenterWidthExplanation=[name for name, _, _ in CT_WINDOWS])
    else:
        low, high = (float(v) for v in np.percentile(stored, [0.5, 99.5])) if stored.size else (0.0, 1.0)
        tags.update(ScanningSequence="RM", SequenceVariant="NONE", ScanOptions="", MRAcquisitionType="",
                    RepetitionTime="", EchoTime="", EchoTrainLength="", SpacingBetweenSlices=f"{image.GetSpacing()[2]:.10g}",
                    WindowCenter=f"{(low + high) / 2:.6g}", WindowWidth=f"{max(high - low, 1.0):.6g}",
                    WindowCenterWidthExplanation="0.5 TO 99.5 PERCENTILE")
    return tags


def describe(written: WrittenSeries) -> str:
    """What a planner must know before sending the series on, in one paragraph."""
    where = (f"in patient {written.patient_id}'s study" if written.joined_study else f"in a new study of patient {written.patient_id}")
    frame = "in the source series' frame of reference" if written.shares_frame else "with a frame of reference of its own"
    text = (f"DICOM series {written.series_number} (SYNTHETIC{' ' + NOT_FOR_CLINICAL_USE if written.not_for_clinical_use else ''}"
            f"{', resampled onto an axial grid' if written.axial else ''}) {where}, {frame}; a new Series Instance UID: "
            "sent where an earlier export of this input went, it is a second series beside that one")
    return text

