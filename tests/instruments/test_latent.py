import numpy as np
import pytest
import torch

from dcgan_core.core.models import build
from dcgan_core.instruments.latent import (
    crossfade,
    lerp,
    lookup_walk,
    semantic_changes,
    slerp,
    smoothness,
    step_profile,
    walk,
)
from tests.conftest import BrightnessJudge


def test_lerp_and_slerp_hit_the_endpoints():
    z0, z1 = torch.randn(10), torch.randn(10)
    for f in (lerp, slerp):
        path = f(z0, z1, 7)
        assert path.shape == (7, 10)
        assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    z0, z1 = torch.randn(50), torch.randn(50)
    z1 = z1 / z1.norm() * z0.norm()
    assert torch.allclose(slerp(z0, z1, 9).norm(dim=1), z0.norm().expand(9), rtol=1e-4)
    assert lerp(z0, z1, 9).norm(dim=1)[4] < 0.9 * z0.norm()  # the straight line cuts inside the sphere


def test_smoothness_statistic():
    even = np.ones((1, 9))
    jump = np.r_[np.full(8, 0.01), 1.0][None]
    lookup = np.r_[np.zeros(8), 1.0][None]
    static = np.zeros((1, 9))
    r = smoothness(np.concatenate([even, jump, lookup, static]))
    assert r[0] == 1 and r[1] == pytest.approx(100) and np.isinf(r[2]) and np.isnan(r[3])


def test_walk_and_lookup_shapes_and_values():
    torch.manual_seed(0)
    G, _ = build("tiny16")
    anchors = G.sample_z(4)
    frames = walk(G, anchors, steps=5)
    assert frames.shape == (3, 5, 1, 16, 16)
    assert step_profile(frames).shape == (3, 4)
    train = np.random.default_rng(0).integers(0, 256, (20, 1, 16, 16), dtype=np.uint8)
    looked = lookup_walk(frames, train)
    train_f = torch.from_numpy(train).float() / 127.5 - 1
    assert all(any(torch.equal(f, t) for t in train_f) for f in looked.flatten(0, 1))
    with pytest.raises(ValueError, match="method"):
        walk(G, anchors, method="cubic")


def test_semantic_change_reads_the_two_ends_of_each_segment():
    frames = torch.full((3, 5, 1, 4, 4), -1.0)
    frames[0, -1] = 1.0  # dark -> bright: a change
    frames[1, :] = 1.0  # bright throughout: none
    assert semantic_changes(frames, BrightnessJudge()).tolist() == [1.0, 0.0, 0.0]


def test_concept_arithmetic_on_known_vectors():
    from dcgan_core.instruments.latent import arithmetic, concept
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    assert torch.allclose(concept(a), torch.tensor([1.0, 1.0]))
    y = arithmetic(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5]), torch.tensor([-1.0, 0.0]))
    assert torch.allclose(y, torch.tensor([-0.5, 1.5]))
    with pytest.raises(ValueError, match="at least one exemplar"):
        concept(torch.zeros(0, 4))


def test_jitter_count_range_and_support():
    from dcgan_core.instruments.latent import JITTER, jittered
    y = torch.zeros(100)
    out = jittered(y, generator=torch.Generator().manual_seed(0))
    assert out.shape == (9, 100) and torch.equal(out[0], y)  # Fig. 7: the centre and 8 jittered copies
    noise = out[1:]
    assert noise.abs().max() <= JITTER and noise.abs().max() > 0.9 * JITTER and noise.std() > 0.1
    edge = jittered(torch.ones(100), generator=torch.Generator().manual_seed(0))
    assert edge.max() == 1.0 and (edge[1:] < 1).any()  # clamped into the uniform cube, not wrapped
    wide = jittered(torch.full((100,), 3.0), z_dist="normal", generator=torch.Generator().manual_seed(0))
    assert wide.min() > 2.7  # a normal prior has no boundary
    again = jittered(y, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_along_a_direction():
    from dcgan_core.instruments.latent import along
    z = along(torch.zeros(3), torch.tensor([1.0, -2.0, 0.0]), [-1, 0, 0.25, 1])
    assert torch.allclose(z, torch.tensor([[-1.0, 1.0, 0], [0, 0, 0], [0.25, -0.5, 0], [1.0, -1.0, 0]]))


def test_a_crossfade_of_real_images_is_smooth_and_ends_on_them():
    images = (np.random.default_rng(0).random((4, 3, 8, 8)) * 255).astype(np.uint8)
    frames = crossfade(images, steps=6)
    assert frames.shape == (3, 6, 3, 8, 8)
    back = ((frames[:, [0, -1]] + 1) * 127.5).round().numpy().astype(np.uint8)
    assert np.array_equal(back[:, 0], images[:-1]) and np.array_equal(back[:, 1], images[1:])
    assert np.allclose(smoothness(step_profile(frames)), 1.0)  # equal steps: the walks' positive control
    with pytest.raises(ValueError, match="2 images"):
        crossfade(images[:1])
