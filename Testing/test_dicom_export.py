"""A synthetic series from REAL bundled models reads back (SimpleITK and pydicom) with the geometry and values
of the NIfTI output of the same run, says everywhere that it is synthetic (and NOT FOR CLINICAL USE where the
card says so), joins the source's patient and study, and needs a patient when the input is not DICOM."""
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pydicom = pytest.importorskip("pydicom")

from conftest import make_package  # noqa: E402
from dicom_crafting import axes, craft_series  # noqa: E402
from dicom_exports import DICOM_SOURCE  # noqa: E402
from GANTranslateLib.cli import main  # noqa: E402
from GANTranslateLib.clinical_use import cleared_for_clinical_use  # noqa: E402
from GANTranslateLib.dicom_export import write_dicom_series  # noqa: E402
from GANTranslateLib.errors import GANTranslateError  # noqa: E402
from GANTranslateLib.image_io import read_volume  # noqa: E402
from GANTranslateLib.model_registry import list_packages  # noqa: E402


@pytest.fixture
def exports(bundled_model_dicom_exports: dict) -> dict:
    return bundled_model_dicom_exports


def files(folder: Path) -> list:
    return [pydicom.dcmread(str(p)) for p in sorted(folder.iterdir())]


def series(folder: Path) -> sitk.Image:
    return sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))


def factor_of(dataset) -> float:
    found = re.search(r"pixel value = model output x ([0-9.e+-]+)", dataset.DerivationDescription)
    return float(found.group(1)) if found else 1.0


@pytest.mark.parametrize("name", ["MR-dicom", "MR-nifti", "CT-dicom", "CT-nifti"])
def test_the_series_reads_back_as_the_nifti_output_of_the_same_run(exports: dict, name: str) -> None:
    written, nifti = series(exports[name]), sitk.ReadImage(str(exports[f"{name}.nii"]))
    first = files(exports[name])[0]
    assert written.GetSize() == nifti.GetSize()
    np.testing.assert_allclose(written.GetSpacing(), nifti.GetSpacing(), rtol=1e-6)
    # the same points in space (a left-handed input grid reads back with its slices in the other order)
    on_grid = sitk.Resample(written, nifti, sitk.Transform(), sitk.sitkNearestNeighbor, -99999.0, sitk.sitkFloat64)
    stored, expected = sitk.GetArrayFromImage(on_grid), sitk.GetArrayFromImage(nifti).astype(np.float64)
    assert (stored > -99999).all(), "a voxel of the NIfTI output has no voxel of the series at its place"
    factor = factor_of(first)
    np.testing.assert_allclose(stored / factor, expected, atol=0.5 / factor + 1e-6)
    assert np.abs(expected).max() > 10 and np.ptp(expected) > 10  # a real model's output, not a constant
    if first.Modality == "MR":
        assert float(first.SpacingBetweenSlices) == pytest.approx(nifti.GetSpacing()[2], rel=1e-6)
        assert "RescaleSlope" not in first  # the MR Image IOD has no rescale: values as integers (x factor)
    else:
        assert "SpacingBetweenSlices" not in first
        assert float(first.RescaleSlope) == 1 and float(first.RescaleIntercept) == 0 and first.PixelRepresentation == 1
    for dataset in files(exports[name]):  # pydicom sees the same values, per file, at the positions SimpleITK used
        index = written.TransformPhysicalPointToIndex([float(v) for v in dataset.ImagePositionPatient])
        assert index[:2] == (0, 0)
        np.testing.assert_array_equal(dataset.pixel_array, sitk.GetArrayFromImage(written)[index[2]])


