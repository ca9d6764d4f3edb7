"""Per-dataset classifiers trained here, offline: a feature space for FD/KID/PR and the judges that
later chapters use (digit labels, which room objects are present, face attributes).

The Inception network behind the standard FID is a download; offline we train a small CNN on the
same data's ground truth instead, and every number says which feature space it is in
(`FeatureNet.name`). The network is frozen after fitting: it cannot leave eval mode.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .data.packed import Pack
from .features import eval_mode, to_float

# Sec. 6.3.2 needs these face factors; they are what the face judge predicts
FACE_TARGETS = {"male": "binary", "smile": "regression", "glasses": "binary", "yaw": "regression",
                "hair_length": "regression", "beard": "regression"}


@dataclass(frozen=True)
class Targets:
    """What a judge predicts: names, and per name 'class' (one softmax), 'binary' or 'regression'."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    n_classes: int = 0


def targets_for(pack: Pack) -> tuple[Targets, np.ndarray]:
    """The ground truth a pack carries, as a (targets, Y) pair: labels, object presence, or factors."""
    if pack.labels is not None:
        return Targets(("label",), ("class",), int(pack.labels.max()) + 1), pack.labels.astype(np.int64)[:, None]
    if pack.boxes is not None:  # rooms: is each object class visible?
        classes = pack.meta["box_classes"]
        y = np.zeros((len(pack), len(classes)), np.float32)
        for i, boxes in enumerate(pack.boxes):
            for c, *_ in boxes:
                y[i, int(c)] = 1
        return Targets(tuple(classes), ("binary",) * len(classes)), y
    if pack.attributes is not None:
        names = pack.attribute_names
        keep = [n for n in FACE_TARGETS if n in names] or names
        kinds = tuple(FACE_TARGETS.get(n, "binary" if set(np.unique(pack.attributes[:, names.index(n)])) <= {0, 1}
                                       else "regression") for n in keep)
        return Targets(tuple(keep), kinds), pack.attributes[:, [names.index(n) for n in keep]].astype(np.float32)
    # no ground truth (LSUN): a self-supervised rotation task (Gidaris et al. 2018) still gives a feature space
    return Targets(("rotation",), ("class",), 4), np.zeros((len(pack), 1), np.int64)


