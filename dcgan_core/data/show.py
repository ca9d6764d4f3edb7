"""Draw a pack as a grid with its labels, attributes or boxes overlaid, to check it by eye."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .images import array_to_pil
from .packed import load_pack

TILE = 96
COLOURS = [(255, 60, 60), (60, 200, 60), (255, 200, 0), (60, 140, 255), (255, 0, 255), (0, 230, 230), (255, 140, 0)]


def show_pack(path: str | Path, out: str | Path, n: int = 64, seed: int = 0) -> Path:
    """Save a PNG grid of n random images from the pack, annotated."""
    pack = load_pack(path)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    idx = np.sort(np.random.default_rng(seed).choice(len(pack), min(n, len(pack)), replace=False))
    cols = int(np.ceil(np.sqrt(len(idx))))
    rows = int(np.ceil(len(idx) / cols))
    grid = Image.new("RGB", (cols * (TILE + 2), rows * (TILE + 2)), (30, 30, 30))
    draw = ImageDraw.Draw(grid)
    scale = TILE / pack.meta["resolution"]
    names = pack.meta.get("class_names")
    box_names = pack.meta.get("box_classes", [])
    for k, i in enumerate(idx):
        x, y = (k % cols) * (TILE + 2), (k // cols) * (TILE + 2)
        grid.paste(array_to_pil(np.asarray(pack.images[i])).convert("RGB").resize((TILE, TILE), Image.NEAREST), (x, y))
        for c, x0, y0, x1, y1 in (pack.boxes[i] if pack.boxes else []):
            col = COLOURS[int(c) % len(COLOURS)]
            left, top = x + x0 * scale, y + y0 * scale
            draw.rectangle([left, top, max(left, x + x1 * scale - 1), max(top, y + y1 * scale - 1)], outline=col)
            draw.text((x + x0 * scale + 1, y + y0 * scale), box_names[int(c)][:3] if box_names else str(c), fill=col)
        text = []
        if pack.labels is not None:
            label = int(pack.labels[i])
            text.append(names[label] if names else str(label))
        if pack.attributes is not None:
            shown = zip(pack.attribute_names[:4], pack.attributes[i][:4])
            text += [f"{a[:5]}={float(v):.2g}" for a, v in shown]
        for j, t in enumerate(text):
            draw.text((x + 2, y + 2 + 10 * j), t, fill=(255, 255, 0))
        if pack.landmarks is not None:
            for px, py in pack.landmarks[i].reshape(-1, 2):
                draw.ellipse([x + px * scale - 1, y + py * scale - 1, x + px * scale + 1, y + py * scale + 1],
                             fill=(0, 255, 0))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return Path(out)
