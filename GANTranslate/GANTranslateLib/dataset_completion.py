"""Dataset completion (GAN data augmentation): synthesise a missing contrast for every subject that lacks it.

Each synthetic volume goes beside the subject's acquired ones under a name that cannot be mistaken for
acquired data (``FLAIR.synthetic.nii.gz``), with a provenance record beside it (``FLAIR.synthetic.json``:
the model, its version and card hash, the date, the source file and its hash, and the translation's
warnings). An acquired file is never written over, and a subject that has the target acquired is left
alone. Readers of the dataset (the evaluator, and the trainer unless ``data.use_synthetic``) never take a
synthetic file for an acquired one.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__
from .atomic_files import publish_file, temporary_file
from .dataset_folder import SYNTHETIC_TAG, read_dataset, synthetic_path
from .errors import GANTranslateError
from .image_io import read_volume, write_volume_atomic
from .model_install import sha256_of
from .model_package import CARD_NAME, ModelPackage
from .translation import InferenceOptions, resolve_direction, translate_image


@dataclass(frozen=True)
class Completion:
    subject: str
    status: str  # written, skipped (has the target acquired / synthetic already), no source, failed
    detail: str = ""


def complete_dataset(root: Path, package: ModelPackage, source: str, target: str, options: InferenceOptions,
                     force: bool = False, on_subject: Callable[[Completion], None] = lambda c: None) -> list[Completion]:
    """Write the synthetic target for every subject (training, validation and test) that has the source
    but no acquired target. ``force`` re-creates synthetic files; acquired ones are never touched."""
    source, target = resolve_direction(package.card, source, target)
    dataset = read_dataset(root, use_synthetic=True)
    if target not in dataset.domains:
        raise GANTranslateError(f"{target} is not in {root / 'dataset.json'}'s domains {dataset.domains}; add it there first")
    network = package.build_network()
    results = []
    for subject in dataset.subjects():
        results.append(_complete_subject(root, subject, package, network, source, target, options, force))
        on_subject(results[-1])
    return results


def _complete_subject(root: Path, subject, package, network, source: str, target: str, options, force: bool) -> Completion:
    acquired = subject.files.get(target)
    if acquired is not None and SYNTHETIC_TAG not in acquired.name:
        return Completion(subject.name, "skipped", f"{target} acquired ({acquired.name})")
    destination = synthetic_path(root / subject.name, target)
    record = provenance_path(destination)
    # a volume without its record was cut short between the two (a kill): it is made again, never kept unexplained
    if destination.exists() and record.exists() and not force:
        return Completion(subject.name, "skipped", f"{destination.name} exists")
    source_file = subject.files.get(source)
    if source_file is None or SYNTHETIC_TAG in source_file.name:
        return Completion(subject.name, "no source", f"no acquired {source}")
    try:
        result = translate_image(read_volume(source_file), package, source, target, options, network=network)
        write_volume_atomic(result.image, destination)
    except GANTranslateError as error:
        return Completion(subject.name, "failed", str(error))
    provenance = {
        "synthetic": True,
        "domain": target,
        "made_from": {"file": source_file.name, "domain": source, "sha256": sha256_of(source_file)},
        "model": {"id": package.card.id, "version": package.card.version,
                  "card_sha256": sha256_of(package.path / CARD_NAME)},
        "gantranslate": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "warnings": list(result.warnings),
        "note": result.image.GetMetaData("GANTranslate_synthetic"),  # the whole note: a NIfTI header holds 80 bytes
    }
    temporary = temporary_file(record, ".json")
    try:
        temporary.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        publish_file(temporary, record)
    finally:
        temporary.unlink(missing_ok=True)
    return Completion(subject.name, "written", destination.name)


def provenance_path(volume: Path) -> Path:
    return volume.with_name(volume.name.split(".")[0] + f".{SYNTHETIC_TAG}.json")


def provenance_of(volume: Path) -> dict:
    """The provenance record of a synthetic volume."""
    record = provenance_path(volume)
    if not record.is_file():
        raise GANTranslateError(f"{volume} has no provenance record ({record.name}): its making was interrupted; "
                                "run 'gantranslate augment' on the dataset again to remake it")
    return json.loads(record.read_text(encoding="utf-8"))
