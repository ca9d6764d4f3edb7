import numpy as np
import pytest
import torch

from dcgan_core.latent import lerp, lookup_walk, slerp, smoothness, smoothness_claim, step_profile, walk, walk_study
from dcgan_core.models import build


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


def test_walk_study_separates_a_generator_from_the_memoriser():
    torch.manual_seed(0)
    G, _ = build("tiny16")
    # a training set holding the walks' own end frames: the memoriser flips from one to the other
    ends = torch.cat([walk(G, G.sample_z(4, generator=torch.Generator().manual_seed(r)), 8)[:, [0, -1]].flatten(0, 1)
                      for r in range(2)])
    train = ((ends + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    study = walk_study(G, train, n_anchors=4, steps=8, repeats=2, seed=0, G_early=G)
    assert len(study["ratios"]["trained, linear"]) == 6
    g = np.nanmedian(study["ratios"]["trained, linear"])
    m = np.nanmedian(study["ratios"]["memoriser (nearest training image), linear"])
    assert g < m
    claim = smoothness_claim(study, [0, 1])
    assert claim.verdict in ("reproduced", "partly") and claim.section == "6.1"
