"""Many volumes with one model: a folder, a glob or a CSV list in, a folder of synthetic volumes and a
summary out. The model is loaded once (and compiled once, then taken from the cache); a volume that fails
is reported in the summary and the batch goes on; an interrupted batch resumes with ``skip_existing``.
"""
from __future__ import annotations

import csv
import glob
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .atomic_files import publish_file, temporary_file
from .errors import GANTranslateError
from .image_io import (WRITABLE_SUFFIXES, check_encodable, check_writable, full_suffix, read_volume, same_file, same_note,
                       synthetic_note_of, write_volume_atomic)
from .model_package import ModelPackage
from .synthetic_note import check_sidecar_free, write_sidecar
from .translation import InferenceOptions, TranslationResult, resolve_direction, translate_image

SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = ["input", "output", "seconds", "status", "message"]


@dataclass(frozen=True)
class BatchItem:
    input: Path
    output: Path


@dataclass
class BatchReport:
    rows: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(row["status"] == "failed" for row in self.rows)


def is_batch(input_spec: str, output: Path) -> bool:
    """Batch mode: the output is a folder (existing, or named without a volume suffix) and the input a
    folder of volume files, a glob pattern or a .csv list."""
    named_as_file = full_suffix(output) in WRITABLE_SUFFIXES
    return not named_as_file and (output.is_dir() or not output.exists()) and (
        input_spec.lower().endswith(".csv") or is_glob(input_spec) or _volume_files(Path(input_spec)))


def is_glob(input_spec: str) -> bool:
    """A pattern such as 'scans/*_T1.nii.gz'; not a path that exists (a series folder named 'MR [3]')."""
    return any(c in input_spec for c in "*?[") and not Path(input_spec).exists()


def _volume_files(folder: Path) -> list[Path]:
    """The volume files of a folder; for a folder of DICOM series folders (no image file of its own), those
    folders."""
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and full_suffix(p) in WRITABLE_SUFFIXES)
    return files or _series_folders(folder)


def _series_folders(folder: Path) -> list[Path]:
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subfolders:
        return []
    from .dicom_headers import series_files

    return [] if series_files(folder) else subfolders  # a series folder with a subfolder of its own is one series


def output_name(source: Path, target: str) -> str:
    """``sub-01_T1.nii.gz`` -> ``sub-01_T1_synthetic-T2.nii.gz``: the name says what it is, and where from."""
    suffix = full_suffix(source)
    stem = source.name[: -len(suffix)] if suffix in WRITABLE_SUFFIXES else source.name
    return f"{stem}_synthetic-{target}{suffix if suffix in WRITABLE_SUFFIXES else '.nii.gz'}"


def batch_items(input_spec: str, output_dir: Path, target: str) -> list[BatchItem]:
    """The volumes to translate and where each goes. A CSV has an ``input`` column (paths relative to the
    CSV's folder) and may name each ``output`` (relative to the output folder)."""
    if input_spec.lower().endswith(".csv"):
        items = _items_from_csv(Path(input_spec), output_dir, target)
    else:
        paths = sorted(Path(p) for p in glob.glob(input_spec)) if is_glob(input_spec) \
            else _volume_files(Path(input_spec))
        paths = [p for p in paths if p.is_file() or p.is_dir()]
        items = [BatchItem(p, output_dir / output_name(p, target)) for p in paths]
    if not items:
        raise GANTranslateError(f"no volumes found in {input_spec}; give a folder of volume files, a glob such as "
                                "'scans/*_T1.nii.gz' in quotes, or a .csv with an 'input' column")
    outputs = [item.output.resolve() for item in items]
    if len(set(outputs)) != len(outputs):
        raise GANTranslateError("two inputs would be written to the same output name; give an 'output' column in a CSV")
    for item in items:
        if any(same_file(item.output, other.input) for other in items):
            raise GANTranslateError(f"output {item.output} would replace an input; choose another output folder")
    return items


