"""Reading a DICOM series never puts a voxel in the wrong place without a word: each crafted case below was
read onto an even, orthogonal grid, exit 0, before the slices were checked (issue 22, items 9-11)."""
import re
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pydicom = pytest.importorskip("pydicom")

from dicom_crafting import axes, craft_series, hitachi_slices  # noqa: E402
from GANTranslateLib.errors import GANTranslateError  # noqa: E402
from GANTranslateLib.image_io import read_volume  # noqa: E402


def refused(folder: Path) -> str:
    with pytest.raises(GANTranslateError) as error:
        read_volume(folder)
    return str(error.value)


def test_an_even_series_reads_on_its_acquired_grid(tmp_path: Path) -> None:
    image = read_volume(craft_series(tmp_path / "even", 6, step=5.5))
    assert image.GetSize() == (64, 64, 6)
    np.testing.assert_allclose(image.GetSpacing(), (2.34375, 2.34375, 5.5), atol=1e-5)


def test_a_missing_slice_uneven_steps_and_a_duplicate_are_refused(tmp_path: Path) -> None:
    assert "a slice is missing" in refused(craft_series(tmp_path / "gap", 5, distances=[0, 4, 8, 16, 20]))
    assert "unevenly spaced" in refused(craft_series(tmp_path / "uneven", 5, distances=[0, 4, 8, 12.7, 16.7]))
    message = refused(craft_series(tmp_path / "dup", 5, distances=[0, 4, 8, 8, 12]))
    assert "same position" in message and "keep one of them" in message


def test_a_sagittal_slice_among_axial_ones_is_refused(tmp_path: Path) -> None:
    def sagittal(k, dataset):
        if k == 2:
            dataset.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    folder = craft_series(tmp_path / "mixed", 5, edit=sagittal)
    assert "sagittal slice among" in refused(folder) and "003.dcm" in refused(folder)


def test_two_echoes_are_refused_naming_the_option_and_one_is_read_when_chosen(tmp_path: Path) -> None:
    folder = craft_series(tmp_path / "echoes", 4, echoes=2)
    message = refused(folder)
    assert "2 echoes" in message and "--echo" in message
    second = read_volume(folder, echo="2")
    assert second.GetSize() == (64, 64, 4)
    np.testing.assert_allclose(second.GetSpacing()[2], 4.0, atol=1e-5)
    with pytest.raises(GANTranslateError, match="no echo 3"):
        read_volume(folder, echo="3")


def test_a_gantry_tilted_series_is_resampled_at_the_acquired_positions(tmp_path: Path) -> None:
    """0.55 mm in-plane per slice over 20 slices: stacked orthogonally, the last slice sat 10.5 mm off. Here
    the grid widens to hold every slice, and (with a whole-pixel shear, so that no value is interpolated)
    each acquired pixel is found where its header puts it."""
    notes: list[str] = []
    image = read_volume(craft_series(tmp_path / "tilt", 20, step=4.0, shear=_in_plane(0.55)), notes=notes)
    assert notes and "gantry-tilted" in notes[0] and "10.4 mm" in notes[0]
    assert image.GetSize() == (64 + 5, 64, 20)  # ceil(19 x 0.55 / 2.34375) more columns
    spacing = float(hitachi_slices()[0].PixelSpacing[0])
    folder = craft_series(tmp_path / "whole", 6, step=4.0, shear=_in_plane(-spacing))
    image = read_volume(folder)
    row, column, _ = axes(hitachi_slices()[0])
    for k in (0, 3, 5):
        source = pydicom.dcmread(str(sorted(folder.iterdir())[k]))
        pixels = source.pixel_array.astype(np.float64)
        for i, j in ((20, 30), (40, 25), (0, 63)):
            point = np.array([float(v) for v in source.ImagePositionPatient]) + i * spacing * row + j * spacing * column
            index = np.array(image.TransformPhysicalPointToContinuousIndex(point.tolist()))
            np.testing.assert_allclose(index, np.rint(index), atol=1e-3)
            np.testing.assert_allclose(index[2], k, atol=1e-4)
            assert abs(image[[int(v) for v in np.rint(index)]] - pixels[j, i]) < 1e-2


def _in_plane(shift: float) -> np.ndarray:
    row, _, _ = axes(hitachi_slices()[0])
    return shift * row


