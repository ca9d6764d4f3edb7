"""Image decoding and geometry shared by every source: decode, convert channels, resize + crop."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")
RESIZE_NOTE = "short side resized with PIL bicubic (antialiased), then centre-cropped to a square"


class BadImage(ValueError):
    """An image file or record that cannot be decoded."""


def decode(data: bytes | str | Path, name: str) -> Image.Image:
    """Decode fully (not lazily) so a truncated file fails here, naming `name`."""
    try:
        img = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        img.load()
        return img
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise BadImage(f"corrupt or unreadable image {name}: {e}; fix or remove it, "
                       "or pass --skip-bad to skip such files") from e


def to_mode(img: Image.Image, channels: int) -> Image.Image:
    """Grey, RGBA, palette, CMYK... -> 'L' or 'RGB' (alpha composited on white)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    return img.convert("L" if channels == 1 else "RGB")


def square_crop_box(width: int, height: int, side: int | None = None) -> tuple[int, int, int, int]:
    """The centred square (left, top, right, bottom) of a width x height image."""
    side = min(width, height) if side is None else side
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def resize_crop(img: Image.Image, resolution: int, box: tuple[int, int, int, int] | None = None) -> Image.Image:
    """Crop `box` (default: the centred square) and resize it to resolution x resolution."""
    box = box or square_crop_box(*img.size)
    return img.resize((resolution, resolution), Image.BICUBIC, box=box)


def to_chw(img: Image.Image) -> np.ndarray:
    """PIL image -> uint8 (C, H, W)."""
    arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def array_to_pil(chw: np.ndarray) -> Image.Image:
    """uint8 (C, H, W) -> PIL image."""
    return Image.fromarray(chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0))


def convert_array(chw: np.ndarray, resolution: int, channels: int) -> np.ndarray:
    """Resize/convert an already-decoded uint8 (C, H, W) image only where needed."""
    if chw.shape[0] == channels and chw.shape[1] == chw.shape[2] == resolution:
        return chw
    return to_chw(resize_crop(to_mode(array_to_pil(chw), channels), resolution))


def list_images(root: Path) -> list[Path]:
    """Every image file under root, in sorted (deterministic) order."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
