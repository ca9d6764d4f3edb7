"""Independent jobs (trainings of different seeds, judges of different packs) run side by side on a CPU.

On 2 cores, two single-threaded training processes do more steps per second together than one process on two
threads (`make bench` measures it: `parallel-training` rows). Jobs run in spawned processes, each with
cores / workers threads; one worker runs them in this process, in order, with their progress bars. On CUDA the
jobs share one device, so the default is one worker there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import torch
from tqdm import tqdm

from dcgan_core.utils.errors import ParameterError


def default_workers(device: str) -> int:
    """Processes for independent jobs: DCGAN_JOBS (make JOBS=N) if set, else the CPU's cores, or 1 on CUDA."""
    raw = os.environ.get("DCGAN_JOBS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ParameterError(f"JOBS={raw!r} must be a whole number of processes >= 1 (make reproduce JOBS=2)")
        return int(raw)
    return 1 if device.startswith("cuda") else max(1, os.cpu_count() or 1)


def _init(threads: int) -> None:
    torch.set_num_threads(threads)


def _timed(fn: Callable, args: tuple):
    t0 = time.perf_counter()
    return fn(*args), time.perf_counter() - t0


def run_jobs(jobs: Sequence[tuple[Callable, tuple]], workers: int, desc: str = "jobs") -> list:
    """The result of every `fn(*args)` in `jobs`, in order, with up to `workers` processes at a time; the first
    failure is raised once the running jobs stop. Put the longest jobs first: they start first."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(jobs) == 1:
        return [fn(*args) for fn, args in jobs]
    workers = min(workers, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // workers)
    results: list = [None] * len(jobs)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(_timed, fn, args): i for i, (fn, args) in enumerate(jobs)}
        bar = tqdm(total=len(jobs), desc=f"{desc} ({workers} processes x {threads} thread{'s' * (threads > 1)})")
        try:
            for future in as_completed(futures):
                results[futures[future]], seconds = future.result()
                bar.set_postfix_str(f"last done in {seconds:.0f} s")
                bar.update()
        except BaseException:
            for future in futures:  # the queued jobs do not start; the running ones finish their step and stop
                future.cancel()
            raise
        finally:
            bar.close()
    return results
