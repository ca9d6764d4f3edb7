import numpy as np
import pytest
import torch

from dcgan_core import detector, interpret
from dcgan_core import verdicts as V
from dcgan_core.models import Generator, resolve

from .conftest import pack, two_mode_images, write_pack


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return Generator(resolve("cpu32-rgb")).eval()


@pytest.fixture(scope="module")
def z(G):
    return G.sample_z(8, generator=torch.Generator().manual_seed(0))


def test_hooked_generation_without_drops_equals_plain_generation(G, z):
    plain = interpret.generate(G, z)
    np.testing.assert_array_equal(interpret.generate(G, z, -2, []), plain)
    with torch.no_grad():
        direct = G(z)
    with interpret.dropped_maps(G, -2, []), torch.no_grad():
        np.testing.assert_array_equal(G(z).numpy(), direct.numpy())
    assert not interpret.generator_layers(G)[-2]._forward_hooks  # nothing left behind


def test_dropped_maps_are_zero_and_g_is_unchanged(G, z):
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with interpret.dropped_maps(G, 1, [1, 3]):
        maps = interpret.capture(G, z, 1)
        changed = interpret.generate(G, z)
    assert (maps[:, [1, 3]] == 0).all() and (maps[:, [0, 2]] != 0).any()
    assert not (changed == interpret.generate(G, z)).all()  # the hook acted while it was there
    for k, v in G.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not any(m._forward_hooks for m in interpret.generator_layers(G))


@pytest.mark.parametrize("preset, layer, shape", [
    ("cpu32-rgb", -2, (2, 64, 8, 8)),  # our reading of "second-highest" at 32x32: 8x8, 64 maps
    ("cpu32-rgb", 0, (2, 128, 4, 4)),
    ("paper-lsun64", -2, (2, 256, 16, 16)),  # Fig. 1: the 256-map layer
])
def test_regression_features_come_from_the_intended_layer(preset, layer, shape):
    G = Generator(resolve(preset)).eval()
    assert interpret.capture(G, G.sample_z(2), layer).shape == shape


def test_box_to_feature_map_cells():
    inside = interpret.cells_in_boxes([[0, 0, 16, 16]], 32, 8)  # the top-left quarter: cells 0..3 x 0..3
    expected = np.zeros((8, 8), bool)
    expected[:4, :4] = True
    np.testing.assert_array_equal(inside, expected)
    assert interpret.cells_in_boxes([[5, 9, 7, 11]], 32, 8).sum() == 1  # covers the centre (6, 10) of cell (2, 1)
    assert interpret.cells_in_boxes([[5, 9, 7, 11]], 32, 8)[2, 1]
    tiny = interpret.cells_in_boxes([[0, 0, 1, 1]], 32, 8)  # smaller than a cell: marks the cell holding it
    assert tiny.sum() == 1 and tiny[0, 0]


def test_bad_layer_maps_and_empty_boxes_fail_before_any_work(G, z):
    with pytest.raises(ValueError, match=r"layer=3 is not a hidden layer of G; valid: 0..2 or -3..-1 \(0: 4x4x128"):
        interpret.capture(G, z, 3)
    with pytest.raises(ValueError, match=r"maps must index G's layer 0 \(0..127\)"):
        with interpret.dropped_maps(G, 0, [200]):
            pass
    with pytest.raises(ValueError, match="no boxes on any image"):
        interpret.window_regression(np.zeros((2, 64, 8, 8)), [[], []], 32)
    with pytest.raises(ValueError, match="no negative locations"):
        interpret.window_regression(np.zeros((2, 64, 2, 2)), [[[0, 0, 32, 32]], []], 32)


def test_window_regression_finds_the_maps_that_mark_the_boxes():
    rng = np.random.default_rng(0)
    maps = rng.normal(0, 1, (30, 8, 4, 4))
    boxes = []
    for m in maps:
        i, j = rng.integers(0, 4, 2)
        m[2, i, j] += 4  # map 2 is on where the "window" is
        boxes.append([[j * 8, i * 8, j * 8 + 8, i * 8 + 8]])
    w = interpret.window_regression(maps, boxes, 32).coef_[0]
    assert np.argmax(w) == 2 and w[2] > 1


def test_detector_boxes_presence_and_refusals(tmp_path):
    mask = np.zeros((8, 8), bool)
    mask[1:3, 2:5] = True  # 6 px
    mask[6, 6] = True  # 1 px: below MIN_PIXELS
    assert detector.boxes_of(mask) == [[2.0, 1.0, 5.0, 3.0]]
    masks = np.zeros((2, 3, 8, 8), bool)
    masks[0, 1, :2, :2] = True
    assert detector.presence(masks).tolist() == [[False, True, False], [False, False, False]]
    with pytest.raises(ValueError, match="no object boxes"):
        detector.fit_detector(pack_of_two_modes(tmp_path))


