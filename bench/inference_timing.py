"""Inference timings: the engine (read -> predict -> write) against the reference way, in one run.

The reference way is how pytorch-CycleGAN-and-pix2pix's test script runs a generator: eager float32,
batch 1, one slice after another (network time only, so the comparison flatters the reference). For a
3D network, the reference is the same sliding window run eager in float32, one patch at a time.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch

from GANTranslateLib.device import cpu_has_fast_bf16
from GANTranslateLib.image_io import read_volume, write_volume_atomic
from GANTranslateLib.intensity_prior import with_prior
from GANTranslateLib.model_package import ModelPackage
from GANTranslateLib.network_runner import NetworkRunner
from GANTranslateLib.slice_inference import gather_slices
from GANTranslateLib.translation import InferenceOptions, translate_image

from timing import median_seconds, network_flops


def synthetic_volume(shape_zyx: tuple[int, int, int], folder: Path) -> Path:
    """A uniform-noise volume on disk as uncompressed NRRD, as the Slicer module hands volumes to the engine
    (content does not change a convolution's speed)."""
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray(rng.uniform(0, 1000, size=shape_zyx).astype(np.float32))
    path = folder / f"input_{'x'.join(map(str, shape_zyx))}.nrrd"
    if not path.exists():
        sitk.WriteImage(image, str(path))
    return path


def whole_volume(path: Path, package: ModelPackage, network: torch.nn.Module, options: InferenceOptions,
                 source: str, target: str) -> float:
    """Seconds for read -> translate -> write, as the CLI does it for the Slicer module (uncompressed NRRD)."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        image = read_volume(path)
        result = translate_image(image, package, source, target, options=options, network=network)
        write_volume_atomic(result.image, Path(scratch) / "out.nrrd", compress=False)
        return time.perf_counter() - start


def slice_batches(volume: np.ndarray, channels: int, adjacent: int, replicate: bool) -> list[torch.Tensor]:
    """The model-normalised axial slices, one per batch, as the reference feeds them."""
    scaled = (volume / 500.0 - 1).astype(np.float32)
    return [torch.from_numpy(gather_slices(scaled, range(k, k + 1), adjacent, channels, replicate))
            for k in range(scaled.shape[0])]


def bench_slicewise(name: str, package: ModelPackage, network: torch.nn.Module, volume_path: Path,
                    repeats: int, peak_fp32: float, peak_bf16: float | None) -> dict:
    card = package.card
    source, target = card.directions[0]
    network = network.eval()
    batches = slice_batches(sitk.GetArrayFromImage(sitk.ReadImage(str(volume_path))), card.image_channels,
                            card.adjacent_slices, card.channel_mode == "replicate")
    label = (torch.tensor([card.domain_index(target)]),) if card.conditional else ()
    table = card.prior_table(source, target)
    network_batches = batches if table is None else [with_prior(b, torch.tensor(table)) for b in batches]

    def reference() -> None:
        with torch.no_grad():
            for batch in network_batches:
                network(batch, *label)

    flops = network_flops(network, network_batches[0], *label) * len(batches)
    row = {"network": name, "input": f"{len(batches)} slices of {tuple(batches[0].shape[2:])}",
           "gflop_per_volume": flops / 1e9, "baseline_s": median_seconds(reference, repeats, warmup=0)}
    precisions = ["exact"] + (["fast"] if peak_bf16 else [])
    for precision in precisions:
        runner = NetworkRunner(network, card, source, target, torch.device("cpu"), precision, compile="always")
        start = time.perf_counter()
        runner(batches[0])  # compiles once (the cache is fresh), as a user's first run would
        row[f"{precision}_compile_s"] = time.perf_counter() - start

        def network_only() -> None:
            for batch in batches:
                runner(batch)

        options = InferenceOptions(device="cpu", precision=precision)  # the defaults: batch 1, compile auto
        row[f"{precision}_network_s"] = median_seconds(network_only, repeats)
        row[f"{precision}_s"] = median_seconds(lambda: whole_volume(volume_path, package, network, options, source, target),
                                               repeats)
        row[f"{precision}_speedup"] = row["baseline_s"] / row[f"{precision}_s"]
        row[f"{precision}_overhead"] = row[f"{precision}_s"] / row[f"{precision}_network_s"] - 1
        row[f"{precision}_gflops"] = flops / row[f"{precision}_network_s"] / 1e9
        row[f"{precision}_slices_per_s"] = len(batches) / row[f"{precision}_s"]
        if precision == "exact":
            with torch.no_grad():
                row["exact_max_abs_diff_vs_eager"] = max(
                    float((runner(b) - network(b, *label)).abs().max()) for b in batches[:: max(len(batches) // 8, 1)])
    row["baseline_gflops"] = flops / row["baseline_s"] / 1e9
    row["exact_fraction_of_fp32_peak"] = row["exact_gflops"] / peak_fp32
    row["baseline_fraction_of_fp32_peak"] = row["baseline_gflops"] / peak_fp32
    if "fast_gflops" in row:
        row["fast_fraction_of_bf16_peak"] = row["fast_gflops"] / peak_bf16
    return row


def bench_patchwise(name: str, package: ModelPackage, network: torch.nn.Module, volume_path: Path,
                    repeats: int) -> dict:
    """Reference: the same sliding window, eager float32, one patch at a time; engine: its defaults."""
    source, target = package.card.directions[0]
    header = sitk.ImageFileReader()
    header.SetFileName(str(volume_path))
    header.ReadImageInformation()
    row = {"network": name, "input": f"{'x'.join(map(str, header.GetSize()))} patch-wise, "
                                     f"{'x'.join(map(str, package.card.patch_size))} patches"}
    eager = InferenceOptions(device="cpu", compile="never", batch_size=1)
    row["baseline_s"] = median_seconds(lambda: whole_volume(volume_path, package, network, eager, source, target),
                                       repeats, warmup=0)
    precisions = ["exact"] + (["fast"] if cpu_has_fast_bf16() else [])
    for precision in precisions:
        start = time.perf_counter()
        warm = InferenceOptions(device="cpu", precision=precision, compile="always")
        whole_volume(volume_path, package, network, warm, source, target)  # compiles once, then cached
        row[f"{precision}_first_run_s"] = time.perf_counter() - start
        options = InferenceOptions(device="cpu", precision=precision)
        row[f"{precision}_s"] = median_seconds(lambda: whole_volume(volume_path, package, network, options, source, target),
                                               repeats, warmup=0)
        row[f"{precision}_speedup"] = row["baseline_s"] / row[f"{precision}_s"]
    return row
