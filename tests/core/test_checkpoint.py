"""Checkpoints: self-describing, atomic, validated on load; snapshot file names owned in one place."""

import pytest
import torch

from dcgan_core.core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_run,
    save_checkpoint,
    snapshot_label,
    snapshot_name,
    snapshot_names,
    step_snapshot_name,
)
from dcgan_core.core.train import TrainConfig, train


def cfg(pack, **kw):
    base = dict(batch_size=32, log_every=4, ckpt_every=4, progress=False)
    return TrainConfig.for_preset(str(pack), "tiny16", **{**base, **kw})


def test_corrupt_or_truncated_checkpoint_gives_clear_error(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=4), tmp_path / "r")
    ckpt = tmp_path / "r" / "checkpoints" / "last.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        train(cfg(two_mode_pack, steps=8), tmp_path / "r", resume=True)


def test_checkpoint_loads_on_cpu_and_rebuilds_models(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=4), tmp_path / "r")
    G, D, state = load_run(tmp_path / "r", "cpu")
    assert state["step"] == 4 and G(G.sample_z(2)).shape == (2, 1, 16, 16)


def test_snapshot_names_round_trip_and_sort_in_training_order(tmp_path):
    assert snapshot_name(5) == "epoch-0005.pt" and snapshot_label("epoch-0005.pt") == "after epoch 5"
    assert snapshot_label("last.pt") == "final" and snapshot_label(step_snapshot_name(400)) == "after step 400"
    (tmp_path / "checkpoints").mkdir()
    for e in (10, 1, 5):
        (tmp_path / "checkpoints" / snapshot_name(e)).touch()
    assert snapshot_names(tmp_path) == ["epoch-0001.pt", "epoch-0005.pt", "epoch-0010.pt", "last.pt"]
    for step in (1200, 400, 80):  # a run keeps one kind (TrainConfig refuses both)
        (tmp_path / "steps" / "checkpoints").mkdir(parents=True, exist_ok=True)
        (tmp_path / "steps" / "checkpoints" / step_snapshot_name(step)).touch()
    assert snapshot_names(tmp_path / "steps") == [step_snapshot_name(s) for s in (80, 400, 1200)] + ["last.pt"]


def test_an_interrupted_save_keeps_the_previous_checkpoint(two_mode_pack, tmp_path, monkeypatch):
    train(cfg(two_mode_pack, steps=4), tmp_path / "r")
    path = tmp_path / "r" / "checkpoints" / "last.pt"
    before = path.read_bytes()
    state = load_checkpoint(path)

    def crash(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {**state, "step": 99})
    assert path.read_bytes() == before and load_checkpoint(path)["step"] == 4
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []  # no temp file left
    with pytest.raises(CheckpointError, match="without"):
        save_checkpoint(path, {"step": 1})


def test_earlier_snapshots_are_the_epoch_snapshots_before_the_final_weights(two_mode_pack, tmp_path):
    from dcgan_core.core.checkpoint import earlier_snapshots, images_seen, load_checkpoint
    cfg = TrainConfig.for_preset(str(two_mode_pack), "tiny16", epochs=3, batch_size=32, progress=False,
                                 snapshot_epochs=(1, 2, 3))
    train(cfg, tmp_path / "run")
    assert list(earlier_snapshots(tmp_path / "run")) == [(256, "epoch-0001.pt"), (512, "epoch-0002.pt")]
    assert images_seen(load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")) == 3 * 256  # left out
