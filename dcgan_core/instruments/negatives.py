"""GAN-type failure images the instruments train on (issue 25), disjoint from the failure suite that checks them.

The first book with the failure suite showed every judge and segmenter fooled by GAN-type failures they had never
seen: the rooms judge called the epoch-1 textures real, the segmenters saw windows in untrained-G noise, the face
judges called digit samples faces. So besides degradations of their own images, the instruments now train on
failures of the same kinds made apart from the suite: the untrained G and the first snapshot of runs at held-aside
training seeds (NEGATIVE_SEEDS, which no chapter may use), real images of the profile's other data sets, and
checkerboards of other factors (`judges.degrade`). The suite keeps its own images: the chapter's first training
seed's untrained G and first snapshot, samples of a G trained on another data set, checkerboards at 4x. A kind no
instrument has seen any image of is left only in pixelation and small patch shuffles; the training chapter's
table marks the others (`SEEN_KINDS`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from dcgan_core.core.checkpoint import load_run
from dcgan_core.core.models import resolve
from dcgan_core.core.runs import ensure_trained, processes, run_dir, sync_bn
from dcgan_core.core.train import TrainConfig, initial_models
from dcgan_core.data.packed import Pack
from dcgan_core.instruments.judges import Negatives, as_images_of
from dcgan_core.instruments.reference import generate_uint8
from dcgan_core.utils.streams import stream_seed

NEGATIVE_SEEDS = (9001, 9002)  # training seeds of the negatives' runs: never a chapter's (`check_seeds`)
PER_SOURCE = 1000  # images from each negative source (one G at one seed, or one other data set)
# per kind of the failure suite, what the instruments trained on of it (other seeds, other images); the table says
SEEN_KINDS = {"untrained G": "other seeds' untrained G", "first snapshot": "other seeds' first snapshot",
              "G trained on another data set": "real images of the other data sets, not a G's samples",
              "checkerboard": "2x and 8x checkerboards (the suite's are 4x)", "blur": "blur sigma 1.5-3"}


def seen_kind(failure_set: str) -> str | None:
    """What the instruments trained on of a failure suite set's kind (SEEN_KINDS, by name), or None."""
    return next((seen for kind, seen in SEEN_KINDS.items() if kind.lower() in failure_set.lower()), None)


def check_seeds(seeds, where: str) -> None:
    """Refuse chapter seeds that are the negatives' held-aside seeds (the suite must stay apart from them)."""
    shared = sorted({int(s) for s in seeds} & set(NEGATIVE_SEEDS))
    if shared:
        raise ValueError(f"{where} uses seed(s) {shared}, at which the instruments' negatives train "
                         f"(negatives.NEGATIVE_SEEDS {NEGATIVE_SEEDS}); choose other seeds")


def early_config(cfg: TrainConfig, seed: int) -> TrainConfig | None:
    """`cfg` at `seed`, trained only to its first snapshot epoch before its end: the early G of Fig. 2. None when
    the run has none (its 'first snapshot' is then its end, not a failure to train on)."""
    early = sorted(e for e in cfg.snapshot_epochs if cfg.epochs is not None and e < cfg.epochs)
    return replace(cfg, seed=seed, epochs=early[0], snapshot_epochs=(), progress=False) if early else None


def early_name(name: str, early: TrainConfig) -> str:
    """The early run's name: its length is in it, since a run key leaves the length out (runs resume to longer
    lengths) and a run trained further must not stand in for a first snapshot."""
    return f"{name}-negative-e{early.epochs:g}"


def other_sources(packs: dict[str, Pack], own: Pack) -> list[Pack]:
    """One pack per data source other than `own`'s (the first named), in the order given."""
    seen, out = {own.meta["source"]}, []
    for pack in packs.values():
        if pack.meta["source"] not in seen:
            seen.add(pack.meta["source"])
            out.append(pack)
    return out


def training_negatives(cfg: TrainConfig, name: str, runs_root: str | Path, others: list[Pack],
                       seeds: tuple[int, ...] = NEGATIVE_SEEDS, n: int = PER_SOURCE) -> Negatives:
    """The negatives of the instruments of model `name` (config `cfg`): per held-aside seed its untrained G's and
    its early G's samples (trained once under runs_root), and real images of each pack in `others` in its format.
    The identity (the model config's hash, seeds, the early runs' directories with their lengths, checksums) is
    known without making an image: a cached instrument's key."""
    early = {s: early_config(cfg, s) for s in seeds}
    nproc = processes(cfg.batch_size)
    spec = resolve(cfg.preset, **cfg.model_overrides)
    model = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    identity = tuple([f"untrained {name} {model} s{s}" for s in seeds]
                     + [run_dir(c, early_name(name, c), runs_root, nproc, sync_bn(nproc, c.device)).name
                        for c in early.values() if c is not None]
                     + [f"{p.meta['source']} {p.meta['sha256'][:12]}" for p in others] + [f"n={n}"])

    def make() -> np.ndarray:
        images = []
        for s in seeds:
            G0 = initial_models(spec, s)[0].to(cfg.device)
            images.append(generate_uint8(G0, n, stream_seed("negatives", s)))
            if early[s] is not None:
                G = load_run(ensure_trained(early[s], early_name(name, early[s]), runs_root), cfg.device)[0]
                images.append(generate_uint8(G, n, stream_seed("negatives", s)))
        images += [as_images_of(np.asarray(p.images[:n]), spec.channels, spec.resolution) for p in others]
        return np.concatenate(images)

    return Negatives(identity, make, (spec.channels, spec.resolution, spec.resolution))
