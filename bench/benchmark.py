"""GANTranslate speed and memory benchmark: ratios measured in one run, never in a timed test.

    python bench/benchmark.py                 # full: 256x256x180 slice-wise, 256³ patch-wise, 512³ memory
    python bench/benchmark.py --quick         # 24 slices, 128³, 256³ memory, CycleGAN at 128²: a smoke check

Run it on an idle machine. Writes bench/results.md and bench/results.json: this machine's float32 and
bf16 convolution peaks; for each network, the reference way (eager float32, batch 1, slice after slice)
against the engine's exact and fast modes (read -> predict -> write, and network time alone), achieved
GFLOP/s, the compile cost paid once; peak memory beyond the input and output; training step times
against the reference loop. (How far fast mode moves each bundled model's output is measured by
``gantranslate models check-fast`` and recorded in its card.)
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

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "GANTranslate"))
sys.path.insert(0, str(REPO / "trainer"))
sys.path.insert(0, str(REPO / "bench"))

from GANTranslateLib.device import cpu_has_fast_bf16  # noqa: E402
from GANTranslateLib.model_registry import BUNDLED_MODELS, list_packages  # noqa: E402

from inference_timing import bench_patchwise, bench_slicewise, synthetic_volume  # noqa: E402
from report import markdown  # noqa: E402
from synthetic_models import random_network  # noqa: E402
from timing import conv_peak_gflops  # noqa: E402
from training_timing import bench_training  # noqa: E402

SAMPLE = REPO / "GANTranslate" / "Resources" / "SampleData" / "TCGA-FG-6692-holdout"
STANDARD_2D = [
    ("ResNet-9 (ngf 64)", "resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}),
    ("U-Net-256 (ngf 64)", "unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"}),
]
UNET_3D = ("3D U-Net (ngf 16)", "unet_generator", {"num_downs": 5, "ngf": 16, "spatial_dims": 3, "norm": "instance"})


def memory(mode: str, size: int) -> dict:
    """Peak memory of one translation, in a fresh process (bench/memory_probe.py)."""
    done = subprocess.run([sys.executable, str(REPO / "bench" / "memory_probe.py"), mode, str(size)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
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
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = "results-quick" if args.quick else "results"
    (REPO / "bench" / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (REPO / "bench" / f"{name}.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
