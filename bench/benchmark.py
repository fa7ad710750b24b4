"""GANTranslate speed and memory benchmark: ratios measured in one run, never in a timed test.

    python bench/benchmark.py                 # full: 256x256x180 slice-wise, 256^3 patch-wise
    python bench/benchmark.py --quick         # fewer slices and a smaller 3D volume (minutes, not an hour)
    python bench/benchmark.py --update-cards  # also record the fast-mode error in the bundled model cards

Writes bench/results.md and bench/results.json. For each network it measures the reference way of running
a generator (eager float32, batch 1, one slice after another), the engine's exact mode and its fast mode
(bf16/fp16), this machine's float32 and bf16 convolution peak, achieved GFLOP/s, and peak memory. For each
bundled model it measures how far fast mode moves the output on a real volume.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "GANTranslate"))

from GANTranslateLib.device import cpu_has_fast_bf16  # noqa: E402
from GANTranslateLib.model_card import parse_card  # noqa: E402
from GANTranslateLib.model_package import ModelPackage  # noqa: E402
from GANTranslateLib.model_registry import BUNDLED_MODELS, list_packages  # noqa: E402
from GANTranslateLib.networks import build_generator  # noqa: E402
from GANTranslateLib.translation import InferenceOptions, translate_image  # noqa: E402

SAMPLE = REPO / "Resources" / "SampleData" / "TCGA-FG-6692-holdout"


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def conv_peak(dtype: torch.dtype, repeats: int) -> float:
    """GFLOP/s of a large 3x3 convolution, the operation generators spend their time in."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False).eval()
    x = torch.randn(8, 256, 64, 64)
    flops = 2 * 256 * 256 * 9 * 64 * 64 * 8
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        seconds = median_time(lambda: conv(x), repeats)
    return flops / seconds / 1e9


