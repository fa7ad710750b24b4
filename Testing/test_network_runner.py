"""The network runner: compiled exact output equals eager, compiled files are cached and reused, a
compile failure falls back to eager, and fast mode stays near exact."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import torch

from GANTranslateLib import network_runner
from GANTranslateLib.cli import main
from GANTranslateLib.compiled_network import cache_folder, cache_limit_bytes, compiler_available, prune_cache
from GANTranslateLib.device import cpu_has_fast_bf16
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.network_runner import NetworkRunner
from GANTranslateLib.translation import InferenceOptions, translate_image

from conftest import make_package

CPU = torch.device("cpu")
UNIFIED = dict(
    id="small-unified", domains=["T1", "T2", "FLAIR"], directions=[["T1", "T2"], ["T1", "FLAIR"]],
    conditioning="target_domain",
    architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance", "input_nc": 4}},
    normalization={d: {"method": "window", "min": 0, "max": 1000} for d in ("T1", "T2", "FLAIR")},
)


def batch(height: int = 64, width: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 1, height, width, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def eager(package, x: torch.Tensor, target: str) -> torch.Tensor:
    network = package.build_network().eval()
    with torch.no_grad():
        return network(x, torch.tensor([package.card.domain_index(target)]))


@pytest.mark.skipif(not compiler_available(), reason="no C++ compiler for AOTInductor")
def test_compiled_ahead_equals_eager_and_is_reused_for_any_size(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GANTRANSLATE_CACHE", str(tmp_path / "cache"))
    package = make_package(tmp_path / "unified", **UNIFIED)
    assert main(["models", "compile", str(package.path), "--precision", "exact"]) == 0
    compiled = list(cache_folder().glob("*.pt2"))
    assert len(compiled) == 1 and str(compiled[0]) in capsys.readouterr().out

    def must_not_compile(*args, **kwargs):
        raise AssertionError("the cached compiled network must be reused, not rebuilt")

    monkeypatch.setattr(network_runner, "compile_network", must_not_compile)
    os.utime(compiled[0], (1e9, 1e9))  # long unused: loading it marks it used, so pruning spares it
    runner = NetworkRunner(package.build_network(), package.card, "T1", "FLAIR", CPU, compile="auto")
    for size in ((64, 64), (96, 64)):  # spatial sizes are dynamic: one compiled file serves all
        x = batch(*size, seed=size[0])
        assert (runner(x) - eager(package, x, "FLAIR")).abs().max() < 1e-4
    assert 1 in runner.any_size and runner.cache_paths[(1, 1, 64, 64)] == compiled[0]
    assert compiled[0].stat().st_mtime > 1e9


@pytest.mark.skipif(not compiler_available(), reason="no C++ compiler for AOTInductor")
def test_a_network_that_cannot_take_any_size_is_compiled_for_its_own_size_only(tmp_path: Path, monkeypatch) -> None:
    """At 32 rows this U-Net's bottleneck is one voxel, which dynamic export rejects (as a U-Net-256 at 256²)."""
    monkeypatch.setenv("GANTRANSLATE_CACHE", str(tmp_path / "cache"))
    package = make_package(tmp_path / "unified", seed=6, **UNIFIED)
    runner = NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU, compile="always")
    small = batch(32, 64)
    assert (runner(small) - eager(package, small, "T2")).abs().max() < 1e-4
    assert runner.cache_paths[(1, 1, 32, 64)].name.endswith("-32x64.pt2") and runner.any_size == {}
    other = batch(64, 64)  # another size: not served by the file for 32x64; compiled anew (policy always)
    monkeypatch.setenv("GANTRANSLATE_CACHE_MAX_MB", "0.001")  # room for one file only: the older one goes
    assert (runner(other) - eager(package, other, "T2")).abs().max() < 1e-4
    assert runner.cache_paths[(1, 1, 64, 64)].name.count("-") == 0 and 1 in runner.any_size
    assert list(cache_folder().glob("*.pt2")) == [runner.cache_paths[(1, 1, 64, 64)]]
    assert (runner(small) - eager(package, small, "T2")).abs().max() < 1e-4  # the loaded network still serves


