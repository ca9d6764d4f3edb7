"""torchrun + DDP on CPU (gloo, world size 2 on one machine): the same maths as one process on each shard, identical
parameters on every rank, rank 0 alone writing, and an exact resume after kill -9."""

import os
import signal
import subprocess
import time

import pytest
import torch
import torch.multiprocessing as mp

from dcgan_core.core import distributed
from dcgan_core.core.checkpoint import load_checkpoint
from dcgan_core.core.distributed import Dist
from dcgan_core.core.models import build
from dcgan_core.core.train import TrainConfig, d_loss, train
from tests.conftest import two_mode_images, write_pack

WORLD = 2


def _env(rank: int, port: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)


def _spawn(fn, *args) -> None:
    mp.start_processes(fn, args=(distributed.free_port(), *args), nprocs=WORLD, start_method="fork")


def test_shards_are_disjoint_and_cover_the_batch():
    batch = torch.randperm(128)
    shards = [Dist(r, 4).shard(batch) for r in range(4)]
    assert torch.equal(torch.cat(shards), batch) and all(len(s) == 32 for s in shards)
    assert torch.equal(Dist().shard(batch), batch)  # one process: the whole batch
    with pytest.raises(ValueError, match="divisible by 3"):
        Dist(0, 3).shard(batch)


def _train_rank(rank, port, pack, out, steps):
    import dcgan_core.core.train as T
    _env(rank, port)
    save = T.TrainState.save

    def save_and_report(self, path, cfg, d=Dist()):  # each rank's parameters, beside the run, for the test
        save(self, path, cfg, d)
        nets = {f"{k}.{n}": p.detach().clone() for k, net in (("G", self.G), ("D", self.D))
                for n, p in net.named_parameters()}
        torch.save({"step": self.step, "params": nets}, f"{out}.rank{rank}")
    T.TrainState.save = save_and_report
    cfg = TrainConfig.for_preset(pack, "tiny16", steps=steps, batch_size=32, log_every=4, ckpt_every=4,
                                 progress=False)
    train(cfg, out, timeout_s=60)


def test_ddp_run_rank0_writes_alone_and_resumes(tmp_path):
    pack = str(write_pack(tmp_path / "p", two_mode_images(256)))
    _spawn(_train_rank, pack, str(tmp_path / "ddp"), 8)
    one = tmp_path / "one"
    train(TrainConfig.for_preset(pack, "tiny16", steps=8, batch_size=32, log_every=4, ckpt_every=4, progress=False),
          one)
    r0, r1 = (torch.load(f"{tmp_path / 'ddp'}.rank{r}") for r in range(WORLD))
    assert r0["step"] == r1["step"] == 8
    assert all(torch.equal(r0["params"][n], r1["params"][n]) for n in r0["params"])  # identical on both ranks
    listing = sorted(str(p.relative_to(tmp_path / "ddp")) for p in (tmp_path / "ddp").rglob("*"))
    assert listing == sorted(str(p.relative_to(one)) for p in one.rglob("*"))  # the same files, written once
    rows = (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 2  # steps 4 and 8, one line each: rank 1 logged nothing
    conf = (tmp_path / "ddp" / "config.json").read_text()
    assert '"world_size": 2' in conf
    state = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "last.pt")
    assert len(state["rng"]["torch_ranks"]) == WORLD and state["step"] == 8
    import dcgan_core.core.train as T  # each rank gets its own RNG state back on resume
    cfg = TrainConfig.for_preset(pack, "tiny16", steps=8, batch_size=32, progress=False)
    st = T._new_state(cfg, build("tiny16")[0].config, torch.device("cpu"), torch.contiguous_format)
    for r in range(WORLD):
        st.load(tmp_path / "ddp" / "checkpoints" / "last.pt", Dist(r, WORLD))
        assert torch.equal(torch.get_rng_state(), state["rng"]["torch_ranks"][r])
    with pytest.raises(ValueError, match="world_size"):  # a different world size changes the maths: refused
        train(TrainConfig.for_preset(pack, "tiny16", steps=12, batch_size=32, progress=False), tmp_path / "ddp",
              resume=True)


def _grad_rank(rank, port, x, z, out):
    _env(rank, port)
    d = distributed.from_env()
    device = distributed.setup(d, "cpu", 60)
    torch.manual_seed(0)
    G, D = build("tiny16")
    g_call, d_pair = distributed.wrap(G, D, d, device, sync_bn=False)
    with torch.no_grad():
        fake = G(d.shard(z))
    real_logits, fake_logits = d_pair(d.shard(x), fake)
    d_loss(real_logits, fake_logits).backward()
    params = {n: p.detach().clone() for n, p in D.named_parameters()}
    torch.save({"grads": {n: p.grad for n, p in D.named_parameters()}, "params": params}, f"{out}.{rank}")
    distributed.teardown(d)


