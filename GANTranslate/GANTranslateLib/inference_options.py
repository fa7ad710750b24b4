"""How a translation runs: one frozen, self-checking type from the Slicer panel and the command line to the
engine, which also writes itself as the command line's arguments (for the module's background process).

Light on purpose (no torch, no SimpleITK): the Slicer module imports it when Slicer starts.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional

from .errors import GANTranslateError

MODES = ("auto", "slice", "patch")
AXES = ("axial", "coronal", "sagittal")
PRECISIONS = ("exact", "fast")
COMPILE_POLICIES = ("auto", "always", "never")
OUTPUT_DTYPES = ("float32", "input")


@dataclass(frozen=True)
class InferenceOptions:
    mode: str = "auto"  # auto (the card's), slice or patch
    axis: Optional[str] = None  # slice axis override: axial, coronal or sagittal
    batch_size: Optional[int] = None  # None: per device (translation.default_batch_size)
    patch_size: Optional[tuple[int, int, int]] = None  # (x, y, z) in the model's orientation
    overlap: Optional[float] = None  # patch overlap in [0, 1); None: the card's
    device: str = "auto"
    precision: str = "exact"
    compile: str = "auto"  # CPU: auto (cached, or when the job repays it), always or never (network_runner)
    output_dtype: str = "float32"  # float32, or 'input' to round back to the input's voxel type
    disagreement: bool = False  # also run on the mirrored input: mean output + disagreement map
    force: bool = False  # translate even an input the guard refuses (a CT given to an MR model)

    def __post_init__(self) -> None:
        for name, what, allowed in (("mode", "mode", MODES), ("precision", "precision", PRECISIONS),
                                    ("compile", "compile policy", COMPILE_POLICIES), ("output_dtype", "output type", OUTPUT_DTYPES)):
            if getattr(self, name) not in allowed:
                raise GANTranslateError(f"unknown {what} '{getattr(self, name)}' (use {', '.join(allowed)})")
        if self.axis is not None and self.axis not in AXES:
            raise GANTranslateError(f"unknown slice axis '{self.axis}' (use {', '.join(AXES)})")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise GANTranslateError(f"batch size must be a positive whole number, not {self.batch_size!r}")
        if self.patch_size is not None and (len(self.patch_size) != 3 or any(int(p) < 1 for p in self.patch_size)):
            raise GANTranslateError(f"patch size must be three positive sizes (x, y, z), not {self.patch_size!r}")
        if self.overlap is not None and not 0 <= self.overlap < 1:
            raise GANTranslateError(f"overlap {self.overlap} must be at least 0 and below 1")

    def cli_arguments(self) -> list[str]:
        """The ``gantranslate predict`` options that give these settings (those not at their default)."""
        flags = {"mode": "--mode", "axis": "--axis", "batch_size": "--batch-size", "overlap": "--overlap",
                 "device": "--device", "precision": "--precision", "compile": "--compile", "output_dtype": "--output-dtype"}
        args: list[str] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                continue
            if field.name in flags:
                args += [flags[field.name], str(value)]
            elif field.name == "patch_size":
                args += ["--patch-size", *[str(int(p)) for p in value]]
            elif field.name == "force":
                args.append("--force")
            # disagreement: the command line takes the map's path (RunRequest.disagreement_path)
        return args
