"""Choosing where the network runs and at what precision."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

from .errors import GANTranslateError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU. A named device that is absent is an error, not a fallback."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GANTranslateError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GANTranslateError(
            "CUDA was requested but this PyTorch sees no CUDA GPU; install a CUDA build of PyTorch or use --device cpu"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise GANTranslateError(f"there is no GPU {device.index} (found {torch.cuda.device_count()}); pick another")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise GANTranslateError("Apple MPS was requested but is not available here; use --device cpu")
    return device


def precision_description(device, reduced) -> str:
    """What ran, for the user: "float32", "bf16 on AMX", "fp16 on CUDA"... (fast mode is never silent)."""
    if reduced is None:
        return "float32"
    if device.type != "cpu":
        return f"{reduced} on {device.type.upper()}"
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        flags = ""
    return f"{reduced} on {'AMX' if 'amx_bf16' in flags else 'AVX-512-BF16'}"


def cpu_has_fast_bf16() -> bool:
    """True where the CPU multiplies bf16 natively (AMX or AVX-512 BF16), so bf16 is actually faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


@contextmanager
def exact_float32() -> Iterator[None]:
    """Float32 that is float32 on a GPU too: cuDNN runs float32 convolutions as TF32 (a 10-bit mantissa) by
    default on Ampere and later, which is fast mode's kind of error under exact's name. Off for the
    block, then as it was (the flags do nothing on a CPU)."""
    convolutions, matmuls = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = convolutions, matmuls
