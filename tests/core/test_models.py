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


@pytest.mark.parametrize("kwargs, match", [
    ({"resolution": 48}, "power of two"), ({"z_dist": "cauchy"}, "z_dist"),
    ({"channels": 2}, "channels"), ({"nosuchfield": 1}, "unknown ModelConfig"),
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
