"""``gantranslate predict``: one volume (a file, or a DICOM series with --dicom), or a batch of them."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import EXIT_ERROR, GANTranslateError
from .terminal_text import printable

if TYPE_CHECKING:
    from .cohort_ranks import Rank


def predict(args: argparse.Namespace) -> int:
    import torch

    from .batch_translation import is_batch, is_glob
    from .image_io import check_distinct, check_replaceable, check_writable, read_volume, write_volume_atomic
    from .model_registry import find_package
    from .progress_reporters import make_reporter
    from .synthetic_note import check_sidecar_free, write_sidecar
    from .translation import translate_image
    from .cohort_ranks import rank_from_environment, rank_threads

    rank = rank_from_environment()
    if args.threads or rank.distributed:
        torch.set_num_threads(args.threads or rank_threads(rank))
    batch = is_batch(args.input, Path(args.output))
    if args.dicom and (batch or args.input.lower().endswith(".csv") or is_glob(args.input)):
        raise GANTranslateError(f"--dicom writes one DICOM series from one volume, and {args.input} names a batch; "
                                "leave out --dicom for NIfTI outputs, or run each series with --dicom on its own")
    patient = check_dicom_options(args)
    if batch:
        return predict_batch(args, rank)
    if rank.distributed:
        raise GANTranslateError(f"{rank.world_size} processes (torchrun) share a batch, not one volume; give -i a folder, "
                                "a quoted glob or a .csv and -o a folder, or run without torchrun")
    output = check_dicom_folder(args.output) if args.dicom else check_writable(args.output, inputs=[args.input])
    if not args.dicom:
        check_replaceable(output, args.overwrite)
        check_sidecar_free(output, args.overwrite)
    if args.disagreement_map:
        check_replaceable(check_writable(args.disagreement_map, inputs=[args.input]), args.overwrite)
        check_sidecar_free(Path(args.disagreement_map), args.overwrite)
        check_distinct({"-o": args.output, "--disagreement-map": args.disagreement_map})
    package = find_package(args.model)
    warn_if_shadowing(package)
    notes: list[str] = []
    image = read_volume(args.input, echo=args.echo, notes=notes)
    options = inference_options(args)
    reporter = make_reporter(args.progress)
    try:
        result = translate_image(image, package, args.source, args.target, options, progress=reporter)
        reporter("writing", 0, 1)
        if args.dicom:
            from .dicom_export import describe, write_dicom_series

            source_dicom = Path(args.input) if is_dicom_input(args.input) else None
            written = write_dicom_series(result.image, output, package.card.id, package.card.version, result.source,
                                         result.target, source_dicom, patient=patient,
                                         intended_use=package.card.data.get("intended_use", ""), axial=args.dicom_axial,
                                         positions_from_source=source_dicom is not None, echo=args.echo)
            notes += list(written.warnings)
        else:
            write_volume_atomic(result.image, output, compress=not args.no_compression)
            write_sidecar(result.image, output)
        if result.disagreement is not None:
            write_volume_atomic(result.disagreement, args.disagreement_map, compress=not args.no_compression)
            write_sidecar(result.disagreement, Path(args.disagreement_map))
    finally:
        reporter.close()
    for warning in notes + list(result.warnings):
        reporter.event("warning", message=warning)
        if args.progress != "json":
            print(printable(f"gantranslate: warning: {warning}"), file=sys.stderr)
    reporter.event("done", output=str(output), model=package.card.id, version=package.card.version,
                   source=result.source, target=result.target, device=result.device, seconds=round(result.seconds, 3),
                   warnings=notes + list(result.warnings), precision=result.precision, notes=list(result.notes))
    if args.progress != "json":
        how = "".join(f"; {note}" for note in result.notes)
        print(f"wrote {output} ({result.source} -> {result.target} with {package.card.id} on {result.device}, "
              f"{result.precision}{how}, {result.seconds:.1f} s)")
        if args.dicom:
            print(describe(written))
    return 0


def check_dicom_options(args: argparse.Namespace):
    """The patient of a DICOM series made from an input that is not DICOM (a DICOM source names its own), or
    None; DICOM-only options without --dicom are an error, not ignored."""
    from .dicom_export import Patient

    given = {"--patient-id": args.patient_id, "--patient-name": args.patient_name,
             "--patient-position": args.patient_position, "--dicom-axial": args.dicom_axial or None}
    if not args.dicom:
        named = [flag for flag, value in given.items() if value]
        if named:
            raise GANTranslateError(f"{', '.join(named)} describe(s) a DICOM series: add --dicom (or leave them out)")
        return None
    if is_dicom_input(args.input):
        named = [flag for flag in ("--patient-id", "--patient-name", "--patient-position") if given[flag]]
        if named:
            raise GANTranslateError(f"{', '.join(named)}: the input is a DICOM series, and the synthetic series joins its "
                                    "patient and study; leave them out")
        from .dicom_export import study_tags
        from .dicom_headers import source_series

        source = source_series(Path(args.input))
        if source is not None:
            study_tags(source, None)  # a patient name that cannot be copied stops here, before the translation
        return None
    missing = [flag for flag in ("--patient-id", "--patient-name") if not (given[flag] or "").strip()]
    if missing:
        raise GANTranslateError(f"the input is not DICOM, so the series needs its patient: give {' and '.join(missing)} "
                                "(a PACS would file every such export under one blank patient)")
    for flag in ("--patient-id", "--patient-name"):
        value = given[flag].strip()
        if len(value) > 64 or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise GANTranslateError(f"{flag} {value[:70]!r} cannot be stored in DICOM: at most 64 characters, no "
                                    "backslash or control character")
    return Patient(args.patient_id.strip(), args.patient_name.strip(), args.patient_position)


def is_dicom_input(path: str) -> bool:
    """A DICOM series folder, or one DICOM file (a multi-frame image): its patient and study are the series'."""
    from .dicom_headers import read_header

    path = Path(path)
    return path.is_dir() or (path.is_file() and read_header(path) is not None)


