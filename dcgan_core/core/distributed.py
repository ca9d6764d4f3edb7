"""Training on several processes (torchrun + DistributedDataParallel); one process is the same code, world size 1.

`torchrun --standalone --nproc_per_node=N -m dcgan_core train ...` sets RANK / WORLD_SIZE / LOCAL_RANK; every
rank builds the same seeded nets, draws the same epoch permutation and the same z stream, and takes its
contiguous shard of each global batch (Sec. 4's 128 is the global batch), so the data order does not depend on
the world size, and a run resumes exactly with the world size it started with (another one is refused: per-rank
batch norm makes it other maths). Gradients are averaged by DDP; batch-norm statistics are per rank (each
shard's batch) unless `sync_bn` (CUDA only) computes them over the global batch. Rank 0 alone logs, draws grids
and writes checkpoints; every rank's RNG state goes into the checkpoint. A collective that waits longer than
`timeout_s` fails with an error instead of hanging.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

DIST_TIMEOUT_S = 600.0  # seconds a rank waits for the others at a collective before the job fails


@dataclass(frozen=True)
class Dist:
    """This process's place in the job: rank, world size and the local rank (its GPU on a node)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes files and logs."""
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of a global batch (indices or z); the shards are disjoint and cover it."""
        if len(batch) % self.world:
            raise ValueError(f"the global batch of {len(batch)} does not split over {self.world} processes; "
                             f"use a batch size divisible by {self.world}")
        b = len(batch) // self.world
        return batch[self.rank * b:(self.rank + 1) * b]


def from_env() -> Dist:
    """The job torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK); a plain process is rank 0 of 1."""
    raw = {k: os.environ.get(k, d) for k, d in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0"))}
    try:
        rank, world, local = (int(v) for v in raw.values())
    except ValueError:
        rank = world = local = -1
    if not (world >= 1 and 0 <= rank < world and local >= 0):
        raise RuntimeError(f"the environment describes no valid job ({', '.join(f'{k}={v}' for k, v in raw.items())}):"
                           " launch with torchrun, which sets them, or unset them for one process")
    return Dist(rank, world, local)


def torchrun_command(nproc: int, args: list[str]) -> list[str]:
    """The command that runs `python -m dcgan_core <args>` as nproc processes on this machine (torchrun)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m",
            "dcgan_core", *args]


def check_sync_bn(sync_bn: bool, device: torch.device | str) -> None:
    """SyncBatchNorm runs on CUDA only: refuse it elsewhere, before anything is written."""
    if sync_bn and torch.device(device).type != "cuda":
        raise ValueError("sync_bn needs CUDA (torch's SyncBatchNorm has no CPU kernel); drop --sync-bn on CPU")


def setup(d: Dist, device: str, timeout_s: float) -> torch.device:
    """Join the process group (nccl on CUDA, gloo on CPU) and return this rank's device (cuda:LOCAL_RANK)."""
    if not timeout_s > 0 or timeout_s == float("inf"):
        raise ValueError(f"the process-group timeout must be a finite number of seconds > 0, got {timeout_s}")
    if not d.enabled:
        return torch.device(device)
    cuda = device.startswith("cuda")
    if cuda:
        if torch.cuda.device_count() <= d.local_rank:
            raise RuntimeError(f"rank {d.rank} needs GPU {d.local_rank} but {torch.cuda.device_count()} are visible; "
                               "use --nproc_per_node <= the number of GPUs")
        torch.cuda.set_device(d.local_rank)
    if not dist.is_initialized():
        try:
            dist.init_process_group("nccl" if cuda else "gloo", rank=d.rank, world_size=d.world,
                                    timeout=timedelta(seconds=timeout_s))
        except (RuntimeError, dist.DistError) as e:
            raise RuntimeError(f"rank {d.rank}: the process group of {d.world} did not form within {timeout_s:g} s "
                               f"({type(e).__name__}: {str(e)[:200]}); start every rank (torchrun "
                               f"--nproc_per_node={d.world}) or raise --dist-timeout") from None
    return torch.device(f"cuda:{d.local_rank}") if cuda else torch.device("cpu")


def teardown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def mean_over_ranks(values: dict[str, torch.Tensor], d: Dist) -> dict[str, torch.Tensor]:
    """Average each statistic over the ranks (one collective for all); a single process returns them as they are."""
    if not d.enabled or not values:
        return values
    keys = sorted(values)
    flat = torch.stack([values[k].float() for k in keys])
    dist.all_reduce(flat)
    return {k: v / d.world for k, v in zip(keys, flat)}


def gather_objects(obj, d: Dist) -> list:
    """Every rank's `obj`, in rank order (e.g. the RNG states a checkpoint keeps)."""
    if not d.enabled:
        return [obj]
    out = [None] * d.world
    dist.all_gather_object(out, obj)
    return out


class PairD(nn.Module):
    """D on the real and on the fake batch in one forward call. Under DDP each forward broadcasts rank 0's
    batch-norm buffers in place; two separate D forwards before one backward would modify buffers the first
    forward's graph saved (an in-place error in recent torch). One call keeps the paper's separate real and fake
    batches (and their separate batch statistics) with a single broadcast."""

    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.D(real), self.D(fake)


def wrap(G: nn.Module, D: nn.Module, d: Dist, device: torch.device, sync_bn: bool):
    """(G to call for a G update, D on (real, fake) for a D update): DDP-wrapped when the job has several ranks."""
    pair = PairD(D)
    if not d.enabled:
        return G, pair
    check_sync_bn(sync_bn, device)
    if sync_bn:
        G, pair = nn.SyncBatchNorm.convert_sync_batchnorm(G), nn.SyncBatchNorm.convert_sync_batchnorm(pair)
    ids = [device.index] if device.type == "cuda" else None
    return (nn.parallel.DistributedDataParallel(G, device_ids=ids),
            nn.parallel.DistributedDataParallel(pair, device_ids=ids))


def free_port() -> int:
    """A TCP port nothing listens on now (for MASTER_PORT in tests and local launches; parallel runs do not collide)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
