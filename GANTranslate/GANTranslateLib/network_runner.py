"""Running the network on batches: exact or fast, eager or compiled where compiling pays.

Exact is float32 and, compiled or not, equal to the eager network within 1e-4 of the [-1, 1] range
(Testing/test_network_runner.py). Fast is bf16 weights and activations on a CPU with AMX or AVX-512
BF16, fp16 autocast on CUDA; its error is measured per model by bench/ and recorded in the card.
"""
from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Optional

import torch

from .compiled_network import Compiled, cache_folder, compile_network, compiler_available, load_compiled, network_key
from .device import cpu_has_fast_bf16
from .errors import GANTranslateError
from .model_card import ModelCard
from .model_package import ModelPackage
from .progress import ProgressCallback, no_progress

log = logging.getLogger(__name__)

COMPILE_POLICIES = ("auto", "always", "never")
COMPILE_SECONDS = 30.0  # a ResNet-9 compiles in 20-30 s on 2 cores (bench/); smaller networks faster
COMPILED_SAVING = 0.2  # compiled float32 saves about a quarter of the network time (bench/)


class NetworkRunner:
    """Call with a (B, C, ...) float32 batch on the device; returns the network's float output.

    ``compile``: ``never`` runs eager; ``always`` compiles on first use (once, then cached);
    ``auto`` (the default) uses a compiled network already in the cache, and otherwise compiles only
    when the first batch's time says the rest of the job would repay the compile cost.
    """

    def __init__(self, network: torch.nn.Module, card: ModelCard, target: str, device: torch.device,
                 precision: str = "exact", compile: str = "auto", progress: ProgressCallback = no_progress) -> None:
        if precision not in ("exact", "fast"):
            raise GANTranslateError(f"unknown precision '{precision}' (use exact or fast)")
        if compile not in COMPILE_POLICIES:
            raise GANTranslateError(f"unknown compile policy '{compile}' (use {', '.join(COMPILE_POLICIES)})")
        self.device, self.precision, self.progress = device, precision, progress
        self.target_index = card.domain_index(target) if card.conditional else None
        self.dtype = torch.float32
        self.autocast: Optional[torch.dtype] = None
        if precision == "fast":
            if device.type == "cuda":
                self.autocast = torch.float16
            elif device.type == "cpu":
                if not cpu_has_fast_bf16():
                    raise GANTranslateError("fast mode needs a CPU with AMX or AVX-512 BF16, or a GPU; use --precision exact")
                # bf16 weights, not autocast: autocast converts every layer's weights on every call.
                network, self.dtype = copy.deepcopy(network).to(torch.bfloat16), torch.bfloat16
            else:
                raise GANTranslateError(f"fast mode is not supported on {device.type}; use --precision exact")
        self.network = network.eval()
        can_compile = device.type == "cpu" and compiler_available()
        self.policy = compile if can_compile else "never"
        self.compiled: dict[int, Optional[Compiled]] = {}  # per batch size; None: eager
        self.cache_paths: dict[int, Path] = {}
        self.expected_calls = 0
        self.calls = 0

    def expect(self, calls: int) -> None:
        """Announce how many more calls the job will make (``auto`` weighs them against compiling)."""
        self.expected_calls += calls

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        inputs = self._inputs(batch)
        size = batch.shape[0]
        if size not in self.compiled:
            timed = self._choose(size, inputs)
            if timed is not None:
                return timed
        compiled = self.compiled[size]
        if compiled is not None:
            try:
                return compiled(*inputs).float()
            except RuntimeError as error:  # e.g. a size the compiled network was not built for
                self.compiled[size] = None
                log.warning("gantranslate: running the network uncompiled (%s)", _first_line(error))
        return self._eager(inputs).float()

    def _inputs(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        batch = batch.to(self.dtype)
        if self.target_index is None:
            return (batch,)
        return batch, torch.full((batch.shape[0],), self.target_index, dtype=torch.long, device=batch.device)

    def _eager(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        if self.autocast is None:
            return self.network(*inputs)
        with torch.autocast(self.device.type, dtype=self.autocast):
            return self.network(*inputs)

    def _choose(self, size: int, inputs: tuple[torch.Tensor, ...]) -> Optional[torch.Tensor]:
        """Settle, for this batch size, on the cached compiled network, compiling now, or eager.

        Under ``auto`` with nothing cached, the batch runs eager and is timed (its output is returned);
        the job is compiled only if the remaining calls would save more than compiling costs."""
        self.compiled[size] = None
        if self.policy == "never":
            return None
        path = self.cache_paths[size] = cache_folder() / f"{network_key(self.network, inputs)}.pt2"
        if path.is_file() or self.policy == "always":
            self.compiled[size] = self._compiled(path, inputs)
            return None
        start = time.perf_counter()
        output = self._eager(inputs).float()
        remaining = self.expected_calls - self.calls
        if remaining * (time.perf_counter() - start) * COMPILED_SAVING > COMPILE_SECONDS:
            self.compiled[size] = self._compiled(path, inputs)
        return output

    def _compiled(self, path, inputs: tuple[torch.Tensor, ...]) -> Optional[Compiled]:
        """Load (compiling first if needed); any failure leaves the network eager, with a warning."""
        try:
            if not path.is_file():
                self.progress("compiling", 0, 1)  # once per model and precision, then cached
                compile_network(self.network, inputs, path)
            return load_compiled(path)
        except Exception as error:  # a compiler problem must never cost the user their result
            log.warning("gantranslate: running the network uncompiled (compiling failed: %s)", _first_line(error))
            return None


def compile_ahead(package: ModelPackage, precision: str = "exact") -> Path:
    """Compile a model's network for this CPU now (``gantranslate models compile``), so that even the
    first translation runs compiled; returns the cached file."""
    if not compiler_available():
        raise GANTranslateError("no C++ compiler found (g++, clang++ or cl); install one to compile, or run uncompiled")
    card = package.card
    runner = NetworkRunner(package.build_network(), card, card.directions[0][1], torch.device("cpu"), precision, "always")
    divisor = int(getattr(runner.network, "size_divisor", 1))
    side = divisor * max(2, -(-256 // divisor))  # a typical slice; every other size is served too
    spatial = tuple(card.patch_size) if card.mode == "3d" else (side, side)
    runner(torch.zeros(1, card.image_channels, *spatial))
    if runner.compiled[1] is None:
        raise GANTranslateError(f"compiling '{card.id}' failed (the warning above says why); it still runs uncompiled")
    return runner.cache_paths[1]


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
