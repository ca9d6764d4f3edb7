"""DCGAN generator and discriminator (Radford, Metz & Chintala 2015, Sec. 3-4, Fig. 1).

Paper symbols, defined once here:
  nz   -- length of the noise vector z (Fig. 1: 100)
  ngf  -- width of the generator's last hidden layer; widths double towards the 4x4 input
  ndf  -- width of the discriminator's first conv layer; widths double with depth

Architecture guidelines of Sec. 3: strided convolutions instead of pooling, BatchNorm in both
nets except the G output and the D input layer, no hidden fully connected layers, ReLU + tanh in G,
LeakyReLU(0.2) in D. Where the paper, the authors' released Theano code and the common ports
differ, `ModelConfig` has an option whose default follows the paper (see book/discrepancies.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import torch
from torch import nn

Z_DISTS = ("uniform", "normal")
G_INPUTS = ("dense", "conv")
D_OUTPUTS = ("dense", "conv", "gap")  # gap: global average pooling, then one linear unit (Sec. 3's rejected option)
BN_EVALS = ("running", "batch")
# Options that undo one Sec. 3 guideline each (the guidelines chapter trains them); the first value follows the paper
D_DOWNSAMPLES = ("strided", "pool")  # pool: stride-1 convs, each followed by 2x2 max-pooling
G_UPSAMPLES = ("strided", "fixed")  # fixed: 2x nearest-neighbour upsampling, each followed by a stride-1 conv
BATCH_NORMS = ("dcgan", "none", "all")  # dcgan: every layer but G's output and D's input; all: those two as well
G_OUTPUTS = ("tanh", "linear")
D_ACTIVATIONS = ("leaky", "relu")


@dataclass(frozen=True)
class ModelConfig:
    """Every architectural choice of a G/D pair; validated on construction, saved with each run."""

    resolution: int = 64  # Fig. 1: 64x64 LSUN images
    channels: int = 3
    nz: int = 100  # Fig. 1: 100-d z
    z_dist: str = "uniform"  # Fig. 1: "100 dimensional uniform distribution Z"; ports use normal
    ngf: int = 128  # Fig. 1: 1024 -> 512 -> 256 -> 128 -> 3
    ndf: int = 128  # D mirrors G (Sec. 3)
    kernel_size: int = 5  # Fig. 1 (textbook reproduction); pytorch/examples and dcgan.torch use 4
    g_input: str = "dense"  # Fig. 1 "project and reshape" = dense + BN; ports use a 4x4 conv-transpose
    d_output: str = "dense"  # Sec. 3: "last conv layer is flattened and fed into a single sigmoid"
    d_widths: tuple[int, ...] = ()  # explicit D conv widths (authors' ImageNet/SVHN models); () = from ndf
    d_strides: tuple[int, ...] = ()  # explicit D conv strides, same length as d_widths
    bn_eval: str = "running"  # paper silent; authors' code always used batch statistics ("batch")
    bn_affine: bool = True  # Suppl. 8.1: removing BN scale and bias helped
    bn_eps: float = 1e-5  # authors' code: 1e-8
    leak: float = 0.2  # Sec. 4: LeakyReLU slope 0.2
    init_std: float = 0.02  # Sec. 4: weights ~ N(0, 0.02); BN gain ~ N(1, 0.02) (authors' code)
    d_downsample: str = "strided"  # Sec. 3: "replace deterministic spatial pooling functions with strided convolutions"
    g_upsample: str = "strided"  # Sec. 3: the generator "learns its own spatial upsampling"
    hidden_fc: int = 0  # Sec. 3: "eliminating fully connected layers on top of convolutional features"; > 0: one
    #                     hidden layer of this width after z in G and before the output in D
    batch_norm: str = "dcgan"  # Sec. 3: BN on every layer "resulted in sample oscillation and model instability"
    g_output: str = "tanh"  # Sec. 3: a bounded output "learns more quickly to saturate and cover the colour space"
    d_activation: str = "leaky"  # Sec. 3: LeakyReLU in D "works well, especially for higher resolution modeling"

    def __post_init__(self) -> None:
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, got {self.resolution}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        for name, allowed in [("z_dist", Z_DISTS), ("g_input", G_INPUTS), ("d_output", D_OUTPUTS),
                              ("bn_eval", BN_EVALS), ("d_downsample", D_DOWNSAMPLES), ("g_upsample", G_UPSAMPLES),
                              ("batch_norm", BATCH_NORMS), ("g_output", G_OUTPUTS), ("d_activation", D_ACTIVATIONS)]:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("nz", "ngf", "ndf", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_fc < 0:
            raise ValueError(f"hidden_fc must be >= 0 (0: no hidden fully connected layer), got {self.hidden_fc}")
        if self.hidden_fc and (self.g_input, self.d_output) != ("dense", "dense"):
            raise ValueError("hidden_fc needs g_input='dense' and d_output='dense' (the layers it is put between)")
        if (self.d_downsample == "pool" or self.g_upsample == "fixed") and self.kernel_size % 2 == 0:
            raise ValueError(f"d_downsample='pool' and g_upsample='fixed' use stride-1 'same' convs: kernel_size must "
                             f"be odd, got {self.kernel_size}")
        if self.d_downsample == "pool" and any(s not in (1, 2) for s in self.d_strides):
            raise ValueError(f"d_downsample='pool' replaces stride-2 convs by 2x2 pooling; d_strides {self.d_strides}")
        if len(self.d_widths) != len(self.d_strides):
            raise ValueError(f"d_widths {self.d_widths} and d_strides {self.d_strides} differ in length")
        if self.d_widths and self.resolution % math.prod(self.d_strides):
            raise ValueError(f"d_strides {self.d_strides} do not divide resolution {self.resolution}")
        object.__setattr__(self, "d_widths", tuple(self.d_widths))
        object.__setattr__(self, "d_strides", tuple(self.d_strides))

    @property
    def n_up(self) -> int:
        """Number of stride-2 stages between the 4x4 input and the full resolution."""
        return int(math.log2(self.resolution // 4))

    def g_widths(self) -> list[int]:
        """G hidden widths from the 4x4 layer up (Fig. 1: [1024, 512, 256, 128] for ngf=128)."""
        return [self.ngf * 2 ** (self.n_up - 1 - i) for i in range(self.n_up)]

    def d_layers(self) -> list[tuple[int, int]]:
        """(width, stride) of each D conv layer (Fig. 1 mirrored unless given explicitly)."""
        if self.d_widths:
            return list(zip(self.d_widths, self.d_strides))
        return [(self.ndf * 2**i, 2) for i in range(self.n_up)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["d_widths"], d["d_strides"] = list(self.d_widths), list(self.d_strides)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {sorted(unknown)}; valid: {sorted(known)}")
        d = dict(d)
        for key in ("d_widths", "d_strides"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class Preset:
    """A named ModelConfig plus the training hyperparameters its source used."""

    config: ModelConfig
    source: str
    train: dict = field(default_factory=dict)  # TrainConfig overrides (lr, batch size, ...)


PRESETS: dict[str, Preset] = {
    "paper-lsun64": Preset(
        ModelConfig(), "Paper Fig. 1: z(100, uniform) -> 4x4x1024 -> ... -> 64x64x3, 5x5 kernels; D mirrors G"),
    "authors-faces64": Preset(
        ModelConfig(ngf=128, ndf=128, bn_eval="batch", bn_eps=1e-8),
        "Newmu/dcgan_code faces/train_uncond_dcgan.py: ngf=ndf=128, 5x5, dense z projection + BN, "
        "flatten-dense-sigmoid D, batch-statistics BN, L2 1e-5, alternating G/D minibatches",
        {"weight_decay": 1e-5, "update_scheme": "alternating"}),
    "authors-imagenet32": Preset(
        ModelConfig(resolution=32, nz=256, kernel_size=3, ngf=128,
                    d_widths=(128, 128, 256, 256, 512, 512), d_strides=(1, 2, 1, 2, 1, 2)),
        "Newmu/dcgan_code released ImageNet-1k 32px model: D 6 conv 3x3, strides 1,2,1,2,1,2, "
        "widths 128..512, z 256 -> 28672-d features (Sec. 5.1); G not documented, Fig. 1 style"),
    "authors-svhn32": Preset(
        ModelConfig(resolution=32, z_dist="normal", ngf=64, d_widths=(64, 128, 256), d_strides=(2, 2, 2)),
        "Newmu/dcgan_code svhn model: 3-layer D 64/128/256 5x5 stride 2 -> 7168-d features, "
        "gaussian z, lr 5e-4, batch 64",
        {"lr_g": 5e-4, "lr_d": 5e-4, "batch_size": 64}),
    "pytorch-examples64": Preset(
        ModelConfig(ngf=64, ndf=64, kernel_size=4, z_dist="normal", g_input="conv", d_output="conv"),
        "pytorch/examples dcgan/main.py: ngf=ndf=64, 4x4 kernels, normal z, conv-transpose input, conv output"),
    "cpu32": Preset(
        ModelConfig(resolution=32, channels=1, ngf=32, ndf=32),
        "This study: Fig. 1 layout at 32x32 grey, ngf=ndf=32, for digits on the 2-core cpu profile"),
    "cpu32-rgb": Preset(
        ModelConfig(resolution=32, ngf=32, ndf=32),
        "This study: Fig. 1 layout at 32x32 RGB, ngf=ndf=32, for synthetic rooms and faces on the cpu profile "
        "(measured: at equal CPU time, 400k images at width 32 beat 200k at width 48)"),
    "cpu16": Preset(
        ModelConfig(resolution=16, channels=1, ngf=32, ndf=32),
        "This study: Fig. 1 layout at 16x16 grey, ngf=ndf=32, for the Sec. 3-4 guideline variants on digits (many "
        "short runs on the cpu profile)"),
    "cpu16-rgb": Preset(
        ModelConfig(resolution=16, ngf=32, ndf=32),
        "This study: Fig. 1 layout at 16x16 RGB, ngf=ndf=32, for the Sec. 3-4 guideline variants on synthetic rooms"),
    "tiny16": Preset(
        ModelConfig(resolution=16, channels=1, nz=16, ngf=32, ndf=32),
        "This study: smallest Fig. 1 layout (16x16 grey, ngf=ndf=32), for the unit tests"),
}


def _bn2d(width: int, cfg: ModelConfig) -> nn.BatchNorm2d:
    # bn_eval="batch": no running statistics, so eval mode uses batch statistics as the authors did
    return nn.BatchNorm2d(width, eps=cfg.bn_eps, affine=cfg.bn_affine,
                          track_running_stats=cfg.bn_eval == "running")


def _pad(k: int) -> tuple[int, int]:
    """Padding and output padding so that a stride-2 (transposed) conv exactly halves (doubles)."""
    pad = (k - 1) // 2
    return pad, 2 + 2 * pad - k


def _bn(width: int, cfg: ModelConfig, dims: int = 2) -> list[nn.Module]:
    """[BatchNorm] as the config asks (none for batch_norm='none')."""
    if cfg.batch_norm == "none":
        return []
    if dims == 1:
        return [nn.BatchNorm1d(width, eps=cfg.bn_eps, affine=cfg.bn_affine,
                               track_running_stats=cfg.bn_eval == "running")]
    return [_bn2d(width, cfg)]


def _g_upsample(w_in: int, w_out: int, cfg: ModelConfig, bias: bool) -> list[nn.Module]:
    """One 2x upsampling of G: a stride-2 transposed conv (Sec. 3), or fixed nearest-neighbour upsampling + conv."""
    k = cfg.kernel_size
    if cfg.g_upsample == "strided":
        pad, out_pad = _pad(k)
        return [nn.ConvTranspose2d(w_in, w_out, k, 2, pad, out_pad, bias=bias)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(w_in, w_out, k, 1, (k - 1) // 2, bias=bias)]


class Generator(nn.Module):
    """z -> image in [-1, 1]: project z to 4x4, then stride-2 transposed convs (Fig. 1)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        widths = cfg.g_widths()
        bn = cfg.batch_norm != "none"
        n_in = cfg.hidden_fc or cfg.nz
        self.hidden = (nn.Sequential(nn.Linear(cfg.nz, cfg.hidden_fc, bias=not bn), *_bn(cfg.hidden_fc, cfg, 1),
                                     nn.ReLU(True)) if cfg.hidden_fc else nn.Identity())  # Sec. 3's rejected FC
        if cfg.g_input == "dense":  # Fig. 1 "project and reshape": a matrix multiply, then BN
            self.project = nn.Linear(n_in, widths[0] * 16, bias=not bn)
        else:  # ports: ConvTranspose2d on a 1x1 z map
            self.project = nn.ConvTranspose2d(cfg.nz, widths[0], 4, 1, 0, bias=not bn)
        layers: list[nn.Module] = [*_bn(widths[0], cfg), nn.ReLU(True)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):  # (N, w_in, s, s) -> (N, w_out, 2s, 2s)
            layers += [*_g_upsample(w_in, w_out, cfg, not bn), *_bn(w_out, cfg), nn.ReLU(True)]
        # Sec. 3: no BN on the output layer; tanh keeps images in [-1, 1]
        everywhere = cfg.batch_norm == "all"
        layers += _g_upsample(widths[-1], cfg.channels, cfg, not everywhere)
        layers += [*(_bn(cfg.channels, cfg) if everywhere else []), *([nn.Tanh()] if cfg.g_output == "tanh" else [])]
        self.body = nn.Sequential(*layers)
        init_weights(self, cfg.init_std)

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n noise vectors from the configured distribution, on this model's device."""
        device = generator.device if generator is not None else next(self.parameters()).device
        if self.config.z_dist == "uniform":  # Fig. 1: U[-1, 1]
            return torch.rand(n, self.config.nz, generator=generator, device=device) * 2 - 1
        return torch.randn(n, self.config.nz, generator=generator, device=device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w0 = self.config.g_widths()[0]
        if self.config.g_input == "dense":
            h = self.project(self.hidden(z)).view(-1, w0, 4, 4)  # (N, nz) -> (N, w0, 4, 4)
        else:
            h = self.project(z.view(-1, self.config.nz, 1, 1))
        return self.body(h)  # (N, C, resolution, resolution)


def _d_activation(cfg: ModelConfig) -> nn.Module:
    return nn.LeakyReLU(cfg.leak, inplace=True) if cfg.d_activation == "leaky" else nn.ReLU(True)


class Discriminator(nn.Module):
    """image -> one logit: stride-2 (or given-stride) convs with LeakyReLU, no pooling (Sec. 3)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        k = cfg.kernel_size
        pad = (k - 1) // 2
        convs, w_in, size = [], cfg.channels, cfg.resolution
        for i, (w, s) in enumerate(cfg.d_layers()):  # (N, w_in, size, size) -> (N, w, size/s, size/s)
            pool = cfg.d_downsample == "pool" and s == 2  # Sec. 3's rejected option: a stride-1 conv, then max-pool
            # Sec. 3: no BN on the D input layer
            norm = _bn(w, cfg) if (i > 0 or cfg.batch_norm == "all") else []
            conv = nn.Conv2d(w_in, w, k, 1 if pool else s, pad, bias=cfg.batch_norm == "none")
            block: list[nn.Module] = [conv, *norm, _d_activation(cfg), *([nn.MaxPool2d(2)] if pool else [])]
            convs.append(nn.Sequential(*block))
            w_in, size = w, size // s
        self.convs = nn.ModuleList(convs)
        if cfg.d_output == "dense":  # flatten -> dense -> (sigmoid in the loss)
            hidden = ([nn.Linear(w_in * size * size, cfg.hidden_fc), _d_activation(cfg)] if cfg.hidden_fc else [])
            self.head = nn.Sequential(nn.Flatten(), *hidden, nn.Linear(cfg.hidden_fc or w_in * size * size, 1))
        elif cfg.d_output == "gap":  # Sec. 3: global average pooling "increased model stability but hurt convergence"
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(w_in, 1))
        else:  # ports: a final conv covering the whole map
            self.head = nn.Sequential(nn.Conv2d(w_in, 1, size, 1, 0, bias=False), nn.Flatten())
        init_weights(self, cfg.init_std)

    def conv_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Post-activation output of every conv layer (the representation probed in Sec. 5)."""
        outs = []
        for block in self.convs:
            x = block(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv_outputs(x)[-1]).view(-1)  # (N,) logits


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """Sec. 4: conv/linear weights ~ N(0, std), biases 0; BN gain ~ N(1, std), bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def check_preset(preset: str) -> Preset:
    """The preset of that name, or an error naming the valid ones (the one place presets are checked)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    return PRESETS[preset]


def resolve(preset: str, **overrides) -> ModelConfig:
    """The ModelConfig of a preset with field overrides applied (validated)."""
    check_preset(preset)
    known = {f.name for f in fields(ModelConfig)}
    bad = set(overrides) - known
    if bad:
        raise ValueError(f"unknown ModelConfig field(s) {sorted(bad)}; valid: {sorted(known)}")
    return replace(PRESETS[preset].config, **overrides)


def build(preset: str, **overrides) -> tuple[Generator, Discriminator]:
    """Build (G, D) from a preset name and ModelConfig field overrides, e.g. resolution=32."""
    cfg = resolve(preset, **overrides)
    return Generator(cfg), Discriminator(cfg)