def test_the_cache_keeps_the_most_recently_used_files_within_its_limit(tmp_path: Path) -> None:
    sizes = {"old.pt2": 400, "recent.pt2": 300, "older.pt2": 200, "new.pt2": 500}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    for name, stamp in {"older.pt2": 1e9, "old.pt2": 2e9, "recent.pt2": 3e9, "new.pt2": 4e9}.items():
        os.utime(tmp_path / name, (stamp, stamp))
    (tmp_path / "notes.txt").write_bytes(b"x" * 5000)  # not a compiled file: never touched
    (tmp_path / ".partial-abc.pt2").write_bytes(b"x" * 5000)  # being written by another process: never touched
    os.utime(tmp_path / ".partial-abc.pt2", (1, 1))
    deleted = prune_cache(tmp_path / "new.pt2", limit=1000)
    assert sorted(path.name for path in deleted) == ["old.pt2", "older.pt2"]  # least recently used first, until 500 + 300 fit
    assert sorted(path.name for path in tmp_path.iterdir()) == [".partial-abc.pt2", "new.pt2", "notes.txt", "recent.pt2"]
    assert prune_cache(tmp_path / "new.pt2", limit=10) == [tmp_path / "recent.pt2"]  # the new file always stays


def test_the_cache_limit_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("GANTRANSLATE_CACHE_MAX_MB", raising=False)
    assert cache_limit_bytes() == 2048 * 1024 * 1024
    monkeypatch.setenv("GANTRANSLATE_CACHE_MAX_MB", "1.5")
    assert cache_limit_bytes() == 1572864
    monkeypatch.setenv("GANTRANSLATE_CACHE_MAX_MB", "lots")
    with pytest.raises(GANTranslateError, match="GANTRANSLATE_CACHE_MAX_MB='lots' is not a number"):
        cache_limit_bytes()


def test_compiling_ahead_without_a_compiler_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    package = make_package(tmp_path / "unified", **UNIFIED)
    monkeypatch.setattr(network_runner, "compiler_available", lambda: False)
    assert main(["models", "compile", str(package.path), "--precision", "exact"]) == 1
    assert "no C++ compiler found" in capsys.readouterr().err


def test_auto_skips_compiling_a_short_job_and_never_never_compiles(tmp_path: Path, monkeypatch) -> None:
    package = make_package(tmp_path / "unified", seed=3, **UNIFIED)
    calls = []
    monkeypatch.setattr(network_runner, "compile_network", lambda *a: calls.append(a))
    for policy in ("auto", "never"):
        runner = NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU, compile=policy)
        runner.expect(3)
        for _ in range(3):
            runner(batch())
    assert calls == []


def test_auto_compiles_when_the_job_repays_it_and_falls_back_to_eager_on_failure(tmp_path: Path, monkeypatch, caplog) -> None:
    package = make_package(tmp_path / "unified", seed=4, **UNIFIED)
    monkeypatch.setattr(network_runner, "compiler_available", lambda: True)
    monkeypatch.setattr(network_runner, "COMPILE_SECONDS", 0.0)

    def broken_compiler(*args):
        raise RuntimeError("no C++ compiler found\nlong traceback")

    monkeypatch.setattr(network_runner, "compile_network", broken_compiler)
    runner = NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU)
    runner.expect(10)
    with caplog.at_level(logging.WARNING):
        outputs = [runner(batch()) for _ in range(3)]
    assert "uncompiled (compiling failed: no C++ compiler found)" in caplog.text
    assert runner.compiled[(1, 1, 64, 64)] is None
    for output in outputs:
        assert (output - eager(package, batch(), "T2")).abs().max() < 1e-6


def test_without_a_compiler_the_network_stays_eager(tmp_path: Path, monkeypatch) -> None:
    package = make_package(tmp_path / "unified", **UNIFIED)
    monkeypatch.setattr(network_runner, "compiler_available", lambda: False)
    assert NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU, compile="always").policy == "never"


@pytest.mark.skipif(not cpu_has_fast_bf16(), reason="this CPU has no fast bf16")
def test_fast_mode_runs_bf16_weights_and_stays_near_exact(tmp_path: Path) -> None:
    package = make_package(tmp_path / "unified", **UNIFIED)
    network = package.build_network()
    runner = NetworkRunner(network, package.card, "T1", "T2", CPU, precision="fast", compile="never")
    assert next(runner.network.parameters()).dtype == torch.bfloat16
    assert next(network.parameters()).dtype == torch.float32, "the caller's network must stay float32"
    output = runner(batch())
    assert output.dtype == torch.float32
    difference = (output - eager(package, batch(), "T2")).abs()
    assert 0 < difference.max() < 0.1


