"""Measuring on a GPU (or, for the tiny run, the CPU): sustained rates, precisions, memory formats, and the
convolution peaks every network rate is compared with.

A rate is the calls of a run over its wall time with one synchronisation at the end: what a long job
sees, launch gaps included (a call-by-call timer would add a synchronisation per call).
"""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator, Optional

import torch

from GANTranslateLib.device import exact_float32

# precision -> (autocast dtype or None, TF32 allowed); "exact" is float32 as the engine runs it
PRECISIONS = {"exact": (None, False), "tf32": (None, True), "bf16": (torch.bfloat16, False), "fp16": (torch.float16, False)}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(run: Callable[[], object], device: torch.device, min_seconds: float, warmup: int = 2,
                     min_calls: int = 3) -> float:
    """Wall seconds per call of ``run`` sustained over at least ``min_seconds`` and ``min_calls`` calls,
    run in doubling chunks with a synchronisation after each."""
    for _ in range(warmup):
        run()
    synchronize(device)
    calls, chunk, start = 0, min_calls, time.perf_counter()
    while True:
        for _ in range(chunk):
            run()
        calls += chunk
        synchronize(device)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls
        chunk = calls


@contextmanager
def precision(name: str, device: torch.device) -> Iterator[None]:
    """The switches of a precision around a block: TF32 on or off, autocast to bf16 or fp16 or none."""
    dtype, tf32 = PRECISIONS[name]
    with exact_float32():  # restores the switches after
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
        with torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext():
            yield


def available_precisions(device: torch.device, cpu_bf16: bool) -> list[str]:
    """What this device runs at speed: all four on a CUDA GPU (bf16 where supported); float32 and, on a
    CPU with AMX or AVX-512 BF16, bf16 on a CPU."""
    if device.type == "cuda":
        return ["exact", "tf32"] + (["bf16"] if torch.cuda.is_bf16_supported() else []) + ["fp16"]
    return ["exact"] + (["bf16"] if cpu_bf16 else [])


def channels_last(tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Images in NHWC (NDHWC for 3D); labels and other tensors as they are."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    return tuple(t.contiguous(memory_format=formats[t.dim()]) if t.dim() in formats else t for t in tensors)


def as_variant(network: torch.nn.Module, inputs: tuple[torch.Tensor, ...], layout: str, cast: Optional[torch.dtype]):
    """A copy of the network (and its inputs) in a memory layout ("contiguous" or "channels_last") and,
    with ``cast``, with its weights and inputs stored in that dtype instead of autocast."""
    network = copy.deepcopy(network)
    if cast is not None:
        network = network.to(cast)
        inputs = tuple(t.to(cast) if t.is_floating_point() else t for t in inputs)
    if layout == "channels_last":
        dims = inputs[0].dim()
        network = network.to(memory_format=torch.channels_last if dims == 4 else torch.channels_last_3d)
        inputs = channels_last(inputs)
    return network.eval(), inputs


def conv_peak(device: torch.device, name: str, shape: tuple[int, int, int, int], min_seconds: float) -> dict:
    """The device's rate on the 3x3, 256-channel convolution generators spend their time in, in both
    layouts; the faster one is the peak a network's rate is compared with."""
    batch, channels, height, width = shape
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(device).eval()
    x = torch.randn(shape, device=device)
    flops = 2.0 * channels * channels * 9 * batch * height * width
    rates = {}
    for layout in ("contiguous", "channels_last"):
        net, (xv,) = as_variant(conv, (x,), layout, None)
        with torch.inference_mode(), precision(name, device):
            rates[layout] = flops / seconds_per_call(lambda: net(xv), device, min_seconds) / 1e9
    best = max(rates, key=rates.get)
    return {"precision": name, "shape": list(shape), "gflops": rates[best], "layout": best,
            **{f"{layout}_gflops": rate for layout, rate in rates.items()}}


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> Optional[float]:
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


class Budget:
    """The run's wall-clock allowance: each part asks before it starts what it needs at least, and what
    does not fit is recorded as skipped, so the whole run ends inside its limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.start, self.skipped = seconds, time.perf_counter(), []

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)

    def allows(self, what: str, needs: float) -> bool:
        if self.left() >= needs:
            return True
        self.skipped.append(f"{what} (needed {needs:.0f} s, {max(self.left(), 0):.0f} s left)")
        return False
