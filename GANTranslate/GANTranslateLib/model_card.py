"""The model card: what a model does and how its inputs and outputs must be prepared.

A card is JSON, checked against ``model_card.schema.json`` (structure) and by :func:`check_semantics`
(consistency between fields), with errors that name the field at fault.

jsonschema is imported where the schema is checked, not at import: a stock 3D Slicer has no jsonschema, and
its panel must list the bundled models and show their cards before the user has installed anything. There
the structural check is skipped (the consistency checks still run, and a card they cannot read is refused);
the engine that runs a model always has jsonschema, so a card is checked in full before any model runs.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import GANTranslateError

# Bumped when a card of the new version would be misread by a reader of the old one. Cards are closed
# (unknown fields are errors), so a field added within a version is refused by older readers, never ignored.
SCHEMA_VERSION = 1
# Tasks whose output keeps the input's own intensity scale (card output_scale "input")
RESTORATION_TASKS = ("denoising", "super-resolution")
# Names only, so that reading cards (e.g. in Slicer's GUI) never imports torch; networks/ builds them.
KNOWN_ARCHITECTURES = ("identity", "resnet_generator", "unet_generator")
SCHEMA_PATH = Path(__file__).with_name("model_card.schema.json")
# Each architecture's arguments: (type, low, high) for numbers, a tuple of choices otherwise. Bounds keep a
# hostile or mistaken card from making the loader allocate without limit before the weights are compared.
_INT, _BOOL = int, bool
ARCHITECTURE_ARGS: dict[str, dict[str, Any]] = {
    "unet_generator": {"input_nc": (_INT, 1, 64), "output_nc": (_INT, 1, 16), "num_downs": (_INT, 5, 10),
                       "ngf": (_INT, 1, 256), "norm": ("batch", "instance", "none"), "dropout": (_BOOL,),
                       "spatial_dims": (2, 3), "upsample": ("transposed", "nearest", "linear")},
    "resnet_generator": {"input_nc": (_INT, 1, 64), "output_nc": (_INT, 1, 16), "ngf": (_INT, 1, 256),
                         "n_blocks": (_INT, 0, 32), "norm": ("batch", "instance", "none"), "dropout": (_BOOL,),
                         "spatial_dims": (2, 3), "upsample": ("transposed", "nearest", "linear")},
    "identity": {"input_nc": (_INT, 1, 64), "output_nc": (1,), "spatial_dims": (2, 3)},
}


@lru_cache(maxsize=1)
def _validator():
    """The schema's validator; None where jsonschema is not installed (a stock Slicer's Python)."""
    try:
        import jsonschema
    except ImportError:
        return None
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_checked() -> bool:
    """Whether cards are checked against the schema here (False only without jsonschema)."""
    return _validator() is not None


def recheck_schema_support() -> None:
    """Look for jsonschema again (Slicer's panel calls this after installing the packages)."""
    _validator.cache_clear()


@dataclass(frozen=True)
class ModelCard:
    data: dict[str, Any] = field(repr=False)

    # Plain accessors keep call sites readable and give one place to add defaults.
    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def version(self) -> str:
        return self.data["version"]

    @property
    def name(self) -> str:
        return self.data["name"]

    def synthetic_note(self, source: str, target: str) -> str:
        """What every output of this model carries (file header, scene node, DICOM series): it is synthetic."""
        return f"SYNTHETIC {target} from {source} by {self.id} {self.version}; not an acquired image"

    def short_synthetic_note(self, source: str, target: str) -> str:
        """The note as NIfTI's 80-byte description field can hold it, whole words only (the full note goes in
        a JSON sidecar beside a NIfTI file: synthetic_note.py)."""
        return fitting_note(self.synthetic_note(source, target), f"SYNTHETIC {target} by {self.id} {self.version}")

    @property
    def task(self) -> str:
        return self.data["task"]

    @property
    def domains(self) -> list[str]:
        return list(self.data["domains"])

    @property
    def directions(self) -> list[tuple[str, str]]:
        return [(s, t) for s, t in self.data["directions"]]

    @property
    def conditional(self) -> bool:
        return self.data.get("conditioning", "none") == "target_domain"

    @property
    def architecture(self) -> str:
        return self.data["architecture"]["name"]

    @property
    def architecture_args(self) -> dict[str, Any]:
        return dict(self.data["architecture"]["args"])

    @property
    def mode(self) -> str:
        return self.data["mode"]

    @property
    def slice_axis(self) -> str:
        return self.data.get("slice", {}).get("axis", "axial")

    @property
    def adjacent_slices(self) -> int:
        return int(self.data.get("slice", {}).get("adjacent", 0))

    @property
    def image_channels(self) -> int:
        """Input channels that carry the image (domain label and intensity prior channels excluded)."""
        labels = len(self.domains) if self.conditional else 0
        return int(self.architecture_args.get("input_nc", 1)) - labels - int(self.has_intensity_prior)

    @property
    def output_scale(self) -> str:
        """'reference' (the target's training range) or 'input' (the input's own range: restoration)."""
        return self.data.get("output_scale", "reference")

    @property
    def residual_channel(self) -> int | None:
        """The input channel the network's output is added to (architecture.residual), or None."""
        return residual_base_channel(self.data["architecture"].get("residual"), self.image_channels)

    @property
    def has_intensity_prior(self) -> bool:
        return "intensity_prior" in self.data

    def prior_table(self, source: str, target: str) -> list[float] | None:
        """The direction's source-to-target look-up table (intensity_prior.py), or None without a prior."""
        if not self.has_intensity_prior:
            return None
        return self.data["intensity_prior"]["tables"][f"{source}->{target}"]

    def baseline_table(self, source: str, target: str) -> list[float] | None:
        """The direction's look-up-table baseline learned on the training subjects (or the intensity prior's,
        which is the same table), or None if the card has neither."""
        key = f"{source}->{target}"
        table = self.data.get("baseline_tables", {}).get(key)
        return table if table is not None else self.prior_table(source, target)

    @property
    def channel_mode(self) -> str:
        return self.data.get("slice", {}).get("channel_mode", "adjacent")

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return tuple(self.data["patch"]["size"])  # type: ignore[return-value]

    @property
    def patch_overlap(self) -> float:
        return float(self.data.get("patch", {}).get("overlap", 0.5))

    @property
    def spacing(self) -> tuple[float | None, float | None, float | None] | None:
        """(x, y, z) mm in the model's orientation; None as a whole or per axis: the input's own spacing."""
        spacing = self.data.get("spacing")
        return None if spacing is None else tuple(None if s is None else float(s) for s in spacing)  # type: ignore[return-value]

    @property
    def orientation(self) -> str:
        return self.data["orientation"]

    def normalization(self, domain: str) -> dict[str, Any]:
        return dict(self.data["normalization"][domain])

    def background(self, domain: str) -> float:
        """Value for voxels with no data (outside the field of view), in the domain's units."""
        default = -1024.0 if is_ct_domain(domain) else 0.0
        return float(self.data.get("background", {}).get(domain, default))

    def output_limits(self, domain: str) -> tuple[float | None, float | None]:
        """The physical range of the domain's values that outputs are clamped to: the card's
        ``output_limits``, else air (-1024 HU) as the floor for CT, else none."""
        limits = self.data.get("output_limits", {}).get(domain)
        if limits is not None:
            return float(limits[0]), float(limits[1])
        return (-1024.0, None) if is_ct_domain(domain) else (None, None)

    def domain_index(self, domain: str) -> int:
        return self.domains.index(domain)

    def find_domain(self, name: str) -> str | None:
        """The card's spelling of a domain name given in any case."""
        return next((d for d in self.domains if d.lower() == name.lower()), None)

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2) + "\n"


