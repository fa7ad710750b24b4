"""Translate a volume with a model package: orient, resample, normalise, infer, and undo it all.

The output always has the input's exact size, spacing, origin and direction: geometry is copied from
the input image, never recomputed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import SimpleITK as sitk
import torch

from . import intensity
from .device import precision_description, resolve_device
from .errors import GANTranslateError
from .fast_mode import check_allowed, device_precision
from .inference_options import InferenceOptions
from .input_guard import check_input, refuse_or_report
from .model_card import ModelCard, fitting_note
from .model_package import ModelPackage
from .network_runner import NetworkRunner
from .orientation import Reorientation, numpy_axis, slice_numpy_axis
from .patch_inference import count_windows, run_patches
from .progress import CancelCheck, ProgressCallback, no_progress
from .resampling import check_grid, model_spacing, needs_resampling, resample_back, resample_to_spacing
from .slice_inference import run_slices


@dataclass(frozen=True)
class TranslationResult:
    image: sitk.Image
    source: str
    target: str
    device: str
    seconds: float
    disagreement: Optional[sitk.Image] = None  # |prediction - mirrored prediction|, in the output's units
    warnings: tuple[str, ...] = ()  # what the user should know about this result (input guard, flat input)
    precision: str = "float32"  # what ran: "float32", "bf16 on AMX", "fp16 on CUDA"...
    notes: tuple[str, ...] = ()  # how it ran: compiled now (and why) or from the cache


def default_batch_size(device: torch.device, mode: str) -> int:
    """Measured (bench/): on a CPU, batches of 256² slices spill the caches and run slower than one
    slice at a time; a GPU needs larger batches to be kept busy."""
    if device.type == "cpu":
        return 1
    return 8 if mode == "slice" else 2


def resolve_direction(card: ModelCard, source: Optional[str], target: Optional[str]) -> tuple[str, str]:
    """The (source, target) pair to run, defaulting to the model's only direction."""
    pairs = card.directions
    if source is None and target is None:
        if len(pairs) > 1:
            options = ", ".join(f"{s}->{t}" for s, t in pairs)
            raise GANTranslateError(f"model '{card.id}' has several directions ({options}); choose --source and --target")
        return pairs[0]
    names = {}
    for role, name in (("source", source), ("target", target)):
        if name is not None:
            names[role] = card.find_domain(name)
            if names[role] is None:
                raise GANTranslateError(
                    f"model '{card.id}' knows no domain '{name}' (it knows {', '.join(card.domains)}); choose another --{role} or model"
                )
    matches = [(s, t) for s, t in pairs if names.get("source", s) == s and names.get("target", t) == t]
    if len(matches) != 1:
        options = ", ".join(f"{s}->{t}" for s, t in pairs)
        asked = f"{names.get('source', '?')}->{names.get('target', '?')}"
        reason = "does not translate" if not matches else "has several directions matching"
        raise GANTranslateError(f"model '{card.id}' {reason} {asked} (it does {options}); choose a supported pair")
    return matches[0]


