"""bench/gpu.py's tiny run on the CPU: every part of the GPU benchmark runs and reports, so that the script
is ready when a GPU is (the numbers of a tiny run mean nothing, and the test reads none of them)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import gpu_report  # noqa: E402
from gpu import bundled_architectures  # noqa: E402
from gpu_parts import network_inputs  # noqa: E402

BUNDLED = REPO / "GANTranslate" / "Resources" / "Models"


def test_every_bundled_card_builds_a_network_that_takes_the_benchmark_inputs() -> None:
    """Prior channels and target labels as the engine passes them, for every bundled architecture."""
    found = bundled_architectures(BUNDLED)
    assert len(found) == len(list(BUNDLED.glob("*/model.json")))
    for name, package, network in found:
        with torch.inference_mode():
            output = network(*network_inputs(package.card, 2, 64, torch.device("cpu")))
        assert output.shape == (2, 1, 64, 64), name


def test_the_tiny_run_goes_through_every_part(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    for model_id in ("t1-to-t2-pix2pix-2d", "unified-mr-t1-t2-flair-2d"):  # a plain one; one with a target label
        (cards / model_id).mkdir(parents=True)
        shutil.copyfile(BUNDLED / model_id / "model.json", cards / model_id / "model.json")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "gpu.py"), "--tiny", "--cards", str(cards),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results-gpu.json").read_text(encoding="utf-8"))
    assert results["tiny"] and results["device"].startswith("CPU") and not results["skipped"]
    assert results["errors"] == [] and results["complete"]
    assert set(results["peaks"]) == set(results["precisions"]) and "exact" in results["precisions"]
    names = [row["network"] for row in results["networks"]]
    assert names[2:] == ["bundled: t1-to-t2-pix2pix-2d", "bundled: unified-mr-t1-t2-flair-2d"] and len(names) == 4
    for row in results["networks"]:
        assert set(row["best"]) == set(results["precisions"]) - {"tf32"} and row["engine"]["runs"]
        assert {r["layout"] for r in row["rates"]} == {"contiguous", "channels_last"}
    assert results["pipeline"]["shares_of_engine_exact"]["network_exact"] > 0
    assert results["patch"]["runs"] and all("seconds" in run for run in results["patch"]["runs"])
    assert [t["setup"] for t in results["training"]][-1] == "pix2pix, the generator of t1-to-t2-pix2pix-2d"
    assert results["compiled"] and all(c["slices_per_s"] for c in results["compiled"])
    assert all("steps_per_s" in t for t in results["training"])
    report = (tmp_path / "out" / "results-gpu.md").read_text(encoding="utf-8")
    assert "convolution peak" in report and "trainer step" in report and "Pipeline stages" in report
    assert "Suggested from this run, over the 2 bundled architectures" in report
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- gpu-results:start -->\npending\n<!-- gpu-results:end -->\nafter\n", encoding="utf-8")
    assert gpu_report.main([str(tmp_path / "out" / "results-gpu.json"), "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n<!-- gpu-results:start -->\nMeasured by") and text.endswith("-->\nafter\n")
    assert "pending" not in text and "| bundled: unified-mr-t1-t2-flair-2d |" in text


def test_the_readme_has_one_gpu_results_block() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(gpu_report.START) == 1 and text.count(gpu_report.END) == 1
    assert text.index(gpu_report.START) < text.index(gpu_report.END)


def test_without_a_gpu_the_full_run_says_so() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "gpu.py"), "--device", "cuda"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "no CUDA GPU here" in done.stderr


def test_suggested_defaults_come_from_the_measured_rates() -> None:
    from gpu_report import suggested_defaults

    def rate(batch, slices_per_s, layout="contiguous", weights="autocast", benchmark=False):
        return {"precision": "bf16", "batch": batch, "layout": layout, "weights": weights, "cudnn_benchmark": benchmark,
                "slices_per_s": slices_per_s}

    rates = [rate(1, 10.0), rate(8, 96.0), rate(32, 100.0), rate(64, None),  # None: out of memory
             rate(32, 106.0, layout="channels_last"), rate(32, 104.0, weights="cast"), rate(32, 90.0, benchmark=True)]
    results = {"precisions": ["bf16"], "networks": [{"network": "bundled: a", "rates": rates},
                                                    {"network": "ResNet-9", "rates": [rate(1, 1.0), rate(128, 500.0)]}]}
    s = suggested_defaults(results)
    assert s["networks"] == 1 and s["batch"] == {"bf16": 8}  # 96 is within 5 % of 100; the benchmark net is not counted
    assert s["variants"] == {"channels-last": {"bf16": 1}, "weights cast instead of autocast": {"bf16": 0},
                             "cuDNN benchmark mode": {"bf16": 0}}
