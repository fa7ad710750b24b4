"""One file of a synthetic series as a pydicom dataset: the series' attributes, the slice's place, its
references to the source images (Source Image and Referenced Series sequences), the synthesizing equipment,
and its pixels; written with pydicom 2.4 (stock Slicer) or 3."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk

from .dicom_headers import SourceSeries

CT_STORAGE, MR_STORAGE = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4"
EXPLICIT_LITTLE = "1.2.840.10008.1.2.1"
IMPLEMENTATION_UID = "2.25.272109447018763530455614186372735812369"  # GANTranslate's, made once from a UUID


def new_uid() -> str:
    """A DICOM UID from a random UUID (the 2.25 root, DICOM PS3.5 B.2)."""
    return f"2.25.{uuid.uuid4().int}"


def slice_dataset(series: dict, image: sitk.Image, index: int, pixels: np.ndarray, ct: bool,
                  origin: Optional[SourceSeries]):
    """One file: the series' attributes, this slice's place, its source images and its pixels."""
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence

    sop_class = CT_STORAGE if ct else MR_STORAGE
    sop_instance = new_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_instance
    meta.TransferSyntaxUID, meta.ImplementationClassUID = EXPLICIT_LITTLE, IMPLEMENTATION_UID
    meta.ImplementationVersionName = "GANTRANSLATE"
    dataset = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    dataset.SpecificCharacterSet = "ISO_IR 192"
    dataset.SOPClassUID, dataset.SOPInstanceUID = sop_class, sop_instance
    for key, value in series.items():
        setattr(dataset, key, value)
    direction = image.GetDirection()
    spacing = image.GetSpacing()
    dataset.InstanceNumber = index + 1
    dataset.ImagePositionPatient = [_ds(v) for v in image.TransformIndexToPhysicalPoint((0, 0, index))]
    dataset.ImageOrientationPatient = [_ds(v) for v in (direction[0], direction[3], direction[6],
                                                         direction[1], direction[4], direction[7])]
    dataset.PixelSpacing = [_ds(spacing[1]), _ds(spacing[0])]
    dataset.SliceThickness = _ds(spacing[2])
    dataset.ContributingEquipmentSequence = Sequence([_contribution(series)])
    references = _source_images(image, index, origin)
    if references:
        dataset.SourceImageSequence = Sequence(references)
        if str(origin.first.get("SeriesInstanceUID") or ""):  # a source without one (seen in real series):
            dataset.ReferencedSeriesSequence = Sequence([_referenced_series(origin, references)])  # no empty UID
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.Rows, dataset.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
    dataset.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    dataset.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()
    dataset["PixelData"].VR = "OW"
    return dataset


def _ds(value: float) -> str:
    """A decimal string of at most 16 characters (DS), as precise as that allows."""
    for digits in range(12, 4, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{value:.4g}"


def _code(value: str, meaning: str):
    from pydicom.dataset import Dataset

    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
    return code


def _contribution(series: dict):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.PurposeOfReferenceCodeSequence = Sequence([_code("109100", "Synthesizing Equipment")])
    item.Manufacturer, item.ManufacturerModelName = "GANTranslate", series["ManufacturerModelName"]
    item.SoftwareVersions = series["SoftwareVersions"]
    item.ContributionDateTime = series["ContentDate"] + series["ContentTime"]
    item.ContributionDescription = series["DerivationDescription"][:1024]
    return item


def _source_images(image: sitk.Image, index: int, origin: Optional[SourceSeries]) -> list:
    """References to the source images this slice was made from: those whose slab (half a step either side
    along their normal) this slice's plane passes through."""
    if origin is None:
        return []
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    size = image.GetSize()
    corners = np.array([image.TransformIndexToPhysicalPoint((i, j, index)) for i in (0, size[0] - 1) for j in (0, size[1] - 1)])
    placed = [s for s in origin.slices if s.position is not None and s.orientation is not None]
    if len(placed) < 2:
        chosen = origin.slices
    else:
        normal = np.cross(placed[0].orientation[:3], placed[0].orientation[3:])
        distances = np.array(sorted(float(normal @ s.position) for s in placed))
        half = 0.5 * float(np.median(np.diff(distances))) * 0.999
        low, high = float((corners @ normal).min()) - half, float((corners @ normal).max()) + half
        chosen = [s for s in placed if low <= float(normal @ s.position) <= high]
    seen, items = set(), []
    for header in chosen:
        if header.sop_instance in seen or not header.sop_instance:
            continue
        seen.add(header.sop_instance)
        item = Dataset()
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = header.sop_class, header.sop_instance
        item.PurposeOfReferenceCodeSequence = Sequence([_code("121322", "Source image for image processing operation")])
        items.append(item)
    return items


def _referenced_series(origin: SourceSeries, references: list):
    """The Common Instance Reference module: the source series of the images referenced (same study)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.SeriesInstanceUID = str(origin.first.get("SeriesInstanceUID", ""))
    instances = []
    for reference in references:
        instance = Dataset()
        instance.ReferencedSOPClassUID = reference.ReferencedSOPClassUID
        instance.ReferencedSOPInstanceUID = reference.ReferencedSOPInstanceUID
        instances.append(instance)
    item.ReferencedInstanceSequence = Sequence(instances)
    return item


def save(dataset, path: Path) -> None:
    """Write a DICOM file (preamble, file meta, explicit VR little endian) with pydicom 2.4 or 3."""
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(str(path), enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.x, as in stock Slicer
        dataset.is_little_endian, dataset.is_implicit_VR = True, False
        dataset.save_as(str(path), write_like_original=False)
