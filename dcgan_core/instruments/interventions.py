"""Sec. 6.3.1: G's feature maps captured, fit against object boxes (the paper's logistic regression), and
dropped while generating (a forward hook zeroes the chosen maps)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from dcgan_core.core.models import Generator
from dcgan_core.utils.torch_utils import eval_mode, to_uint8


def generator_layers(G: Generator) -> list[nn.Module]:
    """The activation after each hidden layer of G, from the 4x4 projection up (Fig. 1 order): the maps a
    forward hook captures or drops."""
    return [m for m in G.body if isinstance(m, nn.ReLU)]


def check_g_layer(G: Generator, layer: int) -> nn.Module:
    """G's hidden layer `layer` (negative counts from the top), or an error naming the valid ones."""
    layers = generator_layers(G)
    n = len(layers)
    if not isinstance(layer, (int, np.integer)) or not -n <= layer < n:
        sizes = ", ".join(f"{i}: {4 * 2 ** i}x{4 * 2 ** i}x{w}" for i, w in enumerate(G.config.g_widths()))
        raise ValueError(f"layer={layer!r} is not a hidden layer of G; valid: 0..{n - 1} or -{n}..-1 ({sizes})")
    return layers[layer]


@contextlib.contextmanager
def dropped_maps(G: Generator, layer: int, maps) -> Iterator[None]:
    """Generate with feature maps `maps` of G's hidden `layer` set to zero at every spatial location (a forward
    hook; G itself is never modified)."""
    module = check_g_layer(G, layer)
    maps = torch.as_tensor(np.asarray(maps, np.int64))
    width = G.config.g_widths()[layer]
    if len(maps) and (maps.min() < 0 or maps.max() >= width):
        raise ValueError(f"maps must index G's layer {layer} (0..{width - 1}), got {maps.tolist()}")

    def zero(_module, _inputs, out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        out[:, maps.to(out.device)] = 0
        return out

    handle = module.register_forward_hook(zero) if len(maps) else None
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


@torch.no_grad()
def capture(G: Generator, z: torch.Tensor, layer: int, batch_size: int = 500) -> np.ndarray:
    """(N, C, s, s) float32 feature maps of G's hidden `layer` for the noise vectors z."""
    module = check_g_layer(G, layer)
    out: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _m, _i, o: out.append(o.detach().float().cpu().clone()))
    try:
        with eval_mode(G):
            for i in range(0, len(z), batch_size):
                G(z[i:i + batch_size])
    finally:
        handle.remove()
    return torch.cat(out).numpy()


@torch.no_grad()
def generate(G: Generator, z: torch.Tensor, layer: int | None = None, maps=(), batch_size: int = 500) -> np.ndarray:
    """uint8 (N, C, H, W) images of z, with `maps` of `layer` dropped when given."""
    out = []
    with eval_mode(G), (dropped_maps(G, layer, maps) if layer is not None else contextlib.nullcontext()):
        for i in range(0, len(z), batch_size):
            out.append(to_uint8(G(z[i:i + batch_size]).float()).cpu())
    return torch.cat(out).numpy()


def cells_in_boxes(boxes: list, image_size: int, cells: int) -> np.ndarray:
    """(cells, cells) bool: feature-map cells whose centre, in image pixels, lies inside a box [x0, y0, x1, y1],
    and the cell holding each box's centre (so a box smaller than a cell still marks one); cell i spans pixels
    [i * stride, (i + 1) * stride), stride = image_size / cells."""
    stride = image_size / cells
    c = (np.arange(cells) + 0.5) * stride
    inside = np.zeros((cells, cells), bool)
    for x0, y0, x1, y1 in boxes:
        inside |= ((c[:, None] >= y0) & (c[:, None] <= y1)) & ((c[None, :] >= x0) & (c[None, :] <= x1))
        row, col = (min(int((y0 + y1) / 2 // stride), cells - 1), min(int((x0 + x1) / 2 // stride), cells - 1))
        inside[row, col] = True
    return inside


def regression_data(maps: np.ndarray, boxes: list[list], image_size: int, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Sec. 6.3.1's training set: activation vectors at locations inside object boxes (1) and at as many random
    locations of the same image outside them (0). Images with no box contribute nothing."""
    rng = np.random.default_rng(seed)
    cells = maps.shape[-1]
    X, y = [np.zeros((0, maps.shape[1]))], [np.zeros(0, int)]
    for m, b in zip(maps, boxes):
        if not len(b):
            continue
        inside = cells_in_boxes(b, image_size, cells)
        pos, neg = np.argwhere(inside), np.argwhere(~inside)
        neg = neg[rng.choice(len(neg), min(len(pos), len(neg)), replace=False)]
        X += [m[:, pos[:, 0], pos[:, 1]].T, m[:, neg[:, 0], neg[:, 1]].T]
        y += [np.ones(len(pos), int), np.zeros(len(neg), int)]
    return np.concatenate(X), np.concatenate(y)


def window_regression(maps: np.ndarray, boxes: list[list], image_size: int, seed: int = 0):
    """Sec. 6.3.1: logistic regression telling a layer's activations inside object boxes from random locations of
    the same image outside them (`regression_data`). Returns the fitted scikit-learn model."""
    from sklearn.linear_model import LogisticRegression

    X, y = regression_data(maps, boxes, image_size, seed)
    if not y.any():
        raise ValueError("no boxes on any image: the regression needs positive locations (detect more objects, "
                         "or use more samples)")
    if y.all():
        raise ValueError("the boxes cover every location of this layer: no negative locations to fit against")
    return LogisticRegression(max_iter=2000).fit(X, y)
