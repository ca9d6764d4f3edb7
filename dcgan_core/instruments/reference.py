"""Sec. 4.1's reference points: real held-out images in a judge's space, a ladder of degraded real images
and the memoriser control, against which samples are placed (`studies.training` scores them)."""

from __future__ import annotations

import numpy as np
import torch

from dcgan_core.core.models import Generator
from dcgan_core.data.packed import Pack
from dcgan_core.instruments.judges import Judge, degraded_uint8, rate_gap, validity
from dcgan_core.instruments.metrics import frechet_distance, kid, precision_recall
from dcgan_core.utils.torch_utils import eval_mode, to_uint8

LADDER = (("blur", 0.5), ("blur", 1.0), ("blur", 2.0), ("pixelate", 4))
MEMORISER_NOISE = 3.0  # grey levels of Gaussian noise on the memoriser's copies of training images


@torch.no_grad()
def generate_uint8(G: Generator, n: int, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """n samples as uint8 (N, C, H, W), the packed format, from a seeded z."""
    device = next(G.parameters()).device
    gen = torch.Generator(device).manual_seed(seed)
    out = []
    with eval_mode(G):
        for i in range(0, n, batch_size):
            x = G(G.sample_z(min(batch_size, n - i), generator=gen)).float()
            out.append(to_uint8(x).cpu())
    return torch.cat(out).numpy()


def ladder_name(kind: str, amount: float) -> str:
    return f"real, blurred sigma {amount:g}" if kind == "blur" else f"real, pixelated {amount:g}x"


# Issue 25: the ways a copying G could hide a copy; the memorisation rule must catch every one
MEMORISER_SHIFT = 2  # px: copies moved by 1-2 px in x and y (edges replicated)
MEMORISER_JITTER = 0.15  # per-channel gain in [1 - 0.15, 1 + 0.15] and offset in +-0.15 x 255 / 4
MEMORISER_PATCH = 0.10  # share of the area pasted from another training image
MEMORISERS = ("noise", "shifted", "flipped", "colour-jittered", "partial")


def _shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by 1..MEMORISER_SHIFT px (either sign) along both axes, its border replicated."""
    k, out = MEMORISER_SHIFT, np.empty_like(x)
    padded = np.pad(x, ((0, 0), (0, 0), (k, k), (k, k)), mode="edge")
    h, w = x.shape[2:]
    for i, (dy, dx) in enumerate(rng.integers(1, k + 1, (len(x), 2)) * rng.choice([-1, 1], (len(x), 2))):
        out[i] = padded[i, :, k + dy:k + dy + h, k + dx:k + dx + w]
    return out


def _jittered(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each channel of each image scaled by a gain and moved by an offset (brightness, contrast, colour)."""
    gain = rng.uniform(1 - MEMORISER_JITTER, 1 + MEMORISER_JITTER, (len(x), x.shape[1], 1, 1))
    offset = rng.uniform(-1, 1, gain.shape) * MEMORISER_JITTER * 255 / 4
    return x * gain + offset


def _partial(x: np.ndarray, donors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image with a square of MEMORISER_PATCH of its area pasted, in place, from another training image."""
    h, w = x.shape[2:]
    side = max(1, round(np.sqrt(MEMORISER_PATCH * h * w)))
    out = x.copy()
    for i in range(len(x)):
        top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        out[i, :, top:top + side, left:left + side] = donors[i, :, top:top + side, left:left + side]
    return out


def memoriser_samples(train: Pack, n: int, seed: int = 0, kind: str = "noise") -> np.ndarray:
    """A memorisation control: n random training images, each altered as `kind` says (MEMORISERS): Gaussian
    noise, a 1-2 px shift, a horizontal flip, a colour jitter, or a 10% patch of another training image."""
    if kind not in MEMORISERS:
        raise ValueError(f"memoriser kind must be one of {MEMORISERS}, got {kind!r}")
    if kind == "partial" and len(train) < 2:
        raise ValueError(f"the partial memoriser pastes a patch of another training image; {train.path} has "
                         f"{len(train)}: give it at least 2 images")
    rng = np.random.default_rng([seed, MEMORISERS.index(kind)])
    pick = rng.choice(len(train), n, replace=n > len(train))
    order = np.argsort(pick)  # a pack reads fastest in order
    x = np.empty((n, *train.images.shape[1:]), np.float32)
    x[order] = np.asarray(train.images[pick[order]], np.float32)
    if kind == "noise":
        x = x + rng.normal(0, MEMORISER_NOISE, x.shape)
    elif kind == "shifted":
        x = _shifted(x, rng)
    elif kind == "flipped":
        x = x[..., ::-1]
    elif kind == "colour-jittered":
        x = _jittered(x, rng)
    else:
        donors = (pick + rng.integers(1, len(train), n)) % len(train)  # never the image itself
        d_order = np.argsort(donors)
        d = np.empty_like(x)
        d[d_order] = np.asarray(train.images[donors[d_order]], np.float32)
        x = _partial(x, d, rng)
    return np.clip(x, 0, 255).round().astype(np.uint8)


class Reference:
    """Held-out real images split into two disjoint halves: A is what samples are compared with, B gives the
    floor, the blur ladder and the judge's readings on real images."""

    def __init__(self, judge: Judge, heldout: Pack, n: int, seed: int = 0):
        if len(heldout) < 4:
            raise ValueError(f"the held-out pack has {len(heldout)} images; need >= 4 to split into two halves")
        self.n = min(n, len(heldout) // 2)
        order = np.random.default_rng(seed).permutation(len(heldout))
        self.a = np.asarray(heldout.images[np.sort(order[:self.n])])
        self.b = np.asarray(heldout.images[np.sort(order[self.n:2 * self.n])])
        self.judge, self.seed = judge, seed
        self.feats = judge.embed(self.a)
        self.real_rates = judge.rates(self.b)

    def quality(self, images: np.ndarray) -> dict:
        """FD, KID, precision/recall against half A, and the judge's readings beside real images'."""
        feats = self.judge.embed(images)
        k_mean, k_std = kid(feats, self.feats, subset_size=min(1000, len(feats)), seed=self.seed)
        prec, rec = precision_recall(self.feats, feats)
        rates = self.judge.rates(images)
        gap, where = rate_gap(rates, self.real_rates)
        return {"fd": frechet_distance(feats, self.feats), "kid": k_mean, "kid_std": k_std, "precision": prec,
                "recall": rec, "rates": rates, "rate_gap": gap, "gap_at": where, "feature_space": self.judge.name}

    def ladder(self) -> dict[str, dict]:
        """Quality of half B as it is (the floor) and made worse by each step of LADDER."""
        out = {"real (held-out floor)": self.quality(self.b)}
        for kind, amount in LADDER:
            out[ladder_name(kind, amount)] = self.quality(degraded_uint8(self.b, kind, amount, self.seed))
        return out

    def failure_suite(self, untrained: np.ndarray, gan_failures: dict[str, np.ndarray] | None = None) -> dict:
        """Failure images no instrument trained on (issue 25): GAN-type failures (an untrained G's samples, and
        `gan_failures`: a G's first snapshot, a G trained on another data set), transposed-convolution
        checkerboards at 4x, 4x pixelation, 4-px patch shuffles (the judges trained on quarter-image patches) and
        blur sigma 2. The instruments trained on other images of some of these kinds (`negatives.SEEN_KINDS`)."""
        return {"untrained G": untrained[:self.n], **{k: v[:self.n] for k, v in (gan_failures or {}).items()},
                "checkerboard (transposed-conv upsampling 4x)": degraded_uint8(self.b, "checkerboard", 4),
                "pixelated 4x": degraded_uint8(self.b, "pixelate", 4),
                "shuffled 4-px patches": degraded_uint8(self.b, "shuffle", 4, self.seed),
                "blur sigma 2": degraded_uint8(self.b, "blur", 2.0)}

    def judge_check(self, untrained: np.ndarray, gan_failures: dict[str, np.ndarray] | None = None,
                    judge: Judge | None = None) -> dict:
        """A judge's readings (this reference's, or `judge`) on real images (half B) and on the failure suite."""
        return validity(judge or self.judge, self.b, self.failure_suite(untrained, gan_failures))
