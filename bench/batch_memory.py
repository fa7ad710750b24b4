"""Memory across a batch: does translating many volumes with one loaded model keep memory flat?

    python bench/batch_memory.py [VOLUMES]     (default 8 volumes of 256 x 256 x 120, a bundled-size U-Net)

Translates the volumes through the engine's batch path (one network, a summary after each volume) and prints
the resident memory after each one; the claim 'memory stays flat' is the growth from the second volume to the
last, as a ratio of one volume's size (the first volume pays the one-off allocations).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "GANTranslate"))
sys.path.insert(0, str(REPO / "bench"))

from GANTranslateLib.batch_translation import batch_items, run_batch  # noqa: E402
from GANTranslateLib.model_package import save_package  # noqa: E402
from GANTranslateLib.translation import InferenceOptions  # noqa: E402
from synthetic_models import random_card, random_network  # noqa: E402

SHAPE = (120, 256, 256)


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20


def main(count: int = 8) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        args = {"num_downs": 6, "ngf": 32, "norm": "instance"}
        package = save_package(scratch / "model", random_card("unet_generator", args), random_network("unet_generator", args)[1])
        (scratch / "in").mkdir()
        rng = np.random.default_rng(0)
        for index in range(count):
            sitk.WriteImage(sitk.GetImageFromArray(rng.uniform(0, 1000, SHAPE).astype(np.float32)),
                            str(scratch / "in" / f"volume{index:02d}.nrrd"))
        after = []
        items = batch_items(str(scratch / "in"), scratch / "out", "B")
        run_batch(items, package, None, None, InferenceOptions(device="cpu", compile="never"), scratch / "out",
                  on_volume=lambda done, total, row: after.append(round(resident_mb(), 1)))
    volume_mb = np.prod(SHAPE) * 4 / 2**20
    result = {"volumes": count, "volume_mb": round(volume_mb, 1), "resident_mb_after_each": after,
              "growth_from_second_to_last_mb": round(after[-1] - after[1], 1),
              "growth_in_volumes": round((after[-1] - after[1]) / volume_mb, 3)}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
