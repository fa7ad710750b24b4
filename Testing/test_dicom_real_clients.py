"""Real DICOM software that nobody here wrote accepts the synthetic series: dicom3tools' validator reports no
error on any file, and a real Orthanc PACS stores every instance in the source's patient and study.

The warnings dciodvfy still gives, each for a reason (anything else fails the test):
- Laterality is empty: it is unknown to a translation (copied when the source states it); absent would be an
  error, as a Type 2C attribute of General Series.
- SYNTHETIC is not a defined term for Image Type value 4: it is the added value that says what the image is.
- "Retired Person Name form" for the source's own patient name (the test series' name "dicom2nifti"), copied
  as it is.
"""
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pydicom = pytest.importorskip("pydicom")

from dicom_crafting import craft_series  # noqa: E402
from dicom_exports import DICOM_SOURCE  # noqa: E402
from GANTranslateLib.dicom_export import write_dicom_series  # noqa: E402
from GANTranslateLib.image_io import read_volume  # noqa: E402

EXPECTED_WARNINGS = ("attribute <Laterality>", "Unrecognized defined term <SYNTHETIC> for value 4 of attribute <Image Type>",
                     "PN [1] = <dicom2nifti> - Retired Person Name form")
SERIES = ("CT-dicom", "CT-nifti", "MR-dicom", "MR-nifti")


def needs(binary: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian: apt-get install dicom3tools dcmtk orthanc; .ci/run does)")
    return path


@pytest.mark.parametrize("name", [*SERIES, "CT-axial"])
def test_dciodvfy_finds_no_error_in_any_file(bundled_model_dicom_exports: dict, name: str) -> None:
    dciodvfy = needs("dciodvfy")
    for path in sorted(bundled_model_dicom_exports[name].iterdir()):
        done = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        assert lines[0] in ("CTImage", "MRImage") or lines[1] in ("CTImage", "MRImage"), lines
        errors = [line for line in lines if line.startswith("Error")]
        assert not errors, f"{path.name}: {errors}"
        unexplained = [line for line in lines if line.startswith("Warning") and not any(w in line for w in EXPECTED_WARNINGS)]
        assert not unexplained, f"{path.name}: {unexplained}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Orthanc:
    """A real Orthanc with its own configuration and storage in a temporary folder, on free ports: HTTP from
    localhost only (RemoteAccessAllowed false), no plugins, no saved jobs. Orthanc 1.10 has no bind address
    for its DICOM port, so C-STORE is accepted only from the test's AE title calling from 127.0.0.1
    (DicomCheckModalityHost) and echo and store from anyone else are refused."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.http, self.dicom = free_port(), free_port()
        config = {"Name": "GANTranslateTest", "StorageDirectory": str(folder / "storage"),
                  "IndexDirectory": str(folder / "storage"), "HttpPort": self.http, "DicomPort": self.dicom,
                  "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "Plugins": [],
                  "DicomAet": "GANTEST_PACS", "DicomCheckCalledAet": True, "DicomAlwaysAllowStore": False,
                  "DicomAlwaysAllowEcho": False, "DicomCheckModalityHost": True,
                  "DicomModalities": {"sender": ["GANTEST_SCU", "127.0.0.1", 104]}, "SaveJobs": False}
        (folder / "orthanc.json").write_text(json.dumps(config), encoding="utf-8")
        self.log = open(folder / "orthanc.log", "w", encoding="utf-8")
        self.process = subprocess.Popen([needs("Orthanc"), str(folder / "orthanc.json")], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/system")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Orthanc did not start: {(folder / 'orthanc.log').read_text()[-2000:]}") from None
                time.sleep(0.3)

    def get(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}", timeout=10) as answer:
            return json.loads(answer.read().decode("utf-8"))

    def stop(self) -> None:
        """By its own PID: terminate, then kill if it is still running after 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def orthanc(tmp_path: Path):
    needs("storescu")
    server = Orthanc(tmp_path / "orthanc")
    try:
        yield server
    finally:
        server.stop()


