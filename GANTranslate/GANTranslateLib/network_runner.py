"""Running the network on batches: exact or fast, eager or compiled where compiling pays.

Exact is float32 (on a GPU too: TF32 off, device.exact_float32) and, compiled or not, equal to the eager
network within 1e-4 of the [-1, 1] range (Testing/test_network_runner.py). Fast is bf16 weights and activations on a CPU with AMX or AVX-512
BF16, bf16 (or, where the GPU lacks it, fp16) autocast on CUDA; its error is measured per model and
precision (fast_mode.py) and recorded in the card. A fast batch with a non-finite value (an fp16
overflow) is computed again exactly.
"""
from __future__ import annotations

import copy
import logging
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import torch

from .compiled_network import (Compiled, CorruptCacheFile, artifact_paths, compile_network, compiler_available, load_compiled,
                               network_key)
from .device import exact_float32
from .fast_mode import PRECISIONS as REDUCED, device_precision
from .inference_options import COMPILE_POLICIES, PRECISIONS
from .errors import GANTranslateError
from .intensity_prior import with_prior
from .model_card import ModelCard
from .model_package import ModelPackage
from .progress import ProgressCallback, no_progress

log = logging.getLogger(__name__)

COMPILE_SECONDS = 30.0  # a ResNet-9 compiles in 20-30 s on 2 cores (bench/); smaller networks faster
COMPILED_SAVING = 0.2  # compiled float32 saved 12-27 % of ResNet-9's network time (bench/); assume 20 %


