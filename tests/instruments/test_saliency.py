import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop
from torch import nn

from dcgan_core.core.models import Discriminator, resolve
from dcgan_core.instruments import saliency
from dcgan_core.verdicts import rules


def tiny_leaky_net() -> nn.Sequential:
    """x (2) -> W1 -> LeakyReLU(0.2) -> w2 -> y, with weights that give one negative pre-activation and negative
    gradients, so guided and plain backprop differ."""
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.LeakyReLU(0.2), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0], [-3.0, 1.0]]))
        net[2].weight.copy_(torch.tensor([[-1.0, 2.0]]))
    return net


def by_hand(x: np.ndarray, rule: str) -> np.ndarray:
    w1, w2 = np.array([[1.0, 2.0], [-3.0, 1.0]]), np.array([-1.0, 2.0])
    local = np.where(w1 @ x > 0, 1.0, 0.2)  # LeakyReLU's derivative
    g = w2 * local
    if rule == "guided":  # our rule: the unit's own backward, then only positive gradients pass
        g = np.maximum(g, 0)
    return w1.T @ g


def test_guided_leaky_relu_matches_the_hand_computation():
    x = torch.tensor([[1.0, 0.5]])  # pre-activations (2.0, -2.5): the second unit is on its negative slope
    net = tiny_leaky_net()
    guided = GuidedBackprop(saliency.guided_copy(net)).attribute(x.clone().requires_grad_(True), target=0)
    np.testing.assert_allclose(guided[0].detach().numpy(), by_hand(x[0].numpy(), "guided"), rtol=1e-6)
    plain = GuidedBackprop(net).attribute(x.clone().requires_grad_(True), target=0)  # the trap: nothing rewritten
    np.testing.assert_allclose(plain[0].detach().numpy(), by_hand(x[0].numpy(), "plain"), rtol=1e-6)
    assert not np.allclose(guided.detach().numpy(), plain.detach().numpy())
    assert isinstance(net[1], nn.LeakyReLU)  # the original is untouched


@pytest.fixture(scope="module")
def D():
    torch.manual_seed(0)
    return Discriminator(resolve("tiny16", channels=3)).eval()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (6, 3, 16, 16), dtype=np.uint8)


def test_guided_differs_from_the_gradient_on_d(D, images):
    guided = saliency.saliency(D, images, -1, 0)
    plain = saliency.saliency(D, images, -1, 0, "gradient")
    gxi = saliency.saliency(D, images, -1, 0, "gradient x input")
    assert guided.shape == images.shape and np.abs(guided - plain).mean() > 0.05 * np.abs(plain).mean()
    x = images.astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(gxi, plain * x, rtol=1e-5, atol=1e-8)


def test_bad_layer_or_feature_names_the_valid_range(D, images):
    with pytest.raises(ValueError, match=r"layer=5 is not a conv layer of D; valid: 0..1 or -2..-1"):
        saliency.saliency(D, images, 5, 0)
    width = D.convs[-1][0].out_channels
    with pytest.raises(ValueError, match=rf"feature=999 is not a feature map of D's layer -1; valid: 0..{width - 1}"):
        saliency.saliency(D, images, -1, 999)
    with pytest.raises(ValueError, match="method='deconvnet'"):
        saliency.saliency(D, images, -1, 0, "deconvnet")


def test_box_energy_on_a_map_with_a_known_answer():
    energies = np.zeros((2, 8, 8))
    energies[0, :4, :4] = 1.0  # all energy in the top-left quarter
    energies[1] = 1.0  # spread evenly
    boxes = [[[0, 0, 0, 4, 4]], [[0, 0, 0, 4, 4], [1, 4, 4, 8, 8]]]
    e, a = saliency.box_energy(energies, boxes, 3)
    assert e[0, 0] == 1.0 and a[0, 0] == 0.25 and np.isnan(e[0, 1]) and np.isnan(e[:, 2]).all()
    assert e[1, 0] == pytest.approx(0.25) and e[1, 1] == pytest.approx(0.25) and a[1, 1] == 0.25


def test_concentration_says_yes_and_no():
    rng = np.random.default_rng(0)
    area = np.full((20, 2), 0.2)
    on_class_0 = np.stack([0.6 + rng.normal(0, 0.05, 20), 0.2 + rng.normal(0, 0.05, 20)], 1)
    at_chance = 0.2 + rng.normal(0, 0.05, (20, 2))
    assert saliency.concentration(on_class_0, area)["selective"]
    assert saliency.concentration(on_class_0, area)["best_class"] == 0
    assert not saliency.concentration(at_chance, area)["selective"]
    few = np.full((20, 2), np.nan)
    few[:3] = 0.9
    assert not saliency.concentration(few, area)["selective"]  # a class present in < 5 images is not tested


def test_randomisation_is_cascading_and_leaves_d_untouched(D):
    before = {k: v.clone() for k, v in D.state_dict().items()}
    steps = saliency.randomised_cascade(D, seed=1)
    assert [name for name, _ in steps] == ["conv 1", "conv 1-0"]
    for depth, (_, Dr) in enumerate(steps, start=1):
        n = len(D.convs)
        for k in range(n):
            same = torch.equal(Dr.convs[k][0].weight, D.convs[k][0].weight)
            assert same == (k < n - depth), (depth, k)  # blocks from the last down to n - depth are random
        assert torch.equal(Dr.head[1].weight, D.head[1].weight)
    for k, v in D.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_map_similarity_is_one_for_the_same_maps_and_low_for_unrelated():
    rng = np.random.default_rng(0)
    a = rng.random((4, 16, 16))
    rho, ssim = saliency.map_similarity(a, a)
    assert rho == pytest.approx(1.0) and ssim == pytest.approx(1.0)
    rho, ssim = saliency.map_similarity(a, rng.random((4, 16, 16)))
    assert abs(rho) < 0.2 and ssim < 0.3