def test_ddp_gradient_is_the_mean_of_the_shards_gradients(tmp_path):
    x = torch.from_numpy(two_mode_images(64)).float() / 127.5 - 1
    z = torch.rand(64, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    _spawn(_grad_rank, x, z, str(tmp_path / "g"))
    ranks = [torch.load(tmp_path / f"g.{r}") for r in range(WORLD)]
    expected = {}
    for r in range(WORLD):  # one process per shard, with that shard's batch-norm statistics (per-rank BN)
        torch.manual_seed(0)
        G, D = build("tiny16")
        s = Dist(r, WORLD)
        with torch.no_grad():
            fake = G(s.shard(z))
        d_loss(D(s.shard(x)), D(fake)).backward()
        for n, p in D.named_parameters():
            expected[n] = expected.get(n, 0) + p.grad / WORLD
    for n, g in expected.items():
        for r in ranks:
            torch.testing.assert_close(r["grads"][n], g, rtol=1e-5, atol=1e-6)
    assert all(torch.equal(ranks[0]["params"][n], ranks[1]["params"][n]) for n in expected)


def _torchrun(args, **kw):
    cmd = distributed.torchrun_command(WORLD, ["train", *args])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            **kw)


def test_kill_9_and_resume_under_ddp_is_bit_identical(tmp_path):
    pack = str(write_pack(tmp_path / "p", two_mode_images(256)))
    args = ["--data", pack, "--preset", "tiny16", "--steps", "160", "--batch-size", "32", "--log-every", "8",
            "--ckpt-every", "8", "--no-progress"]
    full = _torchrun([*args, "--out", str(tmp_path / "full")])
    assert full.wait(timeout=300) == 0, full.stderr.read().decode()[-2000:]
    cut = _torchrun([*args, "--out", str(tmp_path / "cut")])
    ckpt, deadline = tmp_path / "cut" / "checkpoints" / "last.pt", time.time() + 120
    while time.time() < deadline and cut.poll() is None:
        if ckpt.exists() and load_checkpoint(ckpt)["step"] >= 16:
            break
        time.sleep(0.02)
    os.killpg(cut.pid, signal.SIGKILL)  # every rank and the launcher, mid-run
    cut.wait()
    killed_at = load_checkpoint(ckpt)["step"]
    assert 16 <= killed_at < 160, "the run ended before it could be killed; give it more steps"
    resumed = _torchrun([*args, "--out", str(tmp_path / "cut"), "--resume"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    a, b = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt"), load_checkpoint(ckpt)
    assert a["step"] == b["step"] == 160
    for net in ("G", "D", "opt_g", "opt_d"):
        flat_a, flat_b = _tensors(a[net]), _tensors(b[net])
        assert flat_a.keys() == flat_b.keys() and all(torch.equal(flat_a[k], flat_b[k]) for k in flat_a), net


def _tensors(tree, prefix=""):
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, (list, tuple)) else []
    return {k: v for key, sub in items for k, v in _tensors(sub, f"{prefix}.{key}").items()}


def _lonely_rank(rank, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="2", LOCAL_RANK="0")
    try:
        distributed.setup(distributed.from_env(), "cpu", timeout_s=3)
    except RuntimeError as e:
        torch.save(str(e), out)


def test_a_missing_rank_fails_fast_with_a_message(tmp_path):
    t0 = time.time()
    mp.start_processes(_lonely_rank, args=(distributed.free_port(), str(tmp_path / "err")), nprocs=1,
                       start_method="fork")
    assert time.time() - t0 < 60
    assert "did not form" in torch.load(tmp_path / "err")


def test_a_profile_model_trains_under_torchrun(tmp_path, monkeypatch):
    import json

    from dcgan_core.book import pipeline
    packs = {"two": str(write_pack(tmp_path / "two", two_mode_images(128)))}
    spec = {"data": "two", "heldout": "two", "preset": "tiny16", "steps": 6, "batch_size": 32}
    monkeypatch.setenv("DCGAN_NPROC", str(WORLD))  # what `make reproduce NPROC=2` exports
    run = pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False)
    assert json.loads((run / "config.json").read_text())["distributed"]["world_size"] == WORLD
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 6
    longer = pipeline.ensure_trained("m", {**spec, "steps": 8}, packs, "cpu", tmp_path / "runs", progress=False)
    assert longer == run and load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 8  # resumed: --config --resume
    assert json.loads((run / "launch.json").read_text())["steps"] == 8
    monkeypatch.setenv("DCGAN_NPROC", "1")  # one process is other maths (per-rank batch norm): another run
    assert pipeline.ensure_trained("m", spec, packs, "cpu", tmp_path / "runs", progress=False) != run


@pytest.mark.parametrize("env", [{"RANK": "1"}, {"RANK": "2", "WORLD_SIZE": "2"}, {"WORLD_SIZE": "two"},
                                 {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "-1"}])
def test_an_environment_that_describes_no_job_is_refused(monkeypatch, env):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(RuntimeError, match="launch with torchrun"):
        distributed.from_env()


@pytest.mark.parametrize("timeout_s", [0, -1, float("nan"), float("inf")])
def test_a_timeout_that_is_not_a_positive_time_is_refused(timeout_s):
    with pytest.raises(ValueError, match="finite number of seconds > 0"):
        distributed.setup(Dist(), "cpu", timeout_s)
