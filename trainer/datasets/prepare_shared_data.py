"""Make training dataset folders from the project's shared real data, with a slab held out.

There is one real glioma patient (TCGA-FG-6692, four co-registered contrasts) and one set of MNI
templates, so honest validation cannot hold out subjects: it holds out a contiguous slab instead, axial
by default; sagittal (``--holdout-axis sagittal``) for models that work along z, such as through-plane
super-resolution, which on an axial slab would see only the slab's few slices of z.
Each source becomes two "subjects": the held-out slab (validation), and the whole volume with that slab
and a gap of a few slices on each side blanked to the background (training), so that neighbouring slices
cannot leak across. The training volume is one piece, not two slabs, because intensity normalisation
is per volume: slabs of one scan normalised apart disagree about its intensity scale (by 16 % for T1c).

    python trainer/datasets/prepare_shared_data.py tcga ../shared/data data/tcga_fg6692
    python trainer/datasets/prepare_shared_data.py mni  ../shared/data data/mni_templates
    python trainer/datasets/prepare_shared_data.py tcga ../shared/data data/tcga_fg6692_sagittal --holdout-axis sagittal
    python trainer/datasets/prepare_shared_data.py phantom ../shared/data data/porcine_phantom
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
        "holdout": {"axial": (70, 90), "sagittal": (70, 100)},  # 1 mm slices through the tumour
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
        "holdout": {"axial": (40, 50), "sagittal": (30, 40)},  # 2 mm slices
        "gap": 2,
        "licence": "MNI/McGill permissive notice (ICBM152); BSD-2-Clause (Rorden CT/FLAIR templates)",
    },
    # real CT and real 3 T T2 of one porcine phantom with bone (TCIA MRI-DIR), rigidly registered on one 1 mm
    # grid: T2 -> CT on real tissue. The slab has bone, fat and muscle (chosen by tissue content alone).
    "phantom": {
        "name": "MRI-DIR porcine phantom (TCIA): real CT in HU and real 3 T T2 on one 1 mm grid; not a patient",
        "subject": "porcine-phantom",
        "files": {
            "T2": "mri_dir_porcine_phantom/mr_T2_1mm_rigid_to_ct.nii.gz",
            "CT": "mri_dir_porcine_phantom/ct_HU_1mm.nii.gz",
        },
        "mask": "mri_dir_porcine_phantom/mask_body_and_mr_fov.nii.gz",
        "holdout": {"axial": (90, 120), "sagittal": (80, 100)},
        "gap": 3,
        "licence": "CC BY 4.0 (TCIA MRI-DIR): cite Ger et al., Med Phys 45(9):4315, 2018, and the TCIA usage policy",
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


AXIS_INDEX = {"sagittal": 0, "axial": 2}  # image index (x, y, z) that a slab of each orientation spans


def write_subject(folder: Path, images: dict[str, sitk.Image], mask: sitk.Image, box: list[tuple[int, int]],
                  blank: tuple[int, tuple[int, int]] | None = None) -> None:
    """The index box (x, y, z ranges) of every image; with ``blank`` = (axis, (lo, hi)), those slices along that
    image axis (absolute indices) set to each image's minimum."""
    folder.mkdir(parents=True, exist_ok=True)
    (x, y, z) = box
    for domain, image in {**images, "mask": mask}.items():
        box_image = image[x[0]:x[1], y[0]:y[1], z[0]:z[1]]
        if blank is not None:
            axis, (lo, hi) = blank
            array = sitk.GetArrayFromImage(box_image)
            index = [slice(None)] * 3
            index[2 - axis] = slice(lo - box[axis][0], hi - box[axis][0])  # numpy axes are (z, y, x)
            array[tuple(index)] = array.min()
            blanked = sitk.GetImageFromArray(array)
            blanked.CopyInformation(box_image)
            box_image = blanked
        sitk.WriteImage(box_image, str(folder / f"{domain}.nii.gz"), useCompression=True)


def prepare(preset_name: str, shared: Path, out: Path, holdout_axis: str = "axial") -> None:
    preset = PRESETS[preset_name]
    images, mask = load(shared, preset)
    low, high = bounding_box(mask, margin=2)
    box = list(zip(low, high))
    hold_lo, hold_hi = preset["holdout"][holdout_axis]
    gap = preset["gap"]
    base = preset["subject"]
    axis = AXIS_INDEX[holdout_axis]
    write_subject(out / f"{base}-training", images, mask, box, blank=(axis, (hold_lo - gap, hold_hi + gap)))
    held = list(box)
    held[axis] = (hold_lo, hold_hi)
    write_subject(out / f"{base}-holdout", images, mask, held)
    (x0, x1), (y0, y1), (z0, z1) = box
    manifest = {
        "name": preset["name"],
        "description": f"{holdout_axis.capitalize()} slices {hold_lo}-{hold_hi - 1} held out for validation; in the "
                       f"training volume they and {gap} slices on each side are blanked; cropped to the mask's "
                       f"bounding box x {x0}:{x1}, y {y0}:{y1}, z {z0}:{z1}.",
        "licence": preset["licence"],
        "domains": list(preset["files"]),
        "training": [f"{base}-training"],
        "validation": [f"{base}-holdout"],
        "holdout_axis": holdout_axis,
        "holdout_slices": [hold_lo, hold_hi],
    }
    (out / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({base}-training, {base}-holdout)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset", choices=sorted(PRESETS))
    parser.add_argument("shared_data", type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("output", type=Path)
    parser.add_argument("--holdout-axis", choices=sorted(AXIS_INDEX), default="axial",
                        help="the orientation of the held-out slab (default axial)")
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    missing = [args.shared_data / f for f in [*preset["files"].values(), *([preset["mask"]] if preset["mask"] else [])]
               if not (args.shared_data / f).is_file()]
    if missing:
        raise SystemExit(f"error: {len(missing)} file(s) of the shared data are missing, e.g. {missing[0]}; pass the folder "
                         "that holds tcga_lgg_fg6692/ and mni_templates_2mm/ (the project's shared/data, see DATA_LICENSES.md)")
    prepare(args.preset, args.shared_data, args.output, args.holdout_axis)


if __name__ == "__main__":
    main()
