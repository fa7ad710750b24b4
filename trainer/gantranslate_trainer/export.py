"""Export a run as a model package that ``gantranslate predict`` and the Slicer module load unchanged."""
from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

from torch import nn

from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_install import sha256_of
from GANTranslateLib.model_card import RESTORATION_TASKS, SCHEMA_VERSION, ModelCard, parse_card
from GANTranslateLib.model_package import ModelPackage, save_package

MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")  # the card schema's id pattern


def run_domains(config: dict) -> list[str]:
    data = config["data"]
    if config["model"] == "unified":
        return list(data["domains"])
    return [data["source"], data["target"]]


def directions(config: dict) -> list[list[str]]:
    """The [source, target] pairs a run learns and its package ships."""
    domains = run_domains(config)
    if config["model"] == "unified":
        chosen = config["data"]["directions"]
        return [list(d) for d in chosen] if chosen else [[s, t] for s in domains for t in domains if s != t]
    return [domains]


def shipped_directions(config: dict) -> list[list[str]]:
    """The directions the package offers: export.directions (unified), else every one the run learns."""
    chosen = config["export"].get("directions")
    return [list(d) for d in chosen] if chosen else directions(config)


def build_card(config: dict, normalization: dict[str, dict[str, Any]], metrics: dict[str, Any] | None = None,
               prior: dict[str, list[float]] | None = None, profile: dict[str, Any] | None = None,
               synthetic: list[dict[str, str]] | None = None, baselines: dict[str, list[float]] | None = None,
               training_run: dict[str, Any] | None = None) -> ModelCard:
    """``prior``: the model's intensity-prior tables per direction (GANModel.prior_for_card), if it has them;
    ``profile``: what the training subjects look like, for the input guard (preprocessing.input_profile);
    ``baselines``: each direction's look-up-table baseline on the training subjects."""
    data, export = config["data"], config["export"]
    domains = run_domains(config)
    model_id = export["id"] or f"{config['model']}-{'-'.join(domains)}-{data['dims']}d".lower()
    conditional = config["model"] == "unified"
    args = dict(config["network"]["generator"]["args"])
    args.update(input_nc=(1 + len(domains)) if conditional else (2 * data["adjacent"] + 1 if data["dims"] == 2 else 1),
                output_nc=1, spatial_dims=data["dims"])
    if prior:
        args["input_nc"] += 1
    card: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": model_id,
        "version": export["version"],
        "name": export["name"] or f"{' / '.join(domains)} {config['model']} ({data['dims']}D)",
        "task": export["task"],
        "domains": domains,
        "directions": shipped_directions(config),
        "conditioning": "target_domain" if conditional else "none",
        "architecture": {"name": config["network"]["generator"]["name"], "args": args,
                         **({"residual": residual} if (residual := config["network"]["generator"]["residual"]) else {})},
        "mode": f"{data['dims']}d",
        "spacing": data["spacing"],
        "orientation": data["orientation"],
        "normalization": normalization,
        **({"intensity_prior": {"tables": prior}} if prior else {}),
        **({"input_profile": profile} if profile else {}),
        **({"synthetic_training_data": synthetic} if synthetic else {}),
        **({"baseline_tables": baselines} if baselines else {}),
        # restoration: the output keeps the input's intensity scale, as the target had it in training (preprocessing)
        **({"output_scale": "input"} if export["task"] in RESTORATION_TASKS else {}),
        "license": export["license"],
    }
    if data["dims"] == 2:
        card["slice"] = {"axis": data["axis"], "adjacent": data["adjacent"]}
    else:
        card["patch"] = {"size": list(data["crop"])[::-1], "overlap": 0.5}
    for key in ("citation", "training_data", "intended_use", "reproduce"):
        if export[key]:
            card[key] = export[key]
    if data["degradation"]:
        card["description"] = f"Trained on pairs made by the trainer's degradation {json.dumps(data['degradation'])}."
    if metrics:
        card["metrics"] = metrics
    if training_run:
        card["training_run"] = training_run
    return parse_card(card, f"card for run of {model_id}")


def local_build(config: dict, run_dir: Path, checkpoint: Path, step: int, model_id: str) -> tuple[dict, dict]:
    """The export section and training record of a model exported from a user's run: its own id, a version
    that says it is a local build, and what it was trained on, never the shipped model's texts."""
    if not MODEL_ID.fullmatch(model_id):
        raise GANTranslateError(f"'{model_id}' is not a model id (lower-case letters, digits, '.', '_', '-'); "
                                "pass --id ID, or name the output folder so")
    now = datetime.datetime.now(datetime.timezone.utc)
    record_path = run_dir / "run.json"  # training.RUN_RECORD
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    dataset = record.get("dataset") or {"root": config["data"]["root"]}
    subjects = (f"{len(dataset['training'])} training subject(s) ({', '.join(dataset['training'])}), validation: "
                f"{', '.join(dataset['validation']) or 'none'}" if "training" in dataset else "subjects not recorded")
    export = {**config["export"], "id": model_id, "version": f"0.0.0+local.{now:%Y%m%dT%H%M%SZ}",
              "name": f"{model_id} (local build, {step} steps of run {run_dir.name})", "reproduce": "",
              "training_data": f"dataset {dataset.get('name', '')} at {dataset['root']}: {subjects}"}
    training_run = {
        "run": str(run_dir.resolve()), "checkpoint": checkpoint.name, "step": step,
        "config_sha256": sha256_of(run_dir / "config.yaml"), "config_file": record.get("config_file"),
        "overrides": record.get("overrides"), "started": record.get("started"), "dataset": dataset,
        "exported": now.isoformat(timespec="seconds"),
    }
    return export, training_run


def export_package(card: ModelCard, generator: nn.Module, output: Path, weights_dtype: str = "float32",
                   force: bool = False) -> ModelPackage:
    return save_package(output, card, generator, weights_dtype, force)
