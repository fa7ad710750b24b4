"""Where the scanner measured: each axial slice's distance from the nearest acquired plane.

TCGA-FG-6692's contrasts were acquired as 5.5 mm axial slices and interpolated onto the 1 mm BraTS grid,
so between acquired planes a 1 mm volume is interpolation, not measurement. For a model compared with a
rival slice by slice, this says whether the slices it loses lie on or between acquired planes:

    python trainer/datasets/acquired_planes.py ../shared/data data/tcga_fg6692_sagittal/TCGA-FG-6692-holdout \\
        runs/t1_superresolution_pix2pix/evaluation/T1_LR_to_T1/synthetic/TCGA-FG-6692-holdout_T1.nii.gz \\
        --target T1 --rival T1_LR
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from GANTranslateLib.metrics import slice_mse

NATIVE_T1 = "tcga_lgg_fg6692/native_skullstripped/TCGA-FG-6692_native_t1_hdbet.nii.gz"
T1_TO_BRATS = "tcga_lgg_fg6692/transforms/TCGA-FG-6692_native_t1_to_brats_0GenericAffine.mat"
MIN_VOXELS = 200  # slices with fewer foreground voxels (the brain's tips) are left out


def plane_distance_mm(volume: sitk.Image, native: sitk.Image, transform: sitk.Transform) -> np.ndarray:
    """For each slice of ``volume`` (numpy axis 0), the distance in mm from its centre to the nearest
    slice plane of ``native``; ``transform`` maps ``volume``'s points to ``native``'s, as Resample uses it."""
    nx, ny, nz = volume.GetSize()
    distances = []
    for z in range(nz):
        point = volume.TransformContinuousIndexToPhysicalPoint(((nx - 1) / 2, (ny - 1) / 2, float(z)))
        k = native.TransformPhysicalPointToContinuousIndex(transform.TransformPoint(point))[2]
        distances.append(abs(k - round(k)) * native.GetSpacing()[2])
    return np.asarray(distances)


def slice_gains_db(synthetic: np.ndarray, rival: np.ndarray, real: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per slice (numpy axis 0), the model's PSNR gain over the rival inside the mask; NaN where the
    slice has fewer than MIN_VOXELS foreground voxels."""
    gains = 10 * np.log10(slice_mse(rival, real, mask) / slice_mse(synthetic, real, mask))
    gains[mask.sum(axis=(1, 2)) < MIN_VOXELS] = np.nan
    return gains


def report(gains: np.ndarray, distances: np.ndarray, near_mm: float = 1.0) -> str:
    scored = ~np.isnan(gains)
    lost, near = scored & (gains <= 0), scored & (distances < near_mm)
    return (f"{scored.sum()} slices with at least {MIN_VOXELS} foreground voxels; the model loses {lost.sum()}.\n"
            f"within {near_mm:g} mm of an acquired plane: {near.sum()} slices, {(lost & near).sum()} lost\n"
            f"farther:                       {(scored & ~near).sum()} slices, {(lost & ~near).sum()} lost")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shared_data", type=Path, help="the shared data folder (holds tcga_lgg_fg6692/)")
    parser.add_argument("subject", type=Path, help="a prepared subject folder (T1.nii.gz, mask.nii.gz, ...)")
    parser.add_argument("synthetic", type=Path, help="the model's output for that subject")
    parser.add_argument("--target", default="T1", help="the real volume's domain")
    parser.add_argument("--rival", default="T1_LR", help="the domain the model is compared with")
    args = parser.parse_args(argv)
    needed = [args.shared_data / NATIVE_T1, args.shared_data / T1_TO_BRATS, args.synthetic,
              *(args.subject / f"{name}.nii.gz" for name in (args.target, args.rival, "mask"))]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        print(f"error: missing {', '.join(missing)}; check the paths", file=sys.stderr)
        return 2
    real_image = sitk.ReadImage(str(args.subject / f"{args.target}.nii.gz"), sitk.sitkFloat64)
    array = lambda path: sitk.GetArrayFromImage(sitk.ReadImage(str(path), sitk.sitkFloat64))  # noqa: E731
    gains = slice_gains_db(array(args.synthetic), array(args.subject / f"{args.rival}.nii.gz"),
                           sitk.GetArrayFromImage(real_image), array(args.subject / "mask.nii.gz") > 0)
    distances = plane_distance_mm(real_image, sitk.ReadImage(str(args.shared_data / NATIVE_T1)),
                                  sitk.ReadTransform(str(args.shared_data / T1_TO_BRATS)))
    print(report(gains, distances))
    return 0


if __name__ == "__main__":
    sys.exit(main())
