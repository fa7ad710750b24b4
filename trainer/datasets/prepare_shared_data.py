"""Make training dataset folders from the project's shared real data, with an axial slab held out.

There is one real glioma patient (TCGA-FG-6692, four co-registered contrasts) and one set of MNI
templates, so honest validation cannot hold out subjects: it holds out a contiguous axial slab instead.
Each source becomes two "subjects": the held-out slab (validation), and the whole volume with that slab
and a gap of a few slices on each side blanked to the background (training), so that neighbouring slices
cannot leak across. The training volume is one piece, not two slabs, because intensity normalisation
is per volume: slabs of one scan normalised apart disagree about its intensity scale (by 16 % for T1c).

    python trainer/datasets/prepare_shared_data.py tcga ../shared/data data/tcga_fg6692
    python trainer/datasets/prepare_shared_data.py mni  ../shared/data data/mni_templates
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

PRESETS = {
    "tcga": {
        "name": "TCGA-FG-6692 (TCIA TCGA-LGG), BraTS/SRI24 1 mm space",
        "subject": "TCGA-FG-6692",
        "files": {
            "T1": "tcga_lgg_fg6692/brats_space/TCGA-FG-6692_t1.nii.gz",
            "T1c": "tcga_lgg_fg6692/brats_space/TCGA-FG-6692_t1c.nii.gz",
            "T2": "tcga_lgg_fg6692/brats_space/TCGA-FG-6692_t2.nii.gz",
            "FLAIR": "tcga_lgg_fg6692/brats_space/TCGA-FG-6692_flair.nii.gz",
        },
        "mask": "tcga_lgg_fg6692/brats_space/TCGA-FG-6692_brainmask.nii.gz",
        "holdout": (70, 90),  # axial slices (z, 1 mm) through the tumour
        "gap": 3,
        "licence": "TCIA CC BY 3.0: cite TCGA-LGG (doi:10.7937/K9/TCIA.2016.L4LTD3TK) and Clark et al. 2013",
    },
    "mni": {
        "name": "MNI/ICBM152 templates (T1, T2, PD), FLAIR template, CT template in HU; 2 mm",
        "subject": "MNI152",
        "files": {
            "T1": "mni_templates_2mm/avg152T1.nii.gz",
            "T2": "mni_templates_2mm/avg152T2.nii.gz",
            "PD": "mni_templates_2mm/avg152PD.nii.gz",
            "FLAIR": "mni_templates_2mm/flair_template_gg366_8mmFWHM.nii.gz",
            "CT": "mni_templates_2mm/ct_template_scct_hu.nii.gz",
        },
        "mask": None,  # the head: CT above -500 HU
        "holdout": (40, 50),  # axial slices (z, 2 mm)
        "gap": 2,
        "licence": "MNI/McGill permissive notice (ICBM152); BSD-2-Clause (Rorden CT/FLAIR templates)",
    },
}


def load(shared: Path, preset: dict) -> tuple[dict[str, sitk.Image], sitk.Image]:
    images = {d: sitk.ReadImage(str(shared / f)) for d, f in preset["files"].items()}
    if preset["mask"]:
        mask = sitk.ReadImage(str(shared / preset["mask"])) > 0
    else:
        mask = sitk.BinaryFillhole(images["CT"] > -500)
    return images, sitk.Cast(mask, sitk.sitkUInt8)


def bounding_box(mask: sitk.Image, margin: int) -> tuple[list[int], list[int]]:
    array = sitk.GetArrayViewFromImage(mask)
    nonzero = np.nonzero(array)
    low = [max(int(n.min()) - margin, 0) for n in nonzero][::-1]
    high = [min(int(n.max()) + margin + 1, s) for n, s in zip(nonzero, array.shape)][::-1]
    return low, high


def write_subject(folder: Path, images: dict[str, sitk.Image], mask: sitk.Image, x: tuple, y: tuple, z: tuple,
                  blank: tuple | None = None) -> None:
    """The box x, y, z of every image; axial slices ``blank`` (absolute indices) set to each image's minimum."""
    folder.mkdir(parents=True, exist_ok=True)
    for domain, image in {**images, "mask": mask}.items():
        box = image[x[0]:x[1], y[0]:y[1], z[0]:z[1]]
        if blank is not None:
            array = sitk.GetArrayFromImage(box)
            array[blank[0] - z[0] : blank[1] - z[0]] = array.min()
            blanked = sitk.GetImageFromArray(array)
            blanked.CopyInformation(box)
            box = blanked
        sitk.WriteImage(box, str(folder / f"{domain}.nii.gz"), useCompression=True)


def prepare(preset_name: str, shared: Path, out: Path) -> None:
    preset = PRESETS[preset_name]
    images, mask = load(shared, preset)
    (x0, y0, z0), (x1, y1, z1) = bounding_box(mask, margin=2)
    hold_lo, hold_hi = preset["holdout"]
    gap = preset["gap"]
    base = preset["subject"]
    write_subject(out / f"{base}-training", images, mask, (x0, x1), (y0, y1), (z0, z1), blank=(hold_lo - gap, hold_hi + gap))
    write_subject(out / f"{base}-holdout", images, mask, (x0, x1), (y0, y1), (hold_lo, hold_hi))
    manifest = {
        "name": preset["name"],
        "description": f"Axial slices {hold_lo}-{hold_hi - 1} held out for validation; in the training volume they and "
                       f"{gap} slices on each side are blanked; cropped to the mask's bounding box x {x0}:{x1}, y {y0}:{y1}.",
        "licence": preset["licence"],
        "domains": list(preset["files"]),
        "training": [f"{base}-training"],
        "validation": [f"{base}-holdout"],
        "holdout_slices": [hold_lo, hold_hi],
    }
    (out / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out} ({base}-training, {base}-holdout)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset", choices=sorted(PRESETS))
    parser.add_argument("shared_data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    prepare(args.preset, args.shared_data, args.output)


if __name__ == "__main__":
    main()