def warn_if_shadowing(package) -> None:
    from .model_registry import shadowing_note

    note = shadowing_note(package)
    if note is not None:
        write_line(sys.stderr, printable(f"gantranslate: warning: {note}"))  # one write: cohort ranks share stderr


def check_dicom_folder(path: str) -> Path:
    folder = Path(path)
    from .image_io import WRITABLE_SUFFIXES, full_suffix

    if full_suffix(folder) in WRITABLE_SUFFIXES:
        raise GANTranslateError(f"with --dicom, -o names the folder the series goes into, and {folder.name} is a volume "
                                "file's name; give a folder name (or leave out --dicom to write that file)")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GANTranslateError(f"{folder} is not a new or empty folder; with --dicom, -o names the folder the series goes into")
    if not folder.parent.is_dir():
        raise GANTranslateError(f"output folder {folder.parent} does not exist; create it first")
    return folder


def inference_options(args: argparse.Namespace):
    from .translation import InferenceOptions

    return InferenceOptions(
        mode=args.mode, axis=args.axis, batch_size=args.batch_size,
        patch_size=tuple(args.patch_size) if args.patch_size else None, overlap=args.overlap,
        device=args.device, precision=args.precision, compile=args.compile, output_dtype=args.output_dtype,
        disagreement=args.disagreement_map is not None, force=args.force,
    )


def predict_batch(args: argparse.Namespace, rank: "Rank") -> int:
    """Many volumes, one model: a progress bar (or JSON line) per volume, summary.csv, non-zero if any failed.
    Under torchrun every rank takes its share (cohort_ranks.py) and rank 0 reports for all."""
    from .batch_translation import batch_items, run_batch
    from .cohort_ranks import run_cohort
    from .model_registry import find_package
    from .translation import resolve_direction

    if args.disagreement_map:
        raise GANTranslateError("--disagreement-map takes one volume; for a batch, run the volumes one by one")
    if args.echo:
        raise GANTranslateError("--echo chooses an echo of one DICOM series folder; for a batch, run the series one by one")
    package = find_package(args.model)
    warn_if_shadowing(package)
    _, target = resolve_direction(package.card, args.source, args.target)
    output_dir = Path(args.output)
    items = batch_items(args.input, output_dir, target)
    bar = None
    if args.progress in ("bar", "auto") and sys.stderr.isatty() and rank.rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=None if rank.distributed else len(items), unit="volume", file=sys.stderr,
                   desc="volumes" + (f" (rank 0 of {rank.world_size})" if rank.distributed else ""))

    def on_volume(done: int, total: int, row: dict) -> None:
        if bar is not None and bar.total != total:  # a rank learns its share's size with its first volume
            bar.total = total
        if args.progress == "json":
            where = {"rank": rank.rank} if rank.distributed else {}
            write_line(sys.stdout, json.dumps({"event": "volume", "done": done, "total": total, **where, **row}))
        elif bar is not None:
            bar.update(1)
        if row["status"] == "failed" and args.progress != "json":
            write_line(sys.stderr, printable(f"gantranslate: {row['input']}: {row['message']}"))
        elif row["status"] == "ok" and row["message"] and args.progress != "json":
            write_line(sys.stderr, printable(f"gantranslate: warning: {row['input']}: {row['message']}"))

    settings = dict(skip_existing=args.skip_existing, force=args.overwrite, compress=not args.no_compression,
                    on_volume=on_volume)
    if rank.distributed:
        report = run_cohort(items, package, args.source, args.target, inference_options(args), output_dir, rank, **settings)
    else:
        report = run_batch(items, package, args.source, args.target, inference_options(args), output_dir, **settings)
    if bar is not None:
        bar.close()
    if rank.rank != 0:
        return 0  # rank 0 reports the whole cohort; a non-zero exit here would make torchrun stop rank 0
    counts = {status: sum(row["status"] == status for row in report.rows) for status in ("ok", "skipped", "failed")}
    print(f"{counts['ok']} translated, {counts['skipped']} skipped, {counts['failed']} failed; "
          f"see {output_dir / 'summary.csv'}", file=sys.stderr if args.progress == "json" else sys.stdout)
    return EXIT_ERROR if report.failed else 0


def write_line(stream, text: str) -> None:
    """One line in one write: the ranks of a cohort share torchrun's unbuffered (-u) stdout and stderr, where
    print's separate write of the newline let another rank's line land in the middle of this one."""
    stream.write(text + "\n")
    stream.flush()
