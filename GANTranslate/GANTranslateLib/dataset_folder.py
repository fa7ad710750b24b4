"""The dataset folder convention (in the style of nnU-Net's):

    DATASET/
      dataset.json        {"name": ..., "domains": ["T1", "T2"], "training": [...], "validation": [...], "test": [...]}
      SUBJECT/T1.nii.gz   one file per domain the subject has (any format SimpleITK reads)
      SUBJECT/mask.nii.gz optional foreground mask (for statistics, sampling and metrics)
      SUBJECT/T2.synthetic.nii.gz  a synthetic volume (gantranslate augment), used only when asked

A subject that has both domains of a direction is paired for it; the others are used unpaired. "test"
subjects (whole patients held out) are never trained on, whatever the other lists say; the evaluator scores
them by default.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import GANTranslateError
from .image_io import find_volume
from .source_split import read_source_split

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
    test: list[Subject] = field(default_factory=list)

    def subjects(self) -> list[Subject]:
        return self.training + self.validation + [s for s in self.test if s not in self.validation]


SYNTHETIC_TAG = "synthetic"  # FLAIR.synthetic.nii.gz: made by a model (dataset_completion.py), never acquired


def find_file(folder: Path, stem: str, use_synthetic: bool = False) -> Path | None:
    """The subject's acquired file of a domain; with ``use_synthetic``, else its synthetic one."""
    return find_volume(folder, [stem] + ([f"{stem}.{SYNTHETIC_TAG}"] if use_synthetic else []))


def synthetic_path(folder: Path, domain: str) -> Path:
    return folder / f"{domain}.{SYNTHETIC_TAG}.nii.gz"


def read_dataset(root: str | Path, validation_names: list[str] | None = None, inner: bool = False,
                 use_synthetic: bool = False, split: str | None = None) -> DatasetFolder:
    """``inner``: the split for choosing a model without touching the held-out patients: dataset.json's
    "inner_validation" subjects become the validation set, the rest of "training" the training set, and
    "test" is left out. ``use_synthetic``: a domain a subject lacks may come from its synthetic file
    (``T2.synthetic.nii.gz``); off by default, so that nothing synthetic passes for acquired data.
    ``split`` (overrides ``inner``): "outer", "inner", "loso:<source>" (source_split.py: every subject of the
    other sources trains, that source's are the test set) or "all" (every listed subject trains)."""
    split = split or ("inner" if inner else "outer")
    if split.startswith("loso:") or split == "all":
        return read_source_split(root, split, validation_names, use_synthetic)
    if split not in ("outer", "inner"):
        raise GANTranslateError(f"unknown split {split!r}: use outer, inner, all or loso:<source>")
    inner = split == "inner"
    root = Path(root)
    manifest = root / "dataset.json"
    info = read_manifest(root)
    if validation_names is not None:
        validation_names = [subject_name(n, manifest) for n in validation_names]
    domains = list(info["domains"])
    if inner and not info.get("inner_validation"):
        raise GANTranslateError(f"{manifest} has no 'inner_validation' list of training subjects to choose a model on")
    default_validation = info.get("inner_validation" if inner else "validation", [])
    validation = validation_names if validation_names is not None else list(default_validation)
    test = [] if inner else list(info.get("test", []))
    for other, names in (("validation", info.get("validation", [])), ("test", test)):
        overlap = set(names) & set(info["training"])
        if overlap:
            raise GANTranslateError(f"{manifest}: subject(s) {sorted(overlap)} are in both training and {other}")

    subject = lambda name: read_subject(root, name, domains, use_synthetic)  # noqa: E731
    training = [subject(n) for n in info["training"] if n not in validation and n not in test]
    return DatasetFolder(root, info.get("name", root.name), domains, training, [subject(n) for n in validation],
                         info.get("description", ""), [subject(n) for n in test])


def subject_name(name: str, manifest: Path) -> str:
    """A subject is a folder inside the dataset, named one way: './sub-02' and 'sub-02' are the same subject
    (so the training/test overlap check cannot be fooled), and '../elsewhere' or an absolute path, which would
    make augment write outside the dataset, is refused."""
    if any(ord(c) < 32 for c in name):
        raise GANTranslateError(f"{manifest}: subject {ascii(name)} holds a control character; name subjects by their folder")
    path = PurePosixPath(name.replace("\\", "/"))
    parts = [part for part in path.parts if part != "."]
    if path.is_absolute() or ".." in parts or not parts:
        raise GANTranslateError(f"{manifest}: subject '{name}' is not a folder inside the dataset; name subjects by "
                                "their folder in it (no absolute path, no '..')")
    return "/".join(parts)


def read_manifest(root: Path) -> dict:
    """dataset.json, checked, with every subject named one way (subject_name)."""
    manifest = root / "dataset.json"
    if not manifest.is_file():
        raise GANTranslateError(f"{root} has no dataset.json; see the README's 'Dataset folder' section")
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise GANTranslateError(f"{manifest} is not valid JSON ({error})") from None
    check_manifest(info, manifest)
    return {**info, **{key: [subject_name(n, manifest) for n in info[key]]
                       for key in ("training", "validation", "test", "inner_validation") if key in info}}


def read_subject(root: Path, name: str, domains: list[str], use_synthetic: bool) -> Subject:
    folder = root / name
    if not folder.is_dir():
        raise GANTranslateError(f"subject folder {folder} listed in dataset.json does not exist")
    files = {d: f for d in domains if (f := find_file(folder, d, use_synthetic)) is not None}
    if not files:
        raise GANTranslateError(f"subject {name} has no file for any domain {domains} (expected e.g. {folder / domains[0]}.nii.gz)")
    return Subject(name, files, find_file(folder, "mask"))


def check_manifest(info: object, manifest: Path) -> None:
    """The manifest's lists have the types the README gives, or one line saying which does not."""
    if not isinstance(info, dict):
        raise GANTranslateError(f"{manifest} must hold a JSON object with 'domains' and 'training' lists")
    for key in ("domains", "training"):
        if key not in info:
            raise GANTranslateError(f"{manifest} has no '{key}' list")
    for key in ("domains", "training", "validation", "test", "inner_validation", "source_split_only"):
        names = info.get(key, [])
        if not (isinstance(names, list) and all(isinstance(n, str) and n for n in names)):
            raise GANTranslateError(f"{manifest}: '{key}' must be a list of names (strings), not {json.dumps(names)[:60]}")
    if not info["domains"]:
        raise GANTranslateError(f"{manifest}: 'domains' is empty; list the domains, e.g. [\"T1\", \"T2\"]")


def require_domains(dataset: DatasetFolder, domains: list[str], paired: bool) -> list[Subject]:
    """Fail early, naming the domain, when a run cannot get the data it needs. Returns the training subjects
    to use: for paired training those with every domain (a subject lacking one is left out), else all."""
    for domain in domains:
        if domain not in dataset.domains:
            raise GANTranslateError(f"domain '{domain}' is not in dataset.json's domains {dataset.domains}")
        if not any(domain in s.files for s in dataset.training):
            raise GANTranslateError(f"no training subject has a {domain} file")
    if not paired:
        return list(dataset.training)
    complete = [s for s in dataset.training if s.has(*domains)]
    if not complete:
        example = dataset.training[0]
        missing = [d for d in domains if d not in example.files]
        raise GANTranslateError(
            f"no training subject has every one of {', '.join(domains)} (subject {example.name} lacks "
            f"{dataset.root / example.name / missing[0]}.nii.gz); paired training needs subjects with both"
        )
    return complete

