"""Peak memory of one translation beyond its input and output arrays, measured in a fresh process.

    python bench/memory_probe.py patch 512      # a 512³ volume patch-wise (96³ windows)
    python bench/memory_probe.py slice 256      # a 256³ volume slice-wise

The network is the identity, so what is measured is the engine's own memory (orientation, intensity,
blending buffers, copies), which is what grows with the volume; a real network adds its activations for
one batch, a constant. Prints one JSON line.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "GANTranslate"))

from GANTranslateLib.translation import InferenceOptions, translate_image  # noqa: E402

from synthetic_models import random_network  # noqa: E402


def resident_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    mode, size = sys.argv[1], int(sys.argv[2])
    dims = 2 if mode == "slice" else 3
    package, network = random_network("identity", {"spatial_dims": dims}, None if dims == 2 else (96, 96, 96))
    voxels = np.random.default_rng(0).uniform(0, 1000, size=(size, size, size)).astype(np.float32)
    image = sitk.GetImageFromArray(voxels)
    del voxels
    importlib.import_module("monai.inferers")  # libraries loaded first: their code is not the engine's memory

    before = resident_mb("VmRSS")
    result = translate_image(image, package, options=InferenceOptions(device="cpu", compile="never"), network=network)
    volume_mb = size**3 * 4 / 2**20
    peak = resident_mb("VmHWM")
    beyond = peak - before - volume_mb  # the input is in 'before'; the output array is one volume
    print(json.dumps({"mode": mode, "size": size, "volume_mb": volume_mb, "peak_mb": peak, "before_mb": before,
                      "beyond_input_and_output_mb": beyond, "beyond_in_volumes": beyond / volume_mb,
                      "output_size": list(result.image.GetSize())}))


if __name__ == "__main__":
    main()
