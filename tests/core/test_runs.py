"""Run directories keyed by config: reuse, resume, the profile entry's fields, NPROC / SYNC_BN, torchrun launches."""

import json
import os
from types import SimpleNamespace

import pytest

from dcgan_core.book import pipeline
from dcgan_core.book.pipeline import ParameterError
from dcgan_core.core import runs
from dcgan_core.core.train import load_config
from tests.conftest import two_mode_images, write_pack


def test_ensure_trained_reuses_matching_runs(tmp_path):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 6, "batch_size": 32}
    run = pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False)
    mtime = (run / "checkpoints" / "last.pt").stat().st_mtime_ns
    assert pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False) == run
    assert (run / "checkpoints" / "last.pt").stat().st_mtime_ns == mtime  # reused, not retrained
    other = pipeline.ensure_trained("m", {**spec, "lr_g": 1e-3}, packs, "cpu", tmp_path / "runs", progress=False)
    assert other != run
    longer = pipeline.ensure_trained("m", {**spec, "steps": 8}, packs, "cpu", tmp_path / "runs", progress=False)
    assert json.loads((longer / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 8


@pytest.mark.parametrize("nproc, message", [("two", "whole number"), ("0", "whole number"), ("3", "divide")])
def test_a_bad_process_count_is_refused_before_training(tmp_path, monkeypatch, nproc, message):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 6, "batch_size": 32}
    monkeypatch.setenv("DCGAN_NPROC", nproc)
    with pytest.raises(ParameterError, match=message):
        pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()  # nothing written


@pytest.mark.parametrize("nproc, sync, device, message", [("1", "1", "cuda", "NPROC=1"), ("2", "1", "cpu", "on cpu"),
                                                          ("2", "yes", "cuda", "0 or 1")])
def test_sync_bn_without_processes_or_cuda_is_refused(monkeypatch, nproc, sync, device, message):
    monkeypatch.setenv("DCGAN_SYNC_BN", sync)
    with pytest.raises(ParameterError, match=message):
        runs.sync_bn(int(nproc), device)
    monkeypatch.setenv("DCGAN_SYNC_BN", "0")
    assert runs.sync_bn(int(nproc), device) is False


def test_sync_bn_is_passed_to_torchrun_and_keys_its_own_run(tmp_path, monkeypatch):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 6, "batch_size": 32}
    launched = []
    monkeypatch.setattr(runs, "launch", lambda cfg, run, resume, nproc, sync: launched.append((run, sync)))
    monkeypatch.setattr(runs, "sync_bn", lambda nproc, device: os.environ["DCGAN_SYNC_BN"] == "1")  # no GPU here
    monkeypatch.setenv("DCGAN_NPROC", "2")
    for sync in ("0", "1"):
        monkeypatch.setenv("DCGAN_SYNC_BN", sync)
        pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False)
    assert [s for _, s in launched] == [False, True] and launched[0][0] != launched[1][0]  # other maths, other run


def test_a_model_entry_is_config_fields_and_an_unknown_key_is_named(tmp_path):
    entry = {"data": "p", "heldout": "p", "preset": "tiny16", "steps": 3, "z_dist": "normal", "lr_d": 1e-3}
    cfg = runs.entry_config(entry, "packs/p", "cpu", seed=4)
    assert (cfg.model_overrides, cfg.lr_d, cfg.lr_g, cfg.seed, cfg.data) == ({"z_dist": "normal"}, 1e-3, 2e-4, 4,
                                                                             "packs/p")
    with pytest.raises(ParameterError, match=r"unknown key\(s\) \['lr'\].*TrainConfig fields"):
        runs.entry_config({**entry, "lr": 1e-3}, "packs/p", "cpu")


def test_a_torchrun_launch_hands_the_processes_the_config_file(tmp_path, monkeypatch):
    cfg = runs.entry_config({"preset": "tiny16", "steps": 3}, "packs/p", "cpu", seed=1)
    calls = []
    monkeypatch.setattr(runs.subprocess, "run", lambda cmd, cwd: calls.append(cmd) or SimpleNamespace(returncode=0))
    runs.launch(cfg, tmp_path / "run", resume=True, nproc=2, sync=False)
    (cmd,) = calls
    assert cmd[cmd.index("--config") + 1] == str(tmp_path / "run" / "launch.json") and "--resume" in cmd
    assert load_config(tmp_path / "run" / "launch.json") == cfg  # the processes rebuild exactly this config


