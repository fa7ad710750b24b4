"""Leave-one-source-out: a source's subjects are held out together and the others train, the held-out
patients of the other sources included; 'all' trains on everyone."""
import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO
from trainer_helpers import DATASET, tiny_config
from GANTranslateLib.dataset_folder import read_dataset
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.source_split import sources_of

sys.path.insert(0, str(REPO / "trainer" / "datasets"))
import prepare_multisubject  # noqa: E402

SOURCES = {"TCGA-FG-6692-inferior": "site-a", "TCGA-FG-6692-superior": "site-b", "TCGA-FG-6692-holdout": "site-a"}


def dataset_with_sources(tmp_path: Path, sources: dict[str, str] = SOURCES) -> Path:
    root = Path(shutil.copytree(DATASET, tmp_path / "dataset"))
    info = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    info.update(training=["TCGA-FG-6692-inferior", "TCGA-FG-6692-superior"], validation=[],
                test=["TCGA-FG-6692-holdout"], subjects={n: {"source": s} for n, s in sources.items()})
    (root / "dataset.json").write_text(json.dumps(info), encoding="utf-8")
    return root


def names(subjects) -> list[str]:
    return [s.name for s in subjects]


def test_a_left_out_source_is_the_test_set_and_every_other_subject_trains(tmp_path: Path) -> None:
    root = dataset_with_sources(tmp_path)
    assert sources_of(root) == ["site-a", "site-b"]
    left_a = read_dataset(root, split="loso:site-a")
    assert names(left_a.training) == ["TCGA-FG-6692-superior"]
    assert names(left_a.test) == ["TCGA-FG-6692-inferior", "TCGA-FG-6692-holdout"]
    left_b = read_dataset(root, split="loso:site-b")  # the outer split's test patient trains here: other source
    assert names(left_b.training) == ["TCGA-FG-6692-inferior", "TCGA-FG-6692-holdout"]
    assert names(left_b.test) == ["TCGA-FG-6692-superior"]
    everyone = read_dataset(root, split="all")
    assert sorted(names(everyone.training)) == sorted(SOURCES) and everyone.test == []


def test_source_split_only_subjects_train_under_loso_and_all_but_not_in_the_outer_split(tmp_path: Path) -> None:
    root = dataset_with_sources(tmp_path)
    info = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    info.update(training=["TCGA-FG-6692-inferior"], source_split_only=["TCGA-FG-6692-superior"])
    (root / "dataset.json").write_text(json.dumps(info), encoding="utf-8")
    assert "TCGA-FG-6692-superior" not in names(read_dataset(root).subjects())
    assert names(read_dataset(root, split="loso:site-a").training) == ["TCGA-FG-6692-superior"]
    assert "TCGA-FG-6692-superior" in names(read_dataset(root, split="all").training)


def test_an_unknown_source_or_a_subject_without_one_is_one_clear_line(tmp_path: Path) -> None:
    root = dataset_with_sources(tmp_path)
    with pytest.raises(GANTranslateError, match="no subject of source 'site-c'.*site-a, site-b"):
        read_dataset(root, split="loso:site-c")
    partial = dataset_with_sources(tmp_path / "b", {"TCGA-FG-6692-inferior": "site-a"})
    with pytest.raises(GANTranslateError, match="names no source for subject"):
        read_dataset(partial, split="loso:site-a")
    with pytest.raises(GANTranslateError, match="unknown split"):
        read_dataset(root, split="sideways")


def test_the_trainer_takes_a_loso_split_and_refuses_a_malformed_one() -> None:
    assert tiny_config("pix2pix", "data.split=loso:site-a")["data"]["split"] == "loso:site-a"
    assert tiny_config("pix2pix", "data.split=all")["data"]["split"] == "all"
    for bad in ("loso:", "sideways"):
        with pytest.raises(GANTranslateError, match="loso:<source>"):
            tiny_config("pix2pix", f"data.split={bad}")


def test_training_under_loso_never_reads_the_left_out_source(tmp_path: Path, monkeypatch) -> None:
    from gantranslate_trainer.training import train
    import gantranslate_trainer.preprocessing as preprocessing

    root = dataset_with_sources(tmp_path)
    read = []
    original = preprocessing.read_volume
    monkeypatch.setattr(preprocessing, "read_volume", lambda path: read.append(Path(path)) or original(path))
    train(tiny_config("pix2pix", f"data.root={root}", "data.split=loso:site-b", steps=2), tmp_path / "run", quiet=True)
    assert read and not any("superior" in str(p) for p in read)
    assert any("holdout" in str(p) for p in read)


def test_the_multisubject_manifest_names_a_source_for_every_subject_and_four_sources() -> None:
    info = prepare_multisubject.manifest(prepare_multisubject.SESSIONS, {})
    assert set(info["sources"]) == {"tcga-brats", "ljubljana-3d-ms", "ljubljana-long-raw", "mni-templates"}
    assert all(entry["source"] in info["sources"] for entry in info["subjects"].values())
    # the templates are for the source splits only: the outer split's training list is the patients' as before
    assert info["source_split_only"] == ["mni-icbm152"] and "mni-icbm152" not in info["training"] + info["test"]
    # one patient's sessions never straddle two sources
    by_patient = {}
    for entry in info["subjects"].values():
        by_patient.setdefault(entry["patient"], set()).add(entry["source"])
    assert all(len(s) == 1 for s in by_patient.values())
