"""Sec. 4.1.1 de-duplication: a semantic-hashing autoencoder, code collisions, and a pack without duplicates.

The paper: a 3072-128-3072 de-noising, dropout-regularised ReLU autoencoder on 32x32 downsampled centre crops;
the code layer's ReLU activations are binarised by thresholding, and images whose codes collide are removed
(linear time). What it leaves unstated is a named option of `HasherConfig` (noise, dropout, threshold, epochs)
or of the grouping (exact collision, or a Hamming radius searched with faiss' multi-index hashing).

    hasher = SemanticHasher(HasherConfig(seed=0)).fit(pack.images)
    codes = hasher.transform(pack.images)            # (N, 16) uint8, packed bits, streamed in chunks
    groups = duplicate_groups(codes, radius=0)       # lists of indices, each of size >= 2
    dedup_pack("data/packed/x", "data/packed/x-dedup")  # what `python -m dcgan_core dedup` runs
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from dcgan_core.data.packed import PackError, PackWriter, load_pack
from dcgan_core.utils.runinfo import provenance, write_json

CODE_BITS = 128  # Sec. 4.1.1: 3072-128-3072
SIDE = 32  # Sec. 4.1.1: 32x32 downsampled centre crops (our packs are centre crops already)
MIN_FIT = 1000  # an 800k-parameter autoencoder fit on fewer images learns those images, not a hash
MAX_RADIUS = 16  # beyond 16 of 128 bits a collision no longer means "near duplicate"
THRESHOLDS = ("zero", "median")
CHUNK = 8192  # images hashed per chunk: the memory-mapped pack is never loaded whole


@dataclass(frozen=True)
class HasherConfig:
    """The autoencoder and its binarisation; the paper states the architecture only, the rest is our choice."""

    bits: int = CODE_BITS
    noise: float = 0.1  # de-noising: Gaussian noise sd on inputs in [0, 1] (unstated in the paper)
    dropout: float = 0.5  # on the code units while fitting (unstated; Hinton et al.'s usual 0.5)
    threshold: str = "zero"  # "zero": bit = ReLU unit active (our reading); "median": above its median on the fit set
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    fit_on: int = 100_000  # images drawn (without replacement) from the pack to fit on
    seed: int = 0

    def __post_init__(self) -> None:
        if self.threshold not in THRESHOLDS:
            raise ValueError(f"threshold must be one of {THRESHOLDS}, got {self.threshold!r}")
        if not 0 <= self.dropout < 1 or self.noise < 0:
            raise ValueError(f"need 0 <= dropout < 1 and noise >= 0, got dropout={self.dropout}, noise={self.noise}")
        if self.bits % 8 or self.bits < 8:
            raise ValueError(f"bits must be a positive multiple of 8, got {self.bits}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.fit_on < MIN_FIT:
            raise ValueError(f"fit_on must be >= {MIN_FIT} (an autoencoder fit on fewer images learns them, not a "
                             f"hash), got {self.fit_on}")


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float (N, 3*32*32) in [0, 1]: grey repeated to RGB, area-downsampled to 32x32."""
    x = torch.from_numpy(np.array(images, np.uint8)).float().div_(255)  # a copy: memory maps are read-only
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != SIDE:  # Sec. 4.1.1: 32x32 downsampled
        x = F.interpolate(x, size=(SIDE, SIDE), mode="area") if x.shape[-1] % SIDE == 0 else \
            F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", antialias=True, align_corners=False)
    return x.reshape(len(x), -1)