def test_a_synthetic_ct_from_a_dicom_mr_says_what_it_is_everywhere(exports: dict) -> None:
    ct, source = files(exports["CT-dicom"]), files(DICOM_SOURCE)
    first = ct[0]
    assert first.Modality == "CT" and first.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert list(first.ImageType) == ["DERIVED", "SECONDARY", "AXIAL", "SYNTHETIC"]
    assert first.SeriesDescription.startswith("SYNTHETIC CT NOT FOR CLINICAL USE (t1-to-ct-template-demo-2d")
    assert "NOT FOR CLINICAL USE" in first.ImageComments and "NOT for clinical use or dose planning" in first.ImageComments
    assert source[0].SeriesInstanceUID in first.DerivationDescription and "t1-to-ct-template-demo-2d" in first.DerivationDescription
    assert first.BurnedInAnnotation == "NO" and first.ContentDate and first.ContentTime
    equipment = first.ContributingEquipmentSequence[0]
    assert equipment.PurposeOfReferenceCodeSequence[0].CodeValue == "109100" and equipment.Manufacturer == "GANTranslate"
    assert first.SpecificCharacterSet == "ISO_IR 192"
    assert first.StudyInstanceUID == source[0].StudyInstanceUID and first.PatientID == source[0].PatientID
    assert first.PatientPosition == "HFS" and first.SeriesInstanceUID != source[0].SeriesInstanceUID
    assert [float(v) for v in first.WindowCenter] == [40, 400] and list(first.WindowCenterWidthExplanation) == ["BRAIN", "BONE"]
    for key in ("KVP", "AcquisitionNumber", "PositionReferenceIndicator", "Laterality", "AccessionNumber"):
        assert key in first  # Type 2: present, empty allowed
    by_position = {tuple(round(float(v), 2) for v in s.ImagePositionPatient): s.SOPInstanceUID for s in source}
    for dataset in ct:  # on the source's grid: each slice references the source image at its place
        references = dataset.SourceImageSequence
        assert len(references) == 1 and references[0].PurposeOfReferenceCodeSequence[0].CodeValue == "121322"
        assert references[0].ReferencedSOPInstanceUID == by_position[tuple(round(float(v), 2) for v in dataset.ImagePositionPatient)]
    mr = files(exports["MR-dicom"])[0]
    assert mr.ScanningSequence == "RM" and mr.SequenceVariant == "NONE" and "EchoTime" in mr and "RescaleSlope" not in mr
    assert list(mr.ImageType) == ["DERIVED", "SECONDARY", "OTHER", "SYNTHETIC"]
    numbers = {int(first.SeriesNumber), int(mr.SeriesNumber), int(files(exports["CT-nifti"])[0].SeriesNumber)}
    assert len(numbers) == 3 and 9001 not in numbers


def test_an_export_from_a_nifti_input_names_its_patient_in_utf8(exports: dict) -> None:
    first = files(exports["CT-nifti"])[0]
    assert str(first.PatientName) == "MÜLLER^JÖRG" and first.PatientID == "GT-0001" and first.SpecificCharacterSet == "ISO_IR 192"
    assert "ÜLLER".encode("utf-8") in Path(sorted(exports["CT-nifti"].iterdir())[0]).read_bytes()
    assert first.PatientPosition == "HFS" and "SourceImageSequence" not in first


def test_a_source_in_iso_ir_100_with_accents_joins_its_patient(tmp_path: Path) -> None:
    """The old writer crashed with a traceback on such a source, and stored UTF-8 names unlabelled."""
    def latin1(k, dataset):
        dataset.SpecificCharacterSet = "ISO_IR 100"
        dataset.PatientName = "MÜLLER^JÖRG"
    source = craft_series(tmp_path / "latin1", 4, edit=latin1)
    assert "MÜLLER".encode("latin-1") in (source / "001.dcm").read_bytes()
    write_dicom_series(read_volume(source), tmp_path / "out", "m", "1.0.0", "T1", "T2", source,
                       positions_from_source=True)
    first = files(tmp_path / "out")[0]
    assert str(first.PatientName) == "MÜLLER^JÖRG" and first.SpecificCharacterSet == "ISO_IR 192"