def test_a_model_entry_s_architecture_is_its_preset_with_its_fields():
    model = runs.entry_model({"preset": "cpu32", "resolution": 64, "steps": 1})
    assert model.resolution == 64 and len(model.g_widths()) == len(runs.entry_model({"preset": "cpu32"}).g_widths()) + 1


def test_an_entry_without_a_preset_is_refused_by_name():
    with pytest.raises(ParameterError, match="names no preset"):
        runs.entry_config({"data": "p", "steps": 3}, "packs/p", "cpu")


def test_runs_trained_side_by_side_are_the_runs_trained_one_by_one(tmp_path):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 4, "batch_size": 32}
    jobs = [(runs.entry_config({**spec, "steps": steps}, packs["two"], "cpu", seed, progress=False), "m",
             tmp_path / "runs") for seed, steps in ((0, 4), (1, 6))]
    side = runs.ensure_trained_many(jobs, workers=2)
    assert [p.name.split("-")[1] for p in side] == ["s0", "s1"]  # in the order asked, though the longest ran first
    one = [runs.ensure_trained(cfg, name, root) for cfg, name, root in jobs]
    assert one == side  # the same keys: found trained, not retrained
    calls = runs.training_calls(runs.longest_first(jobs), workers=2)
    assert [c[1][0].seed for c in calls] == [1, 0] and not any(c[1][0].progress for c in calls)


def test_side_by_side_runs_refuse_a_torchrun_launch(tmp_path, monkeypatch):
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(64)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 2, "batch_size": 32}
    jobs = [(runs.entry_config(spec, packs["two"], "cpu", 0), "m", tmp_path / "runs")]
    monkeypatch.setenv("DCGAN_NPROC", "2")
    with pytest.raises(ParameterError, match="set JOBS=1"):
        runs.training_calls(jobs, workers=2)


def test_a_run_key_follows_the_pack_s_content_not_its_path(tmp_path):
    import shutil

    from dcgan_core.core.train import TrainConfig

    here = write_pack(tmp_path / "a" / "two", two_mode_images(64))
    there = tmp_path / "b" / "two"
    shutil.copytree(here, there)  # the same pack in another checkout
    other = write_pack(tmp_path / "c" / "two", two_mode_images(64)[::-1].copy())  # other content
    key = lambda pack, **kw: runs.run_dir(TrainConfig.for_preset(str(pack), "tiny16", steps=4, **kw), "m", "runs").name  # noqa: E731
    assert key(here) == key(there)
    assert key(here) != key(other) and key(here) != key(here, seed=1)


def test_a_diverged_run_is_an_outcome_for_ensure_outcome_only(tmp_path, monkeypatch):
    import dcgan_core.core.train as T
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 12, "batch_size": 32, "log_every": 2}
    cfg = runs.entry_config(spec, packs["two"], "cpu", 0, progress=False)
    real_step = T.train_step
    monkeypatch.setattr(T, "train_step", lambda *a, **kw: {k: v * float("nan") for k, v in real_step(*a, **kw).items()})
    run = runs.ensure_outcome(cfg, "m", tmp_path / "runs")
    assert runs.diverged(run)  # train wrote the marker itself (rank 0), as a torchrun launch's ranks would
    with pytest.raises(T.TrainingDiverged):  # a profile model that diverges is still an error
        runs.ensure_trained(cfg, "m", tmp_path / "runs")
    assert runs.diverged(run)
    monkeypatch.setattr(T, "train_step", real_step)  # retried by hand and now finished: the marker goes
    assert runs.ensure_trained(cfg, "m", tmp_path / "runs") == run and not runs.diverged(run)


def test_a_run_marked_diverged_is_kept_as_it_is_when_asked(tmp_path, monkeypatch):
    from dcgan_core.core.train import DIVERGED
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    cfg = runs.entry_config({"data": "two", "heldout": "two", "preset": "tiny16", "steps": 6, "batch_size": 32},
                            packs["two"], "cpu", progress=False)
    run = runs.run_dir(cfg, "m", tmp_path / "runs")
    run.mkdir(parents=True)
    (run / DIVERGED).write_text("{}")  # as a process that held the lock before left it
    monkeypatch.setattr(runs, "train", lambda *a, **k: pytest.fail("retrained a diverged run"))
    assert runs.ensure_trained(cfg, "m", tmp_path / "runs", keep_diverged=True) == run
    assert runs.ensure_outcome(cfg, "m", tmp_path / "runs") == run
    with pytest.raises(pytest.fail.Exception):
        runs.ensure_trained(cfg, "m", tmp_path / "runs")  # a profile model is trained (and must not diverge)
