"""Generators that have a property by construction: the positive controls of rules read on a G's samples.

`FaceRendererG` is the synthetic face renderer driven as a generator whose latent holds the factors: z in
[-1, 1]^NZ, z[0..3] set male, smile, glasses and yaw, the other dimensions pick everything else about the face.
Arithmetic on z is arithmetic on the factors, and moving along z[3] turns the head, so Sec. 6.3.2's rules must
pass on it (a rule that cannot is broken, not evidence against the paper).
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from dcgan_core.data.images import convert_array
from dcgan_core.data.synth_faces import render_face

FACTOR_DIMS = ("male", "smile", "glasses", "yaw")  # z[i] sets FACTOR_DIMS[i]
NZ = 16


def factors_of(z: np.ndarray) -> dict[str, float]:
    """The factors one latent row sets: male and glasses on where z > 0, smile on its bimodal ranges (on 0.55-1,
    off -0.3-0.15, as the renderer draws them), yaw = z."""
    smile = 0.55 + 0.45 * z[1] if z[1] > 0 else -0.3 + 0.45 * (z[1] + 1)
    return {"male": float(z[0] > 0), "smile": float(smile), "glasses": float(z[2] > 0), "yaw": float(z[3])}


class FaceRendererG(nn.Module):
    """The face renderer as a G (module docstring): the interface Sec. 6.3.2's study reads (config.z_dist,
    sample_z, forward to [-1, 1] images at `resolution`)."""

    def __init__(self, resolution: int, nz: int = NZ):
        super().__init__()
        if nz <= len(FACTOR_DIMS):
            raise ValueError(f"nz={nz} must exceed the {len(FACTOR_DIMS)} factor dimensions")
        self.config = SimpleNamespace(z_dist="uniform", nz=nz, bn_eval="running")
        self.resolution = resolution
        self.anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # gives the module a device

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else self.anchor.device
        return torch.rand(n, self.config.nz, generator=generator, device=device) * 2 - 1

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images = []
        for row in z.detach().float().cpu().numpy():
            rest = np.round(row[len(FACTOR_DIMS):], 2).astype(np.float32)  # the face's identity, from the rest of z
            seed = int.from_bytes(hashlib.sha1(rest.tobytes()).digest()[:8], "little")
            img, _ = render_face(np.random.default_rng(seed), factors_of(row))
            images.append(convert_array(img, self.resolution, 3))
        x = torch.from_numpy(np.stack(images)).float() / 127.5 - 1
        return x.to(self.anchor.device)
