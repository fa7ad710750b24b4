"""``gantranslate-train``: train pix2pix / CycleGAN / unified GANs and export model packages.

    gantranslate-train train CONFIG.yaml [key.sub=value ...] [--run-dir DIR]
    gantranslate-train train --resume RUN_DIR
    torchrun --nproc_per_node N -m gantranslate_trainer.cli train CONFIG.yaml ...
    gantranslate-train export RUN_DIR -o MODEL_DIR [--checkpoint best|last]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from GANTranslateLib.atomic_files import describe_write_error
from GANTranslateLib.console_streams import tolerate_unencodable_text
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib import model_registry
from GANTranslateLib.model_package import check_package_target

from .checkpoint import load_checkpoint
from .config import load_config
from .export import build_card, export_package, local_build, shipped_directions
from .models import build_model
from .training import BEST, CONFIG_NAME, LAST, resolve_run, train

DOMAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def main(argv: Optional[Sequence[str]] = None) -> int:
    tolerate_unencodable_text()
    parser = argparse.ArgumentParser(prog="gantranslate-train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train a model (or resume a run)")
    run.add_argument("config", nargs="?", help="YAML config (see trainer/configs/)")
    run.add_argument("overrides", nargs="*", help="key.sub=value settings that replace the config's")
    run.add_argument("--run-dir", help="where the run writes (default: runs/<config name>)")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(run=_train)
    export = commands.add_parser("export", help="write a run's generator as a model package")
    export.add_argument("run_dir", type=Path)
    export.add_argument("-o", "--output", type=Path, required=True, help="model package folder to write (new or empty)")
    export.add_argument("--force", action="store_true", help="replace a model package already in that folder")
    export.add_argument("--id", help="the model's id (default: the output folder's name)")
    export.add_argument("--release", action="store_true",
                        help="take id, version and texts from the config's export section (how the bundled models are "
                             "made); without it the package is a local build: 0.0.0+local.DATE, described by its run")
    export.add_argument("--checkpoint", choices=["last", "best"], default="last",
                        help="last (default): the end of training; best: the checkpoint that scored best on the "
                             "run's validation subjects, which makes those subjects' scores optimistic (it falls "
                             "back to last when there is none)")
    export.add_argument("--weights-dtype", choices=["float32", "float16"], default="float32",
                        help="float16 halves the package; evaluate the exported package, not the run, to see its effect")
    export.add_argument("--evaluation", type=Path, help="a summary.json from 'gantranslate evaluate' to record in the card")
    export.add_argument("--loso-evaluation", type=Path, action="append", default=[], metavar="SUMMARY",
                        help="a summary.json of 'gantranslate evaluate --split loso:SOURCE' (repeatable: one per source) "
                             "whose scale-free scores and checkerboard measure the card records")
    export.set_defaults(run=_export)
    degrade = commands.add_parser("degrade", help="add a degraded domain (low-dose CT, low-resolution MR) to a dataset")
    degrade.add_argument("dataset", type=Path)
    degrade.add_argument("--kind", choices=["low_dose_ct", "low_resolution_mr"], required=True)
    degrade.add_argument("--from", dest="clean", required=True, help="the clean domain, e.g. CT or T1")
    degrade.add_argument("--to", dest="made", required=True, help="the new domain's name, e.g. LDCT or T1_LR")
    degrade.add_argument("--dose", type=float, default=0.25, help="low_dose_ct: dose fraction")
    degrade.add_argument("--factor", type=int, default=2, help="low_resolution_mr: slice thickening factor")
    degrade.add_argument("--kspace-fraction", type=float, default=1.0, help="low_resolution_mr: in-plane k-space kept")
    degrade.add_argument("--interpolation", choices=["cubic", "linear"], default="cubic",
                         help="low_resolution_mr: back onto the thin grid by cubic spline (default) or linearly")
    degrade.add_argument("--seed", type=int, default=0)
    degrade.set_defaults(run=_degrade)
    # overrides may also follow options (`train CONFIG --run-dir R key=value`), which argparse alone refuses
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "train" or any("=" not in e or e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    try:
        return args.run(args)
    except GANTranslateError as error:
        print(f"gantranslate-train: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gantranslate-train: interrupted; resume with --resume RUN_DIR from the last checkpoint", file=sys.stderr)
        return 130
    except OSError as error:  # a full disk or a read-only folder, wherever the run writes
        where = Path(error.filename) if getattr(error, "filename", None) else Path.cwd() / "run"
        print(f"gantranslate-train: error: {describe_write_error(error, where)}", file=sys.stderr)
        return 1


def _train(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    config_path = args.config
    if config_path and "=" in config_path:  # only overrides were given, with --resume
        overrides.insert(0, config_path)
        config_path = None
    config, run_dir, resume = resolve_run(config_path, overrides, args.run_dir, args.resume)
    train(config, run_dir, resume=resume, device_name=args.device, quiet=args.quiet,
          invocation={"config_file": config_path, "overrides": overrides})
    print(f"run written to {run_dir}")
    return 0


def _degrade(args: argparse.Namespace) -> int:
    from GANTranslateLib.dataset_folder import read_dataset
    from GANTranslateLib.image_io import read_volume, write_volume_atomic

    from .degradations import degrade

    dataset = read_dataset(args.dataset)
    check_new_domain(dataset, args.clean, args.made)
    # the dataset's manifest records the parameters of this kind only
    spec = ({"kind": args.kind, "dose": args.dose} if args.kind == "low_dose_ct" else
            {"kind": args.kind, "factor": args.factor, "kspace_fraction": args.kspace_fraction, "interpolation": args.interpolation})
    for index, subject in enumerate(dataset.subjects()):
        if args.clean not in subject.files:
            continue
        made = degrade(read_volume(subject.files[args.clean]), spec, seed=args.seed + index)
        write_volume_atomic(made, args.dataset / subject.name / f"{args.made}.nii.gz")
    manifest_path = args.dataset / "dataset.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if args.made not in manifest["domains"]:
        manifest["domains"].append(args.made)
    manifest.setdefault("degradations", {})[args.made] = {"from": args.clean, **spec, "seed": args.seed}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.made} for every subject with {args.clean} in {args.dataset}")
    return 0


def check_new_domain(dataset, clean: str, made: str) -> None:
    """A degradation is written under a new domain name, inside each subject's folder, never over a file: the
    acquired volumes of a dataset (its test subjects' among them) are what every score is measured against."""
    from GANTranslateLib.image_io import find_volume

    if not DOMAIN_NAME.fullmatch(made):
        raise GANTranslateError(f"--to '{made}' is not a domain name; use letters, digits, '_' and '-' only (e.g. {clean}_LR)")
    if made == clean or made in dataset.domains:
        raise GANTranslateError(f"--to {made} is already a domain of {dataset.root}; a degradation is written under a "
                                f"new name, never over existing volumes: choose another --to (e.g. {clean}_LR)")
    if clean not in dataset.domains:
        raise GANTranslateError(f"--from {clean} is not in {dataset.root / 'dataset.json'}'s domains {dataset.domains}")
    for subject in dataset.subjects():
        existing = find_volume(dataset.root / subject.name, [made])
        if existing is not None:
            raise GANTranslateError(f"{existing} exists; a degradation never replaces a file: choose another --to, "
                                    "or move that file away")


def export_run(run_dir: Path, output: Path, which: str = "last", evaluation: Path | None = None,
               weights_dtype: str = "float32", force: bool = False, model_id: str | None = None,
               release: bool = False, loso_evaluations: list[Path] = ()):
    """A local build (the default) is named by its folder (or ``model_id``), versioned 0.0.0+local.DATE and
    described by its run; ``release`` takes id, version and texts from the config's export section, as the
    bundled models are made (trainer/train_bundled_models.sh), so a user's run never passes for a shipped model.
    ``loso_evaluations``: leave-one-source-out summaries whose scale-free scores the card records."""
    check_package_target(output, force)
    if not release and Path(output).resolve().is_relative_to(model_registry.BUNDLED_MODELS.resolve()):
        raise GANTranslateError(f"{output} is in the bundled models' folder, which a local build never writes into; "
                                "export elsewhere (e.g. ~/.gantranslate/models/NAME); --release is for the maintainers' "
                                "trainer/train_bundled_models.sh")
    if not (run_dir / CONFIG_NAME).is_file():
        raise GANTranslateError(f"{run_dir} is not a run folder (no {CONFIG_NAME}); give the folder a training run wrote")
    config = load_config(run_dir / CONFIG_NAME)
    path = run_dir / (BEST if which == "best" and (run_dir / BEST).is_file() else LAST)
    state = load_checkpoint(path, torch.device("cpu"))
    training_run = None
    if not release:
        config["export"], training_run = local_build(config, run_dir, path, state["step"], model_id or output.name)
    domains = list(state["domains"])
    if config["model"] == "unified":
        config["data"]["domains"] = domains
    model = build_model(config, domains)
    model.load_state_dict(state["model"])
    # the exported checkpoint's own validation scores, never another step's
    scores = json.loads(state["best"] if path.name == BEST else state.get("latest", "{}"))
    metrics = None
    if scores.get("step") == state["step"]:
        metrics = {"validation": scores, "checkpoint": path.name}
    if evaluation is not None:
        metrics = dict(metrics or {}, held_out_evaluation=json.loads(Path(evaluation).read_text(encoding="utf-8")))
    if evaluation is not None or loso_evaluations:
        metrics = dict(metrics or {}, **scale_free_card_metrics(evaluation, list(loso_evaluations)))
    profile = json.loads(state["input_profile"]) if "input_profile" in state else None  # runs of earlier versions have none
    shipped = shipped_directions(config)
    synthetic, baselines = json.loads(state.get("synthetic", "[]")), json.loads(state.get("baselines", "{}"))
    baselines = {key: table for key, table in baselines.items() if key.split("->") in shipped}
    card = build_card(config, json.loads(state["normalization"]), metrics, model.prior_for_card(shipped), profile,
                      synthetic, baselines, training_run)
    return export_package(card, model.export_generator().eval(), output, weights_dtype, force)


def scale_free_card_metrics(evaluation: Path | None, loso: list[Path]) -> dict:
    """The card's scale-free entries: per left-out source its scale-free section (a LOSO summary names its
    split), and the checkerboard measure of every evaluation given, so the card shows whether the model's
    texture lies within the real images' range."""
    found: dict = {}
    for path in ([evaluation] if evaluation is not None else []) + loso:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
        split = summary.get("split")
        if path in loso:
            if not split:
                raise GANTranslateError(f"{path} is not a leave-one-source-out evaluation (no split); run "
                                        "gantranslate evaluate --split loso:SOURCE")
            if summary.get("scale_free"):
                found.setdefault("leave_one_source_out", {})[f"{summary['source']}->{summary['target']} {split}"] = \
                    summary["scale_free"]
        if summary.get("checkerboard"):
            found.setdefault("checkerboard", {})[split or "held_out"] = summary["checkerboard"]
    return found


def _export(args: argparse.Namespace) -> int:
    package = export_run(args.run_dir, args.output, args.checkpoint, args.evaluation, args.weights_dtype, args.force,
                         args.id, args.release, args.loso_evaluation)
    print(f"wrote model package {package.path} (id {package.card.id}); run it with: gantranslate predict -m {package.path} ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
