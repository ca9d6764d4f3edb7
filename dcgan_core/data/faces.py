"""Sec. 4.2 face crops from a folder of photos: a frontal-face detector, keeping large detections.

The paper ran OpenCV's face detector over 3M web images and kept high-resolution detections. We use
the same family of detector that ships offline: OpenCV's LBP frontal-face cascade, bundled with
scikit-image (skimage.feature.Cascade), and keep boxes of at least `min_face` pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .images import BadImage, decode, resize_crop, to_chw, to_mode


def detect_faces(gray: np.ndarray, min_face: int = 48, scale_factor: float = 1.2) -> list[tuple[int, int, int, int]]:
    """Face boxes (left, top, right, bottom) in a float grey image, largest first."""
    # imported here: scikit-image is slow to import; only face detection needs it
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    if min_face < 16:
        raise ValueError(f"min_face must be >= 16 pixels, got {min_face}")
    detector = Cascade(lbp_frontal_face_cascade_filename())
    h, w = gray.shape
    if min(h, w) < min_face:
        return []
    found = detector.detect_multi_scale(img=gray, scale_factor=scale_factor, step_ratio=1,
                                        min_size=(min_face, min_face), max_size=(h, w))
    boxes = _merge([(d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]) for d in found])
    return sorted(boxes, key=lambda b: -(b[2] - b[0]))


def _merge(boxes: list[tuple[int, int, int, int]], iou: float = 0.3) -> list[tuple[int, int, int, int]]:
    """Greedy non-maximum merge: the cascade fires several times around one face."""
    kept: list[tuple[int, int, int, int]] = []
    for b in sorted(boxes, key=lambda b: -(b[2] - b[0])):
        if all(_iou(b, k) < iou for k in kept):
            kept.append(b)
    return kept


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def face_records(paths: list[Path], resolution: int, channels: int, min_face: int,
                 extra: Callable[[Path], dict]) -> tuple[int, Iterator, dict]:
    """Detect faces in every photo first (so the count is known), then yield one record per face crop."""

    found, crops = [], []
    for p in tqdm(paths, desc="detect faces", unit="img"):
        try:
            img = decode(p, str(p))
        except BadImage as e:
            found.append((p, None, e))
            continue
        gray = np.asarray(to_mode(img, 1), np.float32) / 255
        for box in detect_faces(gray, min_face):
            found.append((p, box, None))
            crops.append({"file": str(p), "box": list(map(int, box))})

    def load(p: Path, box, err) -> tuple[np.ndarray, dict]:
        if err is not None:
            raise err
        return to_chw(resize_crop(to_mode(decode(p, str(p)), channels), resolution, box)), extra(p)
    recs = ((f"{p}{list(box) if box else ''}", (lambda p=p, b=box, e=err: load(p, b, e))) for p, box, err in found)
    meta = {"face_detector": "OpenCV LBP frontal-face cascade (skimage.feature.Cascade), scale 1.2",
            "min_face": min_face, "crops": crops}
    return len(found), recs, meta
