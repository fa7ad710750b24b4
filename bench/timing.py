"""Timing helpers shared by the benchmark parts: medians after warm-up, convolution peaks, FLOP counts."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np
import torch


def median_seconds(run: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def conv_peak_gflops(dtype: torch.dtype, repeats: int = 5) -> float:
    """This machine's rate on the convolution generators spend most time in (256 channels, 3x3, 64², batch 1)."""
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False).eval().to(dtype)
    x = torch.randn(1, 256, 64, 64, dtype=dtype)
    calls = 8
    flops = 2.0 * 256 * 256 * 9 * 64 * 64 * calls

    def run() -> None:
        for _ in range(calls):
            conv(x)

    with torch.inference_mode():
        return flops / median_seconds(run, repeats, warmup=2) / 1e9


def network_flops(network: torch.nn.Module, *inputs: torch.Tensor) -> float:
    """2 x multiply-adds of every convolution for one call on ``inputs``, counted by forward hooks."""
    total = [0.0]

    def hook(module, args, output):
        kernel = int(np.prod(module.kernel_size))
        if isinstance(module, (torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)):
            total[0] += 2.0 * args[0].numel() * module.out_channels // module.groups * kernel
        else:
            total[0] += 2.0 * output.numel() * (module.in_channels // module.groups) * kernel

    convolutions = [m for m in network.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    handles = [m.register_forward_hook(hook) for m in convolutions]
    try:
        with torch.inference_mode():
            network(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return total[0]