class FeatureNet(nn.Module):
    """Small CNN: 3 stride-2 conv blocks -> global average pool -> 128-d features -> heads."""

    name = "FeatureNet-128"

    def __init__(self, channels: int, targets: Targets, width: int = 32):
        super().__init__()
        self.targets = targets
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(channels, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU(True),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.ReLU(True),
            nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.ReLU(True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 128), nn.ReLU(True))
        n_out = targets.n_classes if targets.kinds == ("class",) else len(targets.names)
        self.head = nn.Linear(128, n_out)
        self.frozen = False

    def train(self, mode: bool = True):
        return super().train(mode and not self.frozen)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return f, self.head(f)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.targets.kinds == ("class",):
            return F.cross_entropy(out, y[:, 0].long())
        total = out.new_zeros(())
        for j, kind in enumerate(self.targets.kinds):
            if kind == "binary":
                total = total + F.binary_cross_entropy_with_logits(out[:, j], y[:, j])
            else:
                total = total + F.mse_loss(out[:, j], y[:, j])
        return total

    @torch.no_grad()
    def predict(self, images, batch_size: int = 512) -> dict[str, np.ndarray]:
        """Per target: class index, probability (binary) or value (regression)."""
        feats, outs = self._run(images, batch_size)
        if self.targets.kinds == ("class",):
            return {"label": outs.argmax(1).numpy(), "features": feats.numpy()}
        res = {n: (torch.sigmoid(outs[:, j]) if k == "binary" else outs[:, j]).numpy()
               for j, (n, k) in enumerate(zip(self.targets.names, self.targets.kinds))}
        return {**res, "features": feats.numpy()}

    @torch.no_grad()
    def embed(self, images, batch_size: int = 512) -> np.ndarray:
        """128-d features: the space FD, KID, precision/recall and feature-space neighbours use."""
        return self._run(images, batch_size)[0].numpy()

    def _run(self, images, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        device = next(self.parameters()).device
        feats, outs = [], []
        with eval_mode(self):
            for i in range(0, len(images), batch_size):
                f, o = self(to_float(images[i:i + batch_size], device))
                feats.append(f.float().cpu())
                outs.append(o.float().cpu())
        return torch.cat(feats), torch.cat(outs)


@dataclass(frozen=True)
class JudgeConfig:
    epochs: int = 8
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    device: str = "cpu"
    # shifts of up to 2 px and pixel noise: a judge trained on a few thousand clean images otherwise
    # extrapolates wildly on imperfect samples (every noisy MNIST sample became a confident "8")
    augment: bool = True
    noise_std: float = 0.1


def augment_batch(x: torch.Tensor, g: torch.Generator, noise_std: float) -> torch.Tensor:
    """Random translation by up to 2 pixels and Gaussian pixel noise on half of the batch (x in [-1, 1])."""
    dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
    x = torch.roll(x, (dy, dx), (2, 3))
    noisy = (torch.rand(len(x), 1, 1, 1, generator=g) < 0.5).float().to(x.device)
    noise = torch.randn(x.shape, generator=g).to(x.device) * noise_std
    return (x + noisy * noise).clamp(-1, 1)


def fit_judge(pack: Pack, cfg: JudgeConfig = JudgeConfig(), cache_dir: str | Path | None = None,
              progress: bool = True) -> FeatureNet:
    """Train (or load from cache) a FeatureNet on a pack's ground truth; returns it frozen in eval mode.

    The cache key covers the pack's checksum and the whole JudgeConfig."""
    targets, y = targets_for(pack)
    key = hashlib.sha256(json.dumps([pack.meta["sha256"], asdict(cfg), asdict(targets)]).encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"judge-{key}.pt" if cache_dir else None
    torch.manual_seed(cfg.seed)
    net = FeatureNet(pack.images.shape[1], targets).to(cfg.device)
    if path is not None and path.exists():
        net.load_state_dict(torch.load(path, map_location=cfg.device, weights_only=True))
    else:
        images = torch.from_numpy(np.array(pack.images))
        y_t = torch.from_numpy(y)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        steps = cfg.epochs * -(-len(images) // cfg.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps)
        g = torch.Generator().manual_seed(cfg.seed)
        net.train()
        for _ in tqdm(range(cfg.epochs), desc="fit judge", disable=not progress):
            order = torch.randperm(len(images), generator=g)
            for i in range(0, len(images), cfg.batch_size):
                idx = order[i:i + cfg.batch_size]
                if len(idx) < 2:
                    continue
                x, y_b = to_float(images[idx], cfg.device), y_t[idx].to(cfg.device)
                if cfg.augment:
                    x = augment_batch(x, g, cfg.noise_std)
                if targets.names == ("rotation",):
                    x, y_b = rotate_batch(x, g)
                loss = net.loss(net(x)[1], y_b)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), path)
    net.frozen = True
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def rotate_batch(x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate each image by a random multiple of 90 degrees; the label is the multiple."""
    k = torch.randint(0, 4, (len(x),), generator=g)
    return torch.stack([torch.rot90(xi, int(ki), (1, 2)) for xi, ki in zip(x, k)]), k[:, None].to(x.device)


def judge_accuracy(net: FeatureNet, pack: Pack) -> dict[str, float]:
    """Held-out quality of a judge per target: accuracy (class/binary) or R^2 (regression)."""
    targets, y = targets_for(pack)
    if targets.names == ("rotation",):
        x, k = rotate_batch(torch.from_numpy(np.array(pack.images[:2000])), torch.Generator().manual_seed(0))
        return {"rotation_accuracy": float((net.predict(x.numpy())["label"] == k[:, 0].numpy()).mean())}
    pred = net.predict(pack.images)
    if targets.kinds == ("class",):
        return {"label_accuracy": float((pred["label"] == y[:, 0]).mean())}
    out = {}
    for j, (n, k) in enumerate(zip(targets.names, targets.kinds)):
        if k == "binary":
            out[f"{n}_accuracy"] = float(((pred[n] > 0.5) == (y[:, j] > 0.5)).mean())
        else:
            out[f"{n}_r2"] = float(1 - ((pred[n] - y[:, j]) ** 2).mean() / max(y[:, j].var(), 1e-12))
    return out
