"""Preprocess each subject once: orient, resample, normalise, exactly as inference will; cache the result.

The normalisation statistics gathered here are what the exported model card records, so training and
inference cannot disagree about intensities.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from GANTranslateLib import input_guard, intensity, intensity_prior
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_card import RESTORATION_TASKS
from GANTranslateLib.image_io import read_volume
from GANTranslateLib.orientation import Reorientation
from GANTranslateLib.resampling import model_spacing, needs_resampling, resample_to_spacing

from GANTranslateLib.dataset_folder import Subject
from .degradations import degrade

GRID_TOLERANCE = 1e-4


@dataclass
class PreparedSubject:
    name: str
    volumes: dict[str, np.ndarray]  # domain -> normalised float32 (z, y, x) in the model orientation
    mask: np.ndarray  # bool, same grid
    ranges: dict[str, intensity.IntensityMap]  # domain -> the map used to normalise


def domain_spec(config: dict, domain: str) -> dict[str, Any]:
    data = config["data"]
    return dict(data["normalization_by_domain"].get(domain, data["normalization"]))


def same_grid(a: sitk.Image, b: sitk.Image) -> bool:
    return (a.GetSize() == b.GetSize()
            and np.allclose(a.GetSpacing(), b.GetSpacing(), rtol=GRID_TOLERANCE)
            and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=GRID_TOLERANCE * max(a.GetSpacing()))
            and np.allclose(a.GetDirection(), b.GetDirection(), atol=GRID_TOLERANCE))


def grid_difference(image: sitk.Image, reference: sitk.Image) -> str:
    """What differs between two grids, in words: only the properties that differ, with their values."""
    rounded = lambda values: tuple(round(float(v), 4) for v in values)  # noqa: E731
    parts = []
    for name, get in (("size", sitk.Image.GetSize), ("spacing", sitk.Image.GetSpacing),
                      ("origin", sitk.Image.GetOrigin), ("direction", sitk.Image.GetDirection)):
        a, b = get(image), get(reference)
        if rounded(a) != rounded(b) or (name == "size" and a != b):
            parts.append(f"{name} {rounded(a)} vs {rounded(b)}")
    return "; ".join(parts) or "by less than 1e-4"


def prepare_subject(subject: Subject, domains: list[str], config: dict, cache_dir: Path | None) -> PreparedSubject:
    key = _cache_key(subject, domains, config)
    cached = cache_dir / f"{subject.name}-{key}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        return _load(cached, subject.name)
    prepared = _prepare(subject, domains, config)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(cached.name + ".partial.npz")
        arrays = {f"volume_{d}": v for d, v in prepared.volumes.items()}
        ranges = json.dumps({d: m.to_json() for d, m in prepared.ranges.items()})
        np.savez(tmp, mask=prepared.mask, ranges=ranges, **arrays)
        tmp.replace(cached)
    return prepared


def _prepare(subject: Subject, domains: list[str], config: dict) -> PreparedSubject:
    data = config["data"]
    degradation = data["degradation"]
    available = [d for d in domains if d in subject.files]
    images = {d: read_volume(subject.files[d]) for d in available}
    if degradation:
        # The degraded domain is made from the clean one; it need not exist on disk.
        clean, made = degradation["from"], degradation["to"]
        if clean in images and made not in images:
            images[made] = degrade(images[clean], degradation, seed=config["seed"])
    reference_domain = next(iter(images))
    reference = images[reference_domain]
    for domain, image in images.items():
        if not same_grid(image, reference):
            raise GANTranslateError(
                f"subject {subject.name}: the {domain} grid differs from {reference_domain} "
                f"({grid_difference(image, reference)}); resample the subject's images onto one grid first"
            )
    mask_image = read_volume(subject.mask) if subject.mask else None
    if mask_image is not None and not same_grid(mask_image, reference):
        raise GANTranslateError(f"subject {subject.name}: the mask grid differs from the images "
                                f"({grid_difference(mask_image, reference)}); resample it onto them")
    direction = np.asarray(reference.GetDirection()).reshape(3, 3)
    orient = Reorientation.between(direction, data["orientation"])
    spacing = orient.spacing(reference.GetSpacing())
    resample = needs_resampling(spacing, data["spacing"])

    def to_model_grid(array: np.ndarray, fill: float) -> np.ndarray:
        oriented = np.ascontiguousarray(orient.apply_zyx(array), dtype=np.float32)
        return resample_to_spacing(oriented, spacing, model_spacing(spacing, data["spacing"]), fill) if resample else oriented

    def own_range(domain: str) -> intensity.IntensityMap:
        return intensity.input_map(sitk.GetArrayViewFromImage(images[domain]), domain_spec(config, domain))

    restored = restored_target(config)
    ranges = {d: own_range(d) for d in images if d in domains and d != restored}
    if restored in images and restored in domains:
        # restoration: the target in the source's units, as inference reads the output (output_scale "input")
        ranges[restored] = ranges[data["source"]] if data["source"] in ranges else own_range(restored)
    volumes = {d: to_model_grid(ranges[d].normalise(sitk.GetArrayViewFromImage(images[d])), fill=-1.0)
               for d in ranges}
    if mask_image is not None:
        mask = to_model_grid(sitk.GetArrayViewFromImage(mask_image).astype(np.float32), 0.0) > 0.5
    else:
        mask = np.zeros(next(iter(volumes.values())).shape, bool)
        for domain, image in images.items():
            mask |= to_model_grid(intensity.foreground_mask(sitk.GetArrayViewFromImage(image),
                                                            domain_spec(config, domain).get("mask", "nonzero")).astype(np.float32), 0.0) > 0.5
    return PreparedSubject(subject.name, volumes, mask, ranges)


def restored_target(config: dict) -> str | None:
    """The target of a restoration model (denoising, super-resolution), normalised with its source's range."""
    restoring = config["export"]["task"] in RESTORATION_TASKS and config["model"] == "pix2pix"
    return config["data"]["target"] if restoring else None