class NetworkRunner:
    """Call with a (B, C, ...) float32 batch on the device; returns the network's float output.

    ``compile``: ``never`` runs eager; ``always`` compiles on first use (once, then cached);
    ``auto`` (the default) uses a compiled network already in the cache, and otherwise compiles only
    when the first batch's time says the rest of the job would repay the compile cost.
    """

    def __init__(self, network: torch.nn.Module, card: ModelCard, source: str, target: str, device: torch.device,
                 precision: str = "exact", compile: str = "auto", progress: ProgressCallback = no_progress) -> None:
        if precision not in PRECISIONS:
            raise GANTranslateError(f"unknown precision '{precision}' (use exact or fast)")
        if compile not in COMPILE_POLICIES:
            raise GANTranslateError(f"unknown compile policy '{compile}' (use {', '.join(COMPILE_POLICIES)})")
        self.device, self.progress = device, progress
        self.target_index = card.domain_index(target) if card.conditional else None
        table = card.prior_table(source, target)
        self.prior = None if table is None else torch.tensor(table, dtype=torch.float32, device=device)
        self.dtype = torch.float32
        self.autocast: Optional[torch.dtype] = None
        self.exact_network = network.eval()  # float32: what a non-finite fast batch is computed again with
        self.reduced = device_precision(device) if precision == "fast" else None  # "bf16", "fp16" or None
        self.recomputed = 0  # fast batches computed again exactly
        if precision == "fast":
            if self.reduced is None:
                raise GANTranslateError("fast mode needs a CPU with AMX or AVX-512 BF16, or a CUDA GPU; use --precision exact")
            if device.type == "cuda":
                self.autocast = REDUCED[self.reduced]
            else:
                # reduced-precision weights, not autocast: autocast converts every layer's weights on every call.
                self.dtype = REDUCED[self.reduced]
                network = copy.deepcopy(network).to(self.dtype)
        self.network = network.eval()
        can_compile = device.type == "cpu" and compiler_available()
        self.policy = compile if can_compile else "never"
        self.compiled: dict[tuple, Optional[Compiled]] = {}  # per input shape; None: eager
        self.cache_paths: dict[tuple, Path] = {}
        self.any_size: dict[int, Compiled] = {}  # per batch size: compiled for every spatial size
        self.expected_calls = 0
        self.calls = 0
        self.notes: list[str] = []  # compiled now or taken from the cache, and why: said with the result

    def expect(self, calls: int) -> None:
        """Announce how many more calls the job will make (``auto`` weighs them against compiling)."""
        self.expected_calls += calls

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        with exact_float32() if self.reduced is None else nullcontext():
            output = self._run(batch)
        if self.reduced is not None and not torch.isfinite(output).all():
            self.recomputed += 1
            inputs = tuple(t.float() if t.is_floating_point() else t for t in self._inputs(batch))
            with exact_float32():
                output = self.exact_network(*inputs).float()
        return output

    def _run(self, batch: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        inputs = self._inputs(batch)
        shape = tuple(batch.shape)
        if shape not in self.compiled:
            if batch.shape[0] in self.any_size:
                self.compiled[shape] = self.any_size[batch.shape[0]]
            else:
                timed = self._choose(shape, inputs)
                if timed is not None:
                    return timed
        compiled = self.compiled[shape]
        if compiled is not None:
            try:
                return compiled(*inputs).float()
            except RuntimeError as error:  # e.g. a size the compiled network was not built for
                self.compiled[shape] = None
                log.warning("gantranslate: running the network uncompiled (%s)", _first_line(error))
        return self._eager(inputs).float()

    def _inputs(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.prior is not None:
            batch = with_prior(batch, self.prior)
        batch = batch.to(self.dtype)
        if self.target_index is None:
            return (batch,)
        return batch, torch.full((batch.shape[0],), self.target_index, dtype=torch.long, device=batch.device)

    def _eager(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        if self.autocast is None:
            return self.network(*inputs)
        with torch.autocast(self.device.type, dtype=self.autocast):
            return self.network(*inputs)

    def _choose(self, shape: tuple, inputs: tuple[torch.Tensor, ...]) -> Optional[torch.Tensor]:
        """Settle, for this input shape, on a cached compiled network, compiling now, or eager.

        Under ``auto`` with nothing cached, the batch runs eager and is timed (its output is returned);
        the job is compiled only if the remaining calls would save more than compiling costs."""
        self.compiled[shape] = None
        if self.policy == "never":
            return None
        paths = artifact_paths(network_key(self.network, inputs), shape[2:])
        cached = next((path for path in paths if path.is_file()), None)
        if cached is not None or self.policy == "always":
            self._use(shape, cached, paths, inputs, "asked with --compile always")
            return None
        start = time.perf_counter()
        output = self._eager(inputs).float()
        remaining = self.expected_calls - self.calls
        if remaining * (time.perf_counter() - start) * COMPILED_SAVING > COMPILE_SECONDS:
            self._use(shape, None, paths, inputs, f"the {remaining} batches left repay its cost")
        return output

    def _use(self, shape: tuple, cached: Optional[Path], paths: tuple[Path, Path], inputs, reason: str) -> None:
        """Load the compiled network (compiling it first if not cached); any failure leaves this shape
        eager, with a warning, for a compiler problem must never cost the user their result."""
        try:
            if cached is not None:
                try:
                    compiled = load_compiled(cached)
                except CorruptCacheFile as error:
                    log.warning("gantranslate: %s", error)
                    cached = None
            if cached is None:
                self.progress("compiling", 0, 1)  # once per model and precision, then cached
                start = time.perf_counter()
                cached = compile_network(self.network, inputs, *paths)
                compiled = load_compiled(cached)
                self.notes.append(f"compiled the network now ({reason}; {time.perf_counter() - start:.0f} s, "
                                  "once: later runs take it from the cache)")
            else:
                self.notes.append("compiled network from the cache")
        except Exception as error:
            log.warning("gantranslate: running the network uncompiled (compiling failed: %s)", _first_line(error))
            return
        self.compiled[shape], self.cache_paths[shape] = compiled, cached
        if cached == paths[0]:
            self.any_size[shape[0]] = compiled


def compile_ahead(package: ModelPackage, precision: str = "exact") -> tuple[Path, bool]:
    """Compile a model's network for this CPU now (``gantranslate models compile``), so that even the
    first translation runs compiled; returns the cached file, and whether it was in the cache already."""
    if not compiler_available():
        raise GANTranslateError("no C++ compiler found (g++, clang++ or cl); install one to compile, or run uncompiled")
    card = package.card
    runner = NetworkRunner(package.build_network(), card, *card.directions[0], torch.device("cpu"), precision, "always")
    divisor = int(getattr(runner.network, "size_divisor", 1))
    side = divisor * max(1, -(-256 // divisor))  # a typical slice; other sizes too, where the network allows
    shape = (1, card.image_channels, *(tuple(reversed(card.patch_size)) if card.mode == "3d" else (side, side)))
    runner(torch.zeros(shape))
    if runner.compiled[shape] is None:
        raise GANTranslateError(f"compiling '{card.id}' failed (the warning above says why); it still runs uncompiled")
    return runner.cache_paths[shape], runner.notes == ["compiled network from the cache"]


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
