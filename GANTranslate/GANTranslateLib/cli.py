"""The ``gantranslate`` command: predict, list and inspect models, import reference checkpoints."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import cli_models, cli_predict
from .console_streams import tolerate_unencodable_text
from .errors import EXIT_ERROR, CancelledError, GANTranslateError
from .terminal_text import printable

EXIT_CANCELLED = 130


def main(argv: Optional[Sequence[str]] = None) -> int:
    tolerate_unencodable_text()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CancelledError as error:
        print(printable(f"gantranslate: {error}"), file=sys.stderr)
        return EXIT_CANCELLED
    except GANTranslateError as error:
        sys.stderr.write(printable(f"gantranslate: error: {error}") + "\n")  # one write: a cohort's ranks share torchrun's stderr
        sys.stderr.flush()
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("gantranslate: interrupted; nothing was written", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a full disk or a read-only folder where a write was not expected to fail
        from .atomic_files import describe_write_error

        where = Path(error.filename) if getattr(error, "filename", None) else Path.cwd() / "output"
        print(printable(f"gantranslate: error: {describe_write_error(error, where)}"), file=sys.stderr)
        return EXIT_ERROR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gantranslate", description="GAN-based medical image-to-image translation.")
    commands = parser.add_subparsers(dest="command", required=True)

    predict = commands.add_parser("predict", help="translate a volume with a model")
    predict.add_argument("-m", "--model", required=True, help="model package folder or model id")
    predict.add_argument("-i", "--input", required=True,
                         help="input volume file (NIfTI, NRRD, MHA) or DICOM series folder; for a batch: a folder of "
                              "volume files, a quoted glob ('scans/*_T1.nii.gz') or a .csv with an 'input' column")
    predict.add_argument("-o", "--output", required=True,
                         help="output file (.nii.gz, .nii, .nrrd or .mha); for a batch: a folder, which gets "
                              "NAME_synthetic-TARGET.* per input and summary.csv")
    predict.add_argument("--dicom", action="store_true",
                         help="write the result as a DICOM series into the folder -o (new or empty), marked SYNTHETIC "
                              "(and NOT FOR CLINICAL USE where the model's card says so), in the source's study where "
                              "the input is a DICOM series (CT in HU); from another input, give --patient-id and "
                              "--patient-name")
    predict.add_argument("--dicom-axial", action="store_true",
                         help="with --dicom: resample onto an axial grid (HFS orientation) for planning systems that "
                              "import axial CT only (default: the input's own grid)")
    predict.add_argument("--patient-id", help="with --dicom from an input that is not DICOM: the patient's ID (required)")
    predict.add_argument("--patient-name", help="with --dicom from an input that is not DICOM: the patient's name "
                                                "(required), e.g. 'DOE^JANE'")
    predict.add_argument("--patient-position", choices=["HFS", "HFP", "FFS", "FFP", "HFDR", "HFDL", "FFDR", "FFDL"],
                         help="with --dicom from an input that is not DICOM: Patient Position (default HFS, with a warning)")
    predict.add_argument("--echo", help="a DICOM series folder or multi-frame file of several echoes: the echo to translate")
    predict.add_argument("--skip-existing", action="store_true", help="batch: keep outputs that exist (resume)")
    predict.add_argument("--force-overwrite", dest="overwrite", action="store_true",
                         help="replace an output that exists though GANTranslate did not write it (by default only "
                              "its own earlier outputs are replaced); batch: replace outputs that exist. Never an input")
    predict.add_argument("--source", help="input domain, e.g. T1 (default: the model's only direction)")
    predict.add_argument("--target", help="output domain, e.g. T2")
    predict.add_argument("--mode", choices=["auto", "slice", "patch"], default="auto")
    predict.add_argument("--axis", choices=["axial", "coronal", "sagittal"], help="slice axis (default: the model's)")
    predict.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    predict.add_argument("--batch-size", type=_positive_int, help="slices or patches per batch (default: 1 on a CPU; 8 slices / 2 patches on a GPU)")
    predict.add_argument("--patch-size", type=_positive_int, nargs=3, metavar=("X", "Y", "Z"))
    predict.add_argument("--overlap", type=float, help="patch overlap fraction in [0, 1)")
    predict.add_argument("--precision", choices=["exact", "fast"], default="exact",
                         help="exact: float32; fast: bf16/fp16 where the hardware has it (error measured per model)")
    predict.add_argument("--compile", choices=["auto", "always", "never"], default="auto",
                         help="CPU: compile the network once and cache it (1.0-2.2x exact, 1.5-4.3x fast by network: "
                              "bench/results.md); auto uses a "
                              "cached one, or compiles when the job is long enough to repay it")
    predict.add_argument("--output-dtype", choices=["float32", "input"], default="float32")
    predict.add_argument("--no-compression", action="store_true",
                         help="write .nrrd/.mha uncompressed (fast: for scratch files, as Slicer exchanges them); "
                              ".nii.gz is always compressed")
    predict.add_argument("--disagreement-map", type=Path, metavar="FILE",
                         help="also run on the left-right mirrored input; write the mean as output and, here, how far the "
                              "two predictions differ per voxel (output units): high values mark voxels not to trust")
    predict.add_argument("--progress", choices=["auto", "bar", "json", "none"], default="auto")
    predict.add_argument("--threads", type=_positive_int, help="CPU threads for PyTorch (default: all cores)")
    predict.add_argument("--force", action="store_true",
                         help="translate even an input the input guard refuses (e.g. what looks like a CT given to an MR model)")
    predict.set_defaults(run=cli_predict.predict)

    models = commands.add_parser("models", help="list or inspect installed models")
    models_commands = models.add_subparsers(dest="models_command", required=True)
    listing = models_commands.add_parser("list", help="list the installed models")
    listing.add_argument("--json", action="store_true", help="print the cards as a JSON array")
    listing.set_defaults(run=cli_models.list_models)
    info = models_commands.add_parser("info", help="show a model's card")
    info.add_argument("model", help="model package folder or model id")
    info.add_argument("--json", action="store_true", help="print the whole card as JSON")
    info.set_defaults(run=cli_models.info)
    install = models_commands.add_parser("install", help="install a model package (folder, .zip, URL or catalog id) for this user")
    install.add_argument("source", help="package folder, .zip file, http(s)/file URL (URLs need --sha256), or the id of a "
                                        "model the catalog publishes")
    install.add_argument("--sha256", help="expected sha256 of the .zip (required for downloads)")
    install.add_argument("--force", action="store_true", help="replace an installed package even by an older version")
    install.set_defaults(run=cli_models.install)
    catalog = models_commands.add_parser("catalog", help="the models GANTranslate knows: bundled, and published for download")
    catalog.set_defaults(run=cli_models.catalog)
    prepare = models_commands.add_parser("compile", help="compile a model for this CPU once (cached; faster translations)")
    prepare.add_argument("model", help="model package folder or model id")
    prepare.add_argument("--precision", choices=["exact", "fast", "both"], default="both")
    prepare.set_defaults(run=cli_models.compile)

    check = models_commands.add_parser(
        "check-fast", help="measure how far fast mode (bf16 and fp16) moves a model's output (--record: into its card)")
    check.add_argument("model", help="model package folder or model id")
    check.add_argument("-i", "--input", nargs="+", required=True, type=Path, metavar="VOLUME",
                       help="real volumes of the source domain, ideally held out from training")
    check.add_argument("--source", help="input domain (default: the model's first direction's)")
    check.add_argument("--target", help="output domain")
    check.add_argument("--record", action="store_true",
                       help="write the measurement into the card of your own package (a bundled one is never modified)")
    check.set_defaults(run=cli_models.check_fast)

    onnx = models_commands.add_parser("export-onnx", help="write a model as ONNX (opset 18) with its card beside it")
    onnx.add_argument("model", help="model package folder or model id")
    onnx.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    onnx.add_argument("--force", action="store_true", help="replace an existing file of that name")
    onnx.set_defaults(run=cli_models.export_onnx)

    ev = commands.add_parser("evaluate", help="metrics, montages and the look-up-table baseline on a dataset")
    ev.add_argument("--dataset", type=Path, required=True, help="dataset folder with dataset.json (see README)")
    ev.add_argument("--source", required=True)
    ev.add_argument("--target", required=True)
    what = ev.add_mutually_exclusive_group(required=True)
    what.add_argument("-m", "--model", help="model package folder or id: translate, then score")
    what.add_argument("--synthetic", type=Path, help="folder of synthetic volumes named SUBJECT.nii.gz (or SUBJECT_TARGET)")
    ev.add_argument("--subjects", nargs="+", help="subjects to score (default: dataset.json's test list, else validation)")
    ev.add_argument("--inner", action="store_true",
                    help="score the inner-validation subjects, the baseline fitted on the other training subjects "
                         "(for choosing settings without the held-out patients)")
    ev.add_argument("--split", metavar="loso:SOURCE",
                    help="leave-one-source-out: score the subjects of SOURCE (dataset.json's subjects.*.source), the "
                         "baselines learned on every other source's subjects (overrides --inner)")
    ev.add_argument("--no-baseline", action="store_true", help="skip the look-up-table baseline")
    ev.add_argument("-o", "--output", type=Path, required=True, help="folder for metrics.csv, summary.json/.md, montages")
    ev.add_argument("--device", default="auto")
    ev.add_argument("--batch-size", type=_positive_int)
    ev.set_defaults(run=_evaluate)

    aug = commands.add_parser("augment", help="complete a dataset: synthesise a missing contrast for every subject "
                                              "that lacks it (NAME.synthetic.nii.gz, with its provenance)")
    aug.add_argument("--dataset", type=Path, required=True, help="dataset folder with dataset.json (see README)")
    aug.add_argument("--source", required=True)
    aug.add_argument("--target", required=True)
    aug.add_argument("-m", "--model", required=True, help="model package folder or id")
    aug.add_argument("--device", default="auto")
    aug.add_argument("--force", action="store_true", help="make synthetic files again (acquired files are never touched)")
    aug.set_defaults(run=_augment)

    imp = commands.add_parser("import-pix2pix", help="convert a pytorch-CycleGAN-and-pix2pix generator to a package")
    imp.add_argument("checkpoint", type=Path, help="a *_net_G.pth (tensors only; never executed)")
    imp.add_argument("-o", "--output", type=Path, required=True, help="package folder to write (new or empty)")
    imp.add_argument("--force", action="store_true", help="replace a model package already in that folder")
    imp.add_argument("--arch", required=True, help="resnet_9blocks, resnet_6blocks, unet_256 or unet_128 (the --netG used)")
    imp.add_argument("--source", required=True)
    imp.add_argument("--target", required=True)
    imp.add_argument("--norm", choices=["batch", "instance", "none"], default="batch", help="the --norm used in training")
    imp.add_argument("--ngf", type=_positive_int, default=64)
    imp.add_argument("--input-nc", type=_positive_int, default=1)
    imp.add_argument("--output-nc", type=_positive_int, default=1)
    imp.add_argument("--dropout", action="store_true", help="the generator was trained with dropout")
    imp.add_argument("--id", dest="model_id")
    imp.add_argument("--axis", choices=["axial", "coronal", "sagittal"], default="axial")
    imp.add_argument("--source-window", type=float, nargs=2, metavar=("MIN", "MAX"),
                     help="fixed input window (e.g. HU); default: 0.5-99.5 percentile of the foreground")
    imp.add_argument("--target-range", type=float, nargs=2, metavar=("MIN", "MAX"), default=(0.0, 255.0),
                     help="units that the output range [-1, 1] maps to (default 0 255, as 8-bit training images)")
    imp.set_defaults(run=_import_pix2pix)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, summary_table
    from .model_registry import find_package
    from .translation import InferenceOptions

    package = find_package(args.model) if args.model else None
    results, summary = evaluate(
        args.dataset, args.source, args.target, args.output, package=package, synthetic_dir=args.synthetic,
        subjects=args.subjects, baseline=not args.no_baseline,
        options=InferenceOptions(device=args.device, batch_size=args.batch_size), inner=args.inner,
        split=args.split,
    )
    for r in results:
        if r.status != "ok" or r.notes:
            print(f"{r.subject}: {r.status}{'; ' + '; '.join(r.notes) if r.notes else ''}")
    print(summary_table(summary), end="")
    for warning in summary.get("warnings", []):
        print(printable(f"gantranslate: warning: {warning}"), file=sys.stderr)
    montages = "and montages " if any(args.output.glob("montage_*.png")) else ""
    print(f"wrote {args.output / 'metrics.csv'}, {args.output / 'summary.md'} {montages}in {args.output}")
    return 0


def _augment(args: argparse.Namespace) -> int:
    from .dataset_completion import complete_dataset
    from .model_registry import find_package
    from .translation import InferenceOptions

    package = find_package(args.model)
    results = complete_dataset(args.dataset, package, args.source, args.target, InferenceOptions(device=args.device),
                               force=args.force, on_subject=lambda c: print(f"{c.subject}: {c.status}"
                                                                            + (f" ({c.detail})" if c.detail else "")))
    written = sum(r.status == "written" for r in results)
    failed = sum(r.status == "failed" for r in results)
    print(f"{written} synthetic {args.target} volume(s) written, {failed} failed, {len(results) - written - failed} "
          "subject(s) left as they were")
    return EXIT_ERROR if failed else 0


def _import_pix2pix(args: argparse.Namespace) -> int:
    from .model_package import check_package_target
    from .pix2pix_import import import_pix2pix

    check_package_target(args.output, args.force)
    source_norm = None
    if args.source_window:
        source_norm = {"method": "window", "min": args.source_window[0], "max": args.source_window[1]}
    low, high = args.target_range
    package = import_pix2pix(
        args.checkpoint, args.output, arch=args.arch, source=args.source, target=args.target, norm=args.norm,
        ngf=args.ngf, input_nc=args.input_nc, output_nc=args.output_nc, dropout=args.dropout,
        model_id=args.model_id, source_normalization=source_norm,
        target_normalization={"method": "window", "min": low, "max": high}, axis=args.axis, force=args.force,
    )
    print(f"wrote model package {package.path} (id {package.card.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
