"""``gantranslate evaluate``: per-subject metrics, mean ± sd, montages, and the look-up-table baseline."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk

from . import checkerboard, lut_baseline, metrics, scale_free_metrics
from .dataset_folder import DatasetFolder, Subject, read_dataset
from .errors import GANTranslateError
from .image_io import find_volume, read_volume, write_volume_atomic
from .model_card import RESTORATION_TASKS, is_ct_domain
from .model_package import ModelPackage
from .montage import write_montage
from .progress import ProgressCallback, no_progress
from .scale_free_summary import checkerboard_line, checkerboard_summary, scale_free_section, section_lines
from .ct_tissues import tissue_errors
from .orientation import orientation_code, slice_numpy_axis
from .translation import InferenceOptions, translate_image


# What a model is compared with, slice by slice: the LUT baseline, and for restoration models the
# degraded input and (denoising) non-local means
RIVALS = {"baseline": "baseline", "input": "degraded input", "nlm": "non-local means"}
SCALE_FREE_PREFIXES = ("sf_", "nyquist_", "real_nyquist_")  # the scale-free section's own keys (scale_free_summary.py)
PER_SUBJECT = ("psnr", "ssim", "nmae", "baseline_psnr", "baseline_ssim", "input_psnr", "nlm_psnr", "mae_hu")


@dataclass
class SubjectResult:
    subject: str
    status: str = "ok"
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    slices_won: dict[str, tuple[int, int]] = field(default_factory=dict)  # rival -> (won, compared), axial


def on_grid(image: sitk.Image, reference: sitk.Image, interpolator=sitk.sitkLinear) -> tuple[sitk.Image, bool]:
    """``image`` on ``reference``'s grid; True when it had to be resampled."""
    same = (image.GetSize() == reference.GetSize()
            and np.allclose(image.GetSpacing(), reference.GetSpacing(), rtol=1e-5)
            and np.allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-4)
            and np.allclose(image.GetDirection(), reference.GetDirection(), atol=1e-5))
    if same:
        copy = sitk.Image(image)
        copy.CopyInformation(reference)
        return copy, False
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, 0.0, sitk.sitkFloat32), True


def foreground(subject: Subject, real: sitk.Image, target: str) -> np.ndarray:
    if subject.mask is not None:
        mask, _ = on_grid(read_volume(subject.mask), real, sitk.sitkNearestNeighbor)
        return sitk.GetArrayFromImage(mask) > 0
    values = sitk.GetArrayViewFromImage(real)
    return values > -500 if is_ct_domain(target) else values != 0


MR_SCALE_PERCENTILE = 99.5


def on_common_scale(volume: np.ndarray, mask: np.ndarray, target: str) -> np.ndarray:
    """MR intensities have no unit: each MR volume (real, synthetic, rival) is divided by its own 99.5th
    percentile inside the mask before it is scored, so that scores compare contrast, not a scanner's gain
    (on one patient's scans this changes little; across scanners it is what makes scores comparable). CT
    stays in HU."""
    if is_ct_domain(target):
        return volume
    peak = float(np.percentile(volume[mask], MR_SCALE_PERCENTILE))
    return volume / np.float32(peak) if peak > 0 else volume


def score(synthetic: np.ndarray, real: np.ndarray, mask: np.ndarray, target: str, axial_axis: int) -> dict[str, float]:
    scores = metrics.image_metrics(synthetic, real, mask, slice_axis=axial_axis)
    if is_ct_domain(target):
        scores.update(metrics.ct_metrics(synthetic, real, mask))
        scores.update(tissue_errors(synthetic, real, mask))  # per tissue of the real CT (ct_tissues.py)
    return scores


