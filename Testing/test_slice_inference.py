"""Slice-wise inference reconstructs the input exactly through an identity network, on any axis."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from GANTranslateLib.errors import CancelledError
from GANTranslateLib.slice_inference import gather_slices, pad_amounts, run_slices

CPU = torch.device("cpu")


class CentreChannelChecksDivisor(torch.nn.Module):
    """Identity that also fails when the padded size is not a multiple of the divisor."""

    def __init__(self, divisor: int) -> None:
        super().__init__()
        self.divisor = divisor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-1] % self.divisor == 0 and x.shape[-2] % self.divisor == 0
        return x[:, x.shape[1] // 2 : x.shape[1] // 2 + 1]


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 9), st.integers(1, 19), st.integers(1, 19)),
    axis=st.integers(0, 2),
    batch=st.integers(1, 5),
    divisor=st.sampled_from([1, 4, 16]),
    adjacent=st.integers(0, 2),
)
def test_identity_reconstructs_exactly(shape, axis, batch, divisor, adjacent) -> None:
    volume = np.random.default_rng(0).uniform(-1, 1, size=shape).astype(np.float32)
    out = run_slices(volume, CentreChannelChecksDivisor(divisor), axis=axis, batch_size=batch, device=CPU,
                     divisor=divisor, adjacent=adjacent, in_channels=2 * adjacent + 1)
    np.testing.assert_array_equal(out, volume)


def test_adjacent_slices_clamp_at_the_ends() -> None:
    volume = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 2, 2), np.float32)
    batch = gather_slices(volume, range(0, 4), adjacent=1, channels=3, replicate=False)
    np.testing.assert_array_equal(batch[:, :, 0, 0], [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 3]])


def test_replicated_channels_and_multichannel_output_average() -> None:
    volume = np.random.default_rng(1).uniform(-1, 1, size=(3, 8, 8)).astype(np.float32)
    out = run_slices(volume, lambda x: x, axis=0, batch_size=2, device=CPU, in_channels=3, replicate_channels=True)
    np.testing.assert_allclose(out, volume, rtol=1e-6)


def test_padding_is_centred() -> None:
    assert pad_amounts(250, 256) == (3, 3) and pad_amounts(251, 4) == (0, 1) and pad_amounts(8, 4) == (0, 0)


def test_progress_counts_batches_and_cancel_stops_before_the_next() -> None:
    seen = []
    volume = np.zeros((10, 4, 4), np.float32)
    run_slices(volume, lambda x: x, axis=0, batch_size=3, device=CPU, progress=lambda s, d, n: seen.append((d, n)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    calls = []

    def forward(x):
        calls.append(1)
        return x

    with pytest.raises(CancelledError):
        run_slices(volume, forward, axis=0, batch_size=3, device=CPU, cancel=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_raw_view_prepared_per_batch_equals_a_prepared_volume() -> None:
    """The engine hands in a raw (int16, transposed, read-only) view and normalises a batch at a time."""
    raw = np.random.default_rng(1).integers(-50, 900, size=(7, 12, 10)).astype(np.int16).transpose(2, 1, 0)
    raw.flags.writeable = False

    def prepare(batch: np.ndarray) -> np.ndarray:
        return np.clip((batch.astype(np.float32) - 400) / 500, -1, 1)

    whole = run_slices(prepare(raw), CentreChannelChecksDivisor(4), axis=1, batch_size=3, device=CPU, divisor=4,
                       adjacent=1, in_channels=3)
    lazy = run_slices(raw, CentreChannelChecksDivisor(4), axis=1, batch_size=3, device=CPU, divisor=4,
                      adjacent=1, in_channels=3, prepare=prepare)
    assert lazy.dtype == np.float32
    np.testing.assert_array_equal(lazy, whole)
