"""Leave-one-source-out: hold out every subject of one source (a dataset: one site, scanner and preprocessing
world) and train on the others, so that a setting which only helps on data like the training data cannot win.

dataset.json names each subject's source: ``"subjects": {"NAME": {"source": "tcga-brats", ...}}``
(trainer/datasets/prepare_multisubject.py writes it). Split "loso:<source>": training = every listed subject
of the other sources (dataset.json's "test" patients included: the held-out patients of a source are only
held out from it, and "source_split_only" subjects, which the outer and inner splits ignore), test = that
source's subjects. Split "all": every listed subject trains, as a shipped
model does once its settings are chosen.
"""
from __future__ import annotations

from pathlib import Path

from .errors import GANTranslateError

LOSO_PREFIX = "loso:"


def listed_subjects(info: dict) -> list[str]:
    """Every subject dataset.json lists, once, in the order training, validation, test, source_split_only
    (subjects such as population templates that only the source splits use)."""
    names: list[str] = []
    for key in ("training", "validation", "test", "source_split_only"):
        names += [n for n in info.get(key, []) if n not in names]
    return names


def subject_sources(info: dict, manifest: Path) -> dict[str, str]:
    entries = info.get("subjects", {})
    names = listed_subjects(info)
    missing = [n for n in names if not isinstance(entries.get(n), dict) or not entries[n].get("source")]
    if missing:
        raise GANTranslateError(f"{manifest} names no source for subject(s) {', '.join(missing[:3])}; add "
                                '"subjects": {"NAME": {"source": "..."}} for each subject to split by source')
    return {n: str(entries[n]["source"]) for n in names}


def split_by_source(info: dict, split: str, manifest: Path) -> tuple[list[str], list[str]]:
    """(training, test) subject names of a "loso:<source>" or "all" split."""
    names = listed_subjects(info)
    if split == "all":
        return names, []
    left_out = split[len(LOSO_PREFIX):]
    sources = subject_sources(info, manifest)
    known = sorted(set(sources.values()))
    if left_out not in known:
        raise GANTranslateError(f"split {split!r}: no subject of source {left_out!r} in {manifest}; its sources "
                                f"are {', '.join(known)}")
    if len(known) < 2:
        raise GANTranslateError(f"split {split!r}: {manifest} has one source only, nothing would be left to train on")
    return [n for n in names if sources[n] != left_out], [n for n in names if sources[n] == left_out]


def sources_of(root: str | Path) -> list[str]:
    """The dataset's sources, for a script that runs every leave-one-source-out split."""
    from .dataset_folder import read_manifest

    root = Path(root)
    return sorted(set(subject_sources(read_manifest(root), root / "dataset.json").values()))


def read_source_split(root: str | Path, split: str, validation_names: list[str] | None, use_synthetic: bool):
    from .dataset_folder import DatasetFolder, read_manifest, read_subject

    root = Path(root)
    info = read_manifest(root)
    training, test = split_by_source(info, split, root / "dataset.json")
    validation = list(validation_names or [])
    leaked = set(validation) & set(test)
    if leaked:
        raise GANTranslateError(f"validation subject(s) {sorted(leaked)} belong to the left-out source of {split!r}")
    subject = lambda name: read_subject(root, name, list(info["domains"]), use_synthetic)  # noqa: E731
    return DatasetFolder(root, info.get("name", root.name), list(info["domains"]),
                         [subject(n) for n in training if n not in validation], [subject(n) for n in validation],
                         info.get("description", ""), [subject(n) for n in test])
