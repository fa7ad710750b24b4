"""``gantranslate models ...``: list, inspect, install, compile, measure and export models."""
from __future__ import annotations

import argparse
import json
import sys

from .errors import GANTranslateError
from .terminal_text import printable


def list_models(args: argparse.Namespace) -> int:
    from .model_registry import model_folders, origin, scan

    listing = scan()
    for problem in listing.problems:
        print(f"gantranslate: note: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([dict(p.card.data, path=str(p.path), origin=origin(p.path.parent)) for p in listing.packages],
                         indent=2))
        return 0
    if not listing.packages:
        print("no models found in " + ", ".join(str(f) for f in model_folders() if f.is_dir() or f == model_folders()[0]))
        print("install one with 'gantranslate models install PACKAGE' (the bundled models come with the Slicer "
              "extension and the source tree, not with the wheel)")
        return 0
    rows = [("ID", "VERSION", "TASK", "MODE", "FROM", "DIRECTIONS")]
    for p in listing.packages:
        c = p.card
        directions = ", ".join(f"{s}->{t}" for s, t in c.directions)
        rows.append(tuple(printable(cell) for cell in (c.id, c.version, c.task, c.mode.upper(), origin(p.path.parent),
                                                        directions)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    for hidden in listing.shadowed:
        print(f"({hidden.card.id} in {hidden.path.parent} is shadowed by the {origin(_winner(listing, hidden).path.parent)} "
              f"model of the same id, {_winner(listing, hidden).path})")
    return 0


def _print_safely(text: str = "") -> None:
    print(printable(text))


def _winner(listing, hidden):
    return next(p for p in listing.packages if p.card.id == hidden.card.id)


def info(args: argparse.Namespace) -> int:
    from .model_registry import find_package, origin

    package = find_package(args.model)
    card = package.card
    if args.json:
        print(card.to_json(), end="")
        return 0
    say = _print_safely  # every line holds text from the card, whoever wrote it
    say(f"{card.name}  ({card.id} {card.version})")
    say(f"  location:     {package.path} ({origin(package.path.parent)})")
    say(f"  task:         {card.task}")
    say(f"  directions:   {', '.join(f'{s} -> {t}' for s, t in card.directions)}")
    geometry = f"2D, {card.slice_axis} slices" if card.mode == "2d" else f"3D patches {card.patch_size}"
    spacing = "as input" if card.spacing is None else " x ".join("as input" if s is None else f"{s:g}" for s in card.spacing)
    say(f"  runs:         {geometry}, orientation {card.orientation}, spacing {spacing}")
    say(f"  architecture: {card.architecture} {json.dumps(card.architecture_args)}")
    if card.has_intensity_prior:
        say("  input prior:  the source through a look-up table learned on the training data (one per direction)")
    for key, label in (("training_data", "trained on"), ("license", "licence"), ("citation", "cite"),
                       ("intended_use", "intended use")):
        if key in card.data:
            say(f"  {label + ':':13} {card.data[key]}")
    for line in metric_lines(card.data.get("metrics", {})):
        say(f"  {line}")
    say("  (the whole card: gantranslate models info --json " + card.id + ")")
    return 0


def metric_lines(metrics: dict) -> list[str]:
    """The card's held-out scores, one readable line per direction (the schema leaves metrics free: an entry
    not shaped as 'gantranslate evaluate' writes it is skipped)."""
    lines = []
    evaluation = metrics.get("held_out_evaluation", {})
    for direction, summary in (evaluation.items() if isinstance(evaluation, dict) else ()):
        found = summary.get("metrics", {}) if isinstance(summary, dict) else {}
        means = {key: value["mean"] for key, value in (found.items() if isinstance(found, dict) else ())
                 if isinstance(value, dict) and isinstance(value.get("mean"), (int, float))}
        if "psnr" not in means:
            continue
        text = f"held out:     {direction}: PSNR {means['psnr']:.2f} dB"
        if "baseline_psnr" in means:
            text += f" (look-up-table baseline {means['baseline_psnr']:.2f} dB)"
        if "ssim" in means:
            text += f", SSIM {means['ssim']:.3f}"
        if "mae_hu" in means:
            text += f", MAE {means['mae_hu']:.1f} HU"
        lines.append(text + f", {summary.get('scored', '?')} subject(s)")
    return lines


def catalog(args: argparse.Namespace) -> int:
    from .model_catalog import load_catalog
    from .model_registry import list_packages

    installed = {p.card.id: p.card.version for p in list_packages()}
    for entry in load_catalog():
        where = "bundled" if entry.bundled else "download"
        state = f"installed {installed[entry.id]}" if entry.id in installed else "not installed"
        print(printable(f"{entry.id}  {entry.version}  ({where}, {state})  {entry.description}"))
    return 0


def install(args: argparse.Namespace) -> int:
    from .model_install import install_model
    from .model_registry import user_models_folder

    model_id = install_model(args.source, args.sha256, force=args.force, report=print)
    print(f"installed {model_id} into {user_models_folder()}")
    return 0


def compile(args: argparse.Namespace) -> int:
    from .device import cpu_has_fast_bf16
    from .model_registry import find_package
    from .network_runner import compile_ahead

    package = find_package(args.model)
    precisions = ["exact", "fast"] if args.precision == "both" else [args.precision]
    if args.precision == "both" and not cpu_has_fast_bf16():
        precisions = ["exact"]  # this CPU has no fast mode to prepare
    for precision in precisions:
        path, cached = compile_ahead(package, precision)
        print(f"{package.card.id} ({precision}) is compiled already: {path} (nothing to do)" if cached else
              f"compiled {package.card.id} ({precision}) into {path}")
    return 0


def check_fast(args: argparse.Namespace) -> int:
    from .fast_mode import PRECISIONS, measure
    from .model_package import write_card
    from .model_registry import find_package, origin
    from .translation import resolve_direction

    package = find_package(args.model)
    source, target = resolve_direction(package.card, args.source, args.target)
    if args.record and origin(package.path.parent) == "bundled":
        raise GANTranslateError(f"{package.card.id} is a bundled model, whose card is never modified in place (its "
                                "fast-mode error was measured on held-out volumes); run without --record to measure")
    record = measure(package, args.input, source, target)
    for precision in PRECISIONS:
        entry = record[precision]
        text = ("non-finite values (overflow)" if entry.get("non_finite") else
                f"PSNR {entry['psnr_db']:.1f} dB against exact, mean {entry['mean_abs']:.3g}, max {entry['max_abs']:.3g}")
        print(f"{package.card.id} {precision}: {text}; fast mode {'allowed' if entry['allowed'] else 'refused'}")
    if args.record:
        write_card(package.path, {**package.card.data, "fast_mode": record})
        print(f"recorded in {package.path / 'model.json'}")
    else:
        print(f"not recorded: {package.path / 'model.json'} is left as it is (--record writes it into your own package)")
    return 0


def export_onnx(args: argparse.Namespace) -> int:
    from .model_registry import find_package

    try:
        from .onnx_export import OPSET, export_onnx, input_names
    except ImportError as error:
        raise GANTranslateError(f"ONNX export needs the onnx and onnxscript packages ({error.name} is missing): "
                                "pip install 'gantranslate[onnx]'") from None
    package = find_package(args.model)
    path = export_onnx(package, args.output, args.force)
    print(f"wrote {path} (opset {OPSET}; inputs {', '.join(input_names(package))}) and "
          f"{path.with_name(path.stem + '.model.json')} (its card: how to normalise the input and map the output back)")
    return 0
