"""The CUDA path: exact resume, every precision and layout option, the first step against the CPU's, the benchmark,
and DDP on two GPUs (nccl, with and without SyncBatchNorm). Skipped without a GPU; `scripts/gpu_check.sh` runs it
on one. DCGAN_TEST_DEVICE=cpu runs the same checks on the CPU (gloo for the two-process test), to check the tests
themselves where no GPU is at hand."""

import json
import os

import pytest
import torch

from dcgan_core.bench import bench
from dcgan_core.core.checkpoint import load_checkpoint
from dcgan_core.core.models import resolve
from dcgan_core.core.train import TrainConfig, initial_models, make_optimizers, train, train_step
from tests.core.test_distributed import _torchrun
from tests.core.test_train import assert_same, weights

DEVICE = os.environ.get("DCGAN_TEST_DEVICE", "cuda")
DEVICES = torch.cuda.device_count() if DEVICE == "cuda" else 2  # the CPU stand-in runs 2 gloo ranks
pytestmark = pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(), reason="no CUDA device")


def cfg(pack, **kw):
    base = dict(batch_size=32, log_every=4, ckpt_every=4, progress=False, device=DEVICE, deterministic=True)
    return TrainConfig.for_preset(str(pack), "tiny16", **{**base, **kw})


def test_resume_on_the_device_is_bit_identical(two_mode_pack, tmp_path):
    train(cfg(two_mode_pack, steps=20), tmp_path / "straight")
    train(cfg(two_mode_pack, steps=6, ckpt_every=3), tmp_path / "split")
    train(cfg(two_mode_pack, steps=20, ckpt_every=3), tmp_path / "split", resume=True)
    assert_same(weights(tmp_path / "straight"), weights(tmp_path / "split"))


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_every_option_trains_with_finite_losses(two_mode_pack, tmp_path, precision, channels_last):
    train(cfg(two_mode_pack, steps=8, precision=precision, channels_last=channels_last), tmp_path / "r")
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 8 and all(abs(r["loss_D"]) < 1e3 and abs(r["loss_G"]) < 1e3 for r in rows)
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 8
    assert (tmp_path / "r" / "samples" / "final.png").is_file()


@pytest.fixture
def no_tf32():
    """fp32 against fp32: CUDA's TF32 matmuls and convolutions off for the test, restored after it."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


def test_the_first_step_matches_the_cpu(no_tf32):
    config, model = TrainConfig.for_preset("<synthetic>", "tiny16", steps=1, progress=False), resolve("tiny16")
    x = torch.rand(32, model.channels, model.resolution, model.resolution) * 2 - 1
    z = initial_models(model, seed=0)[0].sample_z(32, generator=torch.Generator().manual_seed(1))
    losses = {}
    for device in ("cpu", DEVICE):
        G, D = (net.to(device) for net in initial_models(model, seed=0))
        opt_g, opt_d = make_optimizers(G, D, config)
        stats = train_step(G, D, opt_g, opt_d, x.to(device), z.to(device), config, 0)
        losses[device] = torch.stack([stats["loss_D"], stats["loss_G"]]).cpu()
    torch.testing.assert_close(losses[DEVICE], losses["cpu"], rtol=1e-3, atol=1e-4)


def test_bench_on_the_device():
    r = bench("tiny16", batch_size=32, steps=2, warmup=1, device=DEVICE, phases=True)
    assert r["images_per_s"] > 0 and r["gflop_per_step"] > 0 and r["matmul_peak_gflops"] > 0
    assert ("gpu" in r["hardware"]) == (DEVICE == "cuda")


@pytest.mark.skipif(DEVICES < 2, reason="DDP needs two devices")
@pytest.mark.parametrize("sync_bn", [False, True])
def test_ddp_on_two_devices(two_mode_pack, tmp_path, sync_bn):
    if sync_bn and DEVICE != "cuda":
        pytest.skip("SyncBatchNorm has no CPU kernel")
    args = ["--data", str(two_mode_pack), "--preset", "tiny16", "--steps", "16", "--batch-size", "32",
            "--device", DEVICE, "--no-progress", "--out", str(tmp_path / "r"), *["--sync-bn"] * sync_bn]
    run = _torchrun(args)
    assert run.wait(timeout=600) == 0, run.stderr.read().decode()[-2000:]
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert state["step"] == 16 and len(state["rng"]["torch_ranks"]) == 2
    assert json.loads((tmp_path / "r" / "config.json").read_text())["distributed"] == {"world_size": 2,
                                                                                        "sync_bn": sync_bn}
