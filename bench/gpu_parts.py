"""The parts of bench/gpu.py: network sweeps, engine runs, the pipeline's share, patch-wise 3D, the trainer
and compiled networks. Every rate is measured in this run; nothing is carried over from another."""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Optional

import numpy as np
import SimpleITK as sitk
import torch

from GANTranslateLib import intensity
from GANTranslateLib.fast_mode import PRECISIONS as REDUCED, ReducedPrecision, compare, device_precision
from GANTranslateLib.image_io import read_volume, write_volume_atomic
from GANTranslateLib.intensity_prior import with_prior
from GANTranslateLib.model_card import ModelCard, parse_card
from GANTranslateLib.model_package import ModelPackage
from GANTranslateLib.network_runner import NetworkRunner
from GANTranslateLib.translation import InferenceOptions, default_batch_size, translate_image

from gpu_measure import (Budget, as_variant, is_out_of_memory, peak_memory_mb, precision, reset_peak_memory,
                         seconds_per_call, synchronize)
from inference_timing import synthetic_volume, whole_volume
from timing import median_seconds, network_flops

GROWTH = 1.05  # a larger batch is tried only while the last one raised the rate by 5 % or more


def network_inputs(card: ModelCard, batch: int, side: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """A batch as the engine hands it to the network: normalised slices, the prior channel, the target label."""
    source, target = card.directions[0]
    x = torch.rand(batch, card.image_channels, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x = x.to(device)
    table = card.prior_table(source, target)
    if table is not None:
        x = with_prior(x, torch.tensor(table, dtype=torch.float32, device=device))
    if card.conditional:
        return x, torch.full((batch,), card.domain_index(target), dtype=torch.long, device=device)
    return (x,)


def slice_rate(network: torch.nn.Module, inputs: tuple, name: str, device: torch.device, min_seconds: float,
               benchmark: bool = False) -> Optional[float]:
    """Slices per second of the network on ``inputs`` in precision ``name``; None where memory ran out."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = benchmark
    try:
        with torch.inference_mode(), precision(name, device):
            return inputs[0].shape[0] / seconds_per_call(lambda: network(*inputs), device, min_seconds)
    except (RuntimeError, torch.cuda.OutOfMemoryError) as error:
        if not is_out_of_memory(error):
            raise
        torch.cuda.empty_cache()
        return None
    finally:
        torch.backends.cudnn.benchmark = before


def entry(name: str, batch: int, rate: Optional[float], flops: float, peaks: dict, **how) -> dict:
    row = {"precision": name, "batch": batch, "layout": "contiguous", "weights": "float32" if REDUCED.get(name) is None
           else "autocast", "cudnn_benchmark": False, **how, "slices_per_s": rate}
    if rate is not None:
        row["gflops"] = rate * flops / 1e9
        row["fraction_of_peak"] = row["gflops"] / peaks[name]["gflops"]
    return row


def sweep(name: str, card: ModelCard, network: torch.nn.Module, plan, device: torch.device, precisions: list[str],
          peaks: dict) -> dict:
    """Rates per precision and batch; at each precision's best batch, the layout and weight variants."""
    flops = network_flops(network, *network_inputs(card, 1, plan.side, device))
    rates, best = [], {}
    for p in [p for p in precisions if p != "tf32"]:  # TF32 is neither exact nor fast: its peak is measured alone
        for batch in plan.batches + plan.larger:
            done = [r for r in rates if r["precision"] == p and r["slices_per_s"]]
            if batch in plan.larger and (len(done) < 2 or done[-1]["slices_per_s"] < GROWTH * done[-2]["slices_per_s"]):
                break
            rates.append(entry(p, batch, slice_rate(network, network_inputs(card, batch, plan.side, device), p, device,
                                                    plan.min_seconds), flops, peaks))
        batch = max((r for r in rates if r["precision"] == p and r["slices_per_s"]), key=lambda r: r["slices_per_s"])["batch"]
        inputs = network_inputs(card, batch, plan.side, device)
        for layout, cast in [("channels_last", None)] + ([("contiguous", REDUCED[p]), ("channels_last", REDUCED[p])]
                                                          if p in REDUCED else []):
            net, xs = as_variant(network, inputs, layout, cast)
            how = {"layout": layout, **({"weights": "cast"} if cast is not None else {})}
            rates.append(entry(p, batch, slice_rate(net, xs, p, device, plan.min_seconds), flops, peaks, **how))
        if device.type == "cuda":
            rates.append(entry(p, batch, slice_rate(network, inputs, p, device, plan.min_seconds, benchmark=True), flops,
                               peaks, cudnn_benchmark=True))
        best[p] = max((r for r in rates if r["precision"] == p and r["slices_per_s"]), key=lambda r: r["slices_per_s"])
    return {"network": name, "gflop_per_slice": flops / 1e9, "slice": [plan.side, plan.side], "rates": rates, "best": best,
            "best_batch": {p: b["batch"] for p, b in best.items()}}


def with_measured_fast_mode(package: ModelPackage, network: torch.nn.Module, image: sitk.Image, device: torch.device):
    """The package with its card's fast-mode error measured here, on these (seeded) weights and this device,
    as ``models check-fast`` measures it (weights and activations in the precision), so that the engine's
    fast mode, which checks the card, may run; and that error. None where the device has no fast mode."""
    reduced = device_precision(device)
    if reduced is None:
        return package, None
    source, target = package.card.directions[0]
    options = InferenceOptions(device=str(device), compile="never", force=True)
    exact = _array(translate_image(image, package, source, target, options, network=network))
    cast = ReducedPrecision(copy.deepcopy(network), REDUCED[reduced])
    error = compare([exact], [_array(translate_image(image, package, source, target, options, network=cast))], target)
    data = json.loads(json.dumps(package.card.data))
    data["fast_mode"] = {"direction": f"{source}->{target}", "volumes": ["uniform noise (bench/gpu.py)"],
                         "torch": torch.__version__, "method": f"weights and activations in the precision, on {device}",
                         reduced: error}
    return ModelPackage(package.path, parse_card(data)), {"precision": reduced, **error}


def engine_runs(package: ModelPackage, network: torch.nn.Module, volume: Path, device: torch.device,
                best_batch: dict, plan) -> dict:
    """The engine's whole run (read, translate, write uncompressed NRRD) at its default batch and the best."""
    source, target = package.card.directions[0]
    image = read_volume(volume)
    measured, error = with_measured_fast_mode(package, network, image, device)
    slices = image.GetSize()[2]
    runs = []
    for name in ["exact"] + (["fast"] if error is not None and error["allowed"] else []):
        fastest = best_batch["exact" if name == "exact" else error["precision"]]
        for batch in sorted({default_batch_size(device, "slice"), fastest}):
            options = InferenceOptions(device=str(device), precision=name, batch_size=batch, compile="never", force=True)
            seconds = median_seconds(lambda: whole_volume(volume, measured, network, options, source, target), 1)
            runs.append({"precision": name, "batch": batch, "default": batch == default_batch_size(device, "slice"),
                         "seconds": seconds, "slices_per_s": slices / seconds})
    return {"fast_error": error, "volume": list(image.GetSize()), "runs": runs}


def pipeline_share(name: str, package: ModelPackage, network: torch.nn.Module, volume: Path, device: torch.device,
                   precisions: list[str], plan, scratch: Path) -> dict:
    """Where a whole run's time goes: each stage timed alone, against the engine's whole run."""
    card = package.card
    source, target = card.directions[0]
    stages: dict = {"network": name, "volume": None}
    stages["read_s"] = median_seconds(lambda: read_volume(volume), 2, warmup=1)
    image = read_volume(volume)
    stages["volume"] = list(image.GetSize())
    voxels = sitk.GetArrayFromImage(image)
    spec = card.normalization(source)
    stages["normalise_cpu_s"] = median_seconds(lambda: intensity.input_map(voxels, spec).normalise(voxels), 2, warmup=1)
    mapping = intensity.input_map(voxels, spec)
    pinned = torch.from_numpy(voxels).pin_memory() if device.type == "cuda" else torch.from_numpy(voxels)
    stages["copy_to_device_s"] = median_seconds(lambda: _to(pinned, device), 3, warmup=1)
    raw = pinned.to(device)
    offset, scale = mapping.offset, mapping.scale
    stages["normalise_device_s"] = median_seconds(lambda: _normalise_on(raw, offset, scale, device), 3, warmup=1)
    normalised = ((raw - offset) / scale).clamp_(-1, 1)
    for p in ("exact", "fast"):
        if p == "fast" and device_precision(device) is None:
            continue
        runner = NetworkRunner(network.to(device), card, source, target, device, p, "never")
        batch = default_batch_size(device, "slice")
        stages[f"network_{p}_s"] = median_seconds(lambda: _all_slices(runner, normalised, batch, device), 2, warmup=1)
    result = normalised.clone()
    stages["copy_back_s"] = median_seconds(lambda: result.cpu().numpy(), 3, warmup=1)
    out_image = sitk.GetImageFromArray(voxels)
    out_image.CopyInformation(image)
    stages["write_nrrd_s"] = median_seconds(lambda: write_volume_atomic(out_image, scratch / "o.nrrd", compress=False), 2)
    stages["write_nii_gz_s"] = median_seconds(lambda: write_volume_atomic(out_image, scratch / "o.nii.gz"), 1)
    options = InferenceOptions(device=str(device), compile="never", force=True)
    stages["engine_exact_s"] = median_seconds(lambda: whole_volume(volume, package, network, options, source, target), 2)
    whole = stages["engine_exact_s"]
    stages["shares_of_engine_exact"] = {k[:-2]: stages[k] / whole for k in
                                        ("read_s", "normalise_cpu_s", "copy_to_device_s", "network_exact_s", "copy_back_s",
                                         "write_nrrd_s")}
    return stages


def _to(tensor: torch.Tensor, device: torch.device) -> None:
    tensor.to(device, non_blocking=True)
    synchronize(device)


def _normalise_on(raw: torch.Tensor, offset: float, scale: float, device: torch.device) -> None:
    ((raw - offset) / scale).clamp_(-1, 1)
    synchronize(device)


def _all_slices(runner: NetworkRunner, volume: torch.Tensor, batch: int, device: torch.device) -> None:
    for start in range(0, volume.shape[0], batch):
        runner(volume[start : start + batch, None])
    synchronize(device)


def patchwise(name: str, package: ModelPackage, network: torch.nn.Module, device: torch.device, plan,
              scratch: Path) -> dict:
    """The engine patch-wise on a cube, per batch of windows: time, windows per second, peak GPU memory."""
    source, target = package.card.directions[0]
    volume = synthetic_volume((plan.patch_volume,) * 3, scratch)
    image = read_volume(volume)
    measured, error = with_measured_fast_mode(package, network, image, device)
    runs = []
    for p in ["exact"] + (["fast"] if error is not None and error["allowed"] else []):
        for batch in plan.patch_batches:
            options = InferenceOptions(device=str(device), precision=p, batch_size=batch, compile="never", force=True)
            reset_peak_memory(device)
            try:
                seconds = median_seconds(lambda: translate_image(image, measured, source, target, options, network=network),
                                         1, warmup=1)
            except Exception as failure:  # noqa: BLE001 -- out of GPU memory is a result here, not a crash
                runs.append({"precision": p, "batch": batch, "error": str(failure).splitlines()[0]})
                continue
            runs.append({"precision": p, "batch": batch, "seconds": seconds, "voxels_per_s": plan.patch_volume**3 / seconds,
                         "peak_device_memory_mb": peak_memory_mb(device)})
    return {"network": name, "volume": [plan.patch_volume] * 3, "patch": [plan.patch] * 3, "fast_error": error,
            "runs": runs}


def trainer_rates(device: torch.device, plan, cards: Path, budget: Budget) -> list[dict]:
    """Trainer steps and images per second, mixed precision off and (on a GPU) on, for the classic setups
    and the bundled models' generator."""
    from gpu_training import training_setups, training_rate

    rows = []
    for label, model, generator, discriminator in training_setups(plan, cards):
        for batch in plan.train_batches:
            for amp in ([False, True] if device.type == "cuda" else [False]):
                if not budget.allows(f"trainer {label} batch {batch} amp {amp}", 8 if not plan.tiny else 0):
                    continue
                row = {"setup": label, "batch": batch, "amp": amp, "size": plan.train_size}
                try:
                    row.update(training_rate(model, generator, discriminator, plan.train_size, batch, amp, device,
                                             steps=3 if plan.tiny else 10))
                except Exception as error:  # noqa: BLE001 -- out of memory at a batch size is a result here
                    row["error"] = f"{type(error).__name__}: {str(error).splitlines()[:1]}"[:200]
                    torch.cuda.empty_cache() if device.type == "cuda" else None
                rows.append(row)
    return rows


def compiled_rates(networks: list, device: torch.device, plan, precisions: list[str], budget: Budget,
                   errors: list[str]) -> list[dict]:
    """torch.compile (and, on a GPU, CUDA graphs) at the engine's default batch, against eager: each setting
    on every network given before the next setting, the fast precision and CUDA graphs first (a small
    network at a small batch is bound by kernel launches, which CUDA graphs remove)."""
    wanted = [p for p in ("bf16", "exact") if p in precisions][-1 if plan.tiny else 0:]  # tiny: exact only
    modes = ["reduce-overhead", "default"] if device.type == "cuda" else ["default"]
    rows = []
    for p in wanted:
        for mode in modes:
            for name, package, network in networks:
                if not budget.allows(f"compiled {name} {p} {mode}", 75 if not plan.tiny else 0):
                    continue
                try:
                    rows.append(compiled_rate(name, package.card, network, device, plan, p, mode))
                except Exception as error:  # noqa: BLE001 -- a compiler failure is a result here
                    errors.append(f"compiled {name} {p} {mode}: {type(error).__name__}: {str(error).splitlines()[:1]}"[:300])
                print(json.dumps(rows[-1] if rows else errors[-1:]), flush=True)
    return rows


def compiled_rate(name: str, card: ModelCard, network: torch.nn.Module, device: torch.device, plan, p: str,
                  mode: str) -> dict:
    inputs = network_inputs(card, plan.compile_batch, plan.side, device)
    torch._dynamo.reset()
    options = {} if plan.compile_backend != "inductor" else {"mode": None if mode == "default" else mode}
    compiled = torch.compile(network, backend=plan.compile_backend, **options)
    start = time.perf_counter()
    with torch.inference_mode(), precision(p, device):
        compiled(*inputs)
        synchronize(device)
    row = {"network": name, "precision": p, "mode": mode, "backend": plan.compile_backend, "batch": plan.compile_batch,
           "compile_s": time.perf_counter() - start,
           "slices_per_s": slice_rate(compiled, inputs, p, device, plan.min_seconds),
           "eager_slices_per_s": slice_rate(network, inputs, p, device, plan.min_seconds)}
    row["speedup"] = row["slices_per_s"] / row["eager_slices_per_s"] if row["slices_per_s"] else None
    return row


def _array(result) -> np.ndarray:
    return sitk.GetArrayFromImage(result.image).astype(np.float32)