@pytest.mark.parametrize("trained, random, expect", [
    ([100, 110, 105], [60, 70, 65], "reproduced"),
    ([100, 70, 105], [60, 70, 65], "borderline"),  # one seed no better than its random D
    ([60, 70, 65], [60, 70, 65], "not reproduced"),  # the second-random-D control: no more than the baseline
])
def test_fires_on_objects_rule(trained, random, expect):
    assert rules.fires_on_objects(trained, random, [128] * 3).verdict == expect


MARGIN = int(rules.LITTLE_MARGIN * 128)  # the most features of 128 inside the margin


@pytest.mark.parametrize("selective, expect", [
    ([0, 2, 5], "reproduced"),  # edges under a random weighting: selective by chance only
    ([MARGIN] * 3, "reproduced"),  # the last count inside the margin
    ([MARGIN + 1] * 3, "not reproduced"),  # one feature past it
    ([5, 12, 25], "borderline"),  # the mean past the margin, its interval across it
    ([110, 115, 120], "not reproduced"),  # the segmenter's class maps: objects by construction
])
def test_little_discrimination_rule(selective, expect):
    assert rules.little_discrimination(selective, [128] * 3).verdict == expect


def test_little_discrimination_refuses_counts_of_different_seeds():
    with pytest.raises(ValueError, match="one count per seed"):
        rules.little_discrimination([8, 9], [128] * 3)


def rooms(n: int = 40, size: int = 16, seed: int = 0) -> tuple[np.ndarray, list]:
    """Flat grey rooms with a bright object of class 0 and a dark one of class 1, each a filled box somewhere."""
    rng = np.random.default_rng(seed)
    images, boxes = np.full((n, 3, size, size), 120, np.uint8), []
    for i in range(n):
        own = []
        for cls, value in ((0, 230), (1, 20)):
            x0, y0 = rng.integers(0, size - 5, 2)
            w, h = rng.integers(3, 6, 2)
            images[i, :, y0:y0 + h, x0:x0 + w] = value
            own.append([cls, int(x0), int(y0), int(x0 + w), int(y0 + h)])
        boxes.append(own)
    return images, boxes


def test_edge_maps_are_object_selective_beyond_area_and_never_beyond_edges(D):
    images, boxes = rooms()
    edges = saliency.feature_study(D, images, boxes, 2, top=20, method="image edges")
    assert sum(f["selective"] for f in edges) == len(edges)  # objects are where the edges are: the ceiling
    assert not any(f["beyond_edges"]["selective"] for f in edges)  # read against themselves: nothing beyond
    weighted = saliency.feature_study(D, images, boxes, 2, top=20, method="weighted edges")
    chance = sum(f["beyond_edges"]["selective"] for f in weighted)
    assert rules.little_discrimination([chance], [len(weighted)]).verdict == "single run"  # the positive control
    # the negative control's kind: a map on one class's pixels only is selective beyond the edges
    on_bed = np.stack([saliency.box_masks(b, 2, 16)[0] for b in boxes]).astype(float)
    expected = saliency.box_energy(saliency.energy(saliency.image_edges(images)), boxes, 2)[0]
    found = saliency.concentration(saliency.box_energy(on_bed, boxes, 2)[0], expected)
    assert found["selective"] and found["best_class"] == 0


def test_weighted_edges_follow_the_edges_under_a_seeded_random_weighting():
    images, _ = rooms(4)
    edges, a = saliency.image_edges(images), saliency.weighted_edges(images, seed=3)
    assert np.array_equal(a, saliency.weighted_edges(images, seed=3)) and (a <= edges + 1e-6).all()
    assert not np.allclose(a, saliency.weighted_edges(images, seed=4)) and ((a > 0) == (edges > 0)).mean() > 0.99


def test_image_edges_mark_the_edges_of_the_image():
    from dcgan_core.instruments.saliency import image_edges

    images = np.zeros((2, 3, 16, 16), np.uint8)
    images[:, :, :, 8:] = 200  # a vertical edge between columns 7 and 8
    e = image_edges(images)
    assert e.shape == images.shape and e[:, :, :, 7:9].min() > 0
    assert e[:, :, :, :6].max() == 0 and e[:, :, :, 10:].max() == 0  # flat regions: no energy


def test_an_image_s_edges_do_not_depend_on_the_images_beside_it():
    images = np.random.default_rng(0).integers(0, 256, (5, 3, 16, 16), dtype=np.uint8)
    alone = np.concatenate([saliency.image_edges(images[i:i + 1]) for i in range(len(images))])
    np.testing.assert_allclose(saliency.image_edges(images), alone, rtol=1e-6)  # no smoothing across images
    flat = np.full((1, 3, 16, 16), 90, np.uint8)
    assert saliency.image_edges(np.concatenate([flat, images[:1]]))[0].max() == 0  # a flat image has no edges
