import numpy as np
import pytest
import torch

from dcgan_core.instruments.judges import (
    JudgeConfig,
    degrade,
    degraded_uint8,
    fit_judge,
    judge_accuracy,
    rate_gap,
    reading_accuracy,
    shuffle_patches,
    targets_for,
    validity,
)
from tests.conftest import write_pack


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
    # the real head: real stripes are content, blurred ones are not
    check = validity(net, xt, {"blur 2": degraded_uint8(xt, "blur", 2.0)})
    assert check["real"]["real"] > 0.9 and check["blur 2"]["real"] < 0.2
    assert abs(check["real"]["class 0"] + check["real"]["class 1"] - check["real"]["real"]) < 1e-9
    net.train()
    assert not net.training  # frozen: cannot leave eval mode
    assert net.embed(xt[:5]).shape == (5, 128)
    again = fit_judge(pack, JudgeConfig(epochs=15, batch_size=64), cache_dir=tmp_path / "cache", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    fit_judge(pack, JudgeConfig(epochs=1, batch_size=64), cache_dir=tmp_path / "cache", progress=False)
    assert len(list((tmp_path / "cache").glob("judge-*.pt"))) == 2  # keyed by the whole config


def test_the_second_scorer_is_another_architecture_and_seed_that_also_learns(tmp_path):
    from dcgan_core.data import load_pack
    from dcgan_core.instruments.judges import SCORERS, Judge, Targets
    x, y = stripes(512)
    pack = load_pack(write_pack(tmp_path / "train", x, labels=y))
    xt, yt = stripes(200, seed=1)
    test = load_pack(write_pack(tmp_path / "test", xt, labels=yt))
    a, b = JudgeConfig.scorer("a", epochs=15, batch_size=64), JudgeConfig.scorer("b", epochs=15, batch_size=64)
    assert a.seed != b.seed and a == JudgeConfig(epochs=15, batch_size=64)  # scorer a is today's judge
    net = fit_judge(pack, b, cache_dir=tmp_path / "cache", progress=False)
    assert net.name == "judge-b-128" and judge_accuracy(net, test)["label_accuracy"] > 0.95
    assert net.embed(xt[:5]).shape == (5, 128)
    layers = {arch: [type(m) for m in Judge(1, Targets(("label",), ("class",), 2), arch=arch).body]
              for arch in SCORERS}
    assert torch.nn.BatchNorm2d in layers["a"] and torch.nn.BatchNorm2d not in layers["b"]
    assert torch.nn.MaxPool2d in layers["b"] and torch.nn.MaxPool2d not in layers["a"]
    with pytest.raises(ValueError, match="arch must be one of"):
        JudgeConfig(arch="c")


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


def test_shuffle_patches_permutes_whole_tiles():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y = shuffle_patches(x, 2, torch.Generator().manual_seed(0))
    tiles = lambda t: sorted(tuple(t[0, 0, i:i + 2, j:j + 2].flatten().tolist()) for i in (0, 2) for j in (0, 2))
    assert tiles(x) == tiles(y) and not torch.equal(x, y)


def test_degradations_keep_shape_and_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    for kind in ("blur", "shuffle", "blobs"):
        y = degrade(x, kind, g)
        assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    with pytest.raises(ValueError, match="kind must be one of"):
        degrade(x, "jpeg", g)
    with pytest.raises(ValueError, match="patch must divide the image size 16x16, got 5"):
        shuffle_patches(x, 5, g)
    u8 = np.random.default_rng(0).integers(0, 256, (3, 1, 8, 8), dtype=np.uint8)
    assert degraded_uint8(u8, "pixelate", 4).reshape(3, 2, 4, 2, 4).std((2, 4)).max() == 0  # 4x4 blocks
    assert degraded_uint8(u8, "blur", 1.0).std() < u8.std()


def test_checkerboard_draws_a_periodic_grid_and_images_change_format():
    from dcgan_core.instruments.judges import as_images_of
    flat = np.full((2, 3, 16, 16), 128, np.uint8)
    cb = degraded_uint8(flat, "checkerboard", 4).astype(float)
    assert cb.shape == flat.shape and cb.std() > 10  # a flat image gets a grid
    inner = cb[..., 4:-4, 4:-4]  # two stride-2 steps: a grid of period 4 px (the border has fewer overlaps)
    assert np.allclose(inner[..., 4:], inner[..., :-4], atol=1) and not np.allclose(inner[..., 2:], inner[..., :-2])
    with pytest.raises(ValueError, match="power of 2"):
        degraded_uint8(flat, "checkerboard", 3)
    grey = as_images_of(np.stack([np.full((3, 8, 8), v, np.uint8) for v in (30, 90)]), 1, 16)
    assert grey.shape == (2, 1, 16, 16) and grey[1].min() == grey[1].max() == 90
    assert as_images_of(grey, 3, 8).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="cannot show"):
        as_images_of(grey, 2, 8)


def test_rate_gap_finds_the_largest_difference():
    assert rate_gap({"real": 0.9, "bed": 0.5}, {"real": 1.0, "bed": 0.95}) == (pytest.approx(0.45), "bed")


def test_face_factors_read_on_at_the_data_thresholds(tmp_path):
    from dcgan_core.data import load_pack
    from dcgan_core.data.sources import pack_source
    from dcgan_core.data.synth_faces import ON_THRESHOLDS
    pack = load_pack(pack_source("synth-faces", tmp_path / "p", limit=64, resolution=32, workers=1, progress=False))
    net = fit_judge(pack, JudgeConfig(epochs=1, batch_size=32), progress=False)
    for name, thr in ON_THRESHOLDS.items():  # not the training median (the beard's is 0: "on" for any stubble)
        assert float(net.thresholds[net.targets.names.index(name)]) == pytest.approx(thr)
    beard = pack.attributes[:, pack.attribute_names.index("beard")]
    assert np.median(beard) == 0 and ON_THRESHOLDS["beard"] > 0
    targets, y = targets_for(pack)
    truth = {n: y[:, j] for j, n in enumerate(targets.names)}
    net.predict = lambda images: {**truth, "real": np.ones(len(images))}  # a judge that reads the truth
    assert set(reading_accuracy(net, pack).values()) == {1.0}
    net.predict = lambda images: {**truth, "smile": 1 - truth["smile"], "real": np.ones(len(images))}
    acc = reading_accuracy(net, pack)
    assert acc["smile"] < 0.5 and acc["glasses"] == 1.0  # one factor read backwards


class _Reader:
    """A stand-in scorer: reads fixed on/off values, whatever the images."""

    def __init__(self, **readings):
        self.values = readings

    def predict(self, images):
        return self.values

    def readings(self, pred):
        return {k: np.asarray(v, bool) for k, v in pred.items()}


def test_agreement_is_cohen_s_kappa_per_shared_reading():
    from dcgan_core.instruments.judges import agreement
    on = [1, 1, 0, 0, 1, 0, 1, 0]
    a = _Reader(real=[1] * 8, smile=on, male=on, glasses=on)
    b = _Reader(real=[1] * 8, smile=on, male=[1 - v for v in on], beard=on)
    k = agreement(a, b, np.zeros((8, 1, 4, 4)))
    assert set(k) == {"real", "smile", "male"}  # only readings both report
    assert k["smile"] == 1.0 and k["male"] == -1.0 and np.isnan(k["real"])  # constant in both: undefined
