"""GANTranslate speed and memory benchmark: ratios measured in one run, never in a timed test.

    python bench/benchmark.py                 # full: 256x256x180 slice-wise, 256³ patch-wise, 512³ memory
    python bench/benchmark.py --quick         # 24 slices, 128³, 256³ memory, CycleGAN at 128²: a smoke check
    python bench/benchmark.py --update-cards  # also record the fast-mode error in the bundled model cards
    python bench/benchmark.py --fast-mode-only --update-cards   # just that (minutes)

Run it on an idle machine. Writes bench/results.md and bench/results.json: this machine's float32 and
bf16 convolution peaks; for each network, the reference way (eager float32, batch 1, slice after slice)
against the engine's exact and fast modes (read -> predict -> write, and network time alone), achieved
GFLOP/s, the compile cost paid once; peak memory beyond the input and output; training step times
against the reference loop; and for each bundled model how far fast mode moves its output.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "GANTranslate"))
sys.path.insert(0, str(REPO / "trainer"))
sys.path.insert(0, str(REPO / "bench"))

from GANTranslateLib.device import cpu_has_fast_bf16  # noqa: E402
from GANTranslateLib.model_card import is_ct_domain  # noqa: E402
from GANTranslateLib.model_package import ModelPackage, write_card  # noqa: E402
from GANTranslateLib.model_registry import BUNDLED_MODELS, list_packages  # noqa: E402
from GANTranslateLib.translation import InferenceOptions, translate_image  # noqa: E402

from inference_timing import bench_patchwise, bench_slicewise, synthetic_volume  # noqa: E402
from report import markdown  # noqa: E402
from synthetic_models import random_network  # noqa: E402
from timing import conv_peak_gflops  # noqa: E402
from training_timing import bench_training  # noqa: E402

SAMPLE = REPO / "Resources" / "SampleData" / "TCGA-FG-6692-holdout"
STANDARD_2D = [
    ("ResNet-9 (ngf 64)", "resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}),
    ("U-Net-256 (ngf 64)", "unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"}),
]
UNET_3D = ("3D U-Net (ngf 16)", "unet_generator", {"num_downs": 5, "ngf": 16, "spatial_dims": 3, "norm": "instance"})


def fast_mode_error(package: ModelPackage) -> dict:
    """How far fast mode moves a bundled model's output on the real sample, in the output's units."""
    source, target = package.card.directions[0]
    path = real_volume(source)
    if path is None:
        return {}
    image = sitk.ReadImage(str(path))
    runs = {p: sitk.GetArrayFromImage(translate_image(image, package, source, target,
                                                      InferenceOptions(device="cpu", precision=p)).image)
            for p in ("exact", "fast")}
    difference = np.abs(runs["fast"] - runs["exact"])
    peak = float(runs["exact"].max() - runs["exact"].min()) or 1.0
    mse = float((difference.astype(np.float64) ** 2).mean())
    measured = {"psnr_db": float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse)),
                "mean_abs": float(difference.mean()), "max_abs": float(difference.max()),
                "measured_on": str(path.relative_to(REPO)), "torch": torch.__version__}
    measured["allowed"] = bool(measured["psnr_db"] >= 40 and (not is_ct_domain(target) or measured["mean_abs"] <= 5))
    return measured


def real_volume(domain: str) -> Path | None:
    """A held-out real volume of ``domain``: the bundled sample, else a dataset prepared under data/ (README)."""
    for folder in [SAMPLE, *sorted(REPO.glob("data/*/*-holdout"))]:
        if (folder / f"{domain}.nii.gz").is_file():
            return folder / f"{domain}.nii.gz"
    return None


def record_fast_mode(update_cards: bool) -> dict:
    """Each bundled model's fast-vs-exact difference on a real volume; optionally written into its card."""
    errors = {}
    for package in list_packages([BUNDLED_MODELS]):
        if cpu_has_fast_bf16() and package.card.mode == "2d":
            errors[package.card.id] = measured = fast_mode_error(package)
            if update_cards and measured:
                write_card(package.path, {**package.card.data, "fast_mode": measured})
    return errors


