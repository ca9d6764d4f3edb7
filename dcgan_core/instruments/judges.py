"""Judges: small CNNs trained here, offline, on a dataset's ground truth. They give the feature space for
FD/KID/precision-recall and read generated images for later chapters (digit labels, which room objects are
present, face factors).

The Inception network behind the standard FID is a download; offline we train a judge on the same data
instead, and every number says which feature space it is in (`Judge.name`). A judge that tags content must
not tag it on images that have none: besides its task, each judge has a "real" head trained to tell real
images of its set from failure images (heavy blur, shuffled patches, smooth colour fields, flat images,
checkerboards at 2x and 8x; and `Negatives`: GAN-type failures made apart from the failure suite, `negatives.py`),
and it reports content only on images it calls real. `validity` checks this on the failure suite. The judge is
frozen after fitting: it cannot leave eval mode.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.functional import gaussian_blur
from tqdm import tqdm

from dcgan_core.data.packed import Pack
from dcgan_core.data.synth_faces import ON_THRESHOLDS
from dcgan_core.utils.runinfo import atomic_write
from dcgan_core.utils.torch_utils import eval_mode, to_float, to_uint8

# Sec. 6.3.2 needs these face factors; they are what the face judge predicts
FACE_TARGETS = {"male": "binary", "smile": "regression", "glasses": "binary", "yaw": "regression",
                "hair_length": "regression", "beard": "regression"}
DEGRADATIONS = ("blur", "shuffle", "blobs", "flat", "checkerboard")  # what the real head learns to reject
TRAINED_CHECKERBOARDS = (2, 8)  # the factors it trains on; the failure suite's is 4x


@dataclass(frozen=True)
class Negatives:
    """Failure images an instrument trains on besides its own degradations (issue 25: `negatives.py`): `identity`
    names them for the cache key without making them; `make()` returns them, uint8 in the instrument's format
    (`shape`: channels, height, width, known before any is made)."""

    identity: tuple[str, ...]
    make: Callable[[], np.ndarray]
    shape: tuple[int, int, int]


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


SCORERS = ("a", "b")  # issue 25: two judges of each data set, so that what one selects the other scores
SCORER_SEEDS = {"a": 0, "b": 1}  # each scorer's training seed (JudgeConfig.seed)


def _body(channels: int, w: int, arch: str) -> nn.Sequential:
    """The conv body of a scorer. a: 3x3 convs, strided, batch norm, ReLU. b, another architecture: 5x5 convs,
    max-pooled, group norm, LeakyReLU. Both end on a 4x4 grid, not a global average: where things are is what
    tells a face from its shuffled patches."""
    if arch == "a":
        layers = [nn.Conv2d(channels, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(True),
                  nn.Conv2d(w, 2 * w, 3, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU(True),
                  nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.ReLU(True),
                  nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.ReLU(True)]
    elif arch == "b":
        layers = []
        for c_in, c_out, pool in ((channels, w, False), (w, 2 * w, True), (2 * w, 4 * w, True), (4 * w, 4 * w, True)):
            layers += ([nn.MaxPool2d(2)] if pool else []) + [nn.Conv2d(c_in, c_out, 5, 1, 2),
                                                             nn.GroupNorm(8, c_out), nn.LeakyReLU(0.1, True)]
    else:
        raise ValueError(f"judge arch must be one of {SCORERS}, got {arch!r}")
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(16 * 4 * w, 128), nn.ReLU(True))


class Judge(nn.Module):
    """Small CNN: 4 conv blocks (`_body`: scorer a or b) -> 4x4 average pool -> 128-d features -> task heads + a
    "real" head."""

    def __init__(self, channels: int, targets: Targets, width: int = 32, arch: str = "a"):
        super().__init__()
        self.targets, self.arch = targets, arch
        self.name = "judge-128" if arch == "a" else f"judge-{arch}-128"  # the feature space every number names
        w = width
        self.body = _body(channels, w, arch)
        self.n_task = targets.n_classes if targets.kinds == ("class",) else len(targets.names)
        self.head = nn.Linear(128, self.n_task + 1)  # the last output is the "real" logit
        # regression factors read on/off at a threshold: the data's own (synth-faces) or the training median
        self.register_buffer("thresholds", torch.zeros(len(targets.names)))
        self.frozen = False

    def train(self, mode: bool = True):
        return super().train(mode and not self.frozen)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return f, self.head(f)

    def loss(self, out: torch.Tensor, y: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Task loss on real images (rooms: no object on a failure image), plus the real-vs-failure loss."""
        task, real_logit = out[:, :-1], out[:, -1]
        total = F.binary_cross_entropy_with_logits(real_logit, real)
        keep = real > 0.5
        if self.targets.kinds == ("class",):
            return total + F.cross_entropy(task[keep], y[keep, 0].long())
        objects = self.targets.kinds == ("binary",) * len(self.targets.kinds)
        for j, kind in enumerate(self.targets.kinds):
            if kind == "binary" and objects:  # presence of objects: a failure image shows none
                total = total + F.binary_cross_entropy_with_logits(task[:, j], y[:, j] * real)
            elif kind == "binary":
                total = total + F.binary_cross_entropy_with_logits(task[keep, j], y[keep, j])
            else:
                total = total + F.mse_loss(task[keep, j], y[keep, j])
        return total

    @torch.no_grad()
    def predict(self, images, batch_size: int = 512) -> dict[str, np.ndarray]:
        """Per target: class index, probability (binary) or value (regression); 'real': P(real image)."""
        feats, outs = self._run(images, batch_size)
        task, real = outs[:, :-1], torch.sigmoid(outs[:, -1]).numpy()
        if self.targets.kinds == ("class",):
            return {"label": task.argmax(1).numpy(), "real": real, "features": feats.numpy()}
        res = {n: (torch.sigmoid(task[:, j]) if k == "binary" else task[:, j]).numpy()
               for j, (n, k) in enumerate(zip(self.targets.names, self.targets.kinds))}
        return {**res, "real": real, "features": feats.numpy()}

    def readings(self, pred: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """On/off per image for each content the judge reports, on images it calls real: the 'real' flag,
        each class (digits), object (rooms) or factor (faces; a regression factor is on above its threshold:
        synth_faces.ON_THRESHOLDS, else the training median)."""
        real = pred["real"] > 0.5
        out = {"real": real}
        if self.targets.kinds == ("class",):
            if self.targets.names != ("rotation",):
                out.update({f"class {c}": real & (pred["label"] == c) for c in range(self.targets.n_classes)})
            return out
        return {**out, **{n: real & on for n, on in self.on(pred).items()}}

    def on(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each object / factor on or off, whatever the 'real' flag: a probability above 0.5, a regression value
        above its threshold. The same rule reads predictions and the truth (`reading_accuracy`)."""
        return {n: values[n] > (0.5 if k == "binary" else float(self.thresholds[j]))
                for j, (n, k) in enumerate(zip(self.targets.names, self.targets.kinds))}

    def content_rates(self, images) -> dict[str, float]:
        """The share of images showing each class / object / factor, whatever the 'real' flag: what a generator's
        samples cover, apart from how real they look (Sec. 3's collapse)."""
        if self.targets.names == ("rotation",):  # a self-supervised judge (LSUN) reads no content
            return {}
        pred = self.predict(images)
        if self.targets.kinds == ("class",):
            return {f"class {c}": float((pred["label"] == c).mean()) for c in range(self.targets.n_classes)}
        return {n: float(on.mean()) for n, on in self.on(pred).items()}

    def rates(self, images) -> dict[str, float]:
        """The share of images with each reading (see `readings`)."""
        return {k: float(v.mean()) for k, v in self.readings(self.predict(images)).items()}

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
    failure_share: float = 0.25  # share of each batch replaced by failure images for the real head
    arch: str = "a"  # which scorer (SCORERS, `_body`)

    def __post_init__(self) -> None:
        if self.arch not in SCORERS:
            raise ValueError(f"JudgeConfig.arch must be one of {SCORERS}, got {self.arch!r}")

    @classmethod
    def scorer(cls, arch: str, **fields) -> JudgeConfig:
        """The config of scorer `arch` (a or b): its architecture and its own training seed."""
        return cls(arch=arch, seed=SCORER_SEEDS[arch], **fields)


def augment_batch(x: torch.Tensor, g: torch.Generator, noise_std: float) -> torch.Tensor:
    """Random translation by up to 2 pixels and Gaussian pixel noise on half of the batch (x in [-1, 1])."""
    dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
    x = torch.roll(x, (dy, dx), (2, 3))
    noisy = (torch.rand(len(x), 1, 1, 1, generator=g) < 0.5).float().to(x.device)
    noise = torch.randn(x.shape, generator=g).to(x.device) * noise_std
    return (x + noisy * noise).clamp(-1, 1)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of float images (N, C, H, W) with standard deviation sigma pixels."""
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return gaussian_blur(x, [k, k], [sigma, sigma])


def shuffle_patches(x: torch.Tensor, patch: int, g: torch.Generator) -> torch.Tensor:
    """Cut each image into patch x patch tiles and put them back in a random order (local texture kept)."""
    n, c, h, w = x.shape
    if patch < 1 or h % patch or w % patch:
        raise ValueError(f"patch must divide the image size {h}x{w}, got {patch}")
    tiles = x.unfold(2, patch, patch).unfold(3, patch, patch)  # (N, C, h/p, w/p, p, p)
    gh, gw = tiles.shape[2], tiles.shape[3]
    flat = tiles.reshape(n, c, gh * gw, patch, patch)
    flat = flat[:, :, torch.randperm(gh * gw, generator=g)]
    return flat.view(n, c, gh, gw, patch, patch).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


def degrade(x: torch.Tensor, kind: str, g: torch.Generator) -> torch.Tensor:
    """Failure images the real head learns to reject: heavy blur (sigma 1.5-3 px), quarter-image patches shuffled,
    smooth colour fields (a 4x4 random image upsampled), a flat image (its own mean colour with faint pixel
    noise: an image without structure, as an untrained generator draws), each keeping the image's mean colour; or
    transposed-conv checkerboards at a factor of TRAINED_CHECKERBOARDS that divides the image."""
    if kind == "blur":
        return blur(x, float(1.5 + 1.5 * torch.rand((), generator=g)))
    if kind == "shuffle":
        return shuffle_patches(x, max(x.shape[-1] // 4, 2), g)
    if kind == "blobs":
        field = torch.rand(len(x), x.shape[1], 4, 4, generator=g).to(x.device) * 2 - 1
        field = F.interpolate(field, size=x.shape[-2:], mode="bicubic", align_corners=False)
        return (0.6 * field + x.mean((2, 3), keepdim=True)).clamp(-1, 1)
    if kind == "flat":
        noise = torch.randn(x.shape, generator=g).to(x.device) * float(0.1 * torch.rand((), generator=g))
        return (x.mean((2, 3), keepdim=True) + noise).clamp(-1, 1)
    if kind == "checkerboard":
        factors = [f for f in TRAINED_CHECKERBOARDS if x.shape[-1] % f == 0 and x.shape[-1] > f] or [1]
        factor = factors[int(torch.randint(len(factors), (), generator=g))]
        return checkerboard(x, factor) if factor > 1 else blur(x, 2.0)  # an odd size has no checkerboard
    raise ValueError(f"kind must be one of {DEGRADATIONS}, got {kind!r}")


def failure_batch(x: torch.Tensor, share: float, g: torch.Generator, pool: torch.Tensor | None = None,
                  augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace the first `share` of a batch by failure images, real = 0 there: degradations of those images (a
    random kind each batch) and, given a `pool` of negatives (uint8), half of them drawn from it and passed through
    `augment`, the augmentation the real images had (none: as they are), so that nothing but content tells them
    apart."""
    k = int(round(share * len(x)))
    real = torch.ones(len(x), device=x.device)
    if not k:
        return x, real
    drawn = k // 2 if pool is not None and len(pool) else 0
    kind = DEGRADATIONS[int(torch.randint(len(DEGRADATIONS), (), generator=g))]
    parts = [degrade(x[:k - drawn], kind, g)]
    if drawn:
        picked = to_float(pool[torch.randint(len(pool), (drawn,), generator=g)], x.device)
        parts.append(augment(picked) if augment else picked)
    real[:k] = 0
    return torch.cat([*parts, x[k:]]), real


def judge_path(pack: Pack, cfg: JudgeConfig, cache_dir: str | Path, negatives: Negatives | None = None) -> Path:
    """Where `fit_judge` caches the judge of a pack: the key covers the pack's checksum, the whole JudgeConfig, the
    negatives' identity and the judge's version (and its thresholds, which are stored in it)."""
    key = hashlib.sha256(json.dumps([pack.meta["sha256"], asdict(cfg), asdict(targets_for(pack)[0]),
                                     "real-head-v5-negatives", ON_THRESHOLDS]
                                    + ([list(negatives.identity)] if negatives else [])).encode())
    return Path(cache_dir) / f"judge-{key.hexdigest()[:12]}.pt"


def fit_judge(pack: Pack, cfg: JudgeConfig = JudgeConfig(), cache_dir: str | Path | None = None,
              progress: bool = True, negatives: Negatives | None = None) -> Judge:
    """Train (or load from cache) a Judge on a pack's ground truth, its real head also on `negatives`; returns it
    frozen in eval mode. The cache key covers the pack's checksum, the whole JudgeConfig, the negatives' identity
    and the judge's version."""
    targets, y = targets_for(pack)
    path = judge_path(pack, cfg, cache_dir, negatives) if cache_dir else None
    torch.manual_seed(cfg.seed)
    net = Judge(pack.images.shape[1], targets, arch=cfg.arch).to(cfg.device)
    if path is not None and path.exists():
        net.load_state_dict(torch.load(path, map_location=cfg.device, weights_only=True))
    else:
        _train(net, pack, targets, y, cfg, progress, negative_pool(negatives, pack))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda f: torch.save(net.state_dict(), f), binary=True)  # never half-written
    net.frozen = True
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def negative_pool(negatives: Negatives | None, pack: Pack) -> torch.Tensor | None:
    """The negatives as a uint8 tensor, their format checked against the pack's before they are made (making them
    may train the early runs) and again after."""
    if negatives is None:
        return None

    def check(dtype: np.dtype, shape) -> None:
        if dtype != np.uint8 or tuple(shape) != tuple(pack.images.shape[1:]):
            raise ValueError(f"negatives must be uint8 images shaped like the pack's {pack.images.shape[1:]}, got "
                             f"{dtype} {tuple(shape)}; make them with negatives.training_negatives")
    check(np.dtype(np.uint8), negatives.shape)
    pool = np.asarray(negatives.make())
    check(pool.dtype, pool.shape[1:])
    return torch.from_numpy(pool)


def _train(net: Judge, pack: Pack, targets: Targets, y: np.ndarray, cfg: JudgeConfig, progress: bool,
           pool: torch.Tensor | None = None) -> None:
    regression = [j for j, k in enumerate(targets.kinds) if k == "regression"]
    for j in regression:
        net.thresholds[j] = ON_THRESHOLDS.get(targets.names[j], float(np.median(y[:, j])))
    images, y_t = torch.from_numpy(np.array(pack.images)), torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    steps = cfg.epochs * -(-len(images) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps)
    g = torch.Generator().manual_seed(cfg.seed)
    net.train()
    for _ in tqdm(range(cfg.epochs), desc="fit judge", disable=not progress):
        order = torch.randperm(len(images), generator=g)
        for i in range(0, len(images), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            if len(idx) < 4:
                continue
            x, y_b = to_float(images[idx], cfg.device), y_t[idx].to(cfg.device)
            if cfg.augment:
                x = augment_batch(x, g, cfg.noise_std)
            if targets.names == ("rotation",):
                x, y_b = rotate_batch(x, g)
            x, real = failure_batch(x, cfg.failure_share, g, pool,
                                    (lambda b: augment_batch(b, g, cfg.noise_std)) if cfg.augment else None)
            loss = net.loss(net(x)[1], y_b, real)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()


def rotate_batch(x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate each image by a random multiple of 90 degrees; the label is the multiple."""
    k = torch.randint(0, 4, (len(x),), generator=g)
    return torch.stack([torch.rot90(xi, int(ki), (1, 2)) for xi, ki in zip(x, k)]), k[:, None].to(x.device)


def judge_accuracy(net: Judge, pack: Pack) -> dict[str, float]:
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


def reading_accuracy(net: Judge, pack: Pack) -> dict[str, float]:
    """Held-out accuracy of each on/off reading (`Judge.readings`'s threshold, on the truth's same threshold) for
    binary and regression targets: how well the judge tells a factor on from off, whatever its R^2."""
    targets, y = targets_for(pack)
    if targets.kinds == ("class",):
        raise ValueError("reading_accuracy is for object / factor judges; a class judge has judge_accuracy")
    read, truth = net.on(net.predict(pack.images)), net.on({n: y[:, j] for j, n in enumerate(targets.names)})
    return {n: float((read[n] == truth[n]).mean()) for n in targets.names}


def degraded_uint8(images: np.ndarray, kind: str, amount: float, seed: int = 0) -> np.ndarray:
    """Real images made worse, in the packed uint8 format: 'blur' (sigma px), 'pixelate' (factor) or
    'shuffle' (patch side px). The reference points of the quality ladder and the judge's failure sets."""
    x = to_float(images, "cpu")
    if kind == "blur":
        x = blur(x, amount)
    elif kind == "pixelate":
        f = int(amount)
        x = F.interpolate(F.avg_pool2d(x, f), scale_factor=f, mode="nearest")
    elif kind == "shuffle":
        x = shuffle_patches(x, int(amount), torch.Generator().manual_seed(seed))
    elif kind == "checkerboard":
        x = checkerboard(x, int(amount))
    else:
        raise ValueError(f"kind must be 'blur', 'pixelate', 'shuffle' or 'checkerboard', got {kind!r}")
    return to_uint8(x).numpy()


def checkerboard(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Transposed-convolution upsampling artefacts (Odena et al. 2016): the image averaged down `factor`x, then
    brought back by stride-2 transposed 3x3 convolutions of a flat kernel, whose uneven overlap draws a grid."""
    if factor < 2 or factor & (factor - 1):
        raise ValueError(f"checkerboard factor must be a power of 2 >= 2, got {factor}")
    c = x.shape[1]
    y = (F.avg_pool2d(x, factor) + 1) / 2  # intensities in [0, 1]: the grid scales them, whatever their sign
    kernel = torch.ones(c, 1, 3, 3, dtype=x.dtype, device=x.device)
    while y.shape[-1] < x.shape[-1]:
        ones = torch.ones_like(y[:, :1].expand(-1, c, -1, -1))
        cover = F.conv_transpose2d(ones, kernel, stride=2, padding=1, output_padding=1, groups=c)
        # dividing by the mean overlap (not the overlap itself) keeps the grid: 1, 2 and 4 kernels overlap
        y = F.conv_transpose2d(y, kernel, stride=2, padding=1, output_padding=1, groups=c) / cover.mean()
    return (y * 2 - 1).clamp(-1, 1)


def as_images_of(images: np.ndarray, channels: int, size: int) -> np.ndarray:
    """uint8 (N, C, H, W) images in another judge's format: grey to colour (repeated) or colour to grey (mean),
    resized bilinearly (a G trained on another data set, shown to this data set's instruments)."""
    x = torch.from_numpy(np.asarray(images, np.float32))
    if x.shape[1] != channels:
        if channels not in (1, 3):
            raise ValueError(f"cannot show {images.shape[1]}-channel images as {channels} channels")
        x = x.mean(1, keepdim=True).expand(-1, channels, -1, -1)
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).numpy()


def validity(judge: Judge, real: np.ndarray, failures: dict[str, np.ndarray]) -> dict:
    """The judge's readings on held-out real images and on failure images; the rule is verdicts.judge_valid."""
    return {"real": judge.rates(real), **{name: judge.rates(imgs) for name, imgs in failures.items()}}


def agreement(judge_a, judge_b, images: np.ndarray) -> dict[str, float]:
    """Issue 25: Cohen's kappa of two scorers' on/off readings per reading both report, on the same images (NaN
    where both read one value throughout: agreement by chance cannot be told from agreement)."""
    a, b = judge_a.readings(judge_a.predict(images)), judge_b.readings(judge_b.predict(images))
    return {name: kappa(a[name], b[name]) for name in a if name in b}


def kappa(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's kappa of two on/off readings of the same images; NaN where both are one value throughout."""
    from sklearn.metrics import cohen_kappa_score

    x, y = np.asarray(x, bool), np.asarray(y, bool)
    return float("nan") if len(np.unique(np.r_[x, y])) < 2 else float(cohen_kappa_score(x, y))


def agreement_table(kappas: dict[int, dict[str, float]]) -> str:
    """Markdown of `agreement` (or `detector.agreement`) per training seed: one row per reading."""
    seeds = list(kappas)
    names = list(kappas[seeds[0]])
    rows = ["| reading | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for n in names:
        rows.append(f"| {n} | " + " | ".join("-" if np.isnan(kappas[s][n]) else f"{kappas[s][n]:.2f}"
                                              for s in seeds) + " |")
    return "\n".join(rows)


def rate_gap(sample_rates: dict[str, float], real_rates: dict[str, float]) -> tuple[float, str]:
    """Largest absolute difference between two sets of reading rates, and the reading where it occurs."""
    key = max(real_rates, key=lambda k: abs(sample_rates[k] - real_rates[k]))
    return abs(sample_rates[key] - real_rates[key]), key
