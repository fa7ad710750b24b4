"""Ahead-of-time compiled networks for CPU inference (PyTorch AOTInductor), cached on disk.

Why: on a CPU an eager generator already spends most of its time in oneDNN convolutions; compiling
with frozen weights fuses the normalisations and activations around them and measured about 1.3x in
float32 and 2.5x in bf16 (bench/). Compiling costs tens of seconds, so a compiled network is built
once per weights, precision, batch size and PyTorch version, stored in the user's cache, and loaded
in well under a second afterwards. Spatial sizes stay dynamic (multiples of the network's size
divisor), so one compiled file serves every volume.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import torch

Compiled = Callable[..., torch.Tensor]


def cache_folder() -> Path:
    """``$GANTRANSLATE_CACHE/compiled``, else ``~/.cache/gantranslate/compiled``."""
    root = os.environ.get("GANTRANSLATE_CACHE") or Path.home() / ".cache" / "gantranslate"
    return Path(root) / "compiled"


def network_key(network: torch.nn.Module, example: Sequence[torch.Tensor]) -> str:
    """A digest of everything a compiled file depends on: weights, architecture, inputs, PyTorch."""
    digest = hashlib.sha256()
    digest.update(f"{torch.__version__}|{type(network).__qualname__}|{getattr(network, 'size_divisor', 1)}".encode())
    for tensor in example:
        digest.update(f"|{tuple(tensor.shape[:2])}:{tensor.dim()}:{tensor.dtype}".encode())
    for name, value in network.state_dict().items():
        digest.update(f"|{name}:{tuple(value.shape)}:{value.dtype}".encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:24]


def compiler_available() -> bool:
    """AOTInductor writes and builds C++; without a compiler (common on Windows) the network stays eager."""
    return any(shutil.which(name) for name in ("g++", "c++", "clang++", "cl"))


def artifact_paths(key: str, spatial: Sequence[int]) -> tuple[Path, Path]:
    """Where the compiled network for ``key`` lives: one file for every size, or one for this size only."""
    folder = cache_folder()
    return folder / f"{key}.pt2", folder / f"{key}-{'x'.join(map(str, spatial))}.pt2"


def compile_network(network: torch.nn.Module, example: Sequence[torch.Tensor], dynamic_path: Path,
                    static_path: Path) -> Path:
    """Compile for every spatial size into ``dynamic_path``; where the network cannot be exported that
    way (a U-Net-256 narrows 256² to a single voxel), for the example's size only, into ``static_path``.
    Written atomically; returns the file written."""
    with torch.inference_mode(False), torch.no_grad():
        example = [tensor.clone() for tensor in example]  # ordinary tensors, not inference-mode ones
        try:
            exported, path = _export_dynamic(network, example), dynamic_path
        except Exception:  # torch raises several kinds for a violated shape constraint
            exported, path = torch.export.export(network, tuple(example)), static_path
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".pt2", dir=path.parent)
        os.close(handle)
        try:
            torch._inductor.aoti_compile_and_package(exported, package_path=temporary,
                                                     inductor_configs={"freezing": True})
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    return path


def _export_dynamic(network: torch.nn.Module, example: list[torch.Tensor]):
    """Spatial sizes any multiple of the size divisor; where a network cannot take a single-voxel
    bottleneck (some normalisations), from twice the divisor."""
    divisor = int(getattr(network, "size_divisor", 1))
    for smallest in (1, 2):
        spatial = {}
        for axis in range(2, example[0].dim()):
            size = torch.export.Dim(f"size{axis}", min=smallest, max=max(4096 // divisor, 2))
            spatial[axis] = divisor * size if divisor > 1 else size
        try:
            return torch.export.export(network, tuple(example), dynamic_shapes=(spatial,) + (None,) * (len(example) - 1))
        except Exception:
            if smallest == 2 or min(example[0].shape[2:]) < 2 * divisor:
                raise


def load_compiled(path: Path) -> Compiled:
    return torch._inductor.aoti_load_package(str(path))
