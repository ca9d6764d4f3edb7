import numpy as np
import pytest
import torch

from dcgan_core.core.models import Generator, resolve
from dcgan_core.instruments import interventions


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return Generator(resolve("cpu32-rgb")).eval()


@pytest.fixture(scope="module")
def z(G):
    return G.sample_z(8, generator=torch.Generator().manual_seed(0))


def test_hooked_generation_without_drops_equals_plain_generation(G, z):
    plain = interventions.generate(G, z)
    np.testing.assert_array_equal(interventions.generate(G, z, -2, []), plain)
    with torch.no_grad():
        direct = G(z)
    with interventions.dropped_maps(G, -2, []), torch.no_grad():
        np.testing.assert_array_equal(G(z).numpy(), direct.numpy())
    assert not interventions.generator_layers(G)[-2]._forward_hooks  # nothing left behind


def test_dropped_maps_are_zero_and_g_is_unchanged(G, z):
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with interventions.dropped_maps(G, 1, [1, 3]):
        maps = interventions.capture(G, z, 1)
        changed = interventions.generate(G, z)
    assert (maps[:, [1, 3]] == 0).all() and (maps[:, [0, 2]] != 0).any()
    assert not (changed == interventions.generate(G, z)).all()  # the hook acted while it was there
    for k, v in G.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not any(m._forward_hooks for m in interventions.generator_layers(G))


@pytest.mark.parametrize("preset, layer, shape", [
    ("cpu32-rgb", -2, (2, 64, 8, 8)),  # our reading of "second-highest" at 32x32: 8x8, 64 maps
    ("cpu32-rgb", 0, (2, 128, 4, 4)),
    ("paper-lsun64", -2, (2, 256, 16, 16)),  # Fig. 1: the 256-map layer
])
def test_regression_features_come_from_the_intended_layer(preset, layer, shape):
    G = Generator(resolve(preset)).eval()
    assert interventions.capture(G, G.sample_z(2), layer).shape == shape


def test_box_to_feature_map_cells():
    inside = interventions.cells_in_boxes([[0, 0, 16, 16]], 32, 8)  # the top-left quarter: cells 0..3 x 0..3
    expected = np.zeros((8, 8), bool)
    expected[:4, :4] = True
    np.testing.assert_array_equal(inside, expected)
    assert interventions.cells_in_boxes([[5, 9, 7, 11]], 32, 8).sum() == 1  # covers the centre (6, 10) of cell (2, 1)
    assert interventions.cells_in_boxes([[5, 9, 7, 11]], 32, 8)[2, 1]
    tiny = interventions.cells_in_boxes([[0, 0, 1, 1]], 32, 8)  # smaller than a cell: marks the cell holding it
    assert tiny.sum() == 1 and tiny[0, 0]


def test_bad_layer_maps_and_empty_boxes_fail_before_any_work(G, z):
    with pytest.raises(ValueError, match=r"layer=3 is not a hidden layer of G; valid: 0..2 or -3..-1 \(0: 4x4x128"):
        interventions.capture(G, z, 3)
    with pytest.raises(ValueError, match=r"maps must index G's layer 0 \(0..127\)"):
        with interventions.dropped_maps(G, 0, [200]):
            pass
    with pytest.raises(ValueError, match="no boxes on any image"):
        interventions.window_regression(np.zeros((2, 64, 8, 8)), [[], []], 32)
    with pytest.raises(ValueError, match="no negative locations"):
        interventions.window_regression(np.zeros((2, 64, 2, 2)), [[[0, 0, 32, 32]], []], 32)


def test_window_regression_finds_the_maps_that_mark_the_boxes():
    rng = np.random.default_rng(0)
    maps = rng.normal(0, 1, (30, 8, 4, 4))
    boxes = []
    for m in maps:
        i, j = rng.integers(0, 4, 2)
        m[2, i, j] += 4  # map 2 is on where the "window" is
        boxes.append([[j * 8, i * 8, j * 8 + 8, i * 8 + 8]])
    w = interventions.window_regression(maps, boxes, 32).coef_[0]
    assert np.argmax(w) == 2 and w[2] > 1