def _cache_key(subject: Subject, domains: list[str], config: dict) -> str:
    data = config["data"]
    files = {d: (str(p), p.stat().st_mtime_ns, p.stat().st_size) for d, p in subject.files.items()}
    relevant = {k: data[k] for k in ("spacing", "orientation", "normalization", "normalization_by_domain", "degradation")}
    blob = json.dumps([files, str(subject.mask), sorted(domains), relevant, config["seed"], restored_target(config)],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _load(path: Path, name: str) -> PreparedSubject:
    with np.load(path) as archive:
        volumes = {k.removeprefix("volume_"): archive[k] for k in archive.files if k.startswith("volume_")}
        ranges = {d: intensity.IntensityMap.from_json(r) for d, r in json.loads(str(archive["ranges"])).items()}
        return PreparedSubject(name, volumes, archive["mask"], ranges)


def reference_ranges(subjects: list[PreparedSubject], config: dict, domains: list[str]) -> dict[str, dict[str, Any]]:
    """Each domain's normalisation for the model card: training-set averages where the method needs them."""
    cards = {}
    for domain in domains:
        spec = domain_spec(config, domain)
        ranges = [s.ranges[domain] for s in subjects if domain in s.ranges]
        offset, scale = (float(np.mean([r.offset for r in ranges])), float(np.mean([r.scale for r in ranges])))
        if spec["method"] == "percentile":
            spec["reference"] = [offset - scale, offset + scale]
        elif spec["method"] == "zscore":
            spec["reference"] = [offset, scale / float(spec["clip"])]
        cards[domain] = spec
    return cards


def fit_prior_tables(subjects: list[PreparedSubject], directions: list[list[str]]) -> dict[str, np.ndarray]:
    """Each direction's intensity-prior look-up table, from the training subjects that have both domains
    (the same table the evaluator's baseline learns, so the prior is exactly that baseline)."""
    tables = {}
    for source, target in directions:
        pairs = [(s.volumes[source], s.volumes[target], s.mask) for s in subjects
                 if source in s.volumes and target in s.volumes]
        if not pairs:
            raise GANTranslateError(
                f"data.intensity_prior needs training subjects with both {source} and {target}; none has both"
            )
        tables[f"{source}->{target}"] = intensity_prior.fit_table(pairs)
    return tables


def learn_histogram_landmarks(config: dict, subjects: list[Subject], domains: list[str]) -> None:
    """Histogram standardisation (intensity.py): learn each such domain's landmarks on the training subjects and
    write them into its normalisation spec, before any subject is normalised with it."""
    data = config["data"]
    for domain in domains:
        spec = domain_spec(config, domain)
        if spec["method"] != "histogram" or "landmarks" in spec:
            continue
        spec.setdefault("percentiles", list(HISTOGRAM_PERCENTILES))
        # a copy, not a view: a view of a temporary image reads freed memory (garbage landmarks, or an error)
        foregrounds = [intensity.foreground_values(sitk.GetArrayFromImage(read_volume(s.files[domain])), spec)
                       for s in subjects if domain in s.files]
        if not foregrounds:
            raise GANTranslateError(f"no training subject has a {domain} file to learn its histogram landmarks from")
        spec["landmarks"], spec["reference"] = intensity.learn_landmarks(foregrounds, spec["percentiles"])
        data["normalization_by_domain"][domain] = spec


HISTOGRAM_PERCENTILES = (1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99)  # Nyúl-Udupa deciles with 1st and 99th


def input_profile(subjects: list[Subject], domains: list[str]) -> dict[str, Any]:
    """The card's input_profile (GANTranslateLib.input_guard): what the training subjects look like, for every
    domain the dataset has (so that a contrast given as another can be recognised)."""
    profiles: dict[str, list[input_guard.VolumeProfile]] = {d: [] for d in domains}
    for subject in subjects:
        for domain in domains:
            if domain in subject.files:
                image = read_volume(subject.files[domain])
                profiles[domain].append(input_guard.volume_profile(sitk.GetArrayViewFromImage(image), image.GetSpacing()))
    return input_guard.training_profile(profiles)
