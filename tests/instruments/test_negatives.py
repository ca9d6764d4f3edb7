"""The instruments' GAN-type negatives (issue 25): held-aside seeds, early runs, other sources, and their use in
the judges' and segmenter's training."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from dcgan_core.core.train import TrainConfig
from dcgan_core.data import load_pack
from dcgan_core.instruments import detector, negatives
from dcgan_core.instruments.judges import Negatives, failure_batch, negative_pool
from tests.conftest import blocky_images, pack, two_mode_images, write_pack


def test_the_held_aside_seeds_are_refused_to_chapters(tmp_path, monkeypatch):
    import yaml

    from dcgan_core.book import pipeline
    from dcgan_core.book.pipeline import ParameterError
    negatives.check_seeds([0, 1, 2], "here")
    with pytest.raises(ValueError, match=r"here uses seed\(s\) \[9001\]"):
        negatives.check_seeds([0, 9001], "here")
    prof = yaml.safe_load((pipeline.PROFILES_DIR / "smoke.yaml").read_text())
    prof["notebooks"]["01_training"] = {**(prof["notebooks"].get("01_training") or {}), "seeds": [0, 9002]}
    (tmp_path / "clash.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    monkeypatch.setattr(pipeline, "PROFILES_DIR", tmp_path)
    with pytest.raises(ParameterError, match=r"chapter 01_training seeds uses seed\(s\) \[9002\]"):
        pipeline.load_profile("clash")


def test_the_early_g_trains_to_the_first_snapshot_before_the_end(tmp_path):
    cfg = TrainConfig.for_preset(str(tmp_path), "tiny16", epochs=5, snapshot_epochs=(1, 5), seed=0)
    early = negatives.early_config(cfg, 9001)
    assert (early.epochs, early.seed, early.snapshot_epochs) == (1, 9001, ())
    assert negatives.early_config(replace(cfg, snapshot_epochs=(5,)), 9001) is None  # its first snapshot is the end
    assert negatives.early_config(TrainConfig.for_preset(str(tmp_path), "tiny16", steps=6), 9001) is None


def test_other_sources_gives_one_pack_per_other_source(tmp_path):
    def source_pack(name, source):
        path = write_pack(tmp_path / name, two_mode_images(8))
        meta = path / "meta.json"
        meta.write_text(meta.read_text().replace('"source": "test"', f'"source": "{source}"'))
        return load_pack(path)
    own, copy, other, other_split = (source_pack("a", "rooms"), source_pack("b", "rooms"),
                                     source_pack("c", "mnist"), source_pack("d", "mnist"))
    found = negatives.other_sources({"a": own, "b": copy, "c": other, "d": other_split}, own)
    assert [p.meta["source"] for p in found] == ["mnist"] and found[0] is other


def test_training_negatives_are_named_without_images_and_apart_from_the_suite(tmp_path):
    from types import SimpleNamespace

    from dcgan_core.core.runs import ensure_trained
    from dcgan_core.studies import training
    digits = load_pack(write_pack(tmp_path / "digits", two_mode_images(64)))
    colour = load_pack(write_pack(tmp_path / "colour", blocky_images(8, side=16)))
    cfg = TrainConfig.for_preset(str(digits.path), "tiny16", epochs=2, snapshot_epochs=(1,), batch_size=32,
                                 progress=False)
    made = negatives.training_negatives(cfg, "m", tmp_path / "runs", [colour], n=6)
    assert not (tmp_path / "runs").exists()  # the identity (a cache key) trains nothing
    assert len(made.identity) == 2 + 2 + 1 + 1 and any("m-negative" in part for part in made.identity)
    for other in (negatives.training_negatives(cfg, "m", tmp_path / "runs", [colour], n=7),
                  negatives.training_negatives(replace(cfg, model_overrides={"ngf": 8}), "m", tmp_path / "runs",
                                               [colour], n=6)):  # another G
        assert other.identity != made.identity
    longer = replace(cfg, snapshot_epochs=(1, 2), epochs=3)  # a longer model with the same early G: the same
    assert negatives.training_negatives(longer, "m", tmp_path / "runs", [colour], n=6).identity == made.identity
    early_len = replace(cfg, snapshot_epochs=(2,), epochs=3)  # the first snapshot at epoch 2: another early run
    assert {p for p in negatives.training_negatives(early_len, "m", tmp_path / "runs", [colour], n=6).identity
            if "negative" in p} != {p for p in made.identity if "negative" in p}
    images = made.make()
    assert images.shape == (6 * 5, 1, 16, 16) and images.dtype == np.uint8  # 2 seeds x (untrained, early) + colour
    assert len(list((tmp_path / "runs").glob("m-negative*"))) == 2  # one early run per held-aside seed
    # the failure suite's untrained G and first snapshot are the chapter's seed's, drawn from another stream
    def run(name, seed, progress):
        return ensure_trained(replace(cfg, seed=seed), name, tmp_path / "runs")
    T = SimpleNamespace(seeds=[0], train_models=["m"], device="cpu", run=run)
    untrained, gan_failures = training.failure_samples(T, "m", 6, 1, 16)
    for name, failures in {"untrained G": untrained, **gan_failures}.items():
        assert not (failures[:, None] == images[None]).all((2, 3, 4)).any(), name


def test_failure_batch_draws_half_its_failures_from_the_pool():
    g = torch.Generator().manual_seed(0)
    x = -torch.ones(8, 1, 16, 16)  # black
    pool = torch.full((5, 1, 16, 16), 255, dtype=torch.uint8)  # white: nothing a degradation of black draws
    out, real = failure_batch(x, 0.5, g, pool)
    assert real.tolist() == [0] * 4 + [1] * 4 and torch.equal(out[4:], x[4:])
    white = out.flatten(1).mean(1) > 0.5
    assert white[:4].sum() == 2 and not white[4:].any()  # k // 2 of the k failures come from the pool
    out, _ = failure_batch(x, 0.5, g, pool, augment=lambda b: b * 0 - 0.5)  # as the real images were augmented
    assert (out.flatten(1).mean(1) == -0.5).sum() == 2
    out, real = failure_batch(x, 0.5, g, None)
    assert not (out.flatten(1).mean(1) > 0.5).any() and real.sum() == 4


def test_negative_pool_refuses_images_of_another_format(tmp_path):
    digits = load_pack(write_pack(tmp_path / "digits", two_mode_images(8)))
    assert negative_pool(None, digits) is None
    good = Negatives(("x",), lambda: np.zeros((3, 1, 16, 16), np.uint8), (1, 16, 16))
    assert negative_pool(good, digits).shape == (3, 1, 16, 16)
    for bad in (np.zeros((3, 3, 16, 16), np.uint8), np.zeros((3, 1, 16, 16), np.float32)):
        with pytest.raises(ValueError, match="shaped like the pack's"):
            negative_pool(Negatives(("x",), lambda b=bad: b, (1, 16, 16)), digits)
    made = []
    with pytest.raises(ValueError, match=r"got uint8 \(3, 32, 32\)"):  # refused before anything is made
        negative_pool(Negatives(("x",), lambda: made.append(1), (3, 32, 32)), digits)
    assert made == []


def test_the_segmenter_learns_to_mark_nothing_on_failure_images(tmp_path):
    rooms = pack("synth-rooms", tmp_path / "rooms", resolution=16, limit=512, workers=1)
    noise = [np.random.default_rng(s).integers(0, 256, (64, 3, 16, 16), dtype=np.uint8) for s in (0, 1)]
    cfg = detector.DetectorConfig(epochs=20, batch_size=32, width=8)
    present = detector.presence(detector.pack_masks(rooms, np.arange(64)))
    marked = {}
    for share, seed in ((0.0, 0), (0.5, 0), (0.5, 1)):
        det = detector.fit_detector(rooms, replace(cfg, failure_share=share, seed=seed), progress=False,
                                    negatives=Negatives(("noise",), lambda: noise[0], (3, 16, 16)))
        marked[share, seed] = detector.presence(det.masks(noise[1])).mean()  # other noise than it trained on
        seen = detector.presence(det.masks(np.asarray(rooms.images[:64])))
        marked["rooms", share, seed] = seen[present].mean()  # the objects it finds where the boxes are
    assert marked[0.0, 0] > 0.3 and max(marked[0.5, 0], marked[0.5, 1]) < 0.1, marked  # noise: rooms without it
    assert min(v for k, v in marked.items() if k[0] == "rooms") > 0.15, marked  # it still finds the objects


def test_the_lock_makes_a_second_process_wait_and_reuse_the_run(tmp_path):
    import multiprocessing as mp
    import time

    from dcgan_core.core import runs
    from dcgan_core.core.train import train
    cfg = TrainConfig.for_preset(str(write_pack(tmp_path / "two", two_mode_images(64))), "tiny16", steps=4,
                                 batch_size=16, progress=False)
    run = runs.run_dir(cfg, "m", tmp_path / "runs")
    ctx = mp.get_context("spawn")
    stamps = ctx.Queue()
    with runs.locked(run):  # this process trains the run; a second asks for it meanwhile
        child = ctx.Process(target=_ensure_and_stamp, args=(cfg, str(tmp_path / "runs"), stamps))
        child.start()
        assert stamps.get(timeout=120) == "asking"  # the child has imported everything and calls ensure_trained
        time.sleep(2)  # without the lock, 4 steps would be trained and saved by now
        assert child.is_alive() and not (run / "checkpoints" / "last.pt").exists()  # it waits on the lock
        train(cfg, run)
    child.join(120)
    assert stamps.get(timeout=5) == (str(run), (run / "checkpoints" / "last.pt").stat().st_mtime_ns)  # reused


def _ensure_and_stamp(cfg, root, stamps):
    from dcgan_core.core.runs import ensure_trained
    stamps.put("asking")
    run = ensure_trained(cfg, "m", root)
    stamps.put((str(run), (run / "checkpoints" / "last.pt").stat().st_mtime_ns))