def test_a_folder_holding_one_multi_frame_file_reads_as_that_file(tmp_path: Path) -> None:
    folder = tmp_path / "enhanced"
    folder.mkdir()
    path = folder / "multiframe.dcm"
    _multi_frame(path)
    from_folder, from_file = read_volume(folder), read_volume(path)
    assert from_folder.GetSize() == from_file.GetSize() and from_folder.GetSize()[2] == 4
    assert from_folder.GetOrigin() == from_file.GetOrigin() and from_folder.GetSpacing() == from_file.GetSpacing()
    assert np.array_equal(sitk.GetArrayFromImage(from_folder), sitk.GetArrayFromImage(from_file))


def _multi_frame(path: Path) -> None:
    """An Enhanced MR file holding the four real slices as frames, with per-frame positions."""
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    real = hitachi_slices()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "MR", generate_uid(), generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames = 64, 64, len(real)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    shared = Dataset()
    measures, plane = Dataset(), Dataset()
    measures.PixelSpacing, measures.SliceThickness = real[0].PixelSpacing, 4
    plane.ImageOrientationPatient = real[0].ImageOrientationPatient
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = Sequence([measures]), Sequence([plane])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for slice_ in sorted(real, key=lambda s: float(s.InstanceNumber)):
        item, position = Dataset(), Dataset()
        position.ImagePositionPatient = slice_.ImagePositionPatient
        item.PlanePositionSequence = Sequence([position])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = b"".join(s.pixel_array.astype("<i2").tobytes()
                            for s in sorted(real, key=lambda s: float(s.InstanceNumber)))
    from GANTranslateLib.dicom_export import save

    save(ds, path)


def test_a_multi_frame_file_is_checked_and_placed_as_a_series_is(tmp_path: Path) -> None:
    """ITK read frames stored out of order, or with one missing, as 1 x 1 x 1 mm at the first frame's origin
    without a word (the in-plane spacing too); two echoes in one file were interleaved."""
    path = tmp_path / "multiframe.dcm"
    _multi_frame(path)
    dataset = pydicom.dcmread(str(path))
    frames = dataset.PerFrameFunctionalGroupsSequence
    first, second = (frames[k].PlanePositionSequence[0] for k in (1, 2))
    first.ImagePositionPatient, second.ImagePositionPatient = second.ImagePositionPatient, first.ImagePositionPatient
    swapped = tmp_path / "swapped.dcm"
    dataset.save_as(str(swapped))
    image = read_volume(swapped)
    np.testing.assert_allclose(image.GetSpacing(), (2.34375, 2.34375, 4.0), atol=1e-5)
    pixels = dataset.pixel_array
    for k, frame in enumerate(frames):  # every frame's pixels where its header puts them
        point = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        index = np.array(image.TransformPhysicalPointToContinuousIndex(point))
        np.testing.assert_allclose(index, [0, 0, np.rint(index[2])], atol=1e-3)
        assert np.array_equal(sitk.GetArrayFromImage(image)[int(np.rint(index[2]))], pixels[k])
    def where(k: int) -> np.ndarray:
        return np.array([float(v) for v in frames[k].PlanePositionSequence[0].ImagePositionPatient])
    gap = where(3) + (where(3) - where(1))  # frame 1 now holds the position next to frame 3's: one step further
    frames[3].PlanePositionSequence[0].ImagePositionPatient = [f"{v:.4f}" for v in gap]
    dataset.save_as(str(tmp_path / "gap.dcm"))
    assert "the multi-frame file gap.dcm: a slice is missing" in refused(tmp_path / "gap.dcm")
    echoes = pydicom.dcmread(str(path))
    for k, frame in enumerate(echoes.PerFrameFunctionalGroupsSequence):  # frames 0, 2 at echo 10 ms; 1, 3 at 20 ms
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence

        echo = Dataset()
        echo.EffectiveEchoTime = 10 * (1 + k % 2)
        frame.MREchoSequence = Sequence([echo])
        frame.PlanePositionSequence[0].ImagePositionPatient = \
            echoes.PerFrameFunctionalGroupsSequence[k - k % 2].PlanePositionSequence[0].ImagePositionPatient
    echoes.save_as(str(tmp_path / "echoes.dcm"))
    assert "2 echoes" in refused(tmp_path / "echoes.dcm")
    chosen = read_volume(tmp_path / "echoes.dcm", echo="20")
    assert chosen.GetSize() == (64, 64, 2)
    assert np.array_equal(sitk.GetArrayFromImage(chosen), echoes.pixel_array[[3, 1]])  # in order along the normal