def _items_from_csv(path: Path, output_dir: Path, target: str) -> list[BatchItem]:
    if not path.is_file():
        raise GANTranslateError(f"input list not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's "CSV UTF-8" starts with a BOM
        rows = list(csv.DictReader(handle))
    if not rows or "input" not in rows[0]:
        raise GANTranslateError(f"{path} needs a header line with an 'input' column (and optionally 'output')")
    items = []
    for line, row in enumerate(rows, start=2):
        given = (row["input"] or "").strip()
        if "\x00" in given + (row.get("output") or ""):
            raise GANTranslateError(f"{path} line {line}: a file name holds a NUL character; no file can have that name")
        if not given:
            raise GANTranslateError(f"{path} line {line} has an empty 'input'; name a volume there or remove the line")
        source = Path(given) if Path(given).is_absolute() else path.parent / given
        name = (row.get("output") or "").strip() or output_name(source, target)
        items.append(BatchItem(source, inside_output_folder(output_dir, name, f"{path} line {line}")))
    return items


def inside_output_folder(output_dir: Path, name: str, listing: str) -> Path:
    """A CSV's ``output`` names a file inside the output folder: an absolute path or '..' could name a subject's
    acquired image elsewhere (and --force-overwrite would replace it)."""
    relative = Path(name)
    inside = not relative.is_absolute() and ".." not in relative.parts
    if not inside or not (output_dir / relative).resolve().is_relative_to(output_dir.resolve()):  # a link out, too
        raise GANTranslateError(f"{listing}: output '{name}' leaves the output folder {output_dir}; give a name "
                                "relative to it, without '..' (outputs are written inside -o only)")
    return output_dir / relative


def run_batch(items: list[BatchItem], package: ModelPackage, source: Optional[str], target: Optional[str],
              options: InferenceOptions, output_dir: Path, skip_existing: bool = False, force: bool = False,
              compress: bool = True, on_volume: Callable[[int, int, dict], None] = lambda done, total, row: None,
              summary: Optional[Path] = None) -> BatchReport:
    """Translate every item with one loaded network; the summary (default ``output_dir/summary.csv``) is
    rewritten after each volume, so an interrupted batch still says what it did."""
    source, target = resolve_direction(package.card, source, target)
    check_batch_outputs(items, output_dir, skip_existing, force, package.card.synthetic_note(source, target))
    summary = summary or output_dir / SUMMARY_NAME
    network = package.build_network()  # once for the whole batch
    report = BatchReport()
    for done, item in enumerate(items, start=1):
        row = {"input": str(item.input), "output": str(item.output), "seconds": "", "status": "", "message": ""}
        if item.output.exists() and skip_existing:
            row.update(status="skipped", message="output exists")
        else:
            row.update(_translate_one(item, package, source, target, options, network, compress))
        report.rows.append(row)
        write_summary(report, summary)
        on_volume(done, len(items), row)
    return report


def check_batch_outputs(items: list[BatchItem], output_dir: Path, skip_existing: bool, force: bool,
                        note: Optional[str] = None) -> None:
    """Before anything is written: every output may be written, and its folder exists (the output folder and,
    for a CSV naming ``sub-01/T2.nii.gz``, its subfolders, which batch_items keeps inside it); a refused batch
    creates no folder."""
    existing = [item for item in items if item.output.exists()]
    if existing and not (skip_existing or force):
        raise GANTranslateError(f"{len(existing)} output(s) already exist in {output_dir} (e.g. {existing[0].output.name}); "
                                "pass --skip-existing to keep them and translate the rest, or --force-overwrite to replace them")
    if skip_existing and note is not None:
        check_kept(existing, note)
    for item in items:
        if full_suffix(item.output) not in WRITABLE_SUFFIXES:
            raise GANTranslateError(f"cannot write '{item.output.name}' (for {item.input}): use one of "
                                    f"{', '.join(WRITABLE_SUFFIXES)} for the output file")
    output_dir.mkdir(parents=True, exist_ok=True)
    for item in items:
        if _has_utf8_name(item):  # the others fail on their own, in the summary, and the batch goes on
            item.output.parent.mkdir(parents=True, exist_ok=True)
            check_writable(item.output, inputs=[item.input])
            check_sidecar_free(item.output, force or skip_existing and item.output.exists())


def check_kept(existing: list[BatchItem], note: str) -> None:
    """--skip-existing keeps only what this model made from this source: an output of another model or
    version (a cohort resumed after an update), or a file GANTranslate did not write, would otherwise be
    listed as done."""
    for item in existing:
        found = synthetic_note_of(item.output)
        if found is None or not same_note(found, note):
            made = "was not written by GANTranslate" if found is None else f"holds {found.split(';')[0]!r}"
            raise GANTranslateError(f"{item.output} {made}, not {note.split(';')[0]!r}: --skip-existing keeps only this "
                                    "model's outputs; choose another output folder, or --force-overwrite to replace them")


def _translate_one(item: BatchItem, package: ModelPackage, source: str, target: str, options: InferenceOptions,
                   network, compress: bool) -> dict:
    start = time.perf_counter()
    notes: list[str] = []  # what the reader did to place the voxels (a tilt resampled): the summary says it
    try:
        result: TranslationResult = translate_image(read_volume(item.input, notes=notes), package, source, target,
                                                    options, network=network)
        write_volume_atomic(result.image, item.output, compress=compress)
        write_sidecar(result.image, item.output)
    except GANTranslateError as error:
        return {"status": "failed", "message": str(error), "seconds": f"{time.perf_counter() - start:.2f}"}
    return {"status": "ok", "message": "; ".join(notes + list(result.warnings)),
            "seconds": f"{time.perf_counter() - start:.2f}"}


def _has_utf8_name(item: BatchItem) -> bool:
    try:
        check_encodable(item.input), check_encodable(item.output)
    except GANTranslateError:
        return False
    return True


def write_summary(report: BatchReport, path: Path) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, SUMMARY_COLUMNS)
    writer.writeheader()
    writer.writerows(report.rows)
    temporary = temporary_file(path, ".csv")
    try:
        # a file name that is not valid UTF-8 is written back as the bytes it was given
        temporary.write_text(text.getvalue(), encoding="utf-8", errors="surrogateescape")
        publish_file(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