def test_a_nifti_input_needs_a_patient_and_gets_hfs_with_a_warning(tmp_path: Path, t2_nrrd: Path, capsys) -> None:
    package = make_package(tmp_path / "p")
    out = tmp_path / "t2"
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(out), "--dicom"]) == 1
    assert "--patient-id and --patient-name" in capsys.readouterr().err and not out.exists()
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(out), "--dicom",
                 "--patient-id", "P1", "--patient-name", "DOE^JANE"]) == 0
    captured = capsys.readouterr()
    assert "Patient Position not known: wrote HFS" in captured.err
    assert "a second series beside that one" in captured.out  # a re-run is a new series, and predict says so
    assert files(out)[0].PatientPosition == "HFS" and str(files(out)[0].PatientName) == "DOE^JANE"
    oblique = tmp_path / "oblique"
    assert main(["predict", "-m", str(package.path), "-i", str(DICOM_SOURCE), "-o", str(oblique), "--dicom",
                 "--dicom-axial"]) == 0
    assert "resampled onto an axial grid" in capsys.readouterr().out
    assert [float(v) for v in files(oblique)[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    axial = tmp_path / "axial"  # already axial: written on its own grid, and not said to be resampled
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(axial), "--dicom", "--dicom-axial",
                 "--patient-id", "P1", "--patient-name", "DOE^JANE", "--patient-position", "FFS"]) == 0
    assert "resampled" not in capsys.readouterr().out
    assert "AXIAL" not in files(axial)[0].SeriesDescription and files(axial)[0].PatientPosition == "FFS"
    assert main(["predict", "-m", str(package.path), "-i", str(DICOM_SOURCE), "-o", str(tmp_path / "x"), "--dicom",
                 "--patient-id", "P1"]) == 1
    assert "joins its patient" in capsys.readouterr().err
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(tmp_path / "y.nii.gz"), "--dicom-axial"]) == 1
    assert "add --dicom" in capsys.readouterr().err
    assert main(["predict", "-m", str(package.path), "-i", str(t2_nrrd), "-o", str(tmp_path / "z"), "--dicom",
                 "--patient-id", "P1", "--patient-name", "DOE\\JANE"]) == 1
    assert "no backslash" in capsys.readouterr().err and not (tmp_path / "z").exists()


def test_only_a_card_with_an_unlimited_intended_use_is_cleared_and_the_module_path_reads_the_card(tmp_path: Path) -> None:
    bundled = [p.card for p in list_packages() if p.path.parent.name == "Models"]
    assert bundled and not any(cleared_for_clinical_use(card.data.get("intended_use")) for card in bundled)
    assert cleared_for_clinical_use("Synthetic CT for MR-only radiotherapy planning of the adult brain.")
    assert not cleared_for_clinical_use("") and not cleared_for_clinical_use(None)
    assert not cleared_for_clinical_use("Research use only; not for clinical decisions.")
    image = read_volume(DICOM_SOURCE)
    # the module calls the engine with the node's model id and version only: the installed card is read
    demo = next(card for card in bundled if card.id == "t1-to-ct-template-demo-2d")
    module = write_dicom_series(image, tmp_path / "module", demo.id, demo.version, "T1", "CT", DICOM_SOURCE)
    assert module.not_for_clinical_use and "NOT FOR CLINICAL USE" in files(tmp_path / "module")[0].SeriesDescription
    unknown = write_dicom_series(image, tmp_path / "unknown", "no-such-model", "1.0.0", "T1", "CT", DICOM_SOURCE)
    assert unknown.not_for_clinical_use
    hostile = write_dicom_series(image, tmp_path / "hostile", "m", "1.0.0", "T1", "CT", DICOM_SOURCE,
                                 intended_use="Research only\x1b]0;approved for clinical use\x07")
    assert hostile.not_for_clinical_use and "\x1b" not in files(tmp_path / "hostile")[0].ImageComments
    cleared = write_dicom_series(image, tmp_path / "cleared", "m", "1.0.0", "T1", "CT", DICOM_SOURCE,
                                 intended_use="Synthetic CT for MR-only radiotherapy planning of the adult brain.")
    first = files(tmp_path / "cleared")[0]
    assert not cleared.not_for_clinical_use and "CLINICAL" not in first.SeriesDescription + first.ImageComments


