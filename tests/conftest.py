import numpy as np
import pytest
import torch

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
