import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from dcgan_core.core.checkpoint import load_checkpoint, load_run
from dcgan_core.core.train import TrainConfig, TrainingDiverged, d_loss, g_loss, train
from tests.conftest import two_mode_images


def cfg(pack, **kw):
    base = dict(batch_size=32, log_every=4, ckpt_every=4, progress=False)
    return TrainConfig.for_preset(str(pack), "tiny16", **{**base, **kw})


def weights(run):
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    return {**{f"G.{k}": v for k, v in state["G"].items()}, **{f"D.{k}": v for k, v in state["D"].items()}}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_losses_are_the_named_variants():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expect_d = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    assert torch.allclose(d_loss(real, fake), expect_d)
    assert torch.allclose(g_loss(fake), -torch.log(torch.sigmoid(fake)).mean())  # non-saturating


def test_same_seed_gives_identical_weights(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=10), tmp_path / "a")
    train(cfg(two_mode_pack, steps=10), tmp_path / "b")
    assert load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")["step"] == 10  # off every save boundary
    assert_same(weights(tmp_path / "a"), weights(tmp_path / "b"))
    train(cfg(two_mode_pack, steps=10, seed=1), tmp_path / "c")
    assert not torch.equal(weights(tmp_path / "a")["G.body.2.weight"], weights(tmp_path / "c")["G.body.2.weight"])


@pytest.mark.parametrize("scheme", ["joint", "alternating"])
def test_resume_equals_uninterrupted(two_mode_pack, tmp_path, scheme):
    # 8 steps per epoch: resuming at 6 lands mid-epoch, so the data order position matters
    train(cfg(two_mode_pack, steps=20, update_scheme=scheme), tmp_path / "straight")
    train(cfg(two_mode_pack, steps=6, ckpt_every=3, update_scheme=scheme), tmp_path / "split")
    train(cfg(two_mode_pack, steps=20, ckpt_every=3, update_scheme=scheme), tmp_path / "split", resume=True)
    assert_same(weights(tmp_path / "straight"), weights(tmp_path / "split"))
    assert load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")["step"] == 20  # ends on a save
    steps = [json.loads(ln)["step"] for ln in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 20


def test_kill_9_then_resume_is_bit_identical(two_mode_pack, tmp_path):
    args = [sys.executable, "-m", "dcgan_core", "train", "--data", str(two_mode_pack), "--preset", "tiny16",
            "--batch-size", "32", "--ckpt-every", "5", "--log-every", "5", "--no-progress"]
    ref = tmp_path / "ref"
    subprocess.run(args + ["--out", str(ref), "--steps", "200"], check=True, capture_output=True)
    run = tmp_path / "killed"
    proc = subprocess.Popen(args + ["--out", str(run), "--steps", "200"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = run / "checkpoints" / "last.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    step_at_kill = load_checkpoint(ckpt)["step"]
    assert step_at_kill < 200, "the run finished before it was killed; the test proves nothing"
    subprocess.run(args + ["--out", str(run), "--steps", "200", "--resume"], check=True, capture_output=True)
    assert_same(weights(ref), weights(run))


def test_resume_with_different_config_is_refused(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=4), tmp_path / "r")
    with pytest.raises(ValueError, match=r"lr_d.*\n.*lr_g|lr_g"):
        train(cfg(two_mode_pack, steps=8, lr_g=1e-3, lr_d=1e-3), tmp_path / "r", resume=True)
    with pytest.raises(ValueError, match="z_dist"):
        train(cfg(two_mode_pack, steps=8, model_overrides={"z_dist": "normal"}), tmp_path / "r", resume=True)
    train(cfg(two_mode_pack, steps=4, channels_last=False), tmp_path / "old")  # a run from before the default
    with pytest.raises(ValueError, match="now the default; resume this run with --no-channels-last"):
        train(cfg(two_mode_pack, steps=8), tmp_path / "old", resume=True)
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg(two_mode_pack, steps=8), tmp_path / "r")
    assert train(cfg(two_mode_pack, steps=8), tmp_path / "r", resume=True)["step"] == 8  # more steps: fine


def test_nan_loss_stops_and_keeps_last_good_checkpoint(two_mode_pack, tmp_path, monkeypatch):
    import dcgan_core.core.train as T

    real_step = T.train_step

    def poisoned(G, D, opt_g, opt_d, x, z, cfg, step, *nets):
        stats = real_step(G, D, opt_g, opt_d, x, z, cfg, step, *nets)
        return {k: v * float("nan") for k, v in stats.items()} if step >= 6 else stats

    monkeypatch.setattr(T, "train_step", poisoned)
    with pytest.raises(TrainingDiverged, match="NaN"):
        train(cfg(two_mode_pack, steps=20), tmp_path / "r")
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 4


@pytest.mark.parametrize("poison", ["loss", "weight"])
def test_a_nan_between_log_lines_is_caught_before_the_epoch_s_save(two_mode_pack, tmp_path, monkeypatch, poison):
    import dcgan_core.core.train as T

    real_step = T.train_step

    def poisoned(G, D, opt_g, opt_d, x, z, cfg, step, *nets):
        stats = real_step(G, D, opt_g, opt_d, x, z, cfg, step, *nets)
        if poison == "weight" and step == 7:  # the epoch's last step leaves NaN weights behind a finite loss
            next(G.parameters()).data.fill_(float("nan"))
        return {k: v * float("nan") for k, v in stats.items()} if poison == "loss" and step >= 6 else stats

    monkeypatch.setattr(T, "train_step", poisoned)
    with pytest.raises(TrainingDiverged, match="NaN"):  # 8 steps an epoch; lines at 3, 5, 6, 9, 10; saves at 3, 6
        train(cfg(two_mode_pack, steps=20, log_every=5, ckpt_every=3, snapshot_epochs=(1,)), tmp_path / "r")
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 6
    assert not (tmp_path / "r" / "checkpoints" / "epoch-0001.pt").exists()



def test_nan_weights_behind_a_finite_loss_never_reach_a_checkpoint(two_mode_pack, tmp_path, monkeypatch):
    import dcgan_core.core.train as T

    real_step = T.train_step

    def poisoned(G, D, opt_g, opt_d, x, z, cfg, step, *nets):
        stats = real_step(G, D, opt_g, opt_d, x, z, cfg, step, *nets)
        if step == 4:  # the step before the checkpoint at 6 (saves at 3 and 6; 8 steps an epoch)
            next(G.parameters()).data.fill_(float("nan"))
        return {k: v.nan_to_num(0.5) for k, v in stats.items()}  # the loss reads finite throughout
    monkeypatch.setattr(T, "train_step", poisoned)
    with pytest.raises(TrainingDiverged, match="weight"):
        train(cfg(two_mode_pack, steps=6, log_every=100, ckpt_every=3), tmp_path / "r")
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert state["step"] == 3 and all(torch.isfinite(v).all() for v in state["G"].values())


def test_run_directory_records_everything(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=16, snapshot_epochs=(1,)), tmp_path / "r")
    run = tmp_path / "r"
    conf = json.loads((run / "config.json").read_text())
    assert conf["train"]["seed"] == 0 and conf["model"]["nz"] == 16
    assert {"git_commit", "versions", "hardware"} <= set(conf["provenance"])
    rows = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"step", "epoch", "loss_D", "loss_G", "D(x)", "D(G(z))", "images_per_s", "unix_time"} <= set(rows[0])
    assert (run / "samples" / "epoch-0001.png").exists() and (run / "samples" / "final.png").exists()
    assert (run / "checkpoints" / "epoch-0001.pt").exists()