def check_report_folder(folder: Path) -> None:
    """The reports go into a new or empty folder, or one holding an earlier evaluation (its summary.json),
    which they update: never among a user's other files, which same-named reports could replace."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise GANTranslateError(f"{folder} is a file; -o names a folder for the evaluation's reports")
    if any(folder.iterdir()) and not (folder / "summary.json").is_file():
        raise GANTranslateError(f"{folder} holds other files; give a new or empty folder for the evaluation "
                                "(it writes metrics.csv, summary.json/.md, montages and synthetic/ there)")


def evaluate(
    dataset_root: Path,
    source: str,
    target: str,
    output_dir: Path,
    package: Optional[ModelPackage] = None,
    synthetic_dir: Optional[Path] = None,
    subjects: Optional[list[str]] = None,
    baseline: bool = True,
    options: InferenceOptions = InferenceOptions(),
    progress: ProgressCallback = no_progress,
    inner: bool = False,
    split: Optional[str] = None,
) -> tuple[list[SubjectResult], dict]:
    """``inner``: score the inner-validation subjects, with the baseline fitted on the rest of the training
    subjects (dataset_folder.read_dataset), as when choosing a model's settings. ``split`` (overrides
    ``inner``): e.g. "loso:<source>": score that source's subjects, baselines learned on the other sources'."""
    if (package is None) == (synthetic_dir is None):
        raise GANTranslateError("give either a model (-m) or a folder of synthetic volumes (--synthetic)")
    check_report_folder(Path(output_dir))
    dataset = read_dataset(dataset_root, inner=inner, split=split)
    chosen = _choose(dataset, subjects)
    if not any(target in s.files for s in chosen):
        raise GANTranslateError(f"no subject chosen ({', '.join(s.name for s in chosen)}) has a {target} volume to score "
                                f"against; check --target (the dataset's domains: {', '.join(dataset.domains)})")
    output_dir.mkdir(parents=True, exist_ok=True)
    lut = _fit_baseline(dataset, package, source, target) if baseline and package is not None else None
    scale_free_lut = _fit_scale_free_lut(dataset, source, target) if baseline and not is_ct_domain(target) else None
    results = []
    for done, subject in enumerate(chosen):
        results.append(_evaluate_subject(subject, source, target, output_dir, package, synthetic_dir, lut, options,
                                         scale_free_lut))
        progress("evaluation", done + 1, len(chosen))
    if not any(r.scores for r in results):
        raise GANTranslateError(f"no subject could be scored ({'; '.join(f'{r.subject}: {r.status}' for r in results)}); "
                                "nothing was written")
    summary = summarise(results, source, target, package, lut is not None)
    trained_on = sorted({s.name for s in chosen} & {s.name for s in dataset.training})
    if trained_on:
        summary["warnings"] = [f"scored on training subject(s) {', '.join(trained_on)}: the model and the baseline "
                               "learned on them, so these scores are optimistic", *summary.get("warnings", [])]
    if split:
        summary["split"] = split
    scored = {r.subject: r.scores for r in results if r.scores}
    section, texture = scale_free_section(scored), checkerboard_summary(scored)
    if section:
        summary["scale_free"] = section
    if texture:
        summary["checkerboard"] = texture
    write_reports(results, summary, output_dir)
    return results, summary


def _choose(dataset: DatasetFolder, names: Optional[list[str]]) -> list[Subject]:
    if not names:
        if not (dataset.test or dataset.validation):
            raise GANTranslateError(f"{dataset.root / 'dataset.json'} lists no test or validation subjects; a training "
                                    "subject's scores are optimistic (model and baseline learned on it): name the "
                                    "subjects to score with --subjects to score them anyway")
        return dataset.test or dataset.validation
    by_name = {s.name: s for s in dataset.subjects()}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise GANTranslateError(f"unknown subject(s) {', '.join(unknown)}; dataset.json lists {', '.join(by_name)}")
    return [by_name[n] for n in names]


def _fit_baseline(dataset: DatasetFolder, package: ModelPackage, source: str, target: str):
    """The look-up-table baseline, learned on the dataset's training subjects; where the dataset has none
    with both contrasts (a folder of test subjects), the one the card learned on the model's training data."""
    training = [s for s in dataset.training if s.has(source, target)]
    if not training:
        table = package.card.baseline_table(source, target)
        return None if table is None else lut_baseline.LookUpTable(np.asarray(table, dtype=np.float32))
    pairs = []
    for s in training:
        real = read_volume(s.files[target])
        image, _ = on_grid(read_volume(s.files[source]), real)
        pairs.append((image, real, foreground(s, real, target)))
    return lut_baseline.fit_from_images(package.card, source, target, pairs)


def _fit_scale_free_lut(dataset: DatasetFolder, source: str, target: str) -> Optional[np.ndarray]:
    """The scale-free metric's training-subjects LUT (scale_free_metrics.learn_lut); None without training pairs."""
    pairs = []
    for s in dataset.training:
        if not s.has(source, target):
            continue
        real = read_volume(s.files[target])
        image, _ = on_grid(read_volume(s.files[source]), real)
        pairs.append((sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(real), foreground(s, real, target)))
    return scale_free_metrics.learn_lut(pairs) if pairs else None