def test_an_axial_export_of_an_oblique_volume_keeps_every_value_in_place(tmp_path: Path) -> None:
    image = read_volume(DICOM_SOURCE)  # oblique (the Hitachi series)
    written = write_dicom_series(image, tmp_path / "axial", "m", "1.0.0", "T1", "CT", DICOM_SOURCE, axial=True,
                                 positions_from_source=True)
    first = files(tmp_path / "axial")[0]
    assert written.axial and [float(v) for v in first.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert "AXIAL" in first.SeriesDescription and "resampled onto an axial grid" in first.DerivationDescription
    back = series(tmp_path / "axial")
    # each stored voxel is the input at that voxel's place (linear), and the box holds the whole input
    expected = sitk.Resample(image, back, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat64)
    np.testing.assert_allclose(sitk.GetArrayFromImage(back), np.rint(sitk.GetArrayFromImage(expected)), atol=1.01)
    for corner in [(0, 0, 0), (63, 63, 3), (0, 63, 3), (63, 0, 0)]:
        continuous = back.TransformPhysicalPointToContinuousIndex(image.TransformIndexToPhysicalPoint(corner))
        assert all(-1e-3 <= c <= n - 1 + 1e-3 for c, n in zip(continuous, back.GetSize()))
    assert (sitk.GetArrayFromImage(back) > 100).sum() > 1000  # the anatomy is there, not only the fill


def test_a_tilted_source_shares_its_frame_only_at_the_acquired_positions(tmp_path: Path, capsys) -> None:
    """Read with each slice at its acquired place, the result's positions are the source's: it may share the
    source's frame of reference (the old reader put the slices up to 10.5 mm off and still shared it)."""
    source = craft_series(tmp_path / "tilt", 8, step=4.0, shear=0.55 * axes(pydicom.dcmread(str(DICOM_SOURCE / "001.dcm")))[0])
    package = make_package(tmp_path / "p")
    assert main(["predict", "-m", str(package.path), "-i", str(source), "-o", str(tmp_path / "out"), "--dicom"]) == 0
    assert "warning: the DICOM series is gantry-tilted" in capsys.readouterr().err
    written, acquired = files(tmp_path / "out"), files(source)
    assert written[0].FrameOfReferenceUID == acquired[0].FrameOfReferenceUID
    _, _, normal = axes(acquired[0])
    along = sorted(round(float(normal @ np.array([float(v) for v in d.ImagePositionPatient])), 3) for d in written)
    assert along == sorted(round(float(normal @ np.array([float(v) for v in d.ImagePositionPatient])), 3) for d in acquired)


def test_dicom_export_needs_a_new_or_empty_folder(tmp_path: Path, capsys) -> None:
    package = make_package(tmp_path / "p")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "report.pdf").write_text("keep", encoding="utf-8")
    assert main(["predict", "-m", str(package.path), "-i", str(DICOM_SOURCE), "-o", str(tmp_path / "busy"), "--dicom"]) == 1
    assert "not a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["report.pdf"]


def test_a_volume_moved_off_the_source_grid_joins_the_study_with_a_frame_of_its_own(tmp_path: Path) -> None:
    """A hardened registration moves the volume but keeps its DICOM origin (the module's export): the series
    must not claim the source's frame of reference, or a planning system would take it as registered."""
    source = craft_series(tmp_path / "source", 4)  # with a frame of reference
    image = read_volume(source)
    on_grid = write_dicom_series(image, tmp_path / "same", "m", "1.0.0", "T1", "T2", source)
    moved = sitk.Image(image)
    moved.SetOrigin([o + 0.5 * s for o, s in zip(image.GetOrigin(), image.GetSpacing())])
    off_grid = write_dicom_series(moved, tmp_path / "moved", "m", "1.0.0", "T1", "T2", sorted(source.iterdir())[3])
    acquired = files(source)[0]
    assert on_grid.joined_study and on_grid.shares_frame
    assert files(tmp_path / "same")[0].FrameOfReferenceUID == acquired.FrameOfReferenceUID
    assert off_grid.joined_study and not off_grid.shares_frame
    assert files(tmp_path / "moved")[0].FrameOfReferenceUID != acquired.FrameOfReferenceUID
    assert files(tmp_path / "moved")[0].StudyInstanceUID == acquired.StudyInstanceUID