def test_mismatched_pack_resolution_fails_before_training(tmp_path):
    from tests.conftest import write_pack
    pack = write_pack(tmp_path / "p32", two_mode_images(64, size=32))
    with pytest.raises(ValueError, match="re-pack with --resolution 16"):
        train(cfg(pack, steps=4), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def _mode_distance_ratio(tmp_path, seed: int, lr: float = 2e-4, steps: int = 400) -> float:
    """Mean distance of 256 samples to the nearer of two data modes, after / before training."""
    from dcgan_core.core.models import build
    from tests.conftest import write_pack
    pack = tmp_path / "two"
    if not pack.exists():
        write_pack(pack, two_mode_images(512))
    modes = torch.from_numpy(two_mode_images(2, seed=1)).float() / 127.5 - 1  # both templates

    def distance_to_modes(G):
        with torch.no_grad():
            x = G.eval()(G.sample_z(256, generator=torch.Generator().manual_seed(5)))
        return ((x[:, None] - modes[None]) ** 2).flatten(2).mean(-1).min(1).values.mean().item()

    torch.manual_seed(seed)  # the same init train() draws for this seed
    before = distance_to_modes(build("tiny16")[0])
    run = tmp_path / f"r{seed}-{lr}"
    train(cfg(pack, steps=steps, batch_size=64, seed=seed, lr_g=lr, lr_d=lr, log_every=50, ckpt_every=steps), run)
    return distance_to_modes(load_run(run)[0]) / before


def test_generator_moves_toward_the_data(tmp_path):
    """Training dynamics, checked with a margin over seeds (single trajectories differ across CPUs in the
    last float bits): on a two-mode set, samples of 3 seeds end at a median of < 45% of their initial
    distance to the data modes (per seed: 0.17-0.29 at 300 steps, 0.10-0.17 at 500 on a Xeon); a G that cannot learn
    (lr 1e-9, the negative control, a quarter of the steps: it moves nowhere in any number) stays near 100%."""
    ratios = [_mode_distance_ratio(tmp_path, seed) for seed in (0, 1, 2)]
    assert np.median(ratios) < 0.45, ratios
    assert _mode_distance_ratio(tmp_path, 0, lr=1e-9, steps=100) > 0.9


def test_snapshot_epochs_below_one_are_refused(two_mode_pack):
    with pytest.raises(ValueError, match="--snapshot-epochs"):
        cfg(two_mode_pack, steps=2, snapshot_epochs=(0, 5))


def test_step_snapshots_hold_the_weights_of_a_run_stopped_at_that_step(two_mode_pack, tmp_path):
    from dcgan_core.core.checkpoint import earlier_snapshots, load_run

    train(cfg(two_mode_pack, steps=10, snapshot_epochs=(), snapshot_steps=(3, 6)), tmp_path / "r")
    assert [seen for seen, _ in earlier_snapshots(tmp_path / "r")] == [96, 192]  # 3 and 6 steps of 32, mid-epoch
    train(cfg(two_mode_pack, steps=3, snapshot_epochs=()), tmp_path / "short")
    early, short = load_run(tmp_path / "r", "cpu", "step-00000003.pt")[0], load_run(tmp_path / "short")[0]
    assert all(torch.equal(a, b) for a, b in zip(early.state_dict().values(), short.state_dict().values()))
    with pytest.raises(ValueError, match="by epoch or by step, not both"):
        cfg(two_mode_pack, steps=10, snapshot_steps=(3,))  # the default snapshot_epochs (1, 5) stands
    with pytest.raises(ValueError, match="--snapshot-steps"):
        cfg(two_mode_pack, steps=10, snapshot_epochs=(), snapshot_steps=(0,))


def test_sync_bn_on_cpu_is_refused_before_anything_is_written(two_mode_pack, tmp_path):
    with pytest.raises(ValueError, match="sync_bn needs CUDA"):
        train(cfg(two_mode_pack, steps=2), tmp_path / "r", sync_bn=True)
    assert not (tmp_path / "r" / "config.json").exists()  # a rerun without the flag starts cleanly
    train(cfg(two_mode_pack, steps=2), tmp_path / "r")


@pytest.mark.parametrize("precision, layout", [("fp32", torch.contiguous_format), ("bf16", torch.channels_last)])
def test_frozen_d_gives_g_the_same_gradients_and_skips_d_weight_gradients(precision, layout):
    from dcgan_core.core.models import Discriminator, Generator, resolve
    from dcgan_core.core.train import frozen
    torch.manual_seed(0)
    G = Generator(resolve("tiny16")).to(memory_format=layout)
    D = Discriminator(resolve("tiny16")).to(memory_format=layout)
    next(D.head.parameters()).requires_grad_(False)  # frozen by its owner: must stay frozen afterwards
    z = G.sample_z(8)
    grads = []
    for freeze in (False, True):
        G.zero_grad(set_to_none=True), D.zero_grad(set_to_none=True)
        with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"), \
                frozen(D) if freeze else contextlib.nullcontext():
            loss = g_loss(D(G(z)))
        loss.backward()
        grads.append([p.grad.clone() for p in G.parameters()])
        assert all((p.grad is None) == (freeze or not p.requires_grad) for p in D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(*grads))  # G's update is bit-identical
    assert [p.requires_grad for p in D.parameters()].count(False) == 1  # restored, and the owner's choice kept
    with pytest.raises(RuntimeError), frozen(D):
        raise RuntimeError("interrupted")
    assert [p.requires_grad for p in D.parameters()].count(False) == 1


def test_side_by_side_times_both_commands_on_the_same_steps(tmp_path, monkeypatch):
    from dcgan_core.bench import side_by_side
    from tests.conftest import write_pack
    two_mode_pack = write_pack(tmp_path / "two-mode", two_mode_images(1000))  # 4 steps of 250
    stub = tmp_path / "main.py"  # stands in for pytorch/examples' dcgan/main.py: logs how it was called
    stub.write_text("import os, sys\nopen(os.environ['STUB_LOG'], 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                    "sys.exit(int(os.environ.get('STUB_FAIL', 0)))\n")
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "calls.txt"))
    r = side_by_side(stub, two_mode_pack, niter=1, batch_size=250, repeats=2, preset="tiny16", variants={"ours": {}})
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert len(calls) == 2 and all("--dataset fake --batchSize 250 --niter 1" in c for c in calls)
    assert r["steps"] == 4  # 1,000 fake images in batches of 250: the same number of steps for both
    assert [len(v) for v in r["seconds"].values()] == [2, 2]
    mean = {k: sum(v) / 2 for k, v in r["seconds"].items()}
    assert r["speedup"]["ours"] == pytest.approx(mean["pytorch/examples"] / mean["ours"], abs=0.01)
    monkeypatch.setenv("STUB_FAIL", "1")
    with pytest.raises(RuntimeError, match="pytorch/examples failed"):
        side_by_side(stub, two_mode_pack, niter=1, batch_size=250, repeats=1, preset="tiny16", variants={})
    with pytest.raises(FileNotFoundError, match="EXAMPLES="):
        side_by_side(tmp_path / "nowhere.py", two_mode_pack)
    with pytest.raises(ValueError, match="re-pack with --resolution 64"):  # 16px pack, 64px preset
        side_by_side(stub, two_mode_pack, preset="pytorch-examples64")
    with pytest.raises(ValueError, match="need 1024"):  # 8 steps of 128 would run a second epoch
        side_by_side(stub, two_mode_pack, niter=1, preset="tiny16")
    assert len((tmp_path / "calls.txt").read_text().splitlines()) == 3  # refused before examples ran