def residual_base_channel(residual: str | None, image_channels: int) -> int | None:
    """The input channel a residual network adds its output to: the centre image channel ('input') or the
    intensity prior, which follows the image channels ('prior'); None for a network that is not residual."""
    return {None: None, "input": image_channels // 2, "prior": image_channels}[residual]


CT_DOMAINS = {"CT", "LDCT", "CBCT", "SCT"}


def is_ct_domain(domain: str) -> bool:
    return domain.upper() in CT_DOMAINS


def _non_finite(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a JSON value, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(top level)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite(item, f"{path}/{key}" if path else str(key))
        if found is not None:
            return found
    return None


def parse_card(data: Any, where: str = "model card") -> ModelCard:
    """Validate a card's structure and consistency; raise one precise error."""
    bad = _non_finite(data)
    if bad is not None:
        raise GANTranslateError(f"{where} holds a non-finite number (NaN or infinity) at '{bad}'; every number in a "
                                "card must be finite: fix the card")
    validator = _validator()
    if validator is None:
        return _parse_without_schema(data, where)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        import jsonschema

        error = jsonschema.exceptions.best_match(errors)
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        fix = "fix the card"
        if error.validator == "additionalProperties" or location == "schema_version":
            fix = "fix the card, or if a newer GANTranslate made it, update GANTranslate"
        raise GANTranslateError(f"{where} is invalid at '{location}': {error.message}; {fix} (schema version {SCHEMA_VERSION})")
    card = ModelCard(data)
    check_semantics(card, where)
    return card


def _parse_without_schema(data: Any, where: str) -> ModelCard:
    """The schema's required fields and the consistency checks; a card too malformed for them is refused."""
    if not isinstance(data, dict):
        raise GANTranslateError(f"{where} is not a JSON object; fix the card")
    required = json.loads(SCHEMA_PATH.read_text(encoding="utf-8")).get("required", [])
    missing = [key for key in required if key not in data]
    if missing:
        raise GANTranslateError(f"{where} is invalid at '(top level)': '{missing[0]}' is a required property; fix the card "
                                f"(schema version {SCHEMA_VERSION})")
    card = ModelCard(data)
    try:
        check_semantics(card, where)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as error:
        raise GANTranslateError(f"{where} is invalid ({type(error).__name__}: {error}); fix the card "
                                f"(schema version {SCHEMA_VERSION})") from None
    return card


def check_architecture_args(name: str, args: dict[str, Any], fail) -> None:
    """Every argument known to the architecture, of the right type and within its bounds."""
    allowed = ARCHITECTURE_ARGS[name]
    for key, value in args.items():
        if key not in allowed:
            fail(f"architecture.args.{key} is not an argument of {name} (it takes {', '.join(allowed)})")
        rule = allowed[key]
        if rule[0] is _INT:
            if not isinstance(value, int) or isinstance(value, bool) or not rule[1] <= value <= rule[2]:
                fail(f"architecture.args.{key} must be a whole number from {rule[1]} to {rule[2]}, not {value!r}")
        elif rule[0] is _BOOL:
            if not isinstance(value, bool):
                fail(f"architecture.args.{key} must be true or false, not {value!r}")
        elif value not in rule or isinstance(value, bool):
            fail(f"architecture.args.{key} must be one of {', '.join(map(str, rule))}, not {value!r}")


NIFTI_NOTE_BYTES = 79  # the descrip field's 80 bytes, one kept for the terminating NUL


def fitting_note(note: str, short: str) -> str:
    """``note`` if it fits in NIfTI's description field, else ``short`` (cut at the limit only when even it is long)."""
    for candidate in (note, short):
        if len(candidate.encode("utf-8")) <= NIFTI_NOTE_BYTES:
            return candidate
    return short.encode("utf-8")[:NIFTI_NOTE_BYTES].decode("utf-8", "ignore")


def check_normalization_range(domain: str, spec: dict[str, Any], fail) -> None:
    """Every range is [low, high] with low < high: an empty one divides by zero and fills the output with infinity."""
    pairs = {"window": [("min", "max")], "percentile": [("low", "high")]}.get(spec["method"], [])
    for low, high in pairs:
        if low in spec and not spec[low] < spec[high]:
            fail(f"normalization.{domain}: {low} ({spec[low]}) must be below {high} ({spec[high]})")
    reference = spec.get("reference")
    if spec["method"] in ("percentile", "zscore") and not reference[0] < reference[1]:
        fail(f"normalization.{domain}: reference must be [low, high] with low < high, not {reference}")


def check_semantics(card: ModelCard, where: str) -> None:
    def fail(message: str) -> None:
        raise GANTranslateError(f"{where}: {message}")

    for source, target in card.directions:
        for domain in (source, target):
            if domain not in card.domains:
                fail(f"direction {source}->{target} uses '{domain}', which is not in domains {card.domains}")
    used = {d for pair in card.directions for d in pair}
    missing = sorted(used - set(card.data["normalization"]))
    if missing:
        fail(f"normalization has no entry for domain(s) {', '.join(missing)}")
    if card.architecture not in KNOWN_ARCHITECTURES:
        fail(f"unknown architecture '{card.architecture}' (known: {', '.join(KNOWN_ARCHITECTURES)})")
    check_architecture_args(card.architecture, card.architecture_args, fail)
    dims = card.architecture_args.get("spatial_dims", 2)
    if card.mode == "2d" and dims != 2:
        fail(f"mode 2d needs architecture.args.spatial_dims 2, not {dims}")
    if card.mode == "3d" and dims != 3:
        fail(f"mode 3d needs architecture.args.spatial_dims 3, not {dims}")
    if card.mode == "3d" and "patch" not in card.data:
        fail("mode 3d needs a 'patch' entry with the patch size")
    if card.mode == "2d" and "slice" not in card.data:
        fail("mode 2d needs a 'slice' entry with the slice axis")
    if card.conditional and len(card.domains) < 2:
        fail("conditioning on the target domain needs at least two domains")
    if card.has_intensity_prior:
        missing = [f"{s}->{t}" for s, t in card.directions if f"{s}->{t}" not in card.data["intensity_prior"]["tables"]]
        if missing:
            fail(f"intensity_prior has no table for direction(s) {', '.join(missing)}")
        if card.image_channels < 1:
            fail("architecture.args.input_nc leaves no image channel beside the intensity prior channel")
    if card.mode == "2d" and card.channel_mode != "replicate" and card.image_channels != 2 * card.adjacent_slices + 1:
        fail(f"slice.adjacent {card.adjacent_slices} needs {2 * card.adjacent_slices + 1} image channels, but "
             f"architecture.args gives the network {card.image_channels}")
    for domain, spec in card.data["normalization"].items():
        check_normalization_range(domain, spec, fail)
        if spec["method"] == "histogram":
            lengths = {len(spec[k]) for k in ("percentiles", "landmarks", "reference")}
            if len(lengths) != 1:
                fail(f"normalization.{domain}: percentiles, landmarks and reference must have one length each")
            if any(min(b - a for a, b in zip(spec[k], spec[k][1:])) <= 0 for k in ("percentiles", "landmarks", "reference")):
                fail(f"normalization.{domain}: percentiles, landmarks and reference must each increase")
    for domain, (low, high) in card.data.get("output_limits", {}).items():
        if domain not in card.domains or not low < high:
            fail(f"output_limits.{domain} must name one of the domains {card.domains} and give [low, high] with low < high")
    if card.data["architecture"].get("residual") == "prior" and not card.has_intensity_prior:
        fail("architecture.residual 'prior' needs an intensity_prior entry")