def test_bad_policy_and_precision_are_named(tmp_path: Path, identity_package, oblique_t1) -> None:
    import SimpleITK as sitk

    image = sitk.ReadImage(str(oblique_t1))
    with pytest.raises(GANTranslateError, match="unknown compile policy 'sometimes'"):
        translate_image(image, identity_package, options=InferenceOptions(compile="sometimes"))
    with pytest.raises(GANTranslateError, match="unknown precision 'half'"):
        translate_image(image, identity_package, options=InferenceOptions(precision="half"))


def test_a_compiled_network_that_fails_at_run_time_is_dropped_for_eager(tmp_path: Path, caplog) -> None:
    package = make_package(tmp_path / "unified", seed=5, **UNIFIED)
    runner = NetworkRunner(package.build_network(), package.card, "T1", "T2", CPU, compile="never")

    def refuses(*inputs):
        raise RuntimeError("input size 8192 out of the compiled range")

    runner.compiled[(1, 1, 64, 64)] = refuses
    with caplog.at_level(logging.WARNING):
        output = runner(batch())
    assert "uncompiled (input size 8192 out of the compiled range)" in caplog.text
    assert runner.compiled[(1, 1, 64, 64)] is None
    assert (output - eager(package, batch(), "T2")).abs().max() < 1e-6


def test_the_cli_passes_its_compile_policy_to_the_runner(tmp_path: Path, monkeypatch, identity_package, oblique_t1) -> None:
    compiled = []
    monkeypatch.setattr(network_runner, "compiler_available", lambda: True)
    monkeypatch.setattr(network_runner, "compile_network", lambda *args: compiled.append(args))
    common = ["predict", "-m", str(identity_package.path), "-i", str(oblique_t1), "--progress", "none"]
    assert main([*common, "-o", str(tmp_path / "auto.nrrd")]) == 0  # a short job: auto does not compile
    assert compiled == []
    assert main([*common, "-o", str(tmp_path / "always.nrrd"), "--compile", "always"]) == 0
    assert len(compiled) == 1 and (tmp_path / "always.nrrd").is_file()  # the recorder compiled nothing: eager


@pytest.mark.skipif(not compiler_available(), reason="no C++ compiler for AOTInductor")
def test_a_model_with_an_intensity_prior_compiles_and_equals_eager(tmp_path: Path, monkeypatch) -> None:
    from GANTranslateLib.intensity_prior import with_prior

    monkeypatch.setenv("GANTRANSLATE_CACHE", str(tmp_path / "cache"))
    ramp = torch.linspace(1, -1, 256)  # an inverting table: the prior differs from the image
    args = dict(UNIFIED["architecture"]["args"], input_nc=5)
    package = make_package(tmp_path / "prior", seed=3, **dict(
        UNIFIED, architecture={"name": "unet_generator", "args": args, "residual": "prior"},
        intensity_prior={"tables": {"T1->T2": ramp.tolist(), "T1->FLAIR": ramp.tolist()}}))
    network = package.build_network().eval()
    for parameter in network.parameters():  # away from the zero-initialised start, so the network matters
        parameter.data.add_(torch.randn_like(parameter) * 0.05)
    runner = NetworkRunner(network, package.card, "T1", "T2", CPU, compile="always")
    x = batch(64, 64)
    with torch.no_grad():
        expected = network(with_prior(x, ramp), torch.tensor([package.card.domain_index("T2")]))
    assert (runner(x) - expected).abs().max() < 1e-4
    assert runner.compiled[(1, 1, 64, 64)] is not None


class FlagRecorder(torch.nn.Module):
    """Records the TF32 switches the network runs under (they matter on a GPU only, but are set anywhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
        return self.conv(x)


def test_exact_runs_without_tf32_and_leaves_the_switches_as_they_were(identity_package) -> None:
    """cuDNN defaults to TF32 for float32 convolutions on Ampere and later: exact turns it off for its calls."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        network = FlagRecorder()
        NetworkRunner(network, identity_package.card, "T1", "T2", CPU, precision="exact", compile="never")(batch())
        assert network.seen == [(False, False)]
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before