def translate_image(
    image: sitk.Image,
    package: ModelPackage,
    source: Optional[str] = None,
    target: Optional[str] = None,
    options: InferenceOptions = InferenceOptions(),
    progress: ProgressCallback = no_progress,
    cancel: Optional[CancelCheck] = None,
    network: Optional[torch.nn.Module] = None,
) -> TranslationResult:
    """Translate one scalar volume (2D or 3D SimpleITK image) from ``source`` to ``target``."""
    start = time.perf_counter()
    card = package.card
    source, target = resolve_direction(card, source, target)
    mode = {"auto": "slice" if card.mode == "2d" else "patch"}.get(options.mode, options.mode)
    if (mode == "slice") != (card.mode == "2d"):
        raise GANTranslateError(
            f"model '{card.id}' is a {card.mode.upper()} model; it runs {'slice' if card.mode == '2d' else 'patch'}-wise, not {mode}-wise"
        )
    device = resolve_device(options.device)
    if options.batch_size is None:
        options = replace(options, batch_size=default_batch_size(device, mode))
    if options.precision == "fast":
        reduced = device_precision(device)
        if reduced is None:
            raise GANTranslateError("fast mode needs a CPU with AMX or AVX-512 BF16, or a CUDA GPU; use --precision exact")
        check_allowed(card, reduced, target)  # only a precision whose error the card records, within its limit
    flat = image.GetDimension() == 2
    volume_image = sitk.JoinSeries(image) if flat else image
    voxels = sitk.GetArrayViewFromImage(volume_image)
    # what can refuse the input comes before anything is loaded
    warnings = flat_input_warnings(voxels)
    warnings += refuse_or_report(check_input(card, source, voxels, volume_image.GetSpacing()), options.force)
    check_output_type(voxels.dtype, card, target, options.output_dtype)
    in_spec, out_spec = card.normalization(source), card.normalization(target)
    in_map = intensity.input_map(voxels, in_spec)
    progress("loading model", 0, 1)
    network = (network or package.build_network()).to(device)

    direction = np.asarray(volume_image.GetDirection()).reshape(3, 3)
    orient = Reorientation((0, 1, 2), (False, False, False)) if flat else Reorientation.between(direction, card.orientation)
    oriented = orient.apply_zyx(voxels)  # a view of the input: nothing copied yet
    spacing = orient.spacing(volume_image.GetSpacing())
    resample = needs_resampling(spacing, card.spacing)
    run_spacing = model_spacing(spacing, card.spacing)
    if resample:
        check_grid(oriented.shape, spacing, run_spacing)
    if mode == "slice" and not resample:
        # Slices are normalised a batch at a time: no normalised copy of the whole volume is held.
        model_input, prepare = oriented, in_map.normalise
    else:
        model_input, prepare = in_map.normalise(oriented), None
        if resample:
            progress("resampling", 0, 1)
            model_input = resample_to_spacing(model_input, spacing, run_spacing, fill=-1.0)

    forward = NetworkRunner(network, card, source, target, device, options.precision, options.compile, progress)
    passes = 2 if options.disagreement else 1
    try:
        predicted = _run(model_input, prepare, forward, card, options, mode, flat, device,
                         _pass_progress(progress, 0, passes), cancel)
        mirrored = None
        if options.disagreement:
            axis = mirror_axis(card, options, mode, flat)
            mirrored = np.flip(_run(np.flip(model_input, axis), prepare, forward, card, options, mode, flat, device,
                                    _pass_progress(progress, 1, passes), cancel), axis)
    except torch.cuda.OutOfMemoryError:
        raise GANTranslateError(
            "the GPU ran out of memory; use a smaller --batch-size or --patch-size, or --device cpu"
        ) from None
    oriented_shape = oriented.shape
    del oriented, model_input  # patch-wise or resampled, a whole normalised volume: freed before the output

    if resample:
        predicted = resample_back(predicted, run_spacing, oriented_shape, spacing, fill=-1.0)
        if mirrored is not None:
            mirrored = resample_back(mirrored, run_spacing, oriented_shape, spacing, fill=-1.0)
    # restoration keeps the subject's own intensity scale; translation maps onto the target's training range
    out_map = in_map if card.output_scale == "input" else intensity.output_map(out_spec)
    disagreement = None
    if mirrored is not None:
        # in output units (the map back may be piecewise linear), then the mean of the two is the result
        units = np.abs(out_map.denormalise(predicted.copy()) - out_map.denormalise(mirrored.copy()))
        note = f"SYNTHETIC disagreement map ({target} units) of {card.id} {card.version}; not an image"
        disagreement = mark_note(_to_image(np.ascontiguousarray(orient.invert_zyx(units)), image, flat, "float32"),
                                 note, fitting_note(note, f"SYNTHETIC {target} disagreement of {card.id} {card.version}"))
        predicted = (predicted + mirrored) / 2
        del mirrored, units
    result = out_map.denormalise(orient.invert_zyx(predicted))
    if intensity.keeps_zero_background(in_spec):
        # A skull-stripped (zero-background) input: what was background stays background.
        result[voxels == 0] = card.background(target)
    low, high = card.output_limits(target)
    if low is not None or high is not None:
        np.clip(result, low, high, out=result)  # e.g. no synthetic CT below air
    broken = int(np.count_nonzero(~np.isfinite(result)))
    if broken:  # e.g. a card whose ranges overflow float32: never written, never shown
        raise GANTranslateError(f"model '{card.id}' gave {broken} non-finite voxel(s) (NaN or infinity): its card's "
                                f"normalization of {source} or {target} (or its weights) is broken; nothing was written")
    if forward.recomputed:
        warnings.append(f"fast mode ({forward.reduced}) gave non-finite values in {forward.recomputed} batch(es), "
                        "which were computed again exactly")
    output = mark_synthetic(_to_image(result, image, flat, options.output_dtype), card, source, target)
    return TranslationResult(output, source, target, str(device), time.perf_counter() - start, disagreement,
                             tuple(warnings), precision_description(device, forward.reduced), tuple(forward.notes))


def mark_synthetic(image: sitk.Image, card: ModelCard, source: str, target: str) -> sitk.Image:
    """Every file written from this image says what it is: NIfTI in its description field, NRRD and MHA in
    their headers (the ITK file notes, and a GANTranslate_synthetic entry)."""
    return mark_note(image, card.synthetic_note(source, target), card.short_synthetic_note(source, target))


def mark_note(image: sitk.Image, note: str, short: str) -> sitk.Image:
    """``short`` fits NIfTI's 80-byte description (ITK_FileNotes); NRRD and MHA headers hold ``note`` whole."""
    image.SetMetaData("ITK_FileNotes", short)
    image.SetMetaData("GANTranslate_synthetic", note)
    return image


def flat_input_warnings(voxels: np.ndarray) -> list[str]:
    """A volume with no contrast to translate: the network would invent structure from nothing."""
    low, high = float(voxels.min()), float(voxels.max())
    if low == high:
        return [f"the input is constant (every voxel {low:g}): there is nothing to translate, and the output is "
                "invented; check that the right volume was chosen"]
    return []