def pack_of_two_modes(tmp_path):
    from dcgan_core.data.packed import load_pack
    return load_pack(write_pack(tmp_path / "two", two_mode_images(8)))


def test_detector_trains_on_rooms_and_caches(tmp_path, monkeypatch):
    rooms = pack("synth-rooms", tmp_path / "rooms", resolution=32, limit=64, workers=1)
    cfg = detector.DetectorConfig(epochs=1, batch_size=32, width=8)
    det = detector.fit_detector(rooms, cfg, tmp_path / "cache", progress=False)
    masks = det.masks(np.asarray(rooms.images[:4]))
    assert masks.shape == (4, 7, 32, 32) and masks.dtype == bool
    assert len(list((tmp_path / "cache").glob("detector-*.pt"))) == 1
    monkeypatch.setattr(detector, "_train", lambda *a, **k: pytest.fail("trained again instead of loading"))
    again = detector.fit_detector(rooms, cfg, tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(again.masks(np.asarray(rooms.images[:4])), masks)
    assert set(detector.scores(det, rooms)) == set(rooms.meta["box_classes"])


@pytest.mark.parametrize("drop, random, expect", [
    ([0.30, 0.25, 0.28], [[0.05, 0.10, 0.12]] * 3, "reproduced"),
    ([0.30, 0.08, 0.28], [[0.05, 0.10, 0.12]] * 3, "partly"),
    ([0.05, 0.06, 0.04], [[0.05, 0.10, 0.12]] * 3, "not reproduced"),  # a random draw against the others
])
def test_removes_windows_rule(drop, random, expect):
    assert V.removes_windows(drop, random).verdict == expect


@pytest.mark.parametrize("other, fd, expect", [
    ([0.01, 0.02, 0.01], [1.0, 1.5, 1.2], "reproduced"),
    ([0.01, 0.04, 0.01], [1.0, 1.5, 1.2], "partly"),  # one seed changes the other objects more than a draw
    ([0.20, 0.25, 0.30], [9.0, 8.0, 9.5], "not reproduced"),  # every map of the layer dropped
])
def test_scene_kept_rule(other, fd, expect):
    r_other, r_fd = [[0.02, 0.03, 0.05]] * 3, [[1.0, 2.0, 3.0]] * 3
    assert V.scene_kept(other, fd, r_other, r_fd).verdict == expect


class BrightSpots:
    """A stand-in detector: a 6x6 'window' (class 0) on the reddest 6x6 patch of an image whose reddest patch is
    redder than its image mean by 2 grey levels; nothing else."""

    def masks(self, images):
        from scipy.ndimage import uniform_filter

        red = np.asarray(images)[:, 0].astype(float)
        out = np.zeros((len(red), 3) + red.shape[1:], bool)
        for i, r in enumerate(red):
            local = uniform_filter(r, 6, mode="nearest")
            y, x = np.unravel_index(np.argmax(local), r.shape)
            if local[y, x] > r.mean() + 2:
                out[i, 0, max(y - 3, 0):y + 3, max(x - 3, 0):x + 3] = True
        return out


class PooledPixels:
    """A stand-in judge: 4x4-pooled pixels as its feature space."""

    def embed(self, images):
        x = torch.as_tensor(np.asarray(images)).float()
        return torch.nn.functional.avg_pool2d(x, 8).flatten(1).numpy()


def test_seed_study_effects_and_claims_on_stand_ins():
    from dcgan_core import window_removal as W

    torch.manual_seed(0)
    G = Generator(resolve("cpu32-rgb", init_std=0.2)).eval()  # a larger init: samples with contrast to detect

    ref = PooledPixels().embed(np.random.default_rng(0).integers(0, 256, (200, 3, 32, 32), dtype=np.uint8))
    st = W.seed_study(G, BrightSpots(), PooledPixels(), ref, ["window", "bed", "door"], -2, n_fit=20, n_eval=60,
                      n_random=3, seed=0)
    assert st["layer"] == 1 and set(st["fits"]) == {0, 1, 2}
    w = st["fits"][1]["weights"]
    assert (w[st["fits"][1]["negative"]] < 0).all() and (w[st["fits"][1]["positive"]] > 0).all()
    eff = W.effects(st)
    assert eff["none"]["window_drop"][0] == 0 and eff["none"]["fd_change"] == 0
    assert eff["every map of the layer"]["window_rate"] != eff["none"]["window_rate"]
    table = W.effects_table({0: st})
    assert "random maps (3 draws, mean)" in table and "| window maps |" in table
    claims = W.claims({0: st}, "stand-in data")
    assert [c.verdict for c in claims][0] in V.VERDICTS and all(c.seeds == [0] for c in claims)
    assert W.claims({}, "x")[0].verdict == "not testable at this scale"
