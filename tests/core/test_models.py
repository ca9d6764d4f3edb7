from collections import Counter

import pytest
import torch
from torch import nn

from dcgan_core.core.models import PRESETS, Generator, ModelConfig, build, resolve


def layer_shapes(module_seq, x):
    shapes = []
    for m in module_seq:
        x = m(x)
        if isinstance(m, (nn.ConvTranspose2d, nn.Conv2d, nn.Sequential)):
            shapes.append(tuple(x.shape[1:]))
    return shapes


def test_paper_lsun64_generator_follows_fig1():
    G, D = build("paper-lsun64")
    cfg = G.config
    assert (cfg.nz, cfg.z_dist, cfg.kernel_size, cfg.resolution) == (100, "uniform", 5, 64)
    z = G.sample_z(2)
    h = G.project(z).view(2, -1, 4, 4)
    assert h.shape[1:] == (1024, 4, 4)
    shapes = layer_shapes(G.body, h)
    assert shapes == [(512, 8, 8), (256, 16, 16), (128, 32, 32), (3, 64, 64)]
    assert all(m.kernel_size == (5, 5) for m in G.modules() if isinstance(m, nn.ConvTranspose2d))


def test_paper_lsun64_discriminator_mirrors_generator():
    _, D = build("paper-lsun64")
    outs = D.conv_outputs(torch.zeros(2, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(128, 32, 32), (256, 16, 16), (512, 8, 8), (1024, 4, 4)]
    assert D(torch.zeros(2, 3, 64, 64)).shape == (2,)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_builds_and_runs(preset):
    G, D = build(preset)
    assert PRESETS[preset].source
    z = G.sample_z(2)
    x = G(z)
    c, r = G.config.channels, G.config.resolution
    assert x.shape == (2, c, r, r)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (2,)


@pytest.mark.parametrize("resolution", [16, 32, 64, 128])
@pytest.mark.parametrize("preset", ["pytorch-examples64", "tiny16"])
def test_any_power_of_two_resolution_builds(preset, resolution):
    G, D = build(preset, resolution=resolution, channels=1, ngf=8, ndf=8)
    x = G(G.sample_z(2))
    assert x.shape == (2, 1, resolution, resolution)
    assert D(x).shape == (2,)


def test_batchnorm_placement():
    G, D = build("paper-lsun64")
    # Sec. 3: no BN on the D input layer; BN on every later D layer
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.convs[0])
    assert all(any(isinstance(m, nn.BatchNorm2d) for m in block) for block in D.convs[1:])
    # Sec. 3: no BN on the G output layer: the last modules are conv-transpose then tanh
    assert isinstance(G.body[-2], nn.ConvTranspose2d) and isinstance(G.body[-1], nn.Tanh)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    assert n_bn == 4  # after the projection and after each hidden conv-transpose


def test_init_statistics():
    torch.manual_seed(0)
    G, D = build("paper-lsun64")
    w = G.body[2].weight  # 1024 -> 512 conv-transpose, 13M weights
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    bn = D.convs[1][1]
    assert abs(bn.weight.mean().item() - 1.0) < 0.01 and abs(bn.weight.std().item() - 0.02) < 0.005
    assert torch.all(bn.bias == 0)


