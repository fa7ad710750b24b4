"""The dataset folder convention (in the style of nnU-Net's):

    DATASET/
      dataset.json        {"name": ..., "domains": ["T1", "T2"], "training": [...], "validation": [...]}
      SUBJECT/T1.nii.gz   one file per domain the subject has (any format SimpleITK reads)
      SUBJECT/mask.nii.gz optional foreground mask (for statistics, sampling and metrics)

A subject that has both domains of a direction is paired for it; the others are used unpaired.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GANTranslateError
from .image_io import find_volume

@dataclass(frozen=True)
class Subject:
    name: str
    files: dict[str, Path]  # domain -> file
    mask: Path | None = None

    def has(self, *domains: str) -> bool:
        return all(d in self.files for d in domains)


@dataclass(frozen=True)
class DatasetFolder:
    root: Path
    name: str
    domains: list[str]
    training: list[Subject]
    validation: list[Subject] = field(default_factory=list)
    description: str = ""

    def subjects(self) -> list[Subject]:
        return self.training + self.validation


def find_file(folder: Path, stem: str) -> Path | None:
    return find_volume(folder, [stem])


def read_dataset(root: str | Path, validation_names: list[str] | None = None) -> DatasetFolder:
    root = Path(root)
    manifest = root / "dataset.json"
    if not manifest.is_file():
        raise GANTranslateError(f"{root} has no dataset.json; see the README's 'Dataset folder' section")
    try:
        info = json.loads(manifest.read_text())
    except json.JSONDecodeError as error:
        raise GANTranslateError(f"{manifest} is not valid JSON ({error})") from None
    for key in ("domains", "training"):
        if key not in info:
            raise GANTranslateError(f"{manifest} has no '{key}' list")
    domains = list(info["domains"])
    validation = validation_names if validation_names is not None else list(info.get("validation", []))
    overlap = set(validation) & set(info["training"])
    if overlap:
        raise GANTranslateError(f"{manifest}: subject(s) {sorted(overlap)} are in both training and validation")

    def subject(name: str) -> Subject:
        folder = root / name
        if not folder.is_dir():
            raise GANTranslateError(f"subject folder {folder} listed in dataset.json does not exist")
        files = {d: f for d in domains if (f := find_file(folder, d)) is not None}
        if not files:
            raise GANTranslateError(f"subject {name} has no file for any domain {domains} (expected e.g. {folder / domains[0]}.nii.gz)")
        return Subject(name, files, find_file(folder, "mask"))

    training = [subject(n) for n in info["training"] if n not in validation]
    return DatasetFolder(root, info.get("name", root.name), domains, training, [subject(n) for n in validation],
                         info.get("description", ""))


def require_domains(dataset: DatasetFolder, domains: list[str], paired: bool) -> None:
    """Fail early, naming the subject and file, when a run cannot get the data it needs."""
    for domain in domains:
        if domain not in dataset.domains:
            raise GANTranslateError(f"domain '{domain}' is not in dataset.json's domains {dataset.domains}")
        if not any(domain in s.files for s in dataset.training):
            raise GANTranslateError(f"no training subject has a {domain} file")
    if paired:
        for s in dataset.training + dataset.validation:
            missing = [d for d in domains if d not in s.files]
            if missing:
                raise GANTranslateError(
                    f"subject {s.name} is missing {', '.join(missing)} (expected {dataset.root / s.name / missing[0]}.nii.gz); "
                    "paired training needs every domain for every subject"
                )
