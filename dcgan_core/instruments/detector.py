"""An object segmenter for synthetic rooms: where each object class is, per pixel (Sec. 6.3.1's boxes).

The paper drew 52 window boxes on 150 generated bedrooms by hand. Here a small U-Net trained on synth-rooms'
ground-truth boxes marks the objects on generated samples; its precision and recall on held-out real rooms are
reported beside every use. It is a different network from anything it scores (the logistic regression on G's
maps is fit from its boxes, never scored by itself). Trained once per pack and cached, like the judges; like
their real head, it learns to mark nothing on failure images (issue 25: the judges' degradations and `Negatives`),
so that it counts objects only where a room is drawn.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn
from tqdm import tqdm

from dcgan_core.data.packed import Pack
from dcgan_core.instruments.judges import Negatives, failure_batch, kappa, negative_pool
from dcgan_core.instruments.saliency import box_masks
from dcgan_core.utils.runinfo import atomic_write
from dcgan_core.utils.torch_utils import eval_mode, to_float

MIN_PIXELS = 4  # an object is detected when at least 4 pixels (a 2x2 patch at 32x32) are marked as it


SCORERS = ("a", "b")  # issue 25: two segmenters, so that the one that selects window maps is not the one counting
SCORER_SEEDS = {"a": 0, "b": 1}


def _block(c_in: int, c_out: int, stride: int = 1, arch: str = "a") -> nn.Sequential:
    """a: a 3x3 conv (strided to downsample), batch norm, ReLU. b, another architecture: 5x5 convs, max-pooled to
    downsample, group norm, LeakyReLU."""
    if arch == "a":
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))
    pool = [nn.MaxPool2d(stride)] if stride > 1 else []
    return nn.Sequential(*pool, nn.Conv2d(c_in, c_out, 5, 1, 2, bias=False), nn.GroupNorm(min(8, c_out), c_out),
                         nn.LeakyReLU(0.1, True))


class ObjectSegmenter(nn.Module):
    """A small U-Net: image -> per-pixel logits of each object class (multi-label: boxes may overlap); its blocks
    are scorer a's or b's (`_block`)."""

    def __init__(self, channels: int, n_classes: int, width: int = 32, arch: str = "a"):
        super().__init__()
        if arch not in SCORERS:
            raise ValueError(f"detector arch must be one of {SCORERS}, got {arch!r}")
        w, self.arch = width, arch
        self.enc1, self.enc2 = _block(channels, w, arch=arch), _block(w, 2 * w, 2, arch)
        self.enc3, self.mid = _block(2 * w, 4 * w, 2, arch), _block(4 * w, 4 * w, arch=arch)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, 2), _block(4 * w, 2 * w, arch=arch)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, 2), _block(2 * w, w, arch=arch)
        self.out = nn.Conv2d(w, n_classes, 1)
        self.frozen = False

    def train(self, mode: bool = True):
        return super().train(mode and not self.frozen)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last decoder block's maps, which `out` turns into per-class logits."""
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        m = self.mid(self.enc3(e2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        return self.dec1(torch.cat([self.up1(d2), e1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))

    @torch.no_grad()
    def masks(self, images, batch_size: int = 500) -> np.ndarray:
        """(N, K, H, W) bool: pixels marked as each class (probability > 0.5)."""
        device = next(self.parameters()).device
        out = []
        with eval_mode(self):
            for i in range(0, len(images), batch_size):
                out.append((self(to_float(images[i:i + batch_size], device)) > 0).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0,), bool)


class DetectorFeatures(nn.Module):
    """The segmenter's per-class logit maps presented as a discriminator's last conv features (`convs`,
    `conv_outputs`), for `instruments.saliency`: features that fire on objects by construction, Sec. 6.2's
    positive control."""

    def __init__(self, segmenter: ObjectSegmenter):
        super().__init__()
        self.segmenter = segmenter
        self.convs = nn.ModuleList([nn.Sequential(segmenter.out)])  # the same 1x1 conv, as D's last block

    def conv_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.convs[-1](self.segmenter.features(x))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_outputs(x)[-1]


@dataclass(frozen=True)
class DetectorConfig:
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-3
    width: int = 16
    seed: int = 0
    device: str = "cpu"
    arch: str = "a"  # which scorer (SCORERS, `_block`)
    failure_share: float = 0.25  # share of each batch replaced by failure images, on which nothing is marked

    @classmethod
    def scorer(cls, arch: str, **fields) -> DetectorConfig:
        """The config of segmenter `arch` (a or b): its architecture and its own training seed."""
        return cls(arch=arch, seed=SCORER_SEEDS[arch], **fields)


def pack_masks(pack: Pack, idx: np.ndarray) -> np.ndarray:
    """Ground-truth (n, K, H, W) box masks of pack images `idx`."""
    k, size = len(pack.meta["box_classes"]), pack.images.shape[-1]
    return np.stack([box_masks(pack.boxes[i], k, size) for i in idx])


def detector_path(pack: Pack, cfg: DetectorConfig, cache_dir: str | Path, negatives: Negatives | None = None) -> Path:
    """Where the detector of a pack, config and negatives is cached (the device does not enter the key)."""
    fields = asdict(cfg) | {"device": None}
    key = hashlib.sha256(json.dumps([pack.meta["sha256"], fields, "failures-v2"]
                                    + ([list(negatives.identity)] if negatives else [])).encode()).hexdigest()[:12]
    return Path(cache_dir) / f"detector-{key}.pt"


def fit_detector(pack: Pack, cfg: DetectorConfig = DetectorConfig(), cache_dir: str | Path | None = None,
                 progress: bool = True, negatives: Negatives | None = None) -> ObjectSegmenter:
    """Train (or load from cache_dir) a segmenter on a pack with object boxes, marking nothing on failure images
    (degradations and `negatives`)."""
    if pack.boxes is None:
        raise ValueError(f"{pack.path} has no object boxes (boxes.json); the detector trains on synth-rooms' boxes")
    classes = pack.meta["box_classes"]
    model = ObjectSegmenter(pack.images.shape[1], len(classes), cfg.width, cfg.arch)
    path = detector_path(pack, cfg, cache_dir, negatives) if cache_dir else None
    if path is not None and path.is_file():
        model.load_state_dict(torch.load(path, map_location="cpu"))
    else:
        _train(model, pack, cfg, progress, negative_pool(negatives, pack))
        if path is not None:  # atomic: an interrupted save never leaves a cache file that loads broken
            atomic_write(path, lambda f: torch.save(model.state_dict(), f), binary=True)
    model.to(cfg.device).eval()
    model.frozen = True
    return model


def _train(model: ObjectSegmenter, pack: Pack, cfg: DetectorConfig, progress: bool,
           pool: torch.Tensor | None = None) -> None:
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        model.to(cfg.device).train()
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        n = len(pack)
        steps = cfg.epochs * -(-n // cfg.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps)
        # small objects (lamps, pictures, mirrors) cover few pixels: weight each class's positives by the square
        # root of its negative-to-positive pixel ratio on the first 2,000 images, so they are not ignored
        share = pack_masks(pack, np.arange(min(n, 2000))).mean((0, 2, 3)).clip(1e-4, 0.5)
        pos_weight = torch.tensor(np.sqrt((1 - share) / share), dtype=torch.float32, device=cfg.device)[:, None, None]
        with tqdm(total=steps, desc="fit object detector", disable=not progress) as bar:
            for _ in range(cfg.epochs):
                for idx in torch.randperm(n, generator=gen).split(cfg.batch_size):
                    idx = np.sort(idx.numpy())
                    x = to_float(pack.images[idx], cfg.device)
                    y = torch.from_numpy(pack_masks(pack, idx)).float().to(cfg.device)
                    x, real = failure_batch(x, cfg.failure_share, gen, pool)  # real images: not augmented
                    y = y * real[:, None, None, None]  # a failure image shows no object
                    loss = F.binary_cross_entropy_with_logits(model(x), y, pos_weight=pos_weight)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    bar.update()
                    bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)


def presence(masks: np.ndarray, min_pixels: int = MIN_PIXELS) -> np.ndarray:
    """(N, K) bool: the class is detected (at least min_pixels marked)."""
    return masks.sum((2, 3)) >= min_pixels


def boxes_of(mask: np.ndarray, min_pixels: int = MIN_PIXELS) -> list[list[float]]:
    """Bounding boxes [x0, y0, x1, y1] (pixel edges) of the connected regions of one (H, W) mask."""
    labels, _ = ndimage.label(mask)
    out = []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is not None and (labels[sl] == k).sum() >= min_pixels:
            out.append([float(sl[1].start), float(sl[0].start), float(sl[1].stop), float(sl[0].stop)])
    return out


def scores(model: ObjectSegmenter, pack: Pack, n: int | None = None) -> dict[str, dict[str, float]]:
    """Per class on a pack with boxes: image-level precision and recall of presence, and pixel IoU."""
    idx = np.arange(len(pack) if n is None else min(n, len(pack)))
    pred, true = model.masks(np.asarray(pack.images[idx])), pack_masks(pack, idx)
    p, t = presence(pred), presence(true, 1)
    out = {}
    for k, name in enumerate(pack.meta["box_classes"]):
        tp = int((p[:, k] & t[:, k]).sum())
        inter, union = (pred[:, k] & true[:, k]).sum(), (pred[:, k] | true[:, k]).sum()
        out[name] = {"precision": tp / max(int(p[:, k].sum()), 1), "recall": tp / max(int(t[:, k].sum()), 1),
                     "iou": float(inter / union) if union else float("nan"), "real_rate": float(t[:, k].mean())}
    return out


def presence_rates(model: ObjectSegmenter, images: np.ndarray, classes: list[str]) -> dict[str, float]:
    """The share of images in which the segmenter detects each class (`presence`)."""
    seen = presence(model.masks(images))
    return {name: float(seen[:, k].mean()) for k, name in enumerate(classes)}


def failure_check(model: ObjectSegmenter, real: np.ndarray, failures: dict[str, np.ndarray],
                  classes: list[str]) -> dict[str, dict[str, float]]:
    """Issue 25: the segmenter's presence rates on held-out real rooms and on each failure set (the rule is
    verdicts.judge_valid, as for the judges)."""
    return {"real": presence_rates(model, real, classes),
            **{name: presence_rates(model, imgs, classes) for name, imgs in failures.items()}}


def agreement(detector_a: ObjectSegmenter, detector_b: ObjectSegmenter, images: np.ndarray,
              classes: list[str]) -> dict[str, float]:
    """Issue 25: Cohen's kappa of two segmenters' per-class presence on the same images (NaN where both read one
    value throughout)."""
    a, b = presence(detector_a.masks(images)), presence(detector_b.masks(images))
    return {name: kappa(a[:, k], b[:, k]) for k, name in enumerate(classes)}


def scores_table(s: dict[str, dict[str, float]]) -> str:
    """Markdown of `scores`."""
    rows = ["| object | on real rooms | precision | recall | pixel IoU |", "|---|---|---|---|---|"]
    rows += [f"| {k} | {v['real_rate']:.0%} | {v['precision']:.2f} | {v['recall']:.2f} | {v['iou']:.2f} |"
             for k, v in s.items()]
    return "\n".join(rows)
