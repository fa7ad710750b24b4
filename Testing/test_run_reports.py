"""What ran is said: the precision (fast mode names bf16 and the CPU feature), and compiling, when it happens
and why, or that the compiled network came from the cache."""
from pathlib import Path

import pytest

from conftest import DATA, make_package
from GANTranslateLib.cli import main
from GANTranslateLib.compiled_network import compiler_available

SCAN = DATA / "tcga_t2_brats_crop.nrrd"
UNET = {"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4, "norm": "instance"}}
MEASURED = {"direction": "T1->T2", "volumes": ["a volume"], "torch": "any", "method": "stated",
            "bf16": {"psnr_db": 50.0, "mean_abs": 0.001, "max_abs": 0.01, "allowed": True}}


def predict(package, out: Path, *extra: str) -> int:
    return main(["predict", "-m", str(package.path), "-i", str(SCAN), "-o", str(out), "--progress", "none", *extra])


def test_the_precision_that_ran_is_said(tmp_path: Path, capsys, monkeypatch) -> None:
    """Fast mode was silent: the user could not tell bf16 from float32."""
    package = make_package(tmp_path / "p", architecture=UNET, fast_mode=MEASURED)
    assert predict(package, tmp_path / "a.nrrd", "--compile", "never") == 0
    assert "on cpu, float32, " in capsys.readouterr().out
    monkeypatch.setattr("GANTranslateLib.translation.device_precision", lambda device: "bf16")
    monkeypatch.setattr("GANTranslateLib.network_runner.device_precision", lambda device: "bf16")
    assert predict(package, tmp_path / "b.nrrd", "--precision", "fast", "--compile", "never") == 0
    out = capsys.readouterr().out
    assert "on cpu, bf16 on AMX, " in out or "on cpu, bf16 on AVX-512-BF16, " in out


@pytest.mark.skipif(not compiler_available(), reason="no C++ compiler on this machine")
def test_compiling_is_said_and_a_cached_model_says_it_is_cached(tmp_path: Path, capsys) -> None:
    """A 62 s volume beside a 19 s one on the same grid, with no word; `models compile` said nothing of its cache."""
    package = make_package(tmp_path / "p", architecture=UNET)
    assert main(["models", "compile", str(package.path), "--precision", "exact"]) == 0
    assert capsys.readouterr().out.startswith("compiled identity-test (exact) into ")
    assert main(["models", "compile", str(package.path), "--precision", "exact"]) == 0
    assert "identity-test (exact) is compiled already" in capsys.readouterr().out
    assert predict(package, tmp_path / "a.nrrd", "--compile", "always") == 0
    out = capsys.readouterr().out
    assert "compiled network from the cache" in out or "compiled the network now (asked with --compile always" in out
