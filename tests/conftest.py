import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dcgan_core.data.packed import PackWriter, load_pack
from dcgan_core.data.sources import pack_source


def two_mode_images(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """n grey images, half 'left half bright', half 'top half bright', with a little noise."""
    rng = np.random.default_rng(seed)
    a = np.zeros((size, size), np.float32)
    a[:, : size // 2] = 1
    b = np.zeros((size, size), np.float32)
    b[: size // 2] = 1
    imgs = np.stack([a if i % 2 else b for i in range(n)])[:, None]
    imgs = np.clip(imgs * 220 + 20 + rng.normal(0, 8, imgs.shape), 0, 255)
    return imgs.astype(np.uint8)


def write_pack(path, images: np.ndarray, **side):
    with PackWriter(path, len(images), *images.shape[1:]) as w:
        w.images[:] = images
        return w.commit({"source": "test", "split": "all"}, **side)


def pack(source, out, **kw):
    return load_pack(pack_source(source, out, progress=False, **kw))


@pytest.fixture
def two_mode_pack(tmp_path):
    return write_pack(tmp_path / "two-mode", two_mode_images(256))


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


def self_checks(only, failing=()) -> dict:
    """Instruments' self-check claims as `P.instrument_checks` returns them: passing, except those in `failing`."""
    from dcgan_core.verdicts.claims import Claim
    return {name: Claim(section="4.1", claim=f"{name} tells real content from failure images", paper="-", ours="-",
                        baseline="-", kind="self-check", scorer=name,
                        verdict="not reproduced" if name in failing else "reproduced") for name in only}


# --- stand-ins shared by an instrument's tests and its study's -------------------------------------------------
class PixelJudge:
    """A stand-in judge: 4x4 average-pooled pixels as features; 'bright' when the left half is brighter."""

    name = "pixels-4x4"

    def embed(self, images):
        x = torch.as_tensor(np.asarray(images)).float() / 255
        return F.adaptive_avg_pool2d(x, 4).flatten(1).numpy()

    def rates(self, images):
        x = np.asarray(images, float)
        left = x[..., : x.shape[-1] // 2].mean((1, 2, 3)) > x[..., x.shape[-1] // 2:].mean((1, 2, 3))
        return {"real": 1.0, "left bright": float(left.mean())}


@pytest.fixture
def packs(tmp_path):
    from dcgan_core.data import load_pack
    train_pack = load_pack(write_pack(tmp_path / "train", two_mode_images(256)))
    held = load_pack(write_pack(tmp_path / "held", two_mode_images(200, seed=3)))
    return train_pack, held


def blocky_images(n: int, seed: int = 0, side: int = 32) -> np.ndarray:
    """n distinct RGB images: random 4x4 colour blocks upsampled to `side` px, plus a little noise."""
    rng = np.random.default_rng(seed)
    x = np.kron(rng.integers(0, 256, (n, 3, 4, 4)), np.ones((side // 4, side // 4)))
    return np.clip(x + rng.normal(0, 3, x.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    return blocky_images(1200)


class BrightnessJudge:
    """A judge with a known answer: every image is real content; 'bright' is on when the mean pixel is > 128."""

    def predict(self, images):
        return {"mean": np.asarray(images, float).mean((1, 2, 3))}

    def readings(self, pred):
        return {"real": np.ones(len(pred["mean"]), bool), "bright": pred["mean"] > 128}


def blobs(n, d=20, sep=3.0, seed=0):
    """n points of 4 separable Gaussian classes in d dimensions, and their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = rng.normal(size=(4, d)) * sep
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y