def _scale_free_scores(synthetic: np.ndarray, real: np.ndarray, source: Optional[np.ndarray], mask: np.ndarray,
                       target: str, axial: int, table: Optional[np.ndarray]) -> dict[str, float]:
    """The scale-free metric with its two LUT rivals (MR targets), and the checkerboard measure of the
    synthetic and the real image."""
    scores = {"nyquist_share": checkerboard.nyquist_energy_share(synthetic, mask, axial),
              "real_nyquist_share": checkerboard.nyquist_energy_share(real, mask, axial)}
    if not is_ct_domain(target):
        scores.update(scale_free_metrics.score_with_rivals(synthetic, real, source, mask, table))
    return scores


def _evaluate_subject(subject: Subject, source: str, target: str, output_dir: Path, package, synthetic_dir,
                      lut, options: InferenceOptions, scale_free_lut: Optional[np.ndarray] = None) -> SubjectResult:
    result = SubjectResult(subject.name)
    if target not in subject.files:
        result.status = f"missing target {target}"
        return result
    real_image = read_volume(subject.files[target])
    mask = foreground(subject, real_image, target)
    if not mask.any():
        raise GANTranslateError(f"subject {subject.name}: the foreground mask is empty; give a mask.nii.gz that covers the subject")
    real = on_common_scale(sitk.GetArrayFromImage(real_image).astype(np.float32), mask, target)
    source_image = read_volume(subject.files[source]) if source in subject.files else None
    if package is not None:
        if source_image is None:
            result.status = f"missing source {source}"
            return result
        synthetic_image = translate_image(source_image, package, source, target, options).image
        (output_dir / "synthetic").mkdir(exist_ok=True)
        write_volume_atomic(synthetic_image, output_dir / "synthetic" / f"{subject.name}_{target}.nii.gz")
    else:
        path = find_volume(synthetic_dir, [subject.name, f"{subject.name}/{target}", f"{subject.name}_{target}"])
        if path is None:
            result.status = "missing synthetic"
            return result
        synthetic_image = read_volume(path)
    synthetic_image, resampled = on_grid(synthetic_image, real_image)
    if resampled:
        result.notes.append("synthetic resampled onto the real target's grid")
    synthetic_units = sitk.GetArrayFromImage(synthetic_image).astype(np.float32)
    synthetic = on_common_scale(synthetic_units, mask, target)
    axial = slice_numpy_axis(orientation_code(np.asarray(real_image.GetDirection()).reshape(3, 3)), "axial")
    result.scores = score(synthetic, real, mask, target, axial)
    source_on_real = None if source_image is None else on_grid(source_image, real_image)[0]  # resampled once
    source_array = None if source_on_real is None else sitk.GetArrayFromImage(source_on_real).astype(np.float32)
    result.scores.update(_scale_free_scores(synthetic_units, sitk.GetArrayFromImage(real_image).astype(np.float32),
                                            source_array, mask, target, axial, scale_free_lut))

    def compare(rival: str, image: np.ndarray) -> None:
        """The rival's own scores (prefixed with its name) and the slices on which the model beats it."""
        image = on_common_scale(image, mask, target)
        result.scores.update({f"{rival}_{k}": v for k, v in score(image, real, mask, target, axial).items()})
        result.slices_won[rival] = metrics.slices_won(synthetic, image, real, mask, axis=axial)

    if lut is not None and source_array is not None:
        compare("baseline", sitk.GetArrayFromImage(lut_baseline.predict(lut, source_on_real, package.card, source, target)))
    if package is not None and package.card.task in RESTORATION_TASKS and source_array is not None:
        compare("input", source_array)  # the degraded input itself
        if package.card.task == "denoising":
            compare("nlm", non_local_means(source_array, mask))
    if source_array is not None:
        write_montage(output_dir / f"montage_{subject.name}.png", source_array, synthetic_units,
                      sitk.GetArrayFromImage(real_image).astype(np.float32), mask,
                      np.asarray(real_image.GetDirection()).reshape(3, 3), real_image.GetSpacing(),
                      f"{subject.name}: {source} -> {target}")
    return result


