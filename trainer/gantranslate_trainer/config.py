"""Training configuration: YAML + ``key.sub=value`` overrides, checked against the defaults.

The options every model shares are in DEFAULTS below; each model adds its own (its class's OPTIONS, in
models/), as the reference pix2pix code's options belong to their model. Every key a run may use is one
of these; an unknown key is an error with a suggestion (or the model it belongs to), so a typo never
silently trains with a default.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from GANTranslateLib.errors import GANTranslateError

GAN_LOSSES = ("lsgan", "vanilla", "hinge", "wgan-gp")

DEFAULTS: dict[str, Any] = {
    "model": "pix2pix",
    "seed": 0,
    "data": {
        "root": None,  # dataset folder with dataset.json (relative paths: to the config file)
        # outer: train on dataset.json's training subjects; inner: hold its inner_validation subjects out of
        # them (for choosing settings without touching the held-out test patients); loso:<source>: train on
        # every subject of the other sources, hold that source out (source_split.py); all: train on every subject
        "split": "outer",
        # take a domain a subject lacks from its synthetic file (gantranslate augment) instead; the card
        # then names the subjects and models that made them
        "use_synthetic": False,
        "dims": 2,
        "axis": "axial",
        "adjacent": 0,
        "crop": [128, 128],
        "spacing": None,
        "orientation": "LPS",
        "normalization": {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "nonzero"},
        "normalization_by_domain": {},  # e.g. {CT: {method: window, min: -1024, max: 3000}}
        "foreground_probability": 0.9,
        "min_foreground_fraction": 0.05,
        "patches_per_subject": 64,  # 3D: windows drawn per subject and epoch
        # appearance: the probability of each source appearance change (curves, gamma, bias field, blur,
        # noise: appearance_augmentation.py); 0 turns them off
        "augment": {"enabled": True, "flip_left_right": True, "rotate_degrees": 10.0, "scale": 0.1, "intensity": 0.1,
                    "appearance": 0.0},
        # pairs made on the fly: {kind: low_dose_ct, dose: 0.25, from: CT, to: LDCT}
        # or {kind: low_resolution_mr, factor: 2, from: T1, to: T1_LR} (see degradations.py)
        "degradation": None,
        "cache": True,
    },
    "network": {
        "generator": {"name": "unet_generator", "args": {"num_downs": 7, "ngf": 32, "norm": "batch", "dropout": False},
                      # predict a correction to the centre input slice ("input": denoising, super-resolution)
                      # or to the intensity prior ("prior"), instead of the whole image
                      "residual": None},
        "discriminator": {"ndf": 32, "n_layers": 3, "norm": "batch"},
    },
    "loss": {
        "gan": "lsgan",
        "adversarial": 1.0,  # weight of the generator's adversarial term (0: a plain regression network)
        "gradient_penalty": 10.0,  # wgan-gp
        "edge": 0.0,  # gradient-difference loss weight
        "ssim": 0.0,  # 1 - SSIM loss weight
    },
    "train": {
        "steps": 2000,
        "batch_size": 4,
        "lr": 0.0002,
        "beta1": 0.5,
        "decay_start": 1000,  # constant learning rate until here, then linear decay to zero at 'steps'
        "checkpoint_every": 200,
        "validate_every": 500,
        "log_every": 20,
        "image_every": 200,
        "amp": True,  # mixed precision, on GPU only
        "threads": None,
        # a time budget (minutes of training, from this start or resume): past it the run checkpoints and stops
        # cleanly at the step it reached, resumable, so one call of a time-limited machine ends with a run to export
        "max_minutes": None,
    },
    "validation": {
        "subjects": None,  # names; default: dataset.json's 'validation' list
        "directions": None,  # unified: [[source, target], ...]; default: first domain to each other
        "batch_size": 8,
    },
    "export": {
        "id": None,
        "name": None,
        "version": "1.0.0",
        "task": "translation",
        "license": "CC-BY-4.0",
        "citation": "",
        "training_data": "",
        "intended_use": "Research use only; not for clinical decisions.",
        "reproduce": "",
        # unified: the directions the package offers (default: every one it learns), e.g. those that beat the
        # look-up-table baseline on inner validation
        "directions": None,
    },
}

# Keys whose value is a free-form mapping (not checked key by key).
FREE_FORM = {"data.normalization", "data.normalization_by_domain", "data.degradation", "network.generator.args"}


def defaults_for(model: str) -> dict[str, Any]:
    """DEFAULTS with the model's own options (its class's OPTIONS) added."""
    from .models import MODEL_CLASSES

    if model not in MODEL_CLASSES:
        raise GANTranslateError(f"config: model must be one of {', '.join(MODEL_CLASSES)}, not '{model}'")
    defaults = copy.deepcopy(DEFAULTS)
    defaults["model"] = model
    _add(defaults, MODEL_CLASSES[model].OPTIONS)
    return defaults


def _add(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _add(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def load_config(path: str | Path | None, overrides: list[str] = ()) -> dict[str, Any]:
    """Defaults (with the chosen model's options), then the YAML file, then ``key.sub=value`` overrides;
    validated."""
    loaded: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise GANTranslateError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise GANTranslateError(f"{path} is not valid YAML ({str(error).splitlines()[0]})") from None
        if not isinstance(loaded, dict):
            raise GANTranslateError(f"{path} must hold a mapping of settings")
    model = loaded.get("model", DEFAULTS["model"])
    for item in overrides:  # the model named last decides which options exist
        if item.split("=", 1)[0].strip() == "model" and "=" in item:
            model = yaml.safe_load(item.split("=", 1)[1])
    config = defaults_for(model)
    merge(config, loaded, "")
    if path is not None:
        root = config["data"]["root"]
        if root is not None and not Path(root).is_absolute():
            config["data"]["root"] = str((path.parent / root).resolve())
    for item in overrides:
        apply_override(config, item)
    complete_normalizations(config)
    check(config)
    return config


# What each normalisation method takes when a config leaves it out (a window has no sensible default).
NORMALIZATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "percentile": {"high": 99.5, "mask": "nonzero"},
    "zscore": {"clip": 5.0, "mask": "nonzero"},
    "histogram": {"mask": "nonzero"},
    "window": {},
}


def complete_normalizations(config: dict) -> None:
    """data.normalization and each data.normalization_by_domain entry, with their method's defaults filled
    in; an unknown method, or a window without its bounds, is a one-line error."""
    data = config["data"]
    specs = {"data.normalization": data["normalization"],
             **{f"data.normalization_by_domain.{d}": spec for d, spec in (data["normalization_by_domain"] or {}).items()}}
    for name, spec in specs.items():
        method = spec.get("method") if isinstance(spec, dict) else None
        if method not in NORMALIZATION_DEFAULTS:
            raise GANTranslateError(f"config: {name}.method must be one of {', '.join(NORMALIZATION_DEFAULTS)}, not {method!r}")
        if method == "window" and not ("min" in spec and "max" in spec):
            raise GANTranslateError(f"config: {name} is a window and needs min and max, e.g. {{method: window, min: -1024, max: 3000}}")
        filled = {**NORMALIZATION_DEFAULTS[method], **spec}
        if method == "percentile" and "low" not in spec:
            filled.setdefault("fixed_low", 0)
        spec.clear()
        spec.update(filled)


def merge(base: dict, update: dict, prefix: str) -> None:
    for key, value in update.items():
        name = f"{prefix}{key}"
        if key not in base:
            owners = _models_with_option(name)
            if owners:
                raise GANTranslateError(f"config key '{name}' is an option of {' and '.join(owners)}, not of this model")
            close = difflib.get_close_matches(key, list(base), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            raise GANTranslateError(f"unknown config key '{name}'{hint}")
        if isinstance(base[key], dict) and name not in FREE_FORM:
            if not isinstance(value, dict):
                raise GANTranslateError(f"config key '{name}' must be a mapping, not {value!r}")
            merge(base[key], value, f"{name}.")
        else:
            base[key] = value


def _models_with_option(dotted: str) -> list[str]:
    """The models whose own options include this key (to say so when another model is configured)."""
    from .models import MODEL_CLASSES

    return [name for name, model in MODEL_CLASSES.items() if _has(model.OPTIONS, dotted.split("."))]


def _has(options: dict, parts: list[str]) -> bool:
    head, *rest = parts
    if head not in options:
        return False
    return not rest or (isinstance(options[head], dict) and _has(options[head], rest))


def apply_override(config: dict, item: str) -> None:
    if "=" not in item:
        raise GANTranslateError(f"override '{item}' must look like key.sub=value")
    dotted, text = item.split("=", 1)
    value = yaml.safe_load(text)
    *parents, leaf = dotted.split(".")
    update: dict[str, Any] = {leaf: value}
    for parent in reversed(parents):
        update = {parent: update}
    merge(config, update, "")


def check(config: dict) -> None:
    def fail(message: str) -> None:
        raise GANTranslateError(f"config: {message}")

    from .models import MODEL_CLASSES

    data, train, loss = config["data"], config["train"], config["loss"]
    if data["root"] is None:
        fail("data.root is required: the dataset folder with dataset.json")
    MODEL_CLASSES[config["model"]].check(config, fail)
    if not (data["split"] in ("outer", "inner", "all") or (isinstance(data["split"], str) and data["split"].startswith("loso:")
                                                          and len(data["split"]) > 5)):
        fail(f"data.split must be outer, inner, all or loso:<source>, not {data['split']!r}")
    if data["dims"] not in (2, 3):
        fail(f"data.dims must be 2 or 3, not {data['dims']}")
    if len(data["crop"]) != data["dims"]:
        fail(f"data.crop needs {data['dims']} sizes for dims {data['dims']}, got {data['crop']}")
    residual = config["network"]["generator"]["residual"]
    if residual not in (None, "input", "prior"):
        fail(f"network.generator.residual must be input, prior or null, not {residual!r}")
    if residual == "prior" and not data.get("intensity_prior"):
        fail("network.generator.residual 'prior' needs data.intensity_prior: true")
    spacing = data["spacing"]
    if spacing is not None and not (isinstance(spacing, list) and len(spacing) == 3
                                    and all(s is None or (_is_number(s) and s > 0) for s in spacing)):
        fail(f"data.spacing must be null or [x, y, z] in mm (positive numbers, or null to keep an axis), not {spacing!r}")
    if not 0 <= data["augment"]["appearance"] <= 1:
        fail(f"data.augment.appearance is a probability between 0 and 1, not {data['augment']['appearance']!r}")
    if data["axis"] not in ("axial", "coronal", "sagittal"):
        fail(f"data.axis must be axial, coronal or sagittal, not '{data['axis']}'")
    if loss["gan"] not in GAN_LOSSES:
        fail(f"loss.gan must be one of {', '.join(GAN_LOSSES)}, not '{loss['gan']}'")
    for key in ("steps", "batch_size", "checkpoint_every", "validate_every", "log_every", "image_every"):
        if not isinstance(train[key], int) or train[key] < 1:
            fail(f"train.{key} must be a positive integer, not {train[key]!r}")
    if train["max_minutes"] is not None and (not _is_number(train["max_minutes"]) or train["max_minutes"] <= 0):
        fail(f"train.max_minutes is a time budget in minutes (a positive number) or null, not {train['max_minutes']!r}")
    if not 0 <= train["decay_start"] <= train["steps"]:
        fail(f"train.decay_start ({train['decay_start']!r}) must lie between 0 and train.steps ({train['steps']!r}); "
             f"set it too, e.g. train.decay_start={train['steps'] // 2}")
    for key, low, high in (("lr", 0, 1), ("beta1", 0, 1)):
        if not _is_number(train[key]) or not (low < train[key] < high if key == "lr" else low <= train[key] < high):
            fail(f"train.{key} must be a number {'above' if key == 'lr' else 'from'} {low} and below {high}, not {train[key]!r}")
    for key, value in loss.items():
        if key != "gan" and (not _is_number(value) or value < 0):
            fail(f"loss.{key} is a weight: a number of at least 0, not {value!r}")
    _check_generator(config, fail)
    _check_shipped_directions(config, fail)


def _check_shipped_directions(config: dict, fail) -> None:
    shipped = config["export"]["directions"]
    if shipped is None:
        return
    if config["model"] != "unified":
        fail("export.directions is for the unified model; pix2pix and CycleGAN ship the one direction they learn")
    domains = config["data"]["domains"] or []
    learned = config["data"]["directions"] or [[s, t] for s in domains for t in domains if s != t]
    if not isinstance(shipped, list) or not shipped:
        fail("export.directions lists [source, target] pairs, or is null for every direction the model learns")
    for pair in shipped:
        if not isinstance(pair, list) or [str(p) for p in pair] not in [[str(p) for p in d] for d in learned]:
            fail(f"export.directions: {pair!r} is not a direction the model learns (data.directions)")


def _check_generator(config: dict, fail) -> None:
    """The generator's arguments as a model card will state them, and a crop it can take (a U-Net halves
    its input num_downs times), checked before any data is read."""
    from GANTranslateLib.model_card import ARCHITECTURE_ARGS, check_architecture_args

    spec = config["network"]["generator"]
    if spec["name"] not in ARCHITECTURE_ARGS or spec["name"] == "identity":
        fail(f"network.generator.name must be unet_generator or resnet_generator, not {spec['name']!r}")
    if not isinstance(spec["args"], dict):
        fail(f"network.generator.args must be a mapping, not {spec['args']!r}")
    check_architecture_args(spec["name"], spec["args"], lambda message: fail(message.replace("architecture.", "network.generator.")))
    divisor = 2 ** spec["args"].get("num_downs", 8) if spec["name"] == "unet_generator" else 4
    crop = config["data"]["crop"]
    if not all(isinstance(c, int) and c > 0 for c in crop):
        fail(f"data.crop must be whole numbers of voxels, not {crop!r}")
    if any(c % divisor for c in crop):
        fail(f"data.crop {crop} must be a multiple of {divisor} for this generator "
             f"({'2 ** num_downs' if spec['name'] == 'unet_generator' else 'two halvings'}): change the crop or num_downs")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fingerprint(config: dict) -> str:
    """What makes two runs the same experiment: every setting but the step count and logging cadence.

    Settings at their default value are left out, so a key added to DEFAULTS in a later version does not
    make older runs look like different experiments.
    """
    relevant = _non_default(config, defaults_for(config["model"]))
    for key in ("steps", "checkpoint_every", "validate_every", "log_every", "image_every", "threads", "max_minutes"):
        relevant.get("train", {}).pop(key, None)
    relevant.pop("export", None)
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def _non_default(config: dict, defaults: dict) -> dict:
    out = {}
    for key, value in config.items():
        default = defaults.get(key, object())
        if isinstance(value, dict) and isinstance(default, dict):
            nested = _non_default(value, default)
            if nested:
                out[key] = nested
        elif value != default:
            out[key] = copy.deepcopy(value)
    return out


RUN_CONFIG_HEADER = "# the resolved config of a gantranslate-train run (written by the trainer)\n"


def save_config(config: dict, path: Path) -> None:
    """The header line tells this run's own config from a user's config.yaml (a folder holding one is not a run)."""
    path.write_text(RUN_CONFIG_HEADER + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def is_run_config(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline() == RUN_CONFIG_HEADER
    except (OSError, UnicodeDecodeError):
        return False
