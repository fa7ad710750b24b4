"""Ahead-of-time compiled networks for CPU inference (PyTorch AOTInductor), cached on disk.

Why: on a CPU an eager generator already spends most of its time in oneDNN convolutions; compiling
with frozen weights fuses the normalisations and activations around them and measured about 1.3x in
float32 and 2.5x in bf16 (bench/). Compiling costs tens of seconds, so a compiled network is built
once per weights, precision, batch size and PyTorch version, stored in the user's cache, and loaded
in well under a second afterwards. Spatial sizes stay dynamic (multiples of the network's size
divisor), so one compiled file serves every volume. Every new model, precision or PyTorch version
adds a file (each holds its weights), so the cache keeps the most recently used files within a size
limit and deletes the rest.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import torch

from .errors import GANTranslateError

Compiled = Callable[..., torch.Tensor]


class CorruptCacheFile(RuntimeError):
    """A cached compiled network that does not load (and has been deleted)."""

DEFAULT_CACHE_LIMIT_MB = 2048
PARTIAL_PREFIX = ".partial-"  # a compiled file being written (by this or another process)


def cache_folder() -> Path:
    """``$GANTRANSLATE_CACHE/compiled``, else ``~/.cache/gantranslate/compiled``."""
    root = os.environ.get("GANTRANSLATE_CACHE") or Path.home() / ".cache" / "gantranslate"
    return Path(root) / "compiled"


def cache_limit_bytes() -> int:
    """``$GANTRANSLATE_CACHE_MAX_MB`` megabytes, else 2 GB: room for a handful of models."""
    value = os.environ.get("GANTRANSLATE_CACHE_MAX_MB", "")
    try:
        megabytes = float(value) if value else DEFAULT_CACHE_LIMIT_MB
    except ValueError:
        raise GANTranslateError(f"GANTRANSLATE_CACHE_MAX_MB='{value}' is not a number; set it to a size in megabytes") from None
    return int(megabytes * 1024 * 1024)


def prune_cache(keep: Path, limit: int) -> list[Path]:
    """Delete the least recently used compiled files until the cache fits in ``limit`` bytes; ``keep``
    (the file just written) always stays. Returns the files deleted. A file another process is using
    may be deleted: that process keeps its open copy, or on Windows the file simply stays."""
    files = []
    for path in keep.parent.glob("*.pt2"):
        if path == keep or path.name.startswith(PARTIAL_PREFIX):  # files still being written are not touched
            continue
        try:
            info = path.stat()
        except OSError:  # deleted meanwhile by another process
            continue
        files.append((info.st_mtime, info.st_size, path))
    used, full, deleted = keep.stat().st_size, False, []
    for _, size, path in sorted(files, key=lambda entry: entry[0], reverse=True):  # most recently used first
        full = full or used + size > limit  # from the first file that does not fit on, all older go
        if not full:
            used += size
            continue
        try:
            path.unlink()
            deleted.append(path)
        except OSError:
            pass
    return deleted


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
    Written atomically; older files are pruned to the cache's size limit. Returns the file written.

    The compiler runs in a child process: it writes and builds C++, and where that fails hard (a full disk
    makes it abort the process) only the child dies, and the caller runs the network uncompiled."""
    limit = cache_limit_bytes()
    with torch.inference_mode(False), torch.no_grad():
        example = [tensor.clone() for tensor in example]  # ordinary tensors, not inference-mode ones
        try:
            exported, path = export_dynamic(network, example), dynamic_path
        except Exception:  # torch raises several kinds for a violated shape constraint
            exported, path = torch.export.export(Positional(network, len(example) - 1), tuple(example)), static_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=PARTIAL_PREFIX, dir=path.parent) as scratch:
            program, temporary = Path(scratch) / "exported.pt2", Path(scratch) / f"{PARTIAL_PREFIX}compiled.pt2"
            torch.export.save(exported, str(program))
            _compile_in_child(program, temporary)
            os.replace(temporary, path)
    prune_cache(path, limit)
    return path


_COMPILE_CHILD = """
import sys, torch
program = torch.export.load(sys.argv[1])
torch._inductor.aoti_compile_and_package(program, package_path=sys.argv[2], inductor_configs={"freezing": True})
"""


def _compile_in_child(program: Path, output: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _COMPILE_CHILD, str(program), str(output)],
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          env={**os.environ, "PYTHONUTF8": "1"})  # the compiler reads its sources in the locale's
    if done.returncode != 0 or not output.is_file():
        lines = [line for line in (done.stderr or "").strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"the compiler process ended with status {done.returncode}"
        raise RuntimeError(reason)


class Positional(torch.nn.Module):
    """A generator with a fixed positional signature (the image, then up to two index inputs such as the target
    domain), as torch.export needs to match dynamic shapes to inputs; a network taking ``*labels`` has none."""

    def __init__(self, network: torch.nn.Module, extra_inputs: int) -> None:
        super().__init__()
        self.network, self.extra_inputs = network, extra_inputs
        self.size_divisor = getattr(network, "size_divisor", 1)

    def forward(self, image: torch.Tensor, first: torch.Tensor | None = None, second: torch.Tensor | None = None) -> torch.Tensor:
        return self.network(image, *(first, second)[: self.extra_inputs])


def export_dynamic(network: torch.nn.Module, example: list[torch.Tensor]):
    """Spatial sizes any multiple of the size divisor; where a network cannot take a single-voxel
    bottleneck (some normalisations), from twice the divisor. ``example``: the image, then the label if any."""
    divisor = int(getattr(network, "size_divisor", 1))
    wrapped = Positional(network, len(example) - 1)
    for smallest in (1, 2):
        spatial = {}
        for axis in range(2, example[0].dim()):
            size = torch.export.Dim(f"size{axis}", min=smallest, max=max(4096 // divisor, 2))
            spatial[axis] = divisor * size if divisor > 1 else size
        try:
            return torch.export.export(wrapped, tuple(example), dynamic_shapes=(spatial,) + (None,) * (len(example) - 1))
        except Exception:
            if smallest == 2 or min(example[0].shape[2:]) < 2 * divisor:
                raise


def load_compiled(path: Path) -> Compiled:
    """Load a compiled network and mark it as recently used, so that pruning spares it. A file that does
    not load (cut short by a full disk, damaged) is deleted, so that the next use compiles it afresh."""
    try:
        compiled = torch._inductor.aoti_load_package(str(path))
    except Exception as error:
        path.unlink(missing_ok=True)
        raise CorruptCacheFile(f"the compiled network {path} did not load ({str(error).splitlines()[0] if str(error) else type(error).__name__}); "
                               "it was deleted and will be compiled again") from None
    try:
        os.utime(path)
    except OSError:  # a read-only cache still serves
        pass
    return compiled