def non_local_means(volume: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """scikit-image's non-local means, slice by slice, with the noise level estimated inside the mask."""
    from scipy.ndimage import gaussian_filter
    from skimage.restoration import denoise_nl_means

    # noise level: robust spread (MAD) of the high-pass residual inside the mask
    residual = (volume - gaussian_filter(volume, sigma=(0, 1, 1)))[mask]
    sigma = float(np.median(np.abs(residual - np.median(residual))) / 0.6745) or 1.0
    return np.stack([denoise_nl_means(s, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)
                     for s in volume]).astype(np.float32)


def summarise(results: list[SubjectResult], source: str, target: str, package, with_baseline: bool) -> dict:
    scored = [r for r in results if r.scores]
    keys = sorted({k for r in scored for k in r.scores})
    summary: dict = {"source": source, "target": target, "subjects": len(results), "scored": len(scored),
                     "model": package.card.id if package else None, "metrics": {}}
    for key in keys:
        values = np.asarray([r.scores[key] for r in scored if key in r.scores and math.isfinite(r.scores[key])])
        if values.size:
            summary["metrics"][key] = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0}
    if with_baseline and "psnr" in summary["metrics"] and "baseline_psnr" in summary["metrics"]:
        summary["psnr_margin_db"] = summary["metrics"]["psnr"]["mean"] - summary["metrics"]["baseline_psnr"]["mean"]
    if with_baseline and "ssim" in summary["metrics"] and "baseline_ssim" in summary["metrics"]:
        model, lut = summary["metrics"]["ssim"]["mean"], summary["metrics"]["baseline_ssim"]["mean"]
        summary["ssim_margin"] = model - lut
        if model < lut:  # PSNR rewards the right mean intensity: an untrained checkerboard can beat the LUT in it
            summary["warnings"] = [f"the model's SSIM ({model:.3f}) is below the look-up-table baseline's ({lut:.3f}): "
                                   "its structure is worse than a per-intensity mapping's, whatever its PSNR says"]
    # each subject's main scores, so that a report can say how the model did on every held-out patient
    summary["per_subject"] = {r.subject: {k: round(r.scores[k], 4) for k in PER_SUBJECT if k in r.scores} for r in scored}
    for rival in RIVALS:
        counted = [r.slices_won[rival] for r in results if rival in r.slices_won]
        if counted:
            summary.setdefault("slices_won", {})[rival] = {"won": sum(w for w, _ in counted), "of": sum(n for _, n in counted)}
    return summary


def write_reports(results: list[SubjectResult], summary: dict, output_dir: Path) -> None:
    keys = sorted({k for r in results for k in r.scores})
    with (output_dir / "metrics.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        rivals = [rival for rival in RIVALS if any(rival in r.slices_won for r in results)]
        writer.writerow(["subject", "status", *keys, *[f"axial_slices_beating_{rival}" for rival in rivals], "notes"])
        for r in results:
            won = ["{}/{}".format(*r.slices_won[rival]) if rival in r.slices_won else "" for rival in rivals]
            writer.writerow([r.subject, r.status, *[f"{r.scores[k]:.6g}" if k in r.scores else "" for k in keys], *won,
                             "; ".join(r.notes)])
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (output_dir / "summary.md").write_text(summary_table(summary), encoding="utf-8")


def summary_table(summary: dict) -> str:
    found = summary["metrics"]
    columns = [(p, t) for p, t in (("baseline_", "LUT baseline"), ("input_", "degraded input"), ("nlm_", "non-local means"))
               if any(k.startswith(p) for k in found)]
    lines = [f"{summary['source']} → {summary['target']}" + (f" with {summary['model']}" if summary["model"] else "")
             + (f", split {summary['split']}" if summary.get("split") else ""), ""]
    if summary.get("scale_free"):
        lines += section_lines(summary["scale_free"])
    if summary.get("checkerboard"):
        lines += [checkerboard_line(summary["checkerboard"]), ""]
    if summary.get("scale_free"):
        lines += ["Fixed-scale scores (each volume over its 99.5th percentile):", ""]
    lines += ["| metric | model (mean ± sd) |" + "".join(f" {t} (mean ± sd) |" for _, t in columns),
              "|---|---|" + "---|" * len(columns)]
    cell = lambda v: f"{v['mean']:.4g} ± {v['sd']:.2g}" if v else "–"  # noqa: E731
    leading = ("ssim", "psnr")  # SSIM first: PSNR alone flattered an untrained model
    for key, value in sorted(found.items(), key=lambda item: leading.index(item[0]) if item[0] in leading else 2):
        if any(key.startswith(p) for p in ("baseline_", "input_", "nlm_", *SCALE_FREE_PREFIXES)):
            continue
        lines.append(f"| {key} | {cell(value)} |" + "".join(f" {cell(found.get(p + key))} |" for p, _ in columns))
    if "psnr_margin_db" in summary:
        margins = ([f"SSIM margin over the baseline: {summary['ssim_margin']:+.3f}"] if "ssim_margin" in summary else [])
        lines += ["", *margins, f"PSNR margin over the baseline: {summary['psnr_margin_db']:+.2f} dB"]
    for rival, count in summary.get("slices_won", {}).items():
        lines.append(f"Axial slices on which the model beats the {RIVALS[rival]} (lower masked MSE): {count['won']} of {count['of']}")
    lines += [f"Warning: {warning}" for warning in summary.get("warnings", [])]
    return "\n".join(lines) + "\n"
