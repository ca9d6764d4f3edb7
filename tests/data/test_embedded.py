"""The embedded real-digit sets need no download, and split deterministically (data/embedded.py)."""

import numpy as np

from tests.conftest import pack


def test_mnist5k_is_real_balanced_and_split(tmp_path):
    p = pack("mnist5k", tmp_path / "all")
    assert p.images.shape == (5000, 1, 32, 32)
    assert np.bincount(p.labels).tolist() == [500] * 10
    assert len(set(p.labels[:20].tolist())) > 3  # shuffled, not sorted by class
    test = pack("mnist5k", tmp_path / "test", split="test")
    train = pack("mnist5k", tmp_path / "train", split="train")
    assert len(test) == 1000 and len(train) == 4000
    assert not set(test.source_index.tolist()) & set(train.source_index.tolist())
    from dcgan_core.data.embedded import MNIST5K_TEST, MNIST5K_VAL, _shuffled, _split_index
    order = _shuffled(5000, 0)  # the packs' order at seed 0: train = fit + val, without packing them again
    fit, val = (set(_split_index(order, s, MNIST5K_TEST, MNIST5K_VAL).tolist()) for s in ("fit", "val"))
    assert len(fit) == 3000 and len(val) == 1000 and not fit & val
    assert fit | val == set(train.source_index.tolist())


def test_digits(tmp_path):
    p = pack("digits", tmp_path / "d")
    assert p.images.shape == (1797, 1, 32, 32) and p.images.max() > 200
