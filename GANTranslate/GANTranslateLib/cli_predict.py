"""``gantranslate predict``: one volume (a file, or a DICOM series with --dicom), or a batch of them."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import EXIT_ERROR, GANTranslateError
from .terminal_text import printable


def predict(args: argparse.Namespace) -> int:
    import torch

    from .batch_translation import is_batch
    from .image_io import check_distinct, check_replaceable, check_writable, read_volume, write_volume_atomic
    from .model_registry import find_package
    from .progress_reporters import make_reporter
    from .synthetic_note import check_sidecar_free, write_sidecar
    from .translation import translate_image

    if args.threads:
        torch.set_num_threads(args.threads)
    if is_batch(args.input, Path(args.output)) and not args.dicom:
        return predict_batch(args)
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
    image = read_volume(args.input)
    options = inference_options(args)
    reporter = make_reporter(args.progress)
    try:
        result = translate_image(image, package, args.source, args.target, options, progress=reporter)
        reporter("writing", 0, 1)
        if args.dicom:
            from .dicom_export import write_dicom_series

            source_folder = Path(args.input) if Path(args.input).is_dir() else None
            write_dicom_series(result.image, output, package.card.id, package.card.version, result.source, result.target,
                               source_folder)
        else:
            write_volume_atomic(result.image, output, compress=not args.no_compression)
            write_sidecar(result.image, output)
        if result.disagreement is not None:
            write_volume_atomic(result.disagreement, args.disagreement_map, compress=not args.no_compression)
            write_sidecar(result.disagreement, Path(args.disagreement_map))
    finally:
        reporter.close()
    for warning in result.warnings:
        reporter.event("warning", message=warning)
        if args.progress != "json":
            print(printable(f"gantranslate: warning: {warning}"), file=sys.stderr)
    reporter.event("done", output=str(output), model=package.card.id, version=package.card.version,
                   source=result.source, target=result.target, device=result.device, seconds=round(result.seconds, 3),
                   warnings=list(result.warnings), precision=result.precision, notes=list(result.notes))
    if args.progress != "json":
        how = "".join(f"; {note}" for note in result.notes)
        print(f"wrote {output} ({result.source} -> {result.target} with {package.card.id} on {result.device}, "
              f"{result.precision}{how}, {result.seconds:.1f} s)")
    return 0


def warn_if_shadowing(package) -> None:
    from .model_registry import shadowing_note

    note = shadowing_note(package)
    if note is not None:
        print(printable(f"gantranslate: warning: {note}"), file=sys.stderr)


def check_dicom_folder(path: str) -> Path:
    folder = Path(path)
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


def predict_batch(args: argparse.Namespace) -> int:
    """Many volumes, one model: a progress bar (or JSON line) per volume, summary.csv, non-zero if any failed."""
    from .batch_translation import batch_items, run_batch
    from .model_registry import find_package
    from .translation import resolve_direction

    if args.disagreement_map:
        raise GANTranslateError("--disagreement-map takes one volume; for a batch, run the volumes one by one")
    package = find_package(args.model)
    warn_if_shadowing(package)
    _, target = resolve_direction(package.card, args.source, args.target)
    output_dir = Path(args.output)
    items = batch_items(args.input, output_dir, target)
    bar = None
    if args.progress in ("bar", "auto") and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="volumes", unit="volume", file=sys.stderr)

    def on_volume(done: int, total: int, row: dict) -> None:
        if args.progress == "json":
            print(json.dumps({"event": "volume", "done": done, "total": total, **row}), flush=True)
        elif bar is not None:
            bar.update(1)
        if row["status"] == "failed" and args.progress != "json":
            print(printable(f"gantranslate: {row['input']}: {row['message']}"), file=sys.stderr)

    report = run_batch(items, package, args.source, args.target, inference_options(args), output_dir,
                       skip_existing=args.skip_existing, force=args.overwrite, compress=not args.no_compression,
                       on_volume=on_volume)
    if bar is not None:
        bar.close()
    counts = {status: sum(row["status"] == status for row in report.rows) for status in ("ok", "skipped", "failed")}
    print(f"{counts['ok']} translated, {counts['skipped']} skipped, {counts['failed']} failed; "
          f"see {output_dir / 'summary.csv'}", file=sys.stderr if args.progress == "json" else sys.stdout)
    return EXIT_ERROR if report.failed else 0
