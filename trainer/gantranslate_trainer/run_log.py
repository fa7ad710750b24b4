"""What a run writes for people: a JSONL loss log, PNG image grids, and TensorBoard when installed."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch


class RunLog:
    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.path = run_dir / "log.jsonl"
        self.images = run_dir / "images"
        self.tensorboard = None
        if enabled:
            self.images.mkdir(parents=True, exist_ok=True)
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tensorboard = SummaryWriter(str(run_dir / "tensorboard"))
            except ImportError:
                self.tensorboard = None

    def scalars(self, step: int, values: dict[str, float], kind: str = "train") -> None:
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, "kind": kind, **values}) + "\n")
        if self.tensorboard is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)):
                    self.tensorboard.add_scalar(f"{kind}/{key}", value, step)

    def event(self, step: int, message: str) -> None:
        """A line for people, in the log and on the console: why the run stopped, for example."""
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, "kind": "event", "message": message}) + "\n")
        print(message, flush=True)

    def grid(self, step: int, source: torch.Tensor, synthetic: torch.Tensor, target: torch.Tensor) -> Path | None:
        """Rows of source | synthetic | target (centre channel; middle slice of 3D patches)."""
        if not self.enabled:
            return None
        from skimage.io import imsave

        def rows(x: torch.Tensor) -> np.ndarray:
            x = x.detach().float().cpu()
            x = x[:, x.shape[1] // 2]
            if x.dim() == 4:
                x = x[:, x.shape[1] // 2]
            return x.numpy()

        panels = [rows(source[:4]), rows(synthetic[:4]), rows(target[:4])]
        picture = np.concatenate([np.concatenate(list(p), axis=0) for p in panels], axis=1)
        image = ((np.clip(picture, -1, 1) + 1) * 127.5).astype(np.uint8)
        path = self.images / f"step_{step:07d}.png"
        imsave(path, image, check_contrast=False)
        if self.tensorboard is not None:
            self.tensorboard.add_image("source|synthetic|target", image[None], step)
        return path

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