def test_the_module_path_and_the_command_line_write_the_same_series(exports: dict, tmp_path: Path) -> None:
    """The module writes its result node to a file and calls the engine with the node's model id, version and
    a file of the input series: the series equals the command line's but for UIDs, dates and times."""
    card = next(p.card for p in list_packages() if p.card.id == "t1-to-ct-template-demo-2d")
    write_dicom_series(read_volume(exports["CT-dicom.nii"]), tmp_path / "module", card.id, card.version, "T1", "CT",
                       sorted(DICOM_SOURCE.iterdir())[0])
    varying = {"SOPInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SeriesNumber", "SeriesDate", "SeriesTime",
               "ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime", "ContributingEquipmentSequence",
               "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness", "PixelData"}
    for cli, module in zip(files(exports["CT-dicom"]), files(tmp_path / "module")):
        assert {e.keyword for e in cli} == {e.keyword for e in module}
        for element in cli:
            if element.keyword not in varying:
                assert module[element.tag].value == element.value, element.keyword
        np.testing.assert_allclose([float(v) for v in module.ImagePositionPatient],
                                   [float(v) for v in cli.ImagePositionPatient], atol=1e-3)
        np.testing.assert_array_equal(module.pixel_array, cli.pixel_array)


def test_a_fractional_mr_output_is_stored_scaled_by_a_stated_power_of_ten(tmp_path: Path) -> None:
    """The MR Image IOD has no Rescale Slope: a [0, 1] output would round to 0 and 1 without the factor."""
    image = read_volume(DICOM_SOURCE)
    values = sitk.GetArrayFromImage(image).astype(np.float64)
    scaled = sitk.GetImageFromArray(values / values.max())
    scaled.CopyInformation(image)
    write_dicom_series(scaled, tmp_path / "mr", "m", "1.0.0", "T1", "T2", DICOM_SOURCE, positions_from_source=True)
    first = files(tmp_path / "mr")[0]
    assert factor_of(first) == 1000 and "x 1000" in first.ImageComments
    back = sitk.GetArrayFromImage(series(tmp_path / "mr")) / 1000
    np.testing.assert_allclose(back, values / values.max(), atol=0.0005 + 1e-9)


def test_a_single_dicom_file_input_joins_its_patient_without_patient_options(tmp_path: Path) -> None:
    package = make_package(tmp_path / "p")
    one = sorted(DICOM_SOURCE.iterdir())[0]
    assert main(["predict", "-m", str(package.path), "-i", str(one), "-o", str(tmp_path / "out"), "--dicom"]) == 0
    written, source = files(tmp_path / "out"), pydicom.dcmread(str(one))
    assert len(written) == 1 and written[0].PatientID == source.PatientID
    assert written[0].StudyInstanceUID == source.StudyInstanceUID
    assert written[0].SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID


def test_two_exports_in_one_second_get_distinct_series_numbers(monkeypatch) -> None:
    """A planner tells series apart by number: the same second must not give two series the same one."""
    import datetime

    from GANTranslateLib import dicom_export
    from GANTranslateLib.dicom_export import next_series_number

    monkeypatch.setattr(dicom_export, "_last_series_number", {True: 0, False: 0})  # as in a new process

    now = datetime.datetime(2026, 12, 4, 13, 5, 9)
    first, second, mr = next_series_number(now, True), next_series_number(now, True), next_series_number(now, False)
    assert str(first).startswith("8") and str(mr).startswith("9") and second == first + 1
    assert next_series_number(now + datetime.timedelta(hours=1), True) == 8140509  # a later export: its own time again