REAL_SERIES = [Path(__file__).parent / "Data" / "dicom_hitachi_mr"] + [
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ct_dicom_samples" / name
    for name in ("series_seg3d_thorax_mr", "series_vsseg001_head_t1")]


@pytest.mark.parametrize("folder", REAL_SERIES, ids=lambda p: p.name)
def test_real_series_read_as_gdcm_stacks_them(folder: Path) -> None:
    """The checks refuse nothing that is whole: real Hitachi, Siemens thorax and Siemens MPRAGE series read with
    GDCM's voxels and geometry (the step as the mean of the real steps, within a micrometre)."""
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here (shared data)")
    image = read_volume(folder)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    gdcm = reader.Execute()
    assert image.GetSize() == gdcm.GetSize()
    np.testing.assert_allclose(image.GetOrigin(), gdcm.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(image.GetSpacing(), gdcm.GetSpacing(), atol=1e-5)
    np.testing.assert_allclose(image.GetDirection(), gdcm.GetDirection(), atol=1e-6)
    assert np.array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(gdcm))


def test_a_batch_of_series_folders_keeps_the_tilt_warning_in_its_summary(tmp_path: Path, capsys) -> None:
    """A batch read each series without the reader's notes: a tilted series was resampled without a word in
    summary.csv, where a single predict warned."""
    import csv

    from conftest import make_package
    from GANTranslateLib.cli import main

    cohort = tmp_path / "cohort"
    craft_series(cohort / "tilted", 6, step=4.0, shear=_in_plane(0.55))
    craft_series(cohort / "straight", 6, step=4.0)
    listing = tmp_path / "cohort.csv"
    listing.write_text("input,output\ncohort/tilted,tilted.nii.gz\ncohort/straight,straight.nii.gz\n", encoding="utf-8")
    package = make_package(tmp_path / "p")
    out = tmp_path / "out"
    assert main(["predict", "-m", str(package.path), "-i", str(listing), "-o", str(out), "--progress", "none"]) == 0
    rows = {Path(r["output"]).name: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert rows["tilted.nii.gz"]["status"] == "ok" and "gantry-tilted" in rows["tilted.nii.gz"]["message"]
    assert "gantry-tilted" not in rows["straight.nii.gz"]["message"]
    assert re.search(r"warning: \S*tilted: the DICOM series is gantry-tilted", capsys.readouterr().err)


def test_a_folder_of_series_folders_is_a_batch_of_them(tmp_path: Path, capsys) -> None:
    """'-i patients/ -o out/' with a series folder per patient said only 'no DICOM series in folder'."""
    from conftest import make_package
    from GANTranslateLib.cli import main

    craft_series(tmp_path / "patients" / "p1", 3)
    craft_series(tmp_path / "patients" / "p2", 3)
    package = make_package(tmp_path / "m")
    assert main(["predict", "-m", str(package.path), "-i", str(tmp_path / "patients"), "-o", str(tmp_path / "o.nii.gz"),
                 "--progress", "none"]) == 1
    assert f"-i '{tmp_path / 'patients' / '*'}' in quotes" in capsys.readouterr().err
    expected = ["p1_synthetic-T2.json", "p1_synthetic-T2.nii.gz", "p2_synthetic-T2.json", "p2_synthetic-T2.nii.gz",
                "summary.csv"]  # each volume with its whole synthetic note in a sidecar
    listing = f"{tmp_path / 'patients' / '*'}"
    assert main(["predict", "-m", str(package.path), "-i", listing, "-o", str(tmp_path / "out"), "--progress", "none"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == expected
    # -o a folder: the folder of series folders is a batch of them ('cannot write out' before)
    assert main(["predict", "-m", str(package.path), "-i", str(tmp_path / "patients"), "-o", str(tmp_path / "out2"),
                 "--progress", "none"]) == 0
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == expected
    (tmp_path / "patients" / "p1" / "thumbnails").mkdir()  # a series folder with a subfolder is still one series
    assert main(["predict", "-m", str(package.path), "-i", str(tmp_path / "patients" / "p1"), "-o",
                 str(tmp_path / "one"), "--progress", "none"]) == 1
    assert "cannot write 'one'" in capsys.readouterr().err