class SemanticHasher(nn.Module):
    """Fit a de-noising dropout ReLU autoencoder on a pack's images; `transform` gives their binary codes."""

    def __init__(self, config: HasherConfig = HasherConfig()):
        super().__init__()
        self.config = config
        dim = 3 * SIDE * SIDE
        self.encoder, self.decoder = nn.Linear(dim, config.bits), nn.Linear(config.bits, dim)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("median", torch.zeros(config.bits))  # per-unit median code on the fit set
        self.fitted = False

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.encoder(x - self.mean))

    def fit(self, images: np.ndarray, progress: bool = True) -> SemanticHasher:
        """Train on up to `fit_on` images of a uint8 (N, C, H, W) array (memory-mapped is fine)."""
        cfg = self.config
        if len(images) < MIN_FIT:
            raise ValueError(f"the pack has {len(images)} images; the hashing autoencoder needs at least {MIN_FIT} "
                             "to fit (pass a larger pack, or fit on one and hash the other with the library)")
        rng = np.random.default_rng(cfg.seed)
        pick = np.sort(rng.choice(len(images), min(cfg.fit_on, len(images)), replace=False))
        x = torch.cat([to_input(images[pick[i:i + CHUNK]]) for i in range(0, len(pick), CHUNK)])
        gen = torch.Generator().manual_seed(cfg.seed)
        with torch.random.fork_rng():
            torch.manual_seed(cfg.seed)  # init and dropout masks follow the seed
            self.encoder.reset_parameters()
            self.decoder.reset_parameters()
            self.mean.copy_(x.mean(0))
            opt = torch.optim.Adam(self.parameters(), lr=cfg.lr)
            self.train()
            steps = cfg.epochs * -(-len(x) // cfg.batch_size)
            with tqdm(total=steps, desc="fit hashing autoencoder", disable=not progress) as bar:
                for _ in range(cfg.epochs):
                    for idx in torch.randperm(len(x), generator=gen).split(cfg.batch_size):
                        clean = x[idx]
                        noisy = clean + cfg.noise * torch.randn(clean.shape, generator=gen)  # de-noising
                        h = F.dropout(self.code(noisy), cfg.dropout, training=True)
                        loss = F.mse_loss(self.decoder(h) + self.mean, clean)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        opt.step()
                        bar.update()
                        bar.set_postfix(mse=f"{loss.item():.4f}", refresh=False)
            self.eval()
        self.loss = float(loss.item())
        with torch.no_grad():
            self.median.copy_(self.code(x).median(0).values)
        self.fitted = True
        return self

    @torch.no_grad()
    def transform(self, images: np.ndarray, progress: bool = False, threshold: str | None = None) -> np.ndarray:
        """Packed binary codes (N, bits/8) uint8, hashing `images` in chunks of CHUNK; `threshold` overrides
        the config's binarisation (the same encoder, another reading of "thresholding")."""
        if not self.fitted:
            raise RuntimeError("the hasher is not fitted; call fit(images) first")
        threshold = threshold or self.config.threshold
        if threshold not in THRESHOLDS:
            raise ValueError(f"threshold must be one of {THRESHOLDS}, got {threshold!r}")
        cut = self.median if threshold == "median" else torch.zeros_like(self.median)
        out = np.empty((len(images), self.config.bits // 8), np.uint8)
        for i in tqdm(range(0, len(images), CHUNK), desc="hash", disable=not progress, unit="chunk"):
            bits = (self.code(to_input(images[i:i + CHUNK])) > cut).numpy()
            out[i:i + CHUNK] = np.packbits(bits, axis=1)
        return out


def random_projection_codes(images: np.ndarray, bits: int = CODE_BITS, seed: int = 0,
                            mean: np.ndarray | None = None) -> np.ndarray:
    """The untrained control: signs of `bits` random Gaussian projections of the centred 32x32 pixels (SimHash)."""
    w = torch.from_numpy(np.random.default_rng(seed).standard_normal((3 * SIDE * SIDE, bits)).astype(np.float32))
    out = np.empty((len(images), bits // 8), np.uint8)
    for i in range(0, len(images), CHUNK):
        x = to_input(images[i:i + CHUNK])
        x = x - (torch.from_numpy(mean) if mean is not None else x.mean(0))
        out[i:i + CHUNK] = np.packbits((x @ w > 0).numpy(), axis=1)
    return out


def duplicate_groups(codes: np.ndarray, radius: int = 0) -> list[np.ndarray]:
    """Groups (sorted index arrays, size >= 2) of codes that collide: equal (radius 0, the paper's "collide"),
    or linked by chains of codes within `radius` bits (faiss multi-index hashing, exact for radius < tables)."""
    check_radius(radius)
    if radius == 0:  # one sort on the code bytes: the same groups as a dict keyed on them
        _, inverse, counts = np.unique(codes.view(np.dtype((np.void, codes.shape[1]))).ravel(),
                                       return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        groups = np.split(order, np.cumsum(counts)[:-1])
        return sorted((g for g in groups if len(g) > 1), key=lambda g: g[0])
    # imported here: faiss is heavy and only the radius search needs it
    import faiss
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    bits = codes.shape[1] * 8
    tables = radius + 1  # pigeonhole: codes within `radius` bits agree exactly on one of radius+1 disjoint parts
    index = faiss.IndexBinaryMultiHash(bits, tables, min(64, bits // tables))
    index.add(np.ascontiguousarray(codes))
    lims, _, neighbours = index.range_search(np.ascontiguousarray(codes), radius + 1)  # faiss: distance < r
    rows = np.repeat(np.arange(len(codes)), np.diff(lims).astype(np.int64))
    graph = coo_matrix((np.ones(len(rows), np.int8), (rows, neighbours)), shape=(len(codes),) * 2)
    _, label = connected_components(graph, directed=False)
    return duplicate_groups_from_labels(label)


def duplicate_groups_from_labels(label: np.ndarray) -> list[np.ndarray]:
    """Groups of indices sharing a label, size >= 2, ordered by their first index."""
    order = np.argsort(label, kind="stable")
    _, starts, counts = np.unique(label[order], return_index=True, return_counts=True)
    return sorted((order[s:s + c] for s, c in zip(starts, counts) if c > 1), key=lambda g: g[0])


def keep_mask(n: int, groups: list[np.ndarray]) -> np.ndarray:
    """True for the images a de-duplication keeps: all but the 2nd, 3rd ... member of each group."""
    keep = np.ones(n, bool)
    for g in groups:
        keep[g[1:]] = False
    return keep


def check_radius(radius: int) -> None:
    if not isinstance(radius, (int, np.integer)) or not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius must be an integer in 0..{MAX_RADIUS} (Hamming bits of {CODE_BITS}), got {radius!r}")


def dedup_pack(pack: str | Path, out: str | Path, radius: int = 0, config: HasherConfig = HasherConfig(),
               overwrite: bool = False, progress: bool = True) -> dict:
    """Write `out`: `pack` without its duplicates (first of each group kept, `source_index` into `pack`) and
    out/dedup.json (groups, sizes, settings, timings). The input is never modified; `out` appears whole or not."""
    check_radius(radius)
    src = load_pack(pack)
    src_dir, out_dir = Path(pack).resolve(), Path(out).resolve()
    if out_dir == src_dir or out_dir in src_dir.parents or src_dir in out_dir.parents:
        raise PackError(f"--out {out} is, holds or lies inside the input pack {pack}; write the de-duplicated pack "
                        "to a folder of its own")
    if Path(out).exists() and not overwrite:
        raise PackError(f"{out} already exists; pass --overwrite to replace it")
    if len(src) < MIN_FIT:
        raise PackError(f"{pack} has {len(src)} images; the hashing autoencoder needs at least {MIN_FIT} to fit")
    t0 = time.perf_counter()
    hasher = SemanticHasher(config).fit(src.images, progress)
    t1 = time.perf_counter()
    codes = hasher.transform(src.images, progress)
    t2 = time.perf_counter()
    groups = duplicate_groups(codes, radius)
    kept = np.flatnonzero(keep_mask(len(src), groups))
    t3 = time.perf_counter()
    report = {"input": str(pack), "input_count": len(src), "kept": len(kept), "removed": len(src) - len(kept),
              "groups": len(groups), "group_sizes": np.bincount([len(g) for g in groups]).tolist() if groups else [],
              "largest_groups": [g.tolist() for g in sorted(groups, key=len, reverse=True)[:20]],
              "radius": radius, "hasher": asdict(config), "fit_mse": hasher.loss,
              "seconds": {"fit": t1 - t0, "hash": t2 - t1, "group": t3 - t2},
              "hash_images_per_s": len(src) / max(t2 - t1, 1e-9), **provenance("cpu")}
    _write_subset(src, kept, out, overwrite, report, progress)
    return report


def _write_subset(src, kept: np.ndarray, out: str | Path, overwrite: bool, report: dict, progress: bool) -> None:
    """Copy the kept images and their side data into a new pack, streamed; dedup.json goes in before the rename."""
    c, h, w = src.images.shape[1:]
    with PackWriter(out, len(kept), c, h, w, overwrite=overwrite) as writer:
        for i in tqdm(range(0, len(kept), CHUNK), desc="write pack", disable=not progress, unit="chunk"):
            writer.images[i:i + CHUNK] = src.images[kept[i:i + CHUNK]]
        side = {k: getattr(src, k)[kept] for k in ("labels", "attributes", "landmarks")
                if getattr(src, k) is not None}
        side["source_index"] = kept  # into the input pack, whatever the input's own source_index was
        boxes = [src.boxes[i] for i in kept] if src.boxes is not None else None
        meta = {k: v for k, v in src.meta.items() if k not in ("count", "sha256", "side_files", "format_version")}
        meta["dedup"] = {"of": str(src.path), "removed": report["removed"], "radius": report["radius"]}
        write_json(writer.tmp / "dedup.json", report)
        writer.commit(meta, boxes=boxes, **side)
