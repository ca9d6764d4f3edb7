"""A tiny supersampling rasteriser for the procedural sets: filled polygons and ellipses with shading,
an object-id buffer (so every object's box is the box of what stays visible), and area downsampling."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage.draw import ellipse as _ellipse
from skimage.draw import polygon as _polygon

Shade = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rows, cols) -> per-pixel multiplier or colour


class Canvas:
    """Float RGB image in [0, 1] plus an int16 id buffer; draw in painter's order, far to near."""

    def __init__(self, size: int, colour=(0.5, 0.5, 0.5)):
        self.size = size
        self.img = np.empty((size, size, 3), np.float32)
        self.img[:] = colour
        self.ids = np.zeros((size, size), np.int16)
        self.hidden: set[int] = set()  # object ids whose pixels are not painted (the scene without them)

    def fill(self, rr: np.ndarray, cc: np.ndarray, colour, obj: int = 0, shade: Shade | None = None,
             alpha: float = 1.0) -> None:
        """Paint pixels (rr, cc) with colour x shade(rr, cc), optionally blended; obj > 0 claims them."""
        if len(rr) == 0 or obj in self.hidden:
            return
        c = np.asarray(colour, np.float32)
        if shade is not None:
            s = shade(rr, cc)
            c = c * (s[:, None] if s.ndim == 1 else s) if c.ndim == 1 else c * s
        if alpha < 1:
            c = alpha * c + (1 - alpha) * self.img[rr, cc]
        self.img[rr, cc] = c
        if obj:
            self.ids[rr, cc] = obj

    def poly(self, xs, ys, colour, obj: int = 0, shade: Shade | None = None, alpha: float = 1.0) -> np.ndarray:
        """Filled polygon with vertices (xs, ys) in pixel coordinates; returns its pixel mask indices."""
        rr, cc = _polygon(np.asarray(ys, float), np.asarray(xs, float), (self.size, self.size))
        self.fill(rr, cc, colour, obj, shade, alpha)
        return np.stack([rr, cc])

    def ellipse(self, cx, cy, rx, ry, colour, obj: int = 0, rotation: float = 0.0, shade: Shade | None = None,
                alpha: float = 1.0) -> np.ndarray:
        if rx < 0.5 or ry < 0.5:
            return np.zeros((2, 0), int)
        rr, cc = _ellipse(cy, cx, ry, rx, (self.size, self.size), rotation=rotation)
        self.fill(rr, cc, colour, obj, shade, alpha)
        return np.stack([rr, cc])

    def line(self, x0, y0, x1, y1, width, colour, obj: int = 0, alpha: float = 1.0) -> None:
        """A thick segment, drawn as a quad."""
        d = np.array([x1 - x0, y1 - y0], float)
        n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9) * width / 2
        self.poly([x0 + n[0], x1 + n[0], x1 - n[0], x0 - n[0]], [y0 + n[1], y1 + n[1], y1 - n[1], y0 - n[1]],
                  colour, obj, alpha=alpha)

    def polyline(self, xs, ys, width, colour, obj: int = 0, alpha: float = 1.0) -> None:
        for i in range(len(xs) - 1):
            self.line(xs[i], ys[i], xs[i + 1], ys[i + 1], width, colour, obj, alpha)

    def boxes(self, factor: int, min_pixels: int = 4) -> dict[int, tuple[float, float, float, float]]:
        """Visible box (x0, y0, x1, y1) of each object id, in output pixels (canvas / factor)."""
        out = {}
        for obj in np.unique(self.ids):
            if obj == 0:
                continue
            rr, cc = np.nonzero(self.ids == obj)
            if len(rr) >= min_pixels * factor * factor:
                out[int(obj)] = (cc.min() / factor, rr.min() / factor, (cc.max() + 1) / factor, (rr.max() + 1) / factor)
        return out

    def finish(self, factor: int, noise: float, rng: np.random.Generator) -> np.ndarray:
        """Area-average by `factor` (anti-aliasing), add sensor noise, return uint8 (3, H, W)."""
        s = self.size // factor
        img = self.img.reshape(s, factor, s, factor, 3).mean((1, 3))
        img = img + rng.normal(0, noise, img.shape).astype(np.float32)
        return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(2, 0, 1)


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """HSV in [0, 1] -> RGB array."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i], np.float32)


def vertical_gradient(top, bottom, y0: float, y1: float) -> Shade:
    """Colour that runs from `top` at row y0 to `bottom` at row y1."""
    top, bottom = np.asarray(top, np.float32), np.asarray(bottom, np.float32)

    def shade(rr, cc):
        t = np.clip((rr - y0) / max(y1 - y0, 1e-6), 0, 1)[:, None]
        return top * (1 - t) + bottom * t
    return shade


def light(cx: float, cy: float, strength: float, falloff: float, base: float = 1.0) -> Shade:
    """Multiplier: brighter near (cx, cy), falling off with distance (a lamp, a window, a lit cheek)."""
    def shade(rr, cc):
        d2 = ((cc - cx) ** 2 + (rr - cy) ** 2) / (falloff ** 2)
        return (base + strength * np.exp(-d2)).astype(np.float32)
    return shade
