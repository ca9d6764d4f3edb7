"""The planted-map G (Sec. 6.3.1's positive control) has its property by construction: its window maps alone draw
the windows, every other map gates part of the scene, and the paper's regression finds exactly the window maps."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from dcgan_core.data.synth_rooms import render_room
from dcgan_core.instruments.controls import PlantedWindowG
from dcgan_core.instruments.interventions import capture, generate, window_regression

WIDTHS = [32, 16, 8]  # hidden layers at 4, 8 and 16 px, as a 32-px DCGAN's (narrower)


@pytest.fixture(scope="module")
def planted():
    G = PlantedWindowG(32, WIDTHS)
    z = G.sample_z(60, torch.Generator().manual_seed(0))
    return G, z, generate(G, z)


def test_hiding_windows_keeps_every_other_pixel_and_draw():
    rng_seed = next(s for s in range(50) if any(b[0] == 0 for b in render_room(np.random.default_rng(s))[1]["boxes"]))
    with_w, meta = render_room(np.random.default_rng(rng_seed))
    without, meta_without = render_room(np.random.default_rng(rng_seed), hide=("window",))
    changed = (with_w != without).any(0)
    windows = [b for b in meta["boxes"] if b[0] == 0]
    assert windows and changed.any()
    assert meta_without["boxes"] == [b for b in meta["boxes"] if b[0] != 0]  # only the windows' boxes go
    ys, xs = np.nonzero(changed)  # the changed pixels lie in the window boxes
    inside = np.zeros_like(changed)
    for _, x0, y0, x1, y1 in windows:
        inside[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = True
    assert inside[ys, xs].all()
    with pytest.raises(ValueError, match="unknown classes"):
        render_room(np.random.default_rng(0), hide=("windows",))


def test_dropping_the_window_maps_removes_exactly_the_windows(planted):
    G, z, images = planted
    bare = generate(G, z, 1, range(G.copies))
    has_windows = np.array([G.room(row)[2].any() for row in z.numpy()])
    assert has_windows.mean() > 0.5 and (~has_windows).any()
    changed = (images != bare).any((1, 2, 3))
    assert (changed == has_windows).all()  # every room with windows changes, every other stays the same
    assert (generate(G, z, 1, range(G.copies - 1)) == images).all()  # one copy left still draws them
    assert (generate(G, z, 0, range(G.copies)) == bare).all()  # at any layer


def test_dropping_a_scene_map_blacks_out_its_blocks_only(planted):
    G, z, images = planted
    scene_map = G.copies + 2
    out = generate(G, z, 1, [scene_map])
    blocks = G.gates[1] == scene_map
    px = 32 // G.BLOCKS
    black = np.kron(blocks.reshape(G.BLOCKS, G.BLOCKS), np.ones((px, px), bool))
    assert blocks.any() and (out[:, :, black] == 0).all()
    assert (out[:, :, ~black] == images[:, :, ~black]).all()


def test_the_paper_regression_picks_exactly_the_window_maps(planted):
    G, z, _ = planted
    boxes = []
    for row in z.numpy():  # the true window boxes, at 32 px
        mask = G.room(row)[2]
        boxes.append([[s[1].start / 2, s[0].start / 2, s[1].stop / 2, s[0].stop / 2]
                      for s in ndimage.find_objects(ndimage.label(mask)[0])])
    for layer in (1, 2):
        w = window_regression(capture(G, z, layer), boxes, 32, 0).coef_[0]
        assert (np.flatnonzero(w > 0) == np.arange(G.copies)).all(), layer


def test_planted_g_refuses_layers_it_cannot_plant():
    with pytest.raises(ValueError, match="more maps than"):
        PlantedWindowG(32, [32, 4, 8])
    with pytest.raises(ValueError, match="resolution"):
        PlantedWindowG(12, WIDTHS)