def fast_mode_only(update_cards: bool, report_dir: Path) -> int:
    """Measure (and with ``update_cards`` record) only the fast-mode error, into the cards and into the
    last full run's report. On a CPU without fast bf16 nothing can be measured: say so and change nothing,
    rather than overwrite earlier measurements with an empty table."""
    if not cpu_has_fast_bf16():
        print("error: this CPU has no fast bf16 (AMX or AVX-512-bf16), so fast mode cannot be measured here; "
              "run this on a CPU that has it", file=sys.stderr)
        return 2
    errors = record_fast_mode(update_cards)
    print(json.dumps(errors, indent=2))
    saved = report_dir / "results.json"
    if update_cards and saved.is_file():  # the last full run's report, with this fast-mode table
        results = {**json.loads(saved.read_text()), "fast_mode": errors}
        saved.write_text(json.dumps(results, indent=2) + "\n")
        (report_dir / "results.md").write_text(markdown(results))
    return 0


def memory(mode: str, size: int) -> dict:
    """Peak memory of one translation, in a fresh process (bench/memory_probe.py)."""
    done = subprocess.run([sys.executable, str(REPO / "bench" / "memory_probe.py"), mode, str(size)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-cards", action="store_true")
    parser.add_argument("--fast-mode-only", action="store_true", help="only measure the bundled models' fast-mode error")
    args = parser.parse_args()
    if args.fast_mode_only:
        sys.exit(fast_mode_only(args.update_cards, REPO / "bench"))
    slices, size3d, size_memory, train_size, repeats = (24, 128, 256, 128, 2) if args.quick else (180, 256, 512, 256, 3)
    os.environ["GANTRANSLATE_CACHE"] = tempfile.mkdtemp(prefix="gantranslate-bench-")  # compile costs measured fresh
    bf16 = cpu_has_fast_bf16()
    results = {"torch": torch.__version__, "cpu": cpu_model(), "threads": torch.get_num_threads(),
               "bf16_capable": bf16, "quick": args.quick}
    results["conv_peak_fp32_gflops"] = conv_peak_gflops(torch.float32)
    results["conv_peak_bf16_gflops"] = conv_peak_gflops(torch.bfloat16) if bf16 else None
    peaks = (results["conv_peak_fp32_gflops"], results["conv_peak_bf16_gflops"])
    with tempfile.TemporaryDirectory() as scratch:
        volume_2d = synthetic_volume((slices, 256, 256), Path(scratch))
        rows = []
        for name, arch, net_args in STANDARD_2D:
            rows.append(bench_slicewise(name, *random_network(arch, net_args), volume_2d, repeats, *peaks))
            print(json.dumps(rows[-1]), flush=True)
        for package in list_packages([BUNDLED_MODELS]):
            rows.append(bench_slicewise(f"bundled: {package.card.id}", package, package.build_network(), volume_2d,
                                        repeats, *peaks))
            print(json.dumps(rows[-1]), flush=True)
        name, arch, net_args = UNET_3D
        rows.append(bench_patchwise(name, *random_network(arch, net_args, (96, 96, 96)),
                                    synthetic_volume((size3d,) * 3, Path(scratch)), max(repeats - 1, 1)))
        print(json.dumps(rows[-1]), flush=True)
    results["networks"] = rows
    results["memory"] = [memory("patch", size_memory), memory("slice", 256)]
    results["training"] = [bench_training("pix2pix", 256, 2 * repeats), bench_training("cyclegan", train_size, 2 * repeats)]
    results["fast_mode"] = record_fast_mode(args.update_cards)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = "results-quick" if args.quick else "results"
    (REPO / "bench" / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (REPO / "bench" / f"{name}.md").write_text(markdown(results))
    print(markdown(results))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
