"""The input guard: is this volume like what the model was trained on?

A model trained on a few scanners can return a confident, wrong image for an input unlike its training
data, and nothing in the output says so. The trainer records, per domain, a profile of the training
subjects in the model card (``input_profile``); here the same profile is computed for the input and
compared, with numbers a user can weigh:

- the shape of the intensity histogram in the middle of the subject (intensity.foreground_mask's
  'core': the central half of the foreground's bounding box, so that skull and scalp weigh little), as quantiles of intensities scaled
  by their 99th percentile; its distance to the training subjects' mean (mean absolute difference of
  the quantiles) against the training subjects' own distances;
- which of the profiled contrasts the input is nearest to (a T2 given as T1 is caught; T1 and FLAIR
  have similar histograms and are not told apart this way);
- how bright the rim of the subject is against its centre (the 90th percentile within 4 mm of the
  foreground's edge over that of the centre): about 1 for a skull-stripped brain, well above for a T1
  or FLAIR with its scalp (fat is bright);
- the voxel size;
- the preprocessing world (preprocessing_world.py): a skull-stripped input to a model that saw scans with
  the skull only, or the other way round, is named;
and, without any profile, whether an MR model is given a CT in Hounsfield units, which is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .errors import GANTranslateError
from .intensity import foreground_mask
from .model_card import ModelCard, is_ct_domain
from .preprocessing_world import looks_skull_stripped

QUANTILES = tuple(round(q, 2) for q in np.linspace(0.05, 0.95, 19))
CT_AIR_HU = -500.0  # below this, an MR magnitude image has nothing; a CT in HU has air
CT_AIR_SHARE = 0.05  # a CT of a head or body has far more air than this inside its field of view
DISTANCE_MARGIN = 1.5  # warn beyond 1.5 times the largest training subject's distance
NEARER_FACTOR = 0.5  # another contrast 'looks more like' it when at most half as far
MIN_SUBJECTS = 3  # fewer training subjects of a contrast say too little about its spread to warn on


RIM_MM = 4.0
RIM_MARGIN = 1.15  # warn when the rim/centre ratio lies 15 % beyond the training range


@dataclass(frozen=True)
class VolumeProfile:
    quantiles: tuple[float, ...]
    rim_ratio: float
    spacing: tuple[float, float, float]  # sorted, smallest first (in-plane, then thickness for 2D scans)
    air_share: float  # voxels below CT_AIR_HU
    skull_stripped: bool | None = None  # None: no verdict (preprocessing_world.py)

    def distance(self, quantiles: Sequence[float]) -> float:
        return float(np.mean(np.abs(np.asarray(self.quantiles) - np.asarray(quantiles))))


@dataclass
class GuardReport:
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None


def volume_profile(voxels: np.ndarray, spacing: Sequence[float]) -> VolumeProfile:
    """The profile of a (z, y, x) volume with its (x, y, z) spacing."""
    values = np.asarray(voxels, dtype=np.float32)
    air_share = float(np.count_nonzero(values < CT_AIR_HU) / values.size)
    quantiles, rim = tuple(0.0 for _ in QUANTILES), 1.0
    centre = foreground_mask(values, "core")
    top = float(np.percentile(values[centre], 99)) if centre.any() else 0.0
    if top > 0:
        quantiles = tuple(float(q) for q in np.quantile(values[centre] / top, QUANTILES))
        rim = rim_ratio(values, spacing, centre)
    stripped = looks_skull_stripped(values, spacing) if top > 0 else None
    return VolumeProfile(quantiles, rim, tuple(sorted(float(s) for s in spacing)), air_share,  # type: ignore[arg-type]
                         stripped)


def rim_ratio(values: np.ndarray, spacing: Sequence[float], centre: np.ndarray) -> float:
    """The 90th percentile of the foreground's outer RIM_MM over that of its centre (SciPy's distance
    transform; every second voxel of large volumes, which changes a percentile little)."""
    from scipy import ndimage

    step = 2 if values.size > 4_000_000 else 1
    sampled = values[::step, ::step, ::step]
    foreground = ndimage.binary_fill_holes(foreground_mask(sampled, "otsu"))
    depth = ndimage.distance_transform_edt(foreground, sampling=[step * float(s) for s in spacing[::-1]])
    rim = sampled[foreground & (depth <= RIM_MM)]
    inner = float(np.percentile(values[centre], 90))
    return float(np.percentile(rim, 90) / inner) if rim.size and inner > 0 else 1.0


def training_profile(profiles: dict[str, list[VolumeProfile]]) -> dict[str, Any]:
    """The card's ``input_profile`` from the training subjects' profiles, per domain."""
    domains = {}
    for domain, found in profiles.items():
        if not found:
            continue
        quantiles = np.asarray([p.quantiles for p in found])
        mean = quantiles.mean(axis=0)
        # each subject against the mean of the others: how far a subject the mean has not seen lies
        others = [(quantiles.sum(axis=0) - q) / (len(found) - 1) for q in quantiles] if len(found) > 1 else [mean]
        distances = [p.distance(other) for p, other in zip(found, others)]
        domains[domain] = {
            "subjects": len(found),
            "quantiles": [round(float(q), 4) for q in mean],
            "distance_range": [round(min(distances), 4), round(max(distances), 4)],
            "rim_ratio_range": [round(min(p.rim_ratio for p in found), 3), round(max(p.rim_ratio for p in found), 3)],
            # the preprocessing worlds the model saw (subjects without a verdict are in neither count)
            "skull_stripped_subjects": sum(p.skull_stripped is True for p in found),
            "skull_on_subjects": sum(p.skull_stripped is False for p in found),
        }
    spacings = np.asarray([p.spacing for found in profiles.values() for p in found])
    return {"quantile_levels": list(QUANTILES), "domains": domains,
            "spacing_range": [[round(float(s), 3) for s in spacings.min(axis=0)],
                              [round(float(s), 3) for s in spacings.max(axis=0)]]}


def check_input(card: ModelCard, source: str, voxels: np.ndarray, spacing: Sequence[float]) -> GuardReport:
    """What the user should know before trusting this translation; a refusal for a clear modality mismatch."""
    profile = volume_profile(voxels, spacing)
    report = GuardReport()
    if not is_ct_domain(source) and profile.air_share > CT_AIR_SHARE:
        report.refusal = (f"the input looks like a CT in Hounsfield units ({100 * profile.air_share:.0f} % of voxels below "
                          f"{CT_AIR_HU:g}), but model '{card.id}' expects {source}, an MR contrast: give an MR volume, "
                          "or --force if this really is one")
        return report
    if is_ct_domain(source) and float(np.min(voxels)) >= 0 and card.normalization(source)["method"] == "window":
        report.warnings.append(f"the input has no negative values: it does not look like a CT in Hounsfield units, "
                               f"which model '{card.id}' expects for {source}")
    stored = card.data.get("input_profile")
    if stored and source in stored["domains"] and tuple(stored["quantile_levels"]) == QUANTILES:
        report.warnings += _profile_warnings(profile, stored, source)
    elif not stored or source not in stored["domains"]:  # e.g. a source the trainer made by a degradation
        report.warnings.append(f"model '{card.id}' records no profile of its {source} training inputs (input_profile), "
                               f"so this {source} was not checked against them: whether it is like what the model "
                               "learned on is unknown")
    return report


def _profile_warnings(profile: VolumeProfile, stored: dict[str, Any], source: str) -> list[str]:
    warnings = []
    domains = stored["domains"]
    own = domains[source]
    distance = profile.distance(own["quantiles"])
    low, high = own["distance_range"]
    if own["subjects"] >= MIN_SUBJECTS and distance > DISTANCE_MARGIN * high + 0.01:
        warnings.append(f"input histogram distance {distance:.2f}, training {source} subjects {low:.2f}-{high:.2f}: "
                        f"this {source} is unlike the training data; results may be wrong")
    nearest = min(((profile.distance(entry["quantiles"]), name) for name, entry in domains.items()
                   if name != source and entry["subjects"] >= MIN_SUBJECTS), default=None)
    if nearest is not None and nearest[0] < NEARER_FACTOR * distance and nearest[0] <= DISTANCE_MARGIN * domains[nearest[1]]["distance_range"][1] + 0.01:
        warnings.append(f"the input looks more like {nearest[1]} (distance {nearest[0]:.2f}) than {source} ({distance:.2f}): "
                        "check that the right contrast was chosen")
    rim_low, rim_high = own["rim_ratio_range"]
    training = f"training {source} subjects {rim_low:.2f}-{rim_high:.2f}"
    if profile.rim_ratio > RIM_MARGIN * rim_high:
        what = ": a skull-on or unmasked scan, but the model was trained on skull-stripped brains" if rim_high < 1.1 else ""
        warnings.append(f"the rim of the input is brighter than its centre (rim/centre {profile.rim_ratio:.2f}, {training}){what}")
    elif profile.rim_ratio < rim_low / RIM_MARGIN:
        what = ": skull-stripped, but the model was trained on scans with the skull" if rim_low > 1.1 else ""
        warnings.append(f"the rim of the input is darker than in training (rim/centre {profile.rim_ratio:.2f}, {training}){what}")
    warnings += _world_warnings(profile, own, source)
    smallest, largest = (np.asarray(s) for s in stored["spacing_range"])
    spacing = np.asarray(profile.spacing)
    if np.any(spacing > 1.5 * largest) or np.any(spacing < 0.5 * smallest):
        warnings.append(f"voxel size {' x '.join(f'{s:.2g}' for s in spacing)} mm lies outside the training range "
                        f"({' x '.join(f'{s:.2g}' for s in smallest)} to {' x '.join(f'{s:.2g}' for s in largest)} mm)")
    return warnings


def _world_warnings(profile: VolumeProfile, own: dict[str, Any], source: str) -> list[str]:
    """A skull-stripped input to a model that saw only scans with the skull, or the other way round (cards
    written before the worlds were counted say nothing)."""
    stripped, skull_on = own.get("skull_stripped_subjects"), own.get("skull_on_subjects")
    if stripped is None or skull_on is None or profile.skull_stripped is None or is_ct_domain(source):
        return []  # a CT has no skull-stripped world: air outside the head reads as a constant shell
    if profile.skull_stripped and stripped == 0 and skull_on > 0:
        return [f"the input {source} looks skull-stripped, but the model was trained on scans with the skull only "
                f"({skull_on} {source} subjects): expect wrong intensities at the brain's edge and beyond; give the "
                "scan with the skull, or use a model trained on skull-stripped data"]
    if not profile.skull_stripped and skull_on == 0 and stripped > 0:
        return [f"the input {source} has the skull, but the model was trained on skull-stripped scans only "
                f"({stripped} {source} subjects): skull-strip it first (e.g. HD-BET, SynthStrip), or use a model "
                "trained on scans with the skull"]
    return []


def refuse_or_report(report: GuardReport, force: bool) -> list[str]:
    """The warnings to show; raises on a refusal unless forced (then it becomes a warning)."""
    if report.refusal is None:
        return list(report.warnings)
    if not force:
        raise GANTranslateError(report.refusal)
    return [report.refusal.split(": give", 1)[0] + " (forced)"] + list(report.warnings)
