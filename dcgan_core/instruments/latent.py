"""Latent-space primitives: walks (Sec. 6.1) with a measure of how smooth they are, and the z-space steps of
vector arithmetic (Sec. 6.3.2): concept averages, the jitter, lines along a direction.

The paper reads sharp transitions along a latent walk as a sign of memorisation and smooth semantic
change as a sign of a learned representation, but judged it by eye. Here each walk segment gets an
image-change profile (the mean absolute pixel change between consecutive frames), a jump ratio (the
largest step over the median step: 1 for a perfectly even walk, large when the images jump), and a
semantic reading: does the judge see different content at its two ends? Any continuous function is
smooth, so smoothness alone cannot say no: an untrained G (smooth, no content) and a nearest-training-
image memoriser (content, jumps) run the same way (`studies.latent_walks`), and each must fail one half of
the rule.
"""

from __future__ import annotations

import numpy as np
import torch

from dcgan_core.instruments.metrics import pairwise_nn
from dcgan_core.utils.torch_utils import eval_mode, to_uint8

METHODS = ("linear", "slerp")
JITTER = 0.25  # Sec. 6.3.2 / Fig. 7: "uniform noise of scale +-0.25 was added to Y to produce the 8 other samples"


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight line from z0 to z1, `steps` points including both ends."""
    t = torch.linspace(0, 1, steps, device=z0.device)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Great-circle interpolation (White 2016); falls back to lerp when z0 and z1 are parallel."""
    t = torch.linspace(0, 1, steps, device=z0.device)[:, None]
    cos = torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1, 1)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:
        return lerp(z0, z1, steps)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@torch.no_grad()
def walk(G, anchors: torch.Tensor, steps: int = 10, method: str = "linear") -> torch.Tensor:
    """Images along consecutive anchor pairs: (len(anchors) - 1, steps, C, H, W) in [-1, 1].

    Sec. 6.1 / Fig. 4: a series of 9 random points in Z."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if len(anchors) < 2 or steps < 2:
        raise ValueError(f"need >= 2 anchors and >= 2 steps, got {len(anchors)} and {steps}")
    interp = lerp if method == "linear" else slerp
    zs = torch.stack([interp(anchors[i], anchors[i + 1], steps) for i in range(len(anchors) - 1)])
    with eval_mode(G):  # one batch: with bn_eval="batch" every frame sees the same statistics
        x = G(zs.flatten(0, 1)).float()
    return x.view(len(anchors) - 1, steps, *x.shape[1:]).cpu()


def crossfade(images: np.ndarray, steps: int = 10) -> torch.Tensor:
    """Pixel-space fades between consecutive real images (uint8, N C H W), shaped like `walk`'s output: a walk that
    is smooth (equal steps) and semantic (real content at both ends) by construction, the walks' positive control."""
    if len(images) < 2 or steps < 2:
        raise ValueError(f"need >= 2 images and >= 2 steps, got {len(images)} and {steps}")
    x = torch.as_tensor(np.asarray(images)).float() / 127.5 - 1
    t = torch.linspace(0, 1, steps).view(1, steps, *([1] * (x.dim() - 1)))
    return (1 - t) * x[:-1, None] + t * x[1:, None]


def step_profile(frames: torch.Tensor) -> np.ndarray:
    """Mean absolute change between consecutive frames of each walk: (walks, steps - 1)."""
    f = torch.as_tensor(frames).float()
    return (f[:, 1:] - f[:, :-1]).abs().flatten(2).mean(-1).numpy()


def smoothness(profile: np.ndarray) -> np.ndarray:
    """Largest step over median step, per walk: 1 = even; large = a jump; inf = a jump between
    frames that otherwise do not change (a lookup); nan = no change at all."""
    profile = np.asarray(profile, float)
    peak, med = profile.max(1), np.median(profile, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = peak / med
    ratio[(med == 0) & (peak > 0)] = np.inf
    ratio[peak == 0] = np.nan
    return ratio


def concept(z: torch.Tensor) -> torch.Tensor:
    """A concept's vector: the mean z of its exemplars (Sec. 6.3.2: "averaging the Z vector for three exemplars")."""
    if z.ndim != 2 or len(z) < 1:
        raise ValueError(f"need a (k, nz) batch of at least one exemplar, got shape {tuple(z.shape)}")
    return z.mean(0)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Y = A - B + C (smiling woman - neutral woman + neutral man)."""
    return a - b + c


def jittered(y: torch.Tensor, n: int = 8, scale: float = JITTER, generator: torch.Generator | None = None,
             z_dist: str = "uniform") -> torch.Tensor:
    """Y itself followed by n copies with uniform noise in [-scale, scale] added: the (n + 1, nz) batch of Fig. 7's
    3x3 grid, kept inside the distribution's support (`to_support`)."""
    if n < 0 or scale < 0:
        raise ValueError(f"n and scale must be >= 0, got {n} and {scale}")
    noise = (torch.rand(n, len(y), generator=generator, device=y.device) * 2 - 1) * scale
    return to_support(torch.cat([y[None], y[None] + noise]), z_dist)


def to_support(z: torch.Tensor, z_dist: str) -> torch.Tensor:
    """Clamp z into U[-1, 1]^nz for a uniform prior: G never saw a coordinate outside the cube, and A - B + C can
    leave it (up to +-3); a coordinate past the boundary is set to the boundary. A normal prior has no boundary."""
    if z_dist not in ("uniform", "normal"):
        raise ValueError(f"z_dist must be 'uniform' or 'normal', got {z_dist!r}")
    return z.clamp(-1, 1) if z_dist == "uniform" else z


def along(z0: torch.Tensor, direction: torch.Tensor, positions, z_dist: str = "uniform") -> torch.Tensor:
    """z0 + t * direction for each t in positions (Fig. 8: a turn vector added along a line), inside the support."""
    t = torch.as_tensor(positions, dtype=z0.dtype, device=z0.device)[:, None]
    return to_support(z0[None] + t * direction[None], z_dist)


def lookup_walk(frames: torch.Tensor, train_images) -> torch.Tensor:
    """The memoriser baseline: replace every frame by its nearest training image (pixel L2)."""
    f = torch.as_tensor(frames).float()
    flat = f.flatten(0, 1)
    train = torch.as_tensor(np.asarray(train_images)).float() / 127.5 - 1
    _, idx = pairwise_nn(flat.flatten(1), train.flatten(1))
    return train[idx[:, 0]].view_as(f)


def semantic_changes(frames: torch.Tensor, judge) -> np.ndarray:
    """Per segment: 1 if the judge calls both end frames real and reads different content at the two ends
    (an object appears or goes, a factor or digit flips), else 0. frames: (segments, steps, C, H, W)."""
    ends = torch.as_tensor(frames)[:, [0, -1]].flatten(0, 1)
    u8 = to_uint8(ends).numpy()
    read = judge.readings(judge.predict(u8))
    real = read.pop("real").reshape(-1, 2).all(1)
    if not read:  # a judge without content readings (rotation task) cannot see semantic change
        return np.zeros(len(real))
    content = np.stack([v.reshape(-1, 2) for v in read.values()], -1)  # (segments, 2, readings)
    return (real & (content[:, 0] != content[:, 1]).any(-1)).astype(float)
