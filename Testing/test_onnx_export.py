"""ONNX export: every bundled architecture runs in ONNX Runtime as it does in the engine (within 1e-4 of the
normalised range), at sizes other than the one exported, with the card beside the file and inside it."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_package
from GANTranslateLib.cli import main
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_registry import BUNDLED_MODELS, find_package
from GANTranslateLib.network_runner import NetworkRunner

onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX Runtime is in the test extra: pip install -e '.[test]'")
pytest.importorskip("onnxscript", reason="the ONNX exporter needs onnxscript: pip install -e '.[onnx]'")

BUNDLED = sorted(p.name for p in BUNDLED_MODELS.iterdir() if (p / "model.json").is_file())


def onnx_output(path: Path, feeds: dict) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


@pytest.mark.parametrize("model_id", BUNDLED)
def test_every_bundled_model_runs_in_onnx_runtime_as_in_the_engine(tmp_path: Path, model_id: str, capsys) -> None:
    package = find_package(model_id)
    card = package.card
    out = tmp_path / f"{model_id}.onnx"
    assert main(["models", "export-onnx", model_id, "-o", str(out)]) == 0
    assert "opset 18" in capsys.readouterr().out
    beside = json.loads(out.with_name(f"{model_id}.model.json").read_text(encoding="utf-8"))
    assert beside == card.data
    source, target = card.directions[-1]
    runner = NetworkRunner(package.build_network(), card, source, target, torch.device("cpu"), compile="never")
    divisor = int(getattr(runner.network, "size_divisor", 1))
    rng = np.random.default_rng(0)
    for height, width in ((3 * divisor, 2 * divisor), (2 * divisor, 5 * divisor)):  # not the exported size
        image = rng.uniform(-1, 1, (1, card.image_channels, height, width)).astype(np.float32)
        image[..., :4, :] = -1  # some background, which the prior keeps at -1
        feeds = {"image": image}
        if card.conditional:
            feeds["target"] = np.array([card.domain_index(target)], np.int64)
            if card.has_intensity_prior:
                feeds["source"] = np.array([card.domain_index(source)], np.int64)
        expected = runner(torch.from_numpy(image)).numpy()
        np.testing.assert_allclose(onnx_output(out, feeds), expected, atol=1e-4)


def test_the_card_rides_inside_the_onnx_file(tmp_path: Path) -> None:
    import onnx

    package = make_package(tmp_path / "p", architecture={"name": "unet_generator", "args": {"num_downs": 5, "ngf": 4}})
    out = tmp_path / "m.onnx"
    assert main(["models", "export-onnx", str(package.path), "-o", str(out)]) == 0
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(metadata["gantranslate_card"]) == package.card.data
    assert json.loads(metadata["gantranslate_inputs"])["size_divisor"] == 32


def test_export_never_replaces_a_file_unasked(tmp_path: Path) -> None:
    from GANTranslateLib.onnx_export import export_onnx

    package = make_package(tmp_path / "p")
    out = tmp_path / "m.onnx"
    out.write_text("someone's file", encoding="utf-8")
    with pytest.raises(GANTranslateError, match="exists; pass --force"):
        export_onnx(package, out)
    assert out.read_text(encoding="utf-8") == "someone's file"
    with pytest.raises(GANTranslateError, match="give an .onnx file name"):
        export_onnx(package, tmp_path / "m.pt")
