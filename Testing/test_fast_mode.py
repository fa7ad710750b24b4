"""Fast mode is measured before it is used: bf16 and fp16 error per model, refusal where unmeasured or over
the limit, and an exact recomputation where reduced precision overflows."""
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from torch import nn

from conftest import DATA, make_package
from GANTranslateLib import fast_mode, network_runner
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_package import load_package, write_card
from GANTranslateLib.translation import InferenceOptions, translate_image

T2 = DATA / "tcga_t2_brats_crop.nrrd"
PERCENTILE = {"method": "percentile", "fixed_low": 0, "high": 99.5, "mask": "nonzero", "reference": [0, 1000]}


def small_unet(tmp_path: Path):
    return make_package(tmp_path / "unet", id="unet", normalization={"T1": PERCENTILE, "T2": PERCENTILE},
                        architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 8, "norm": "instance"}})


class OverflowsInHalf(nn.Module):
    """The identity in float32; in fp16 its intermediate (x * 1e5) overflows to infinity."""
    size_divisor = 1

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(1e5), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.gain) / self.gain


def test_check_fast_measures_both_precisions_on_any_cpu_and_records_them(tmp_path: Path, capsys) -> None:
    package = small_unet(tmp_path)
    assert main(["models", "check-fast", str(package.path), "-i", str(T2), "--record"]) == 0
    out = capsys.readouterr().out
    assert "bf16: PSNR" in out and "fp16: PSNR" in out
    record = load_package(package.path).card.data["fast_mode"]
    assert record["direction"] == "T1->T2" and record["volumes"] == [str(T2)] and record["torch"] == torch.__version__
    for precision in ("bf16", "fp16"):
        entry = record[precision]
        assert 30 < entry["psnr_db"] < 99 and 0 < entry["mean_abs"] <= entry["max_abs"] and entry["allowed"]
    assert record["fp16"]["psnr_db"] > record["bf16"]["psnr_db"]  # fp16 keeps 3 more bits of mantissa


def test_fast_mode_refuses_a_model_without_the_devices_measurement(tmp_path: Path, monkeypatch) -> None:
    package = small_unet(tmp_path)
    monkeypatch.setattr("GANTranslateLib.translation.device_precision", lambda device: "bf16")
    with pytest.raises(GANTranslateError, match="no measured bf16 error.*check-fast"):
        translate_image(sitk.ReadImage(str(T2)), package, options=InferenceOptions(precision="fast", compile="never"))


def test_fast_mode_refuses_a_model_over_its_limit(tmp_path: Path, monkeypatch) -> None:
    package = small_unet(tmp_path)
    poor = {"psnr_db": 31.0, "mean_abs": 3.0, "max_abs": 40.0, "allowed": False}
    write_card(package.path, {**package.card.data, "fast_mode": {"direction": "T1->T2", "volumes": [], "torch": "x",
                                                                 "method": "test", "bf16": poor}})
    monkeypatch.setattr("GANTranslateLib.translation.device_precision", lambda device: "bf16")
    with pytest.raises(GANTranslateError, match="refuses fast mode: bf16 moves its output too far"):
        translate_image(sitk.ReadImage(str(T2)), load_package(package.path),
                        options=InferenceOptions(precision="fast", compile="never"))


def test_an_overflow_in_fp16_is_measured_as_such() -> None:
    network = fast_mode.ReducedPrecision(OverflowsInHalf(), torch.float16)
    overflowed = network(torch.full((1, 1, 4, 4), 0.9)).numpy()
    assert not np.isfinite(overflowed).all()
    assert fast_mode.compare([np.full(overflowed.shape, 0.9, np.float32)], [overflowed], "T2") == {
        "psnr_db": 0.0, "mean_abs": None, "max_abs": None, "non_finite": True, "allowed": False}


def test_a_non_finite_fast_batch_is_computed_again_exactly(tmp_path: Path, monkeypatch) -> None:
    """The runner in fast mode with fp16 weights (as on a GPU without bf16): the overflowing network gives
    infinity, and the batch is recomputed in float32 with a warning."""
    package = make_package(tmp_path / "id", normalization={"T1": PERCENTILE, "T2": PERCENTILE})
    entry = {"psnr_db": 60.0, "mean_abs": 0.1, "max_abs": 1.0, "allowed": True}
    write_card(package.path, {**package.card.data, "fast_mode": {"direction": "T1->T2", "volumes": [], "torch": "x",
                                                                 "method": "test", "fp16": entry}})
    package = load_package(package.path)
    for module in (network_runner, __import__("GANTranslateLib.translation", fromlist=["x"])):
        monkeypatch.setattr(module, "device_precision", lambda device: "fp16")
    image = sitk.ReadImage(str(T2))
    exact = translate_image(image, package, options=InferenceOptions(compile="never"), network=OverflowsInHalf())
    fast = translate_image(image, package, options=InferenceOptions(precision="fast", compile="never"),
                           network=OverflowsInHalf())
    assert np.isfinite(sitk.GetArrayFromImage(fast.image)).all()
    # recomputed batches are exact; slices too dark to overflow keep fp16's rounding (11 bits)
    np.testing.assert_allclose(sitk.GetArrayFromImage(fast.image), sitk.GetArrayFromImage(exact.image), rtol=2e-3, atol=0.2)
    assert any("non-finite values" in w and "computed again exactly" in w for w in fast.warnings)
