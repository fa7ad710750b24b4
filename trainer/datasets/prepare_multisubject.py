"""Make the multi-subject MR dataset from the project's shared real data, holding out whole patients.

Seven patients with T1 and T2 (nine with T1 and FLAIR), from two sites and several protocols:
- TCGA-FG-6692 (TCIA TCGA-LGG, Siemens; BraTS/SRI24 1 mm space, skull-stripped): T1, T1c, T2, FLAIR;
- Ljubljana 3D MS database, patients 07 and 19 (MNI 1 mm, N4-corrected, skull-stripped): T1, T1c, T2, FLAIR;
- Ljubljana longitudinal MS database, raw clinical 2D scans with the skull (3-4 mm slices): T1W, T2W and FLAIR
  of each study, T1W and T2W brought onto the study's FLAIR grid with the affines shipped with the data.

Whole patients are held out (dataset.json "test"), one from another site than most of the training data
(TCGA), one skull-stripped and one raw Ljubljana patient; they are never seen in training, and model
choices are made on the inner validation subjects (dataset.json "inner_validation", a part of "training").

    python trainer/datasets/prepare_multisubject.py [SHARED_DATA] [OUTPUT]
        (defaults: $SHARED_DATA or ../shared/data, and data/mr_multisubject)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

REPO = Path(__file__).resolve().parents[2]
DOMAINS = ["T1", "T1c", "T2", "FLAIR"]
HELD_OUT_PATIENTS = ("TCGA-FG-6692", "ljubljana-cs-07", "ljubljana-long-04")
INNER_VALIDATION_PATIENTS = ("ljubljana-cs-19", "ljubljana-long-12")  # model choices are made on these
# the sources a leave-one-source-out split holds out one at a time (data.split=loso:<source>): each is one
# acquisition and preprocessing world, so a setting that only helps within one cannot win
SOURCES = {
    "tcga-brats": "TCIA TCGA-LGG in BraTS/SRI24 space, skull-stripped",
    "ljubljana-3d-ms": "Ljubljana 3D MS database, MNI 1 mm, N4-corrected, skull-stripped",
    "ljubljana-long-raw": "Ljubljana longitudinal MS, raw clinical 2D scans with the skull",
    "mni-templates": "MNI ICBM152 population-average templates (2 mm, skull on)",
}
SOURCE_SPLIT_ONLY = ("mni-templates",)  # not patients: only in leave-one-source-out and "all" training
MARGIN = 2  # voxels kept around the mask's bounding box

TCGA_LICENCE = "TCIA CC BY 3.0: cite TCGA-LGG (doi:10.7937/K9/TCIA.2016.L4LTD3TK) and Clark et al. 2013"
LJUBLJANA_LICENCE = "CC BY: cite Lesjak et al., Neuroinformatics 2016 (longitudinal) and 2017 (3D MS database)"


@dataclass(frozen=True)
class Session:
    """One imaging session: the contrasts of one patient at one time, a subject of the dataset."""
    name: str
    patient: str
    site: str
    files: dict[str, str]  # domain -> path under the shared data folder
    skull_stripped: bool
    source: str = ""  # the dataset it comes from (SOURCES): what leave-one-source-out holds out together
    mask: str | None = None  # a given brain mask; None: the head, found by thresholding (head_mask)
    transforms: dict[str, str] = field(default_factory=dict)  # domain -> affine onto the reference's grid
    reference: str = "T1"  # the domain whose grid every other one is brought onto


def _cross_sectional(number: str) -> Session:
    folder = f"open_ms_ljubljana/cross_sectional_MNI/patient{number}"
    return Session(f"ljubljana-cs-{number}", f"ljubljana-cs-{number}", "Ljubljana 3D MS (MNI 1 mm, N4, skull-stripped)",
                   {"T1": f"{folder}/T1.nii.gz", "T1c": f"{folder}/T1POST.nii.gz", "T2": f"{folder}/T2.nii.gz",
                    "FLAIR": f"{folder}/FLAIR.nii.gz"}, skull_stripped=True, source="ljubljana-3d-ms")


def _longitudinal(patient: str, study: int, domains: tuple[str, ...]) -> Session:
    folder = f"open_ms_ljubljana/longitudinal/raw/patient{patient}"
    raw_name = {"T1": "T1W", "T2": "T2W", "FLAIR": "FLAIR"}
    files = {d: f"{folder}/study{study}_{raw_name[d]}.nii.gz" for d in domains}
    transforms = {d: f"{folder}/study{study}_{raw_name[d]}_intrastudy_to_FLAIR.txt" for d in domains if d != "FLAIR"}
    return Session(f"ljubljana-long-{patient}-s{study}", f"ljubljana-long-{patient}",
                   "Ljubljana longitudinal MS (raw clinical 2D, skull on)", files, skull_stripped=False,
                   source="ljubljana-long-raw", transforms=transforms, reference="FLAIR")


TCGA = "tcga_lgg_fg6692/brats_space/TCGA-FG-6692"
SESSIONS = [
    Session("TCGA-FG-6692", "TCGA-FG-6692", "TCIA TCGA-LGG (Siemens; BraTS/SRI24 1 mm, skull-stripped)",
            {"T1": f"{TCGA}_t1.nii.gz", "T1c": f"{TCGA}_t1c.nii.gz", "T2": f"{TCGA}_t2.nii.gz",
             "FLAIR": f"{TCGA}_flair.nii.gz"}, skull_stripped=True, source="tcga-brats", mask=f"{TCGA}_brainmask.nii.gz"),
    _cross_sectional("07"),
    _cross_sectional("19"),
    _longitudinal("01", 1, ("T1", "T2", "FLAIR")),
    _longitudinal("01", 2, ("T1", "T2", "FLAIR")),
    _longitudinal("03", 1, ("T2", "FLAIR")),
    _longitudinal("03", 2, ("T1", "T2", "FLAIR")),
    _longitudinal("04", 1, ("T1", "T2", "FLAIR")),
    _longitudinal("12", 1, ("T1", "T2", "FLAIR")),
    _longitudinal("12", 2, ("T1", "T2", "FLAIR")),
    _longitudinal("19", 2, ("T1", "FLAIR")),
    _longitudinal("20", 2, ("T1", "FLAIR")),
    # a population average, not a patient: one more acquisition world (2 mm, smooth, skull on) for
    # leave-one-source-out; its T1 and T2 share one grid
    Session("mni-icbm152", "mni-icbm152", "MNI ICBM152 templates (2 mm population average, skull on)",
            {"T1": "mni_templates_2mm/avg152T1.nii.gz", "T2": "mni_templates_2mm/avg152T2.nii.gz"},
            skull_stripped=False, source="mni-templates"),
]


def mutual_information(fixed: sitk.Image, moving: sitk.Image, transform: sitk.Transform) -> float:
    """Mattes mutual information of ``moving`` seen through ``transform`` on ``fixed``'s grid (SimpleITK's
    registration metric; more negative is better aligned), to record how well two contrasts align."""
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    method.SetMetricSamplingStrategy(method.NONE)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetInitialTransform(transform)
    return float(method.MetricEvaluate(sitk.Cast(fixed, sitk.sitkFloat32), sitk.Cast(moving, sitk.sitkFloat32)))


def bring_onto(reference: sitk.Image, moving: sitk.Image, transform: sitk.Transform) -> tuple[sitk.Image, sitk.Image]:
    """``moving`` resampled onto the reference grid through the transform (which maps reference points to
    moving points, as a registration of moving to reference writes it), and where it had data."""
    image = sitk.Resample(moving, reference, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    covered = sitk.Resample(ones_like(moving), reference, transform, sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return image, covered


def ones_like(image: sitk.Image) -> sitk.Image:
    ones = sitk.Image(image.GetSize(), sitk.sitkUInt8) + 1
    ones.CopyInformation(image)
    return ones


def head_mask(image: sitk.Image) -> sitk.Image:
    """The head in a raw scan: Otsu's threshold, the largest connected piece, closed, holes filled slice by
    slice (SimpleITK's filters), for intensity statistics, sampling and scores."""
    foreground = sitk.OtsuThreshold(image, 0, 1)
    largest = sitk.RelabelComponent(sitk.ConnectedComponent(foreground), sortByObjectSize=True) == 1
    closed = sitk.GetImageFromArray(sitk.GetArrayFromImage(sitk.BinaryMorphologicalClosing(largest, [3, 3, 1])))
    # slice by slice on a plain grid: the 2D slices of an oblique volume do not share one plane's origin
    filled = sitk.JoinSeries([sitk.BinaryFillhole(closed[:, :, z]) for z in range(closed.GetSize()[2])])
    filled.CopyInformation(image)
    return sitk.Cast(filled, sitk.sitkUInt8)


def load_session(shared: Path, session: Session) -> tuple[dict[str, sitk.Image], sitk.Image, dict]:
    """The session's contrasts on one grid, its mask, and how well each contrast aligns with the reference."""
    raw = {d: sitk.ReadImage(str(shared / path), sitk.sitkFloat32) for d, path in session.files.items()}
    reference = raw[session.reference]
    images, alignment = {session.reference: reference}, {}
    covered = ones_like(reference)
    for domain, image in raw.items():
        if domain == session.reference:
            continue
        transform = sitk.ReadTransform(str(shared / session.transforms[domain])) if domain in session.transforms \
            else sitk.Transform(3, sitk.sitkIdentity)
        images[domain], domain_covered = bring_onto(reference, image, transform)
        covered = covered * domain_covered
        alignment[domain] = {
            "to": session.reference,
            "mattes_mi_identity": round(mutual_information(reference, image, sitk.Transform(3, sitk.sitkIdentity)), 4),
            "mattes_mi_applied": round(mutual_information(reference, image, transform), 4),
        }
    if session.mask:
        mask = sitk.Cast(sitk.ReadImage(str(shared / session.mask)) > 0, sitk.sitkUInt8)
    elif session.skull_stripped:
        mask = sitk.Cast(images[session.reference] != 0, sitk.sitkUInt8)
    else:
        mask = head_mask(images[session.reference])
    mask.CopyInformation(reference)
    return images, sitk.Cast(mask * covered, sitk.sitkUInt8), alignment


def bounding_box(mask: sitk.Image, margin: int) -> tuple[list[int], list[int]]:
    """Index ranges (x, y, z) of the mask's voxels, widened by ``margin`` within the image."""
    nonzero = np.nonzero(sitk.GetArrayViewFromImage(mask))
    if not nonzero[0].size:
        raise ValueError("the mask is empty")
    size = mask.GetSize()
    low = [max(int(n.min()) - margin, 0) for n in nonzero][::-1]
    high = [min(int(n.max()) + margin + 1, s) for n, s in zip(nonzero[::-1], size)]
    return low, high


def write_session(out: Path, session: Session, images: dict[str, sitk.Image], mask: sitk.Image) -> None:
    low, high = bounding_box(mask, MARGIN)
    crop = lambda image: image[low[0]:high[0], low[1]:high[1], low[2]:high[2]]  # noqa: E731
    folder = out / session.name
    folder.mkdir(parents=True, exist_ok=True)
    for domain, image in images.items():
        sitk.WriteImage(crop(image), str(folder / f"{domain}.nii.gz"), useCompression=True)
    sitk.WriteImage(crop(mask), str(folder / "mask.nii.gz"), useCompression=True)


def manifest(sessions: list[Session], alignment: dict[str, dict]) -> dict:
    held_out = [s.name for s in sessions if s.patient in HELD_OUT_PATIENTS]
    extra = [s.name for s in sessions if s.source in SOURCE_SPLIT_ONLY]
    training = [s.name for s in sessions if s.patient not in HELD_OUT_PATIENTS and s.name not in extra]
    return {
        "name": "GANTranslate multi-subject MR (TCGA-LGG and Ljubljana MS, two sites, several protocols)",
        "description": "Whole patients held out ('test'); the model is chosen on 'inner_validation', a part of 'training'. "
                       "Raw Ljubljana sessions: T1W and T2W on the study's FLAIR grid through the affines shipped with "
                       "the data, masked to the head and to where every contrast has data; others: the given brain masks.",
        "licence": f"{TCGA_LICENCE}; {LJUBLJANA_LICENCE}",
        "domains": DOMAINS,
        "training": training,
        "validation": [],
        "test": held_out,
        "inner_validation": [s.name for s in sessions if s.patient in INNER_VALIDATION_PATIENTS],
        # read by the source splits only (loso:<source>, all): the outer and inner splits stay as they were
        "source_split_only": extra,
        "sources": {k: v for k, v in SOURCES.items() if any(s.source == k for s in sessions)},
        "subjects": {s.name: {"patient": s.patient, "site": s.site, "source": s.source, "skull_stripped": s.skull_stripped,
                              "domains": list(s.files), "alignment": alignment.get(s.name, {})} for s in sessions},
    }


def prepare(shared: Path, out: Path, sessions: list[Session] = SESSIONS) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    alignment = {}
    for session in sessions:
        images, mask, alignment[session.name] = load_session(shared, session)
        write_session(out, session, images, mask)
        print(f"wrote {out / session.name} ({', '.join(images)})", flush=True)
    info = manifest(sessions, alignment)
    (out / "dataset.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def missing_files(shared: Path, sessions: list[Session] = SESSIONS) -> list[Path]:
    paths = [shared / p for s in sessions for p in [*s.files.values(), *s.transforms.values(), *([s.mask] if s.mask else [])]]
    return [p for p in paths if not p.is_file()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shared_data", nargs="?", type=Path,
                        default=Path(os.environ.get("SHARED_DATA", REPO.parent / "shared" / "data")),
                        help="the project's shared data folder (default: $SHARED_DATA or ../shared/data)")
    parser.add_argument("output", nargs="?", type=Path, default=REPO / "data" / "mr_multisubject")
    args = parser.parse_args(argv)
    missing = missing_files(args.shared_data)
    if missing:
        print(f"error: {len(missing)} file(s) of the shared data are missing, e.g. {missing[0]}; pass the folder that "
              "holds tcga_lgg_fg6692/ and open_ms_ljubljana/ (the project's shared/data, see DATA_LICENSES.md)",
              file=sys.stderr)
        return 2
    prepare(args.shared_data, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
