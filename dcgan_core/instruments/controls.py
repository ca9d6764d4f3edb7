"""Generators that have a property by construction: the positive controls of rules read on a G's samples.

`FaceRendererG` is the synthetic face renderer driven as a generator whose latent holds the factors: z in
[-1, 1]^NZ, z[0..3] set male, smile, glasses and yaw, the other dimensions pick everything else about the face.
Arithmetic on z is arithmetic on the factors, and moving along z[3] turns the head, so Sec. 6.3.2's rules must
pass on it (a rule that cannot is broken, not evidence against the paper). A binary factor is the sign of its
coordinate alone, so single exemplars sit anywhere in their half of z and are noisy concepts: averaging them helps.
`PlantedWindowG` is the room renderer as a G with planted window maps, for Sec. 6.3.1's rules.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from dcgan_core.data.images import convert_array
from dcgan_core.data.synth_faces import render_face
from dcgan_core.data.synth_rooms import render_room

FACTOR_DIMS = ("male", "smile", "glasses", "yaw")  # z[i] sets FACTOR_DIMS[i]
NZ = 16


def factors_of(z: np.ndarray) -> dict[str, float]:
    """The factors one latent row sets: male and glasses on where z > 0, smile on its bimodal ranges (on 0.55-1,
    off -0.3-0.15, as the renderer draws them), yaw = z."""
    smile = 0.55 + 0.45 * z[1] if z[1] > 0 else -0.3 + 0.45 * (z[1] + 1)
    return {"male": float(z[0] > 0), "smile": float(smile), "glasses": float(z[2] > 0), "yaw": float(z[3])}


class RendererG(nn.Module):
    """A synthetic renderer driven as a G: the interface the studies read (config.z_dist, config.nz, sample_z,
    a parameter that gives the module a device); z uniform in [-1, 1]^nz, each row seeding one rendering."""

    def __init__(self, resolution: int, nz: int, **config):
        super().__init__()
        self.config = SimpleNamespace(z_dist="uniform", nz=nz, bn_eval="running", **config)
        self.resolution = resolution
        self.anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # gives the module a device

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else self.anchor.device
        return torch.rand(n, self.config.nz, generator=generator, device=device) * 2 - 1

    @staticmethod
    def seed_of(values: np.ndarray, decimals: int) -> tuple[bytes, int]:
        """The rounded values' bytes (a cache key) and the renderer seed they hash to: equal rows, equal images."""
        key = np.round(values, decimals).astype(np.float32).tobytes()
        return key, int.from_bytes(hashlib.sha1(key).digest()[:8], "little")


class FaceRendererG(RendererG):
    """The face renderer as a G (module docstring), forward to [-1, 1] images at `resolution`."""

    def __init__(self, resolution: int, nz: int = NZ):
        if nz <= len(FACTOR_DIMS):
            raise ValueError(f"nz={nz} must exceed the {len(FACTOR_DIMS)} factor dimensions")
        super().__init__(resolution, nz)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images = []
        for row in z.detach().float().cpu().numpy():
            _, seed = self.seed_of(row[len(FACTOR_DIMS):], 2)  # the face's identity, from the rest of z
            img, _ = render_face(np.random.default_rng(seed), factors_of(row))
            images.append(convert_array(img, self.resolution, 3))
        x = torch.from_numpy(np.stack(images)).float() / 127.5 - 1
        return x.to(self.anchor.device)


class PlantedWindowG(RendererG):
    """Sec. 6.3.1's positive control: the room renderer as a G whose hidden layers have a planted window map.

    Per hidden layer i (4 * 2^i px square, widths[i] maps, as a DCGAN's): maps 0..copies-1 are the window
    coverage of each cell, and the others are 1 - coverage (scaled a little apart), each gating one fixed set of
    image blocks. The image is the room with its windows where any copy is alive at every layer and without them
    (the same room, wall behind) where they are all dropped; a block whose gating map is dropped at any layer is
    black. So dropping exactly the window maps removes the windows and keeps the rest of the scene, and dropping
    other maps does not: the property the chapter's rules test, by construction. z in [-1, 1]^nz picks the room."""

    BLOCKS = 8  # the image is gated in 8 x 8 blocks

    def __init__(self, resolution: int, widths: list[int], copies: int = 4, nz: int = NZ):
        if resolution % self.BLOCKS or 4 * 2 ** (len(widths) - 1) > resolution:
            raise ValueError(f"resolution={resolution} must be a multiple of {self.BLOCKS} and at least twice the top "
                             f"hidden layer's size ({4 * 2 ** (len(widths) - 1)} px for {len(widths)} layers)")
        if min(widths) <= copies:
            raise ValueError(f"every layer needs more maps than the {copies} window copies, got widths {widths}")
        super().__init__(resolution, nz, g_widths=lambda: list(widths))
        self.copies = copies
        self.body = nn.ModuleList(nn.ReLU() for _ in widths)  # the hidden layers a hook captures or drops
        # which scene map of each layer gates each image block: a fixed draw, one map per block
        self.gates = [copies + np.random.default_rng(i).permutation(self.BLOCKS ** 2) % (w - copies)
                      for i, w in enumerate(widths)]
        self._rooms: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def room(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The room of one latent row at `resolution`: with windows, without them (float in [-1, 1]) and the
        window coverage (64 x 64 bool); cached, since each intervention renders the same z again."""
        key, seed = self.seed_of(row, 3)
        if key not in self._rooms:
            with_w, _ = render_room(np.random.default_rng(seed))
            without, _ = render_room(np.random.default_rng(seed), hide=("window",))
            mask = (with_w != without).any(0)
            self._rooms[key] = tuple(convert_array(x, self.resolution, 3).astype(np.float32) / 127.5 - 1
                                     for x in (with_w, without)) + (mask,)
        return self._rooms[key]

    def layer_maps(self, mask: torch.Tensor, layer: int) -> torch.Tensor:
        """(N, width, s, s) maps of hidden `layer` before its ReLU: the window coverage of each cell in the copies,
        1 - coverage (scaled 1.00-1.09 apart) in the scene maps."""
        size, width = 4 * 2 ** layer, self.config.g_widths()[layer]
        cover = nn.functional.adaptive_avg_pool2d(mask, size)
        scale = 1 + 0.1 * torch.arange(width - self.copies).float()[None, :, None, None] / width
        return torch.cat([cover.expand(-1, self.copies, -1, -1), (1 - cover) * scale], 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        rooms = [self.room(row) for row in z.detach().float().cpu().numpy()]
        with_w, without = (torch.from_numpy(np.stack([r[k] for r in rooms])) for k in (0, 1))
        mask = torch.from_numpy(np.stack([r[2] for r in rooms])).float()[:, None]
        windows_on, block_on = torch.ones(len(z), 1, 1, 1), torch.ones(len(z), self.BLOCKS ** 2)
        for i, (layer, gates) in enumerate(zip(self.body, self.gates)):
            alive = layer(self.layer_maps(mask, i)).amax((2, 3)) > 0  # a forward hook may zero maps here
            windows_on = windows_on * alive[:, :self.copies].any(1).float()[:, None, None, None]
            block_on = block_on * alive[:, torch.from_numpy(gates)].float()
        images = without + windows_on * (with_w - without)
        px = self.resolution // self.BLOCKS
        keep = block_on.view(-1, 1, self.BLOCKS, self.BLOCKS).repeat_interleave(px, 2).repeat_interleave(px, 3)
        return (images * keep - (1 - keep)).to(self.anchor.device)  # a dropped block is black (-1)
