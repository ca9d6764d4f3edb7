"""Small torch helpers every module uses: a scoped eval mode, and uint8 images to the [-1, 1] range."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn


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