def store(server: Orthanc, files: list[Path]) -> None:
    done = subprocess.run([needs("storescu"), "-aet", "GANTEST_SCU", "-aec", "GANTEST_PACS", "127.0.0.1",
                           str(server.dicom), *map(str, files)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_orthanc_stores_every_instance_in_the_sources_patient_and_study(orthanc: Orthanc, tmp_path: Path,
                                                                       bundled_model_dicom_exports: dict) -> None:
    exports = bundled_model_dicom_exports
    # a European source in ISO_IR 100 with an accented name, and its synthetic series
    def latin1(k, dataset):
        dataset.SpecificCharacterSet, dataset.PatientName, dataset.PatientID = "ISO_IR 100", "MÜLLER^JÖRG", "EU-7"
    european = craft_series(tmp_path / "european", 4, edit=latin1)
    write_dicom_series(read_volume(european), tmp_path / "european_sct", "t1-to-ct-template-demo-2d", "1.0.0", "T1",
                       "CT", european, positions_from_source=True)
    sent = {"source": sorted(DICOM_SOURCE.iterdir()), "european": sorted(european.iterdir()),
            "european_sct": sorted((tmp_path / "european_sct").iterdir()),
            **{name: sorted(exports[name].iterdir()) for name in SERIES}}
    for files in sent.values():
        store(orthanc, files)
    assert len(orthanc.get("/instances")) == sum(len(files) for files in sent.values())  # every one accepted

    series = {s["MainDicomTags"]["SeriesInstanceUID"]: s for s in orthanc.get("/series?expand")}

    def stored(name: str) -> dict:
        uid = pydicom.dcmread(str(sent[name][0]), stop_before_pixels=True).SeriesInstanceUID
        found = series[uid]
        assert len(found["Instances"]) == len(sent[name])
        return found

    source_study = stored("source")["ParentStudy"]
    for name in ("CT-dicom", "MR-dicom"):
        synthetic = stored(name)
        assert synthetic["ParentStudy"] == source_study  # the patient's study, not a new one
        tags = orthanc.get(f"/instances/{synthetic['Instances'][0]}/simplified-tags")
        assert tags["SeriesDescription"].startswith("SYNTHETIC") and "NOT FOR CLINICAL USE" in tags["SeriesDescription"]
        assert "SYNTHETIC" in tags["ImageType"] and "GANTranslate" in tags["DerivationDescription"]
        assert tags["ContributingEquipmentSequence"][0]["PurposeOfReferenceCodeSequence"][0]["CodeValue"] == "109100"
        assert tags["SourceImageSequence"][0]["PurposeOfReferenceCodeSequence"][0]["CodeValue"] == "121322"
    assert orthanc.get(f"/studies/{source_study}")["PatientMainDicomTags"]["PatientID"] == "dicom2nifti"

    european_study = stored("european")["ParentStudy"]
    assert stored("european_sct")["ParentStudy"] == european_study
    patients = {p["MainDicomTags"]["PatientID"]: p for p in orthanc.get("/patients?expand")}
    assert patients["EU-7"]["MainDicomTags"]["PatientName"] == "MÜLLER^JÖRG"  # not MÃœLLER^JÃ–RG
    assert patients["GT-0001"]["MainDicomTags"]["PatientName"] == "MÜLLER^JÖRG"  # the NIfTI exports' patient
    assert {stored(n)["ParentStudy"] for n in ("CT-nifti", "MR-nifti")} <= set(patients["GT-0001"]["Studies"])
    assert len(patients) == 3  # the Hitachi patient, the European one, the NIfTI exports' one: none blank


def test_a_source_without_a_series_instance_uid_gives_no_error(tmp_path: Path) -> None:
    """A real Siemens series (series_seg3d_thorax_mr) has no Series Instance UID: the Referenced Series
    Sequence was written with an empty one, a dciodvfy error on every file."""
    dciodvfy = needs("dciodvfy")

    def anonymous(k, dataset):
        del dataset.SeriesInstanceUID
    source = craft_series(tmp_path / "source", 3, edit=anonymous)
    write_dicom_series(read_volume(source), tmp_path / "out", "m", "1.0.0", "T1", "CT", source, positions_from_source=True)
    for path in sorted((tmp_path / "out").iterdir()):
        dataset = pydicom.dcmread(str(path))
        assert "SourceImageSequence" in dataset and "()" not in dataset.DerivationDescription
        done = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        assert not [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")], done.stderr
