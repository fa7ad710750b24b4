"""The evaluation summary's leading section: the scale-free metric (scale_free_metrics.py) per patient, the
model against the training-subjects LUT and the patient's own LUT, with mean and worst margins, and the
checkerboard measure (checkerboard.py) of the synthetic images against the real ones."""
from __future__ import annotations

import math

import numpy as np

RIVAL_TITLES = {"lut": "training-subjects LUT", "own_lut": "patient's own LUT (oracle)"}


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def scale_free_section(per_subject_scores: dict[str, dict[str, float]]) -> dict | None:
    """``per_subject_scores``: subject -> its scores. None when no subject has scale-free scores."""
    rows = {name: s for name, s in per_subject_scores.items() if "sf_psnr" in s}
    if not rows:
        return None
    section: dict = {"definition": "per patient inside the mask: real target on its own 0.5-99.5 % percentile scale, "
                                   "candidate affine-fitted (least squares) onto it; PSNR (range 1), 3D SSIM, NMAE",
                     "mean": {}, "margins": {}, "per_subject": {}}
    for who, prefix in (("model", "sf_"), ("lut", "sf_lut_"), ("own_lut", "sf_own_lut_")):
        means = {k: _mean([s[prefix + k] for s in rows.values() if prefix + k in s]) for k in ("psnr", "ssim", "nmae")}
        if any(v is not None for v in means.values()):
            section["mean"][who] = means
    for rival in RIVAL_TITLES:
        for metric in ("psnr", "ssim"):
            values = [s[f"sf_margin_{rival}_{metric}"] for s in rows.values() if f"sf_margin_{rival}_{metric}" in s]
            if values:
                section["margins"][f"{rival}_{metric}"] = {"mean": float(np.mean(values)), "worst": float(min(values)),
                                                           "patients_won": int(sum(v > 0 for v in values)), "of": len(values)}
    keys = [k for k in ("sf_psnr", "sf_ssim", "sf_nmae", "sf_lut_psnr", "sf_lut_ssim", "sf_own_lut_psnr", "sf_own_lut_ssim",
                        "nyquist_share", "real_nyquist_share")]
    section["per_subject"] = {name: {k: round(s[k], 4) for k in keys if k in s} for name, s in rows.items()}
    return section


def checkerboard_summary(per_subject_scores: dict[str, dict[str, float]]) -> dict | None:
    """The synthetic images' mean share of spectral energy at Nyquist, the real images' range, and whether
    every synthetic image lies within (at most at the top of) the real range; None without the measure."""
    synthetic = [s["nyquist_share"] for s in per_subject_scores.values() if "nyquist_share" in s]
    real = [s["real_nyquist_share"] for s in per_subject_scores.values() if "real_nyquist_share" in s]
    if not synthetic or not real:
        return None
    finite_real = [v for v in real if math.isfinite(v)]
    top = max(finite_real) if finite_real else float("nan")
    return {"nyquist_energy_share_synthetic_mean": float(np.nanmean(synthetic)),
            "nyquist_energy_share_synthetic_max": float(np.nanmax(synthetic)),
            "nyquist_energy_share_real_range": [float(min(finite_real)) if finite_real else float("nan"), top],
            "within_real_range": bool(np.nanmax(synthetic) <= top)}


def section_lines(section: dict) -> list[str]:
    """Markdown: the scale-free table (model and both LUTs), margins, per-patient rows, checkerboard."""
    cell = lambda v: "–" if v is None else f"{v:.4g}"  # noqa: E731
    lines = ["Scale-free metric (the one releases are judged by): " + section["definition"], "",
             "| | PSNR dB | SSIM | NMAE |", "|---|---|---|---|"]
    titles = {"model": "model", **RIVAL_TITLES}
    for who, means in section["mean"].items():
        lines.append(f"| {titles[who]} | {cell(means['psnr'])} | {cell(means['ssim'])} | {cell(means['nmae'])} |")
    lines.append("")
    for key, margin in section["margins"].items():
        rival, metric = key.rsplit("_", 1)
        unit = " dB" if metric == "psnr" else ""
        lines.append(f"Margin over the {RIVAL_TITLES[rival]} in {metric.upper()}: mean {margin['mean']:+.3f}{unit}, "
                     f"worst patient {margin['worst']:+.3f}{unit} (better on {margin['patients_won']} of {margin['of']})")
    lines += ["", "| subject | PSNR | SSIM | LUT PSNR | LUT SSIM | own-LUT PSNR | own-LUT SSIM | Nyquist share: synthetic (real) |",
              "|---|---|---|---|---|---|---|---|"]
    for name, s in section["per_subject"].items():
        get = lambda k: cell(s.get(k))  # noqa: E731
        lines.append(f"| {name} | {get('sf_psnr')} | {get('sf_ssim')} | {get('sf_lut_psnr')} | {get('sf_lut_ssim')} | "
                     f"{get('sf_own_lut_psnr')} | {get('sf_own_lut_ssim')} | {get('nyquist_share')} ({get('real_nyquist_share')}) |")
    return lines + [""]


def checkerboard_line(c: dict) -> str:
    low, high = c["nyquist_energy_share_real_range"]
    return (f"Checkerboard: share of in-plane spectral energy at Nyquist, synthetic mean "
            f"{c['nyquist_energy_share_synthetic_mean']:.4g} (max {c['nyquist_energy_share_synthetic_max']:.4g}), "
            f"real images {low:.4g} to {high:.4g}: {'within' if c['within_real_range'] else 'ABOVE'} the real range")
