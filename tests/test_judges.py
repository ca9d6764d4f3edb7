import numpy as np
import pytest
import torch

from dcgan_core.classifiers import JudgeConfig, fit_judge, judge_accuracy, targets_for

from .conftest import write_pack


def stripes(n, seed=0):
    """Class 0: horizontal stripes, class 1: vertical, with noise; 16x16 grey."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.zeros((n, 1, 16, 16), np.float32)
    base[y == 0, :, ::4] = 1
    base[y == 1, :, :, ::4] = 1
    x = np.clip(base * 200 + rng.normal(30, 20, base.shape), 0, 255).astype(np.uint8)
    return x, y


def test_targets_from_labels_boxes_attributes_or_rotation(tmp_path):
    from dcgan_core.data import load_pack
    x, y = stripes(8)
    t, Y = targets_for(load_pack(write_pack(tmp_path / "l", x, labels=y)))
    assert t.kinds == ("class",) and t.n_classes == 2 and Y[:, 0].tolist() == y.tolist()
    t, Y = targets_for(load_pack(write_pack(tmp_path / "n", x)))
    assert t.names == ("rotation",) and t.n_classes == 4


def test_judge_learns_and_is_frozen(tmp_path):
    from dcgan_core.data import load_pack
    x, y = stripes(512)
    pack = load_pack(write_pack(tmp_path / "train", x, labels=y))
    xt, yt = stripes(200, seed=1)
    test = load_pack(write_pack(tmp_path / "test", xt, labels=yt))
    net = fit_judge(pack, JudgeConfig(epochs=15, batch_size=64), cache_dir=tmp_path / "cache", progress=False)
    assert judge_accuracy(net, test)["label_accuracy"] > 0.95
    net.train()
    assert not net.training  # frozen: cannot leave eval mode
    assert net.embed(xt[:5]).shape == (5, 128)
    again = fit_judge(pack, JudgeConfig(epochs=15, batch_size=64), cache_dir=tmp_path / "cache", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    fit_judge(pack, JudgeConfig(epochs=1, batch_size=64), cache_dir=tmp_path / "cache", progress=False)
    assert len(list((tmp_path / "cache").glob("judge-*.pt"))) == 2  # keyed by the whole config


def test_rotation_judge_on_unlabelled_data(tmp_path):
    from dcgan_core.data import load_pack
    rng = np.random.default_rng(0)
    x = np.zeros((256, 1, 16, 16), np.uint8)
    x[:, :, :4, :] = 250  # a bright band at the top: rotation is easy to tell
    x = np.clip(x + rng.integers(0, 30, x.shape), 0, 255).astype(np.uint8)
    pack = load_pack(write_pack(tmp_path / "u", x))
    net = fit_judge(pack, JudgeConfig(epochs=10, batch_size=64), progress=False)
    assert judge_accuracy(net, pack)["rotation_accuracy"] > 0.9


@pytest.mark.parametrize("source", ["synth-rooms", "synth-faces"])
def test_targets_of_the_synthetic_sets(tmp_path, source):
    from dcgan_core.data import load_pack
    from dcgan_core.data.sources import pack_source
    pack = load_pack(pack_source(source, tmp_path / "p", limit=6, resolution=32, workers=1, progress=False))
    t, Y = targets_for(pack)
    assert len(Y) == 6
    if source == "synth-rooms":
        assert t.names[0] == "window" and set(np.unique(Y)) <= {0, 1}
    else:
        assert {"male", "smile", "glasses", "yaw"} <= set(t.names)
