"""A picture a person can check at a glance: source | synthetic | real | |error|, in three orientations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .orientation import Reorientation

COLUMNS = ("source", "synthetic", "real", "|error|")


def _window(array: np.ndarray, low: float, high: float) -> np.ndarray:
    return (np.clip((array - low) / max(high - low, 1e-6), 0, 1) * 255).astype(np.uint8)


def _planes(volume_lps: np.ndarray, centre: tuple[int, int, int]) -> list[np.ndarray]:
    """Axial, coronal and sagittal planes of a (z, y, x) LPS array, displayed radiologically."""
    z, y, x = centre
    axial = volume_lps[z]
    coronal = np.flipud(volume_lps[:, y, :])
    sagittal = np.flipud(volume_lps[:, :, x])
    return [axial, coronal, sagittal]


def write_montage(path: Path, source: np.ndarray, synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray,
                  direction: np.ndarray, spacing: tuple[float, float, float], title: str) -> Path:
    """Arrays in SimpleITK (z, y, x) order on one grid; written as PNG at 1 pixel per mm in-plane."""
    orient = Reorientation.between(direction, "LPS")
    volumes = [orient.apply_zyx(a) for a in (source, synthetic, real, np.abs(synthetic - real), mask.astype(np.float32))]
    spacing_lps = orient.spacing(spacing)
    inside = np.argwhere(volumes[4] > 0)
    centre = tuple(int(c) for c in (inside.mean(axis=0) if inside.size else np.asarray(volumes[0].shape) // 2))
    fg = volumes[4] > 0

    def limits(a: np.ndarray) -> tuple[float, float]:
        values = a[fg] if fg.any() else a.ravel()
        return float(np.percentile(values, 0.5)), float(np.percentile(values, 99.5))

    real_low, real_high = limits(volumes[2])
    windows = [limits(volumes[0]), (real_low, real_high), (real_low, real_high), (0.0, (real_high - real_low) / 2)]
    rows = []
    for plane_index in range(3):
        tiles = []
        for column in range(4):
            plane = _planes(volumes[column], centre)[plane_index]
            tile = Image.fromarray(_window(plane, *windows[column]))
            # pixel aspect: rows then columns of each plane, in mm
            row_mm, col_mm = [(spacing_lps[1], spacing_lps[0]), (spacing_lps[2], spacing_lps[0]),
                              (spacing_lps[2], spacing_lps[1])][plane_index]
            tile = tile.resize((max(int(plane.shape[1] * col_mm), 1), max(int(plane.shape[0] * row_mm), 1)))
            tiles.append(tile)
        rows.append(tiles)
    # columns as wide as their widest plane, so labels line up even for a thin slab
    column_width = [max(row[c].width for row in rows) for c in range(4)]
    offsets = np.concatenate([[0], np.cumsum(column_width)[:-1]]).astype(int)
    height = sum(max(t.height for t in row) for row in rows) + 36
    canvas = Image.new("L", (int(sum(column_width)), height), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 2), title, fill=255)
    for offset, name in zip(offsets, COLUMNS):
        draw.text((int(offset) + 4, 18), name, fill=255)
    y = 36
    for row in rows:
        for offset, tile in zip(offsets, row):
            canvas.paste(tile, (int(offset), y))
        y += max(t.height for t in row)
    canvas.save(path)
    return path