def test_imagenet32_discriminator_layers():
    _, D = build("authors-imagenet32")
    outs = D.conv_outputs(torch.zeros(2, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [
        (128, 32, 32), (128, 16, 16), (256, 16, 16), (256, 8, 8), (512, 8, 8), (512, 4, 4)]


def test_z_distributions():
    g = torch.Generator().manual_seed(0)
    z = Generator(ModelConfig(resolution=16, ngf=4, ndf=4)).sample_z(5000, generator=g)
    assert z.min() >= -1 and z.max() <= 1 and abs(z.std().item() - (1 / 3) ** 0.5) < 0.01
    z = Generator(ModelConfig(resolution=16, ngf=4, ndf=4, z_dist="normal")).sample_z(5000, generator=g)
    assert z.min() < -3 and abs(z.std().item() - 1) < 0.01


def test_batch_statistics_option_at_eval():
    G, _ = build("tiny16", bn_eval="batch")
    G.eval()
    z = G.sample_z(8)
    # with batch statistics a sample depends on its batch mates; with running statistics it does not
    assert not torch.allclose(G(z)[:4], G(z[:4]), atol=1e-5)
    G2, _ = build("tiny16")
    G2.eval()
    assert torch.allclose(G2(z)[:4], G2(z[:4]), atol=1e-5)


def test_options_change_the_architecture():
    G, D = build("paper-lsun64", g_input="conv", d_output="conv", kernel_size=4, bn_affine=False)
    assert isinstance(G.project, nn.ConvTranspose2d)
    assert isinstance(D.head[0], nn.Conv2d)
    assert all(m.weight is None for m in G.modules() if isinstance(m, nn.BatchNorm2d))


def layer_counts(net: nn.Module) -> Counter:
    """How many modules of each type a net holds (containers left out)."""
    return Counter(type(m).__name__ for m in net.modules()
                   if not isinstance(m, (nn.Sequential, nn.ModuleList, nn.Identity))
                   and m is not net)


# Sec. 3's guidelines, each undone by one option: exactly which layer types change in (G, D), and by how much, at
# 16x16 (two 2x stages, so n_up = 2: G has one hidden upsampling and the output one; D two convs)
GUIDELINE_OPTIONS = {
    "d_downsample": ("pool", {}, {"MaxPool2d": 2}),
    "g_upsample": ("fixed", {"ConvTranspose2d": -2, "Upsample": 2, "Conv2d": 2}, {}),
    "hidden_fc": (64, {"Linear": 1, "BatchNorm1d": 1, "ReLU": 1}, {"Linear": 1, "LeakyReLU": 1}),
    "d_output": ("gap", {}, {"AdaptiveAvgPool2d": 1}),
    "batch_norm": ("none", {"BatchNorm2d": -2}, {"BatchNorm2d": -1}),
    "g_output": ("linear", {"Tanh": -1}, {}),
    "d_activation": ("relu", {}, {"LeakyReLU": -2, "ReLU": 2}),
}


@pytest.mark.parametrize("option", GUIDELINE_OPTIONS)
def test_each_guideline_option_changes_only_its_layers_and_trains(option, two_mode_pack, tmp_path):
    from dcgan_core.core.train import TrainConfig, train
    value, in_g, in_d = GUIDELINE_OPTIONS[option]
    base = build("tiny16")
    G, D = build("tiny16", **{option: value})
    for net, ref, delta in ((G, base[0], in_g), (D, base[1], in_d)):
        changed = layer_counts(net)
        changed.subtract(layer_counts(ref))
        assert {k: v for k, v in changed.items() if v} == delta, (option, type(net).__name__)
    z = G.sample_z(4)
    assert G(z).shape == (4, 1, 16, 16) and D(G(z)).shape == (4,)
    cfg = TrainConfig.for_preset(str(two_mode_pack), "tiny16", steps=3, batch_size=16, progress=False,
                                 model_overrides={option: value}, snapshot_epochs=())
    metrics = train(cfg, tmp_path / option)
    assert metrics["step"] == 3 and all(torch.isfinite(torch.tensor(float(metrics[k]))) for k in ("loss_D", "loss_G"))


def test_batch_norm_everywhere_adds_it_to_g_output_and_d_input():
    G, D = build("tiny16", batch_norm="all")
    assert isinstance(G.body[-2], nn.BatchNorm2d) and isinstance(G.body[-1], nn.Tanh)  # BN, then tanh
    assert isinstance(D.convs[0][1], nn.BatchNorm2d)
    base = build("tiny16")
    assert layer_counts(G)["BatchNorm2d"] == layer_counts(base[0])["BatchNorm2d"] + 1
    assert layer_counts(D)["BatchNorm2d"] == layer_counts(base[1])["BatchNorm2d"] + 1


def test_pooling_keeps_d_s_feature_map_sizes():
    x = torch.zeros(2, 1, 16, 16)
    strided, pooled = build("tiny16")[1], build("tiny16", d_downsample="pool")[1]
    assert [o.shape for o in strided.conv_outputs(x)] == [o.shape for o in pooled.conv_outputs(x)]
    assert all(b[0].stride == (1, 1) for b in pooled.convs)  # the resampling is the pooling's


@pytest.mark.parametrize("kwargs, match", [
    ({"resolution": 48}, "power of two"), ({"z_dist": "cauchy"}, "z_dist"),
    ({"channels": 2}, "channels"), ({"nosuchfield": 1}, "unknown ModelConfig"),
    ({"batch_norm": "some"}, "batch_norm"), ({"hidden_fc": -1}, "hidden_fc"),
    ({"hidden_fc": 64, "d_output": "gap"}, "hidden_fc needs"), ({"d_activation": "maxout"}, "d_activation"),
    ({"kernel_size": 4, "g_upsample": "fixed"}, "must be odd"), ({"kernel_size": 4, "d_downsample": "pool"}, "odd"),
])
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        resolve("paper-lsun64", **kwargs)


def test_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match="paper-lsun64"):
        build("lsun")


def test_config_round_trips_through_dict():
    cfg = resolve("authors-imagenet32")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