def test_a_run_from_before_a_model_option_existed_resumes(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=2), tmp_path / "r")
    path = tmp_path / "r" / "config.json"
    record = json.loads(path.read_text())
    for field in ("batch_norm", "d_downsample", "g_upsample", "hidden_fc", "g_output", "d_activation"):
        del record["model"][field]  # the fields Sec. 3's guideline options added, at their defaults
    path.write_text(json.dumps(record))
    assert train(cfg(two_mode_pack, steps=4), tmp_path / "r", resume=True)["step"] == 4
    with pytest.raises(ValueError, match="batch_norm"):  # a changed option is still refused
        train(cfg(two_mode_pack, steps=6, model_overrides={"batch_norm": "none"}), tmp_path / "r", resume=True)


@pytest.mark.parametrize("native", [True, False])
def test_bf16_on_a_cpu_without_native_units_warns_before_training(two_mode_pack, tmp_path, monkeypatch, native):
    import warnings

    import dcgan_core.core.train as T
    monkeypatch.setattr(T, "bf16_emulated", lambda device: not native)
    cfg = TrainConfig.for_preset(str(two_mode_pack), "tiny16", steps=2, batch_size=32, progress=False,
                                 precision="bf16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(cfg, tmp_path / "run")
    said = [str(w.message) for w in caught if "emulated" in str(w.message)]
    assert bool(said) is not native and all("--precision fp32" in s for s in said)


def test_a_field_added_later_leaves_the_runs_trained_before_it_found_and_resumable(two_mode_pack, tmp_path):
    """snapshot_steps came after runs were cached: at its default it is not in a run's identity (nor its key)."""
    from dataclasses import replace

    from dcgan_core.core import runs

    base = cfg(two_mode_pack, steps=4, snapshot_epochs=())
    assert "snapshot_steps" not in base.identity()
    assert cfg(two_mode_pack, steps=4, snapshot_epochs=(), snapshot_steps=(2,)).identity()["snapshot_steps"] == (2,)
    assert runs.run_dir(base, "m", tmp_path) != runs.run_dir(replace(base, snapshot_steps=(2,)), "m", tmp_path)
    train(base, tmp_path / "r")
    conf_path = tmp_path / "r" / "config.json"
    conf = json.loads(conf_path.read_text())
    del conf["train"]["snapshot_steps"]  # as a run written before the field existed
    conf_path.write_text(json.dumps(conf))
    train(cfg(two_mode_pack, steps=8, snapshot_epochs=()), tmp_path / "r", resume=True)
    with pytest.raises(ValueError, match="snapshot_steps"):  # a set value is part of the run
        train(cfg(two_mode_pack, steps=12, snapshot_epochs=(), snapshot_steps=(10,)), tmp_path / "r", resume=True)
