"""The benchmark's arithmetic: its FLOP count and its verdict on each target (bench/ is timed, not tested)."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from report import markdown  # noqa: E402
from timing import network_flops  # noqa: E402


def test_convolution_flops_are_counted_exactly() -> None:
    """GFLOP/s rest on this count: 2 x output voxels x input channels x kernel size (input voxels for transposed)."""
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1))
    expected = 2 * (8 * 16 * 16) * 3 * 9 + 2 * (8 * 16 * 16) * 4 * 16
    assert network_flops(conv, torch.zeros(1, 3, 16, 16)) == expected


def results(exact_speedup: float, fast_speedup: float, beyond_mb: float, trainer_speedup: float) -> dict:
    resnet = {"network": "ResNet-9 (ngf 64)", "input": "180 slices", "baseline_s": 60.0, "exact_s": 60 / exact_speedup,
              "exact_speedup": exact_speedup, "exact_gflops": 140.0, "exact_fraction_of_fp32_peak": 0.92,
              "exact_overhead": 0.02, "exact_max_abs_diff_vs_eager": 8e-6, "fast_s": 60 / fast_speedup,
              "fast_speedup": fast_speedup, "exact_compile_s": 30.0, "fast_compile_s": 15.0}
    return {"cpu": "test CPU", "threads": 2, "torch": "x", "conv_peak_fp32_gflops": 150.0, "conv_peak_bf16_gflops": 550.0,
            "networks": [resnet],
            "memory": [{"mode": "patch", "size": 512, "volume_mb": 512.0, "beyond_input_and_output_mb": beyond_mb,
                        "beyond_in_volumes": beyond_mb / 512}],
            "training": [{"model": "pix2pix", "input": "256x256, batch 1", "baseline_step_s": 1.0,
                          "trainer_step_s": 1 / trainer_speedup, "trainer_speedup": trainer_speedup}],
            "peak_rss_mb": 900.0}


def test_the_report_says_which_targets_are_met_and_which_are_not() -> None:
    met = markdown(results(1.35, 3.2, 1200.0, 1.0))
    assert "**no**" not in met and "| exact mode ≥ 1.3× the reference (ResNet-9, slice-wise) | 1.35× | yes |" in met
    missed = markdown(results(1.2, 2.5, 2500.0, 0.8))
    for target in ("exact mode ≥ 1.3×", "fast mode ≥ 3×", "within 2 GB", "training step no slower"):
        line = next(line for line in missed.splitlines() if target in line)
        assert line.endswith("| **no** |"), line
