"""Patch-wise inference (MONAI sliding window) reconstructs the input through an identity network."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from GANTranslateLib.errors import CancelledError
from GANTranslateLib.patch_inference import count_windows, run_patches

CPU = torch.device("cpu")


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 20), st.integers(1, 20), st.integers(1, 20)),
    patch=st.tuples(st.integers(2, 12), st.integers(2, 12), st.integers(2, 12)),
    overlap=st.sampled_from([0.0, 0.25, 0.5, 0.75]),
    batch=st.integers(1, 4),
)
def test_identity_reconstructs_and_progress_is_exact(shape, patch, overlap, batch) -> None:
    volume = np.random.default_rng(0).uniform(-1, 1, size=shape).astype(np.float32)
    reports = []
    out = run_patches(volume, lambda x: x, patch_size=patch, overlap=overlap, batch_size=batch, device=CPU,
                      progress=lambda s, d, n: reports.append((d, n)))
    assert out.shape == volume.shape
    np.testing.assert_allclose(out, volume, atol=1e-5)
    total = count_windows(shape, patch, overlap)
    assert reports[-1] == (total, total)


def test_cancel_stops_within_one_batch() -> None:
    volume = np.zeros((16, 16, 16), np.float32)
    calls = []

    def forward(x):
        calls.append(x.shape[0])
        return x

    with pytest.raises(CancelledError):
        run_patches(volume, forward, patch_size=(4, 4, 4), overlap=0.0, batch_size=2, device=CPU,
                    cancel=lambda: len(calls) >= 3)
    assert len(calls) == 3
