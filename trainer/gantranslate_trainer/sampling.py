"""Training samples: 2D slices (optionally with neighbours as channels) or 3D patches, preferring foreground.

A map-style dataset whose item ``i`` in epoch ``e`` is drawn with a generator seeded by (seed, e, i):
the sample stream depends only on the step, so a resumed run sees exactly what an uninterrupted one
would, and torch's DistributedSampler can split the items between ranks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from GANTranslateLib.orientation import slice_numpy_axis

from .appearance_augmentation import appearance_transforms, augment_appearance
from .augmentation import augment
from .export import directions
from .preprocessing import PreparedSubject


@dataclass(frozen=True)
class SamplingPlan:
    kind: str  # paired (pix2pix), unpaired (cyclegan) or multi (unified)
    domains: list[str]  # paired/unpaired: [source, target]; multi: all
    directions: list[tuple[str, str]]  # the (source, target) pairs drawn
    dims: int
    axis: int  # numpy axis of the slices (2D)
    adjacent: int
    crop: tuple[int, ...]
    foreground_probability: float
    min_foreground_fraction: float
    patches_per_subject: int
    augment: dict[str, Any]


def make_plan(config: dict, domains: list[str]) -> SamplingPlan:
    data = config["data"]
    kind = {"pix2pix": "paired", "cyclegan": "unpaired", "unified": "multi"}[config["model"]]
    pairs = [(s, t) for s, t in directions(config)]
    return SamplingPlan(kind, domains, pairs, data["dims"], slice_numpy_axis(data["orientation"], data["axis"]),
                        data["adjacent"] if data["dims"] == 2 else 0, tuple(data["crop"]),
                        data["foreground_probability"], data["min_foreground_fraction"],
                        data["patches_per_subject"], data["augment"])


class TrainingSamples(Dataset):
    def __init__(self, subjects: list[PreparedSubject], plan: SamplingPlan, seed: int) -> None:
        self.subjects, self.plan, self.seed, self.epoch = subjects, plan, seed, 0
        appearance = float(plan.augment.get("appearance", 0)) if plan.augment.get("enabled", True) else 0.0
        self.appearance = appearance_transforms(appearance) if appearance else None
        self.targets_of: dict[str, list[str]] = {}  # multi: each source's targets, in direction order
        for source, target in plan.directions:
            self.targets_of.setdefault(source, []).append(target)
        self.items = self._items()
        if not self.items:
            raise ValueError("no training slices or patches with enough foreground; lower data.min_foreground_fraction")
        self.by_domain = {d: [i for i, s in enumerate(subjects) if d in s.volumes] for d in plan.domains}
        self.positions: dict[int, list[int]] = {}
        for subject_index, position in self.items:
            self.positions.setdefault(subject_index, []).append(position)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _items(self) -> list[tuple[int, int]]:
        """(subject, slice) pairs in 2D; (subject, draw number) in 3D."""
        p = self.plan
        wanted = p.domains[:1] if p.kind != "multi" else list(self.targets_of)
        items = []
        for index, subject in enumerate(self.subjects):
            if not any(d in subject.volumes for d in wanted):
                continue
            if p.dims == 3:
                items += [(index, k) for k in range(p.patches_per_subject)]
                continue
            fractions = np.moveaxis(subject.mask, p.axis, 0).reshape(subject.mask.shape[p.axis], -1).mean(axis=1)
            items += [(index, int(k)) for k in np.flatnonzero(fractions >= p.min_foreground_fraction)]
        return items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        subject_index, position = self.items[i]
        subject = self.subjects[subject_index]
        p = self.plan
        if p.kind == "paired":
            source, target = p.domains
            return self._crop_pair(subject, position, source, target, rng)
        if p.kind == "unpaired":
            source, target = p.domains
            a = self._crop_pair(subject, position, source, None, rng)
            other_index = int(rng.choice(self.by_domain[target]))
            b = self._crop_pair(self.subjects[other_index], self._random_position(other_index, rng), target, None, rng,
                                source_appearance=False)
            return {"source": a["source"], "target": b["source"]}
        # a source the subject has, then one of that source's directions (each uniformly)
        sources = [d for d in p.domains if d in subject.volumes and d in self.targets_of]
        source = sources[rng.integers(len(sources))]
        targets = self.targets_of[source]
        target = targets[rng.integers(len(targets))]
        if target in subject.volumes:
            sample = self._crop_pair(subject, position, source, target, rng)
            sample["paired"] = torch.tensor(True)
        else:
            sample = self._crop_pair(subject, position, source, None, rng)
            other_index = int(rng.choice(self.by_domain[target]))
            other = self._crop_pair(self.subjects[other_index], self._random_position(other_index, rng), target, None, rng,
                                   source_appearance=False)
            sample["target"] = other["source"][-1:]
            sample["paired"] = torch.tensor(False)
        sample["source_domain"] = torch.tensor(p.domains.index(source))
        sample["target_domain"] = torch.tensor(p.domains.index(target))
        return sample

    def _random_position(self, subject_index: int, rng: np.random.Generator) -> int:
        """A slice with enough foreground of that subject (any, if it has none listed)."""
        if self.plan.dims == 3:
            return 0
        candidates = self.positions.get(subject_index)
        if candidates:
            return int(rng.choice(candidates))
        return int(rng.integers(self.subjects[subject_index].mask.shape[self.plan.axis]))

    def _crop_pair(self, subject: PreparedSubject, position: int, source: str, target: str | None,
                   rng: np.random.Generator, source_appearance: bool = True) -> dict[str, torch.Tensor]:
        """``source`` (with its neighbours) and ``target`` cropped at one place; ``source_appearance``: False
        where the 'source' crop is really an unpaired target, whose appearance must stay as acquired."""
        p = self.plan
        if p.dims == 2:
            volume_axis_first = lambda a: np.moveaxis(a, p.axis, 0)  # noqa: E731
            n = subject.mask.shape[p.axis]
            rows = np.clip(position + np.arange(-p.adjacent, p.adjacent + 1), 0, n - 1)
            src = volume_axis_first(subject.volumes[source])[rows]
            tgt = volume_axis_first(subject.volumes[target])[position][None] if target else None
            mask = volume_axis_first(subject.mask)[position]
        else:
            src = subject.volumes[source][None]
            tgt = subject.volumes[target][None] if target else None
            mask = subject.mask
        corner = self._corner(mask, rng)
        images = [torch.from_numpy(crop(src, corner, p.crop, -1.0))]
        if tgt is not None:
            images.append(torch.from_numpy(crop(tgt, corner, p.crop, -1.0)))
        images = augment(images, p.augment, rng, fills=[-1.0] * len(images))
        if self.appearance is not None and source_appearance:
            images[0] = augment_appearance(images[0], self.appearance, rng)
        sample = {"source": images[0]}
        if tgt is not None:
            sample["target"] = images[1]
        return sample

    def _corner(self, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Top-left corner of the crop: centred on a random foreground voxel, or anywhere."""
        size = np.asarray(self.plan.crop)
        shape = np.asarray(mask.shape)
        if rng.random() < self.plan.foreground_probability and mask.any():
            foreground = np.flatnonzero(mask)
            centre = np.asarray(np.unravel_index(foreground[rng.integers(foreground.size)], mask.shape))
        else:
            centre = np.asarray([rng.integers(s) for s in shape])
        corner = centre - size // 2
        return np.clip(corner, np.minimum(0, shape - size), np.maximum(0, shape - size))


def crop(array: np.ndarray, corner: np.ndarray, size: tuple[int, ...], fill: float) -> np.ndarray:
    """Crop the trailing spatial axes of ``array`` (C, ...) at ``corner``, padding with ``fill`` where needed."""
    out = np.full((array.shape[0], *size), fill, np.float32)
    src, dst = [slice(None)], [slice(None)]
    for start, length, extent in zip(corner, size, array.shape[1:]):
        lo, hi = max(start, 0), min(start + length, extent)
        src.append(slice(lo, hi))
        dst.append(slice(lo - start, hi - start))
    out[tuple(dst)] = array[tuple(src)]
    return out