def network_flops(network: torch.nn.Module, shape: tuple) -> float:
    """Multiply-adds x 2 of every convolution for one input of ``shape`` (N=1), by forward hooks."""
    total = [0.0]

    def hook(module, inputs, output):
        kernel = int(np.prod(module.kernel_size))
        channels_in = module.in_channels // module.groups
        if isinstance(module, (torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)):
            total[0] += 2.0 * inputs[0][0].numel() * module.out_channels * kernel
        else:
            total[0] += 2.0 * output[0].numel() * channels_in * kernel

    handles = [m.register_forward_hook(hook) for m in network.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    with torch.inference_mode():
        network(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total[0]


def identity_card(arch: str, args: dict, dims: int, patch=None) -> dict:
    card = {"schema_version": 1, "id": f"bench-{arch}", "version": "1.0.0", "name": arch, "task": "translation",
            "domains": ["A", "B"], "directions": [["A", "B"]], "architecture": {"name": arch, "args": args},
            "mode": f"{dims}d", "spacing": None, "orientation": "LPS", "license": "n/a",
            "normalization": {d: {"method": "window", "min": 0, "max": 1000} for d in ("A", "B")}}
    if dims == 2:
        card["slice"] = {"axis": "axial"}
    else:
        card["patch"] = {"size": list(patch), "overlap": 0.25}
    return card


def synthetic_volume(shape_zyx: tuple) -> sitk.Image:
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray(rng.uniform(0, 1000, size=shape_zyx).astype(np.float32))
    return image


def reference_slices(network, volume: np.ndarray) -> float:
    """The reference way: eager float32, batch 1, one slice after another (as test.py of the reference repo)."""
    start = time.perf_counter()
    with torch.no_grad():
        for k in range(volume.shape[0]):
            network(torch.from_numpy(volume[k][None, None]))
    return time.perf_counter() - start


def bench_2d(name: str, arch: str, args: dict, slices: int, repeats: int, peak32: float) -> dict:
    torch.manual_seed(0)
    network = build_generator(arch, args).eval()
    package = ModelPackage(Path("."), parse_card(identity_card(arch, args, 2)))
    image = synthetic_volume((slices, 256, 256))
    volume = sitk.GetArrayFromImage(image) / 500.0 - 1
    flops = network_flops(network, (1, 256, 256)) * slices
    baseline = median_time(lambda: reference_slices(network, volume.astype(np.float32)), repeats, warmup=0)
    row = {"network": name, "input": f"256x256x{slices} slice-wise", "baseline_s": baseline}
    for precision in ("exact", "fast"):
        if precision == "fast" and not cpu_has_fast_bf16():
            continue
        options = InferenceOptions(precision=precision, device="cpu")  # the engine's own batch size
        run = lambda: translate_image(image, package, options=options, network=network)  # noqa: E731
        seconds = median_time(run, repeats)
        row[f"{precision}_s"] = seconds
        row[f"{precision}_speedup"] = baseline / seconds
        row[f"{precision}_gflops"] = flops / seconds / 1e9
        row[f"{precision}_slices_per_s"] = slices / seconds
    row["baseline_gflops"] = flops / baseline / 1e9
    row["exact_fraction_of_fp32_peak"] = row["exact_gflops"] / peak32
    exact = translate_image(image, package, options=InferenceOptions(device="cpu"), network=network).image
    reference = np.stack([network(torch.from_numpy(volume[k][None, None].astype(np.float32)))[0, 0].detach().numpy()
                          for k in range(min(slices, 4))])
    mine = (sitk.GetArrayFromImage(exact)[: len(reference)] - 500.0) / 500.0
    row["exact_max_abs_diff_vs_eager"] = float(np.abs(mine - reference).max())
    return row


def bench_3d(slices: int, repeats: int) -> dict:
    torch.manual_seed(0)
    args = {"num_downs": 5, "ngf": 16, "spatial_dims": 3, "norm": "instance"}
    network = build_generator("unet_generator", args).eval()
    package = ModelPackage(Path("."), parse_card(identity_card("unet_generator", args, 3, (96, 96, 96))))
    image = synthetic_volume((slices, slices, slices))
    options = InferenceOptions(device="cpu")
    seconds = median_time(lambda: translate_image(image, package, options=options, network=network), repeats, warmup=0)
    return {"network": "3D U-Net (ngf 16)", "input": f"{slices}^3 patch-wise, 96^3 patches", "exact_s": seconds}


def fast_mode_error(package) -> dict:
    """How far fast mode moves a bundled model's output on the real sample, in the output's units."""
    source, target = package.card.directions[0]
    path = SAMPLE / f"{source}.nii.gz"
    if not path.exists():
        return {}
    image = sitk.ReadImage(str(path))
    exact = sitk.GetArrayFromImage(translate_image(image, package, source, target, InferenceOptions(device="cpu")).image)
    fast = sitk.GetArrayFromImage(translate_image(image, package, source, target, InferenceOptions(device="cpu", precision="fast")).image)
    difference = np.abs(fast - exact)
    peak = float(exact.max() - exact.min()) or 1.0
    mse = float((difference.astype(np.float64) ** 2).mean())
    return {"psnr_db": float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse)),
            "mean_abs": float(difference.mean()), "max_abs": float(difference.max()), "measured_on": path.name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-cards", action="store_true")
    args = parser.parse_args()
    slices, size3d, repeats = (16, 96, 2) if args.quick else (180, 256, 3)
    results = {"torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
               "threads": torch.get_num_threads(), "bf16_capable": cpu_has_fast_bf16()}
    results["conv_peak_fp32_gflops"] = conv_peak(torch.float32, 5)
    if cpu_has_fast_bf16():
        results["conv_peak_bf16_gflops"] = conv_peak(torch.bfloat16, 5)
    results["networks"] = [
        bench_2d("ResNet-9 (ngf 64)", "resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}, slices, repeats,
                 results["conv_peak_fp32_gflops"]),
        bench_2d("U-Net-256 (ngf 64)", "unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"}, slices, repeats,
                 results["conv_peak_fp32_gflops"]),
        bench_3d(size3d, 1),
    ]
    results["fast_mode"] = {}
    for package in list_packages([BUNDLED_MODELS]):
        if cpu_has_fast_bf16():
            measured = fast_mode_error(package)
            if measured:
                measured["allowed"] = bool(measured["psnr_db"] >= 40 and (package.card.task != "translation" or
                                           "CT" not in package.card.domains or measured["mean_abs"] <= 5))
                results["fast_mode"][package.card.id] = measured
                if args.update_cards:
                    card = json.loads((package.path / "model.json").read_text())
                    card["fast_mode"] = measured
                    (package.path / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (REPO / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (REPO / "bench" / "results.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    lines = [f"torch {r['torch']}, {r['threads']} threads, bf16-capable CPU: {r['bf16_capable']}",
             f"convolution peak: fp32 {r['conv_peak_fp32_gflops']:.0f} GFLOP/s"
             + (f", bf16 {r['conv_peak_bf16_gflops']:.0f} GFLOP/s" if "conv_peak_bf16_gflops" in r else ""), "",
             "| network | input | reference (s) | exact (s) | exact × | exact GFLOP/s (% fp32 peak) | fast (s) | fast × |",
             "|---|---|---|---|---|---|---|---|"]
    for n in r["networks"]:
        cell = lambda k, f="{:.1f}": f.format(n[k]) if k in n else "–"  # noqa: E731
        peak = f"{n['exact_gflops']:.0f} ({100 * n['exact_fraction_of_fp32_peak']:.0f} %)" if "exact_gflops" in n else "–"
        lines.append(f"| {n['network']} | {n['input']} | {cell('baseline_s')} | {cell('exact_s')} | "
                     f"{cell('exact_speedup', '{:.2f}')} | {peak} | {cell('fast_s')} | {cell('fast_speedup', '{:.2f}')} |")
    if r["fast_mode"]:
        lines += ["", "| bundled model | fast vs exact PSNR (dB) | mean abs | max abs | fast mode |", "|---|---|---|---|---|"]
        for model, m in r["fast_mode"].items():
            lines.append(f"| {model} | {m['psnr_db']:.1f} | {m['mean_abs']:.2f} | {m['max_abs']:.1f} | "
                         f"{'allowed' if m['allowed'] else 'refused'} |")
    lines.append(f"\npeak resident memory: {r['peak_rss_mb']:.0f} MB")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
