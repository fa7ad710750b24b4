"""A synthetic CT as DICOM: it reads back on the input's grid in Hounsfield units, and says everywhere that
it is synthetic (series description, image type, derivation), in the source's study with a new series."""
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from conftest import make_package
from GANTranslateLib.cli import main
from GANTranslateLib.image_io import read_volume

CT_WINDOW = {"method": "window", "min": -1024, "max": 3071}


def series(folder: Path) -> sitk.Image:
    return sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))


def test_a_synthetic_ct_reads_back_as_a_marked_ct_series_in_the_sources_study(tmp_path: Path, dicom_series: Path) -> None:
    package = make_package(tmp_path / "sct", domains=["T1", "CT"], directions=[["T1", "CT"]],
                           normalization={"T1": {"method": "window", "min": 0, "max": 2000}, "CT": CT_WINDOW})
    out = tmp_path / "synthetic_ct"
    assert main(["predict", "-m", str(package.path), "-i", str(dicom_series), "-o", str(out), "--dicom"]) == 0
    written, source = series(out), read_volume(dicom_series)
    assert written.GetSize() == source.GetSize()
    np.testing.assert_allclose(written.GetSpacing(), source.GetSpacing(), rtol=1e-6)
    np.testing.assert_allclose(written.GetOrigin(), source.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(written.GetDirection(), source.GetDirection(), atol=1e-6)
    # the identity network: the input's window [0, 2000] onto the CT window [-1024, 3071], in whole HU
    normalised = np.clip((sitk.GetArrayFromImage(source).astype(np.float64) - 1000) / 1000, -1, 1)
    np.testing.assert_allclose(sitk.GetArrayFromImage(written), normalised * 2047.5 + 1023.5, atol=0.51)

    pydicom = pytest.importorskip("pydicom")
    first = pydicom.dcmread(sorted(out.iterdir())[0])
    original = pydicom.dcmread(sorted(dicom_series.iterdir())[0])
    assert first.SeriesDescription.startswith("SYNTHETIC CT") and first.Modality == "CT"
    assert list(first.ImageType) == ["DERIVED", "SECONDARY", "SYNTHETIC"]
    assert "SYNTHETIC CT from T1" in first.DerivationDescription and "identity-test" in first.DerivationDescription
    assert first.StudyInstanceUID == original.StudyInstanceUID and first.PatientID == original.PatientID
    assert first.PatientPosition == original.PatientPosition == "HFS"
    assert first.SeriesInstanceUID != original.SeriesInstanceUID and first.SOPInstanceUID != original.SOPInstanceUID
    assert float(first.RescaleSlope) == 1 and float(first.RescaleIntercept) == 0 and first.PixelRepresentation == 1


def test_dicom_export_needs_a_new_or_empty_folder(tmp_path: Path, dicom_series: Path, capsys) -> None:
    package = make_package(tmp_path / "p")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "report.pdf").write_text("keep", encoding="utf-8")
    assert main(["predict", "-m", str(package.path), "-i", str(dicom_series), "-o", str(tmp_path / "busy"), "--dicom"]) == 1
    assert "not a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["report.pdf"]


def test_an_mr_result_from_a_non_dicom_input_starts_a_new_study(tmp_path: Path, t2_nrrd: Path) -> None:
    package = make_package(tmp_path / "p", normalization={"T1": {"method": "window", "min": 0, "max": 2000},
                                                         "T2": {"method": "window", "min": 0, "max": 2000}})
    out = tmp_path / "t2"
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(out), "--dicom"]) == 0
    written = series(out)
    np.testing.assert_allclose(sitk.GetArrayFromImage(written), sitk.GetArrayFromImage(sitk.ReadImage(str(t2_nrrd))), atol=1)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(sorted(out.iterdir())[0]))
    reader.ReadImageInformation()
    assert reader.GetMetaData("0008|103e").startswith("SYNTHETIC T2") and reader.GetMetaData("0008|0060") == "MR"


def test_a_volume_moved_off_the_source_grid_joins_the_study_with_a_frame_of_its_own(tmp_path: Path, dicom_series: Path) -> None:
    """A hardened registration moves the volume but keeps its DICOM origin: the synthetic series must not
    claim the source's frame of reference, or a planning system would take it as registered to the source."""
    from GANTranslateLib.dicom_export import write_dicom_series

    pydicom = pytest.importorskip("pydicom")
    image = read_volume(dicom_series)
    # a source series with a frame of reference (the sample has none): a first export, in a new study
    anonymous = write_dicom_series(image, tmp_path / "source", "m", "1.0.0", "T1", "T2", None)
    assert not anonymous.joined_study and not anonymous.shares_frame and anonymous.patient_id == ""
    source = tmp_path / "source"
    on_grid = write_dicom_series(image, tmp_path / "same", "m", "1.0.0", "T1", "T2", source)
    moved = sitk.Image(image)
    moved.SetOrigin([o + 0.5 * s for o, s in zip(image.GetOrigin(), image.GetSpacing())])
    off_grid = write_dicom_series(moved, tmp_path / "moved", "m", "1.0.0", "T1", "T2", sorted(source.iterdir())[3])

    def first(folder):
        return pydicom.dcmread(sorted(folder.iterdir())[0])

    assert on_grid.joined_study and on_grid.shares_frame
    assert first(tmp_path / "same").FrameOfReferenceUID == first(source).FrameOfReferenceUID
    assert off_grid.joined_study and not off_grid.shares_frame
    assert first(tmp_path / "moved").FrameOfReferenceUID != first(source).FrameOfReferenceUID
    assert first(tmp_path / "moved").StudyInstanceUID == first(source).StudyInstanceUID
