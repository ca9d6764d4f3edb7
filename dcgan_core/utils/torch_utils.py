"""Small torch helpers every module uses: a scoped eval mode, uint8 images to the [-1, 1] range, PNG grids."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from dcgan_core.utils.runinfo import atomic_write


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put modules in eval mode and restore each one's previous mode afterwards."""
    before = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, was in zip(modules, before):
            m.train(was)


def to_float(images: torch.Tensor | np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float in [-1, 1] (Sec. 4: the tanh range, no other preprocessing)."""
    if isinstance(images, np.ndarray) and not images.flags.writeable:
        images = np.array(images)  # a read-only memory map: copy this batch
    x = torch.as_tensor(images).to(device)
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x.float()


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats -> uint8 (the packed format): the inverse of `to_float`."""
    return ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def tile(images: torch.Tensor, nrow: int, padding: int, fill: float) -> torch.Tensor:
    """[0, 1] images (N, C, H, W) tiled row by row, `nrow` to a row, into one (3, H', W') image with `padding` px
    of `fill` around each: torchvision's make_grid layout (a grey image fills all three channels)."""
    n, _, h, w = images.shape
    cols, rows = min(nrow, n), -(-n // nrow)
    grid = torch.full((3, rows * (h + padding) + padding, cols * (w + padding) + padding), float(fill))
    for i, img in enumerate(images.detach().float().cpu()):
        top, left = (i // cols) * (h + padding) + padding, (i % cols) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = img
    return grid


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8, padding: int = 2) -> None:
    """[0, 1] images (N, C, H, W) as one PNG grid, pixel for pixel what torchvision's save_image writes, without
    importing torchvision (a second of start-up on every training run). Written atomically."""
    if images.dim() != 4 or images.shape[0] < 1 or images.shape[1] not in (1, 3):
        raise ValueError(f"a grid needs images of shape (N >= 1, 1 or 3, H, W), got {tuple(images.shape)}")
    if nrow < 1 or Path(path).suffix.lower() != ".png":
        raise ValueError(f"a grid is a .png file with nrow >= 1, got {str(path)!r} and nrow={nrow}")
    if images.shape[0] == 1:
        padding = 0  # torchvision: a lone image is saved as it is
    grid = tile(images, nrow, padding, fill=0.0)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    atomic_write(path, lambda f: Image.fromarray(pixels).save(f, format="PNG"), binary=True)


def bf16_emulated(device: torch.device | str) -> bool:
    """Whether bf16 autocast on `device` runs without native bf16 units (a CPU without AVX-512-bf16 or AMX), where
    it is several times slower than fp32."""
    return torch.device(device).type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported()