def test_a_source_name_not_valid_in_its_character_set_is_refused_before_the_translation(tmp_path: Path, capsys) -> None:
    """Latin-1 bytes labelled UTF-8 (common in PACS): the old export wrote 'M\\ufffdLLER^J\\ufffdRG', a patient's
    name the source does not carry, without a word."""
    from pydicom.dataelem import DataElement

    def mislabelled(k, dataset):
        dataset.SpecificCharacterSet = "ISO_IR 192"
        dataset.add(DataElement(0x00100010, "PN", "MÜLLER^JÖRG".encode("latin-1")))
    source = craft_series(tmp_path / "mislabelled", 4, edit=mislabelled)
    package = make_package(tmp_path / "p")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom's own two-line warning would come before the one line
        assert main(["predict", "-m", str(package.path), "-i", str(source), "-o", str(out), "--dicom"]) == 1
    error = capsys.readouterr().err
    assert "PatientName is not valid text in its Specific Character Set (ISO_IR 192)" in error
    assert error.count("\n") == 1 and not out.exists()
    with pytest.raises(GANTranslateError, match="PatientName is not valid text"):
        write_dicom_series(read_volume(source), out, "m", "1.0.0", "T1", "T2", source, positions_from_source=True)
    assert not out.exists()


def test_dicom_export_of_a_batch_or_into_a_volume_name_is_refused_in_one_line(tmp_path: Path, capsys,
                                                                             monkeypatch) -> None:
    """A .csv with --dicom asked for a patient, then failed reading the list 'as an image' (under torchrun: 'give
    a .csv'); -o sct.nii.gz with --dicom made a folder named sct.nii.gz full of DICOM files."""
    package = make_package(tmp_path / "p")
    listing = tmp_path / "cohort.csv"
    listing.write_text(f"input\n{DICOM_SOURCE}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(out), "--dicom"]) == 1
    assert "--dicom writes one DICOM series from one volume" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(out), "--dicom"]) == 1
    assert "names a batch; leave out --dicom" in capsys.readouterr().err and not out.exists()
    monkeypatch.delenv("WORLD_SIZE")
    bracketed = tmp_path / "MR [3]"  # a series folder whose name looks like a glob is still one series
    shutil.copytree(DICOM_SOURCE, bracketed)
    assert main(["predict", "-m", str(package.path), "-i", str(bracketed), "-o", str(tmp_path / "b"), "--dicom",
                 "--progress", "none"]) == 0
    named = tmp_path / "sct.nii.gz"
    assert main(["predict", "-m", str(package.path), "-i", str(DICOM_SOURCE), "-o", str(named), "--dicom"]) == 1
    assert "sct.nii.gz is a volume file's name" in capsys.readouterr().err and not named.exists()


def test_an_echo_chosen_from_the_source_is_the_only_one_referenced(tmp_path: Path) -> None:
    """With --echo 2, every synthetic slice referenced the echo-1 image at its position too, as if made from it."""
    source = craft_series(tmp_path / "echoes", 4, echoes=2)
    package = make_package(tmp_path / "p")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(source), "-o", str(out), "--dicom", "--echo", "2",
                 "--progress", "none"]) == 0
    echo_of = {d.SOPInstanceUID: str(d.EchoNumbers) for d in files(source)}
    for written in files(out):
        referenced = [item.ReferencedSOPInstanceUID for item in written.SourceImageSequence]
        assert len(referenced) == 1 and echo_of[referenced[0]] == "2"


def test_a_non_negative_mr_output_uses_the_unsigned_range_before_it_is_scaled_down(tmp_path: Path) -> None:
    """An MR output up to 40000 was stored divided by 10 (a digit lost) though 16-bit unsigned holds it."""
    image = read_volume(DICOM_SOURCE)
    values = np.rint(sitk.GetArrayFromImage(image).astype(np.float64) / sitk.GetArrayFromImage(image).max() * 40000)
    bright = sitk.GetImageFromArray(values)
    bright.CopyInformation(image)
    write_dicom_series(bright, tmp_path / "mr", "m", "1.0.0", "T1", "T2", DICOM_SOURCE, positions_from_source=True)
    first = files(tmp_path / "mr")[0]
    assert factor_of(first) == 1 and first.PixelRepresentation == 0
    np.testing.assert_array_equal(sitk.GetArrayFromImage(series(tmp_path / "mr")), values)
