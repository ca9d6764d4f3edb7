"""The packed format every training run and analysis reads: uint8 (N, C, H, W) images.npy + meta.json.

A pack is written into a temporary sibling folder and renamed into place at the end, so an
interrupted pack never leaves a folder that looks complete. Side arrays (labels.npy,
attributes.npy, landmarks.npy) and boxes.json sit beside images.npy and are named in meta.json.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dcgan_core.utils.runinfo import write_json

FORMAT_VERSION = 1
SIDE_ARRAYS = ("labels", "attributes", "landmarks", "source_index")


class PackError(ValueError):
    """A packed dataset is missing, incomplete or inconsistent."""


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class Pack:
    """A loaded pack: images (memory-mapped uint8 N,C,H,W), meta, and optional per-image side data."""

    path: Path
    images: np.ndarray
    meta: dict
    labels: np.ndarray | None = None
    attributes: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    source_index: np.ndarray | None = None
    boxes: list | None = None
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def attribute_names(self) -> list[str]:
        return list(self.meta.get("attribute_names", []))


def load_pack(path: str | Path, mmap: bool = True, verify: bool = False) -> Pack:
    """Open a pack written by `pack`; memory-maps the images unless mmap=False."""
    path = Path(path)
    meta_path, img_path = path / "meta.json", path / "images.npy"
    if not meta_path.is_file() or not img_path.is_file():
        raise PackError(f"{path} is not a packed dataset (no meta.json/images.npy); create it with "
                        f"`python -m dcgan_core pack SOURCE --out {path}`")
    meta = json.loads(meta_path.read_text())
    if verify and sha256_file(img_path) != meta["sha256"]:
        raise PackError(f"{img_path} does not match the checksum in meta.json; re-pack it")
    images = np.load(img_path, mmap_mode="r" if mmap else None)
    if images.dtype != np.uint8 or images.ndim != 4 or len(images) != meta["count"]:
        raise PackError(f"{img_path}: expected uint8 (N={meta['count']}, C, H, W), "
                        f"got {images.dtype} {images.shape}; re-pack it")
    side = {k: np.load(path / f"{k}.npy") for k in SIDE_ARRAYS if (path / f"{k}.npy").is_file()}
    boxes = json.loads((path / "boxes.json").read_text()) if (path / "boxes.json").is_file() else None
    return Pack(path, images, meta, boxes=boxes, **side)


class PackWriter:
    """Write a pack of n images into a temporary folder; `commit` renames it into place.

    >>> with PackWriter(out, n, 3, 32, 32) as w:  # doctest: +SKIP
    ...     w.images[i] = img_chw_uint8
    ...     w.commit(meta, labels=labels)
    """

    def __init__(self, out: str | Path, n: int, channels: int, height: int, width: int,
                 overwrite: bool = False):
        self.out = Path(out)
        if n < 1:
            raise PackError(f"nothing to pack: the source gave {n} images")
        if self.out.exists() and not overwrite:
            raise PackError(f"{self.out} already exists; pass --overwrite to replace it")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.partial-"))
        self.images = np.lib.format.open_memmap(self.tmp / "images.npy", mode="w+", dtype=np.uint8,
                                                shape=(n, channels, height, width))
        self.committed = False

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, *exc) -> None:
        if not self.committed:
            self.images = None
            shutil.rmtree(self.tmp, ignore_errors=True)

    def commit(self, meta: dict, count: int | None = None, boxes: list | None = None,
               **side: np.ndarray | None) -> Path:
        """Finish the pack: keep the first `count` images, write side data and meta, rename into place."""
        unknown = set(side) - set(SIDE_ARRAYS)
        if unknown:
            raise PackError(f"unknown side arrays {sorted(unknown)}; valid: {SIDE_ARRAYS}")
        images, self.images = self.images, None
        images.flush()
        count = len(images) if count is None else count
        if count < 1:
            raise PackError("nothing to pack: every image was skipped")
        if count < len(images):  # some inputs were skipped: rewrite with the exact count
            kept = np.array(images[:count])
            del images
            np.save(self.tmp / "images.npy", kept)
        else:
            del images
        for name, arr in side.items():
            if arr is not None:
                if len(arr) != count:
                    raise PackError(f"{name} has {len(arr)} rows for {count} images")
                np.save(self.tmp / f"{name}.npy", np.ascontiguousarray(arr))
        if boxes is not None:
            (self.tmp / "boxes.json").write_text(json.dumps(boxes))
        arr = np.load(self.tmp / "images.npy", mmap_mode="r")
        meta = {"format_version": FORMAT_VERSION, **meta, "count": int(arr.shape[0]),
                "channels": int(arr.shape[1]), "resolution": int(arr.shape[2]),
                "sha256": sha256_file(self.tmp / "images.npy"),
                "side_files": sorted([f"{k}.npy" for k, v in side.items() if v is not None]
                                     + (["boxes.json"] if boxes is not None else []))}
        del arr
        write_json(self.tmp / "meta.json", meta)
        if self.out.exists():  # --overwrite: swap in the new pack, then drop the old one
            old = self.out.with_name(f".{self.out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            self.out.rename(old)
            self.tmp.rename(self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.tmp.rename(self.out)
        self.committed = True
        return self.out