def check_output_type(input_dtype: np.dtype, card: ModelCard, target: str, output_dtype: str) -> None:
    """Before any work: an unsigned input type cannot hold an output with negative values (CT in HU)."""
    low, _ = card.output_limits(target)
    if output_dtype == "input" and input_dtype.kind == "u" and low is not None and low < 0:
        raise GANTranslateError(f"the input is stored as {input_dtype} (no negative values) but {target} reaches "
                                f"{low:g}; use --output-dtype float32")


def mirror_axis(card: ModelCard, options: InferenceOptions, mode: str, flat: bool) -> int:
    """The numpy axis of the left-right mirror for the disagreement map; a slice-wise model that slices
    along left-right (sagittal) is mirrored front-back instead, for a mirror along its own slice axis
    would give it the very same slices and a map of zeros."""
    if flat:
        return 2
    lr = numpy_axis(card.orientation, "LR")
    if mode == "slice" and lr == slice_numpy_axis(card.orientation, options.axis or card.slice_axis):
        return numpy_axis(card.orientation, "PA")
    return lr


def _pass_progress(progress: ProgressCallback, index: int, passes: int) -> ProgressCallback:
    """Report several inference passes as one steadily growing count."""
    if passes == 1:
        return progress
    return lambda stage, done, total: progress(stage, index * total + done, passes * total)


def _run(model_input, prepare, forward: NetworkRunner, card: ModelCard, options: InferenceOptions, mode: str, flat: bool,
         device, progress, cancel) -> np.ndarray:
    divisor = int(getattr(forward.network, "size_divisor", 1))
    if mode == "slice":
        axis = 0 if flat else slice_numpy_axis(card.orientation, options.axis or card.slice_axis)
        forward.expect(-(-model_input.shape[axis] // options.batch_size))
        return run_slices(
            model_input, forward, axis=axis, batch_size=options.batch_size, device=device, divisor=divisor,
            adjacent=card.adjacent_slices, in_channels=card.image_channels,
            replicate_channels=card.channel_mode == "replicate", prepare=prepare, progress=progress, cancel=cancel,
        )
    if flat:
        raise GANTranslateError("a 3D model cannot translate a 2D image; give a 3D volume")
    patch_xyz = options.patch_size or card.patch_size
    if any(p % divisor for p in patch_xyz):
        raise GANTranslateError(f"patch size {list(patch_xyz)} must be a multiple of {divisor} for this network")
    overlap = card.patch_overlap if options.overlap is None else options.overlap
    if not 0 <= overlap < 1:
        raise GANTranslateError(f"overlap {overlap} must be at least 0 and below 1")
    patch_zyx = tuple(reversed(patch_xyz))
    check_patch(patch_zyx, model_input.shape, divisor)
    forward.expect(-(-count_windows(model_input.shape, patch_zyx, overlap) // options.batch_size))
    return run_patches(
        model_input, forward, patch_size=patch_zyx, overlap=overlap,
        batch_size=options.batch_size, device=device, progress=progress, cancel=cancel,
    )


def check_patch(patch_zyx: tuple[int, ...], shape_zyx: tuple[int, ...], divisor: int) -> None:
    """A window larger than the volume is padded up to its size: a 1024^3 patch on a 64 x 64 x 8 volume took
    4.5 GB. A patch no larger than the volume (rounded up to the network's multiple) always runs; a larger one
    (the card's 64^3 on a thin slab) only while its window stays within what resampling may make of a volume."""
    from .resampling import GRID_FLOOR, GROWTH_LIMIT

    needed = [-(-s // divisor) * divisor for s in shape_zyx]
    window, voxels = float(np.prod(patch_zyx, dtype=float)), float(np.prod(shape_zyx, dtype=float))
    if any(p > n for p, n in zip(patch_zyx, needed)) and window > max(GROWTH_LIMIT * voxels, GRID_FLOOR):
        raise GANTranslateError(f"patch size {list(reversed(patch_zyx))} is larger than this volume needs "
                                f"(a {' x '.join(str(s) for s in reversed(shape_zyx))} volume: {list(reversed(needed))} "
                                "x y z covers it); give a smaller --patch-size (or fix the card's patch.size)")


def _to_image(result: np.ndarray, reference: sitk.Image, flat: bool, output_dtype: str) -> sitk.Image:
    """Wrap the array with the reference's exact geometry, in the requested voxel type."""
    if flat:
        result = result[0]
    if output_dtype == "input":
        dtype = sitk.GetArrayViewFromImage(reference).dtype
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            outside = np.count_nonzero((result < info.min - 0.5) | (result > info.max + 0.5))
            if outside > 0.001 * result.size:
                raise GANTranslateError(
                    f"the output ranges {result.min():.4g} to {result.max():.4g}, but the input's {dtype} voxels hold "
                    f"{info.min} to {info.max}: {100 * outside / result.size:.1f} % would saturate; use --output-dtype float32"
                )
            result = np.clip(np.rint(result), info.min, info.max).astype(dtype)
        else:
            result = result.astype(dtype)
    output = sitk.GetImageFromArray(np.ascontiguousarray(result))
    output.CopyInformation(reference)
    return output
