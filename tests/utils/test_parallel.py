import os

import pytest
import torch

from dcgan_core.utils.errors import ParameterError
from dcgan_core.utils.parallel import default_workers, run_jobs


def threads_and_pid(x: int) -> tuple[int, int, int]:
    return x * x, torch.get_num_threads(), os.getpid()


def fails(x: int) -> int:
    raise ValueError(f"job {x} failed")


def test_jobs_return_in_order_from_separate_single_threaded_processes():
    out = run_jobs([(threads_and_pid, (x,)) for x in range(4)], workers=2)
    assert [r[0] for r in out] == [0, 1, 4, 9]
    assert all(r[2] != os.getpid() for r in out)  # spawned workers, not this process
    assert {r[1] for r in out} == {max(1, (os.cpu_count() or 1) // 2)}


def test_one_worker_runs_the_jobs_here_in_order():
    out = run_jobs([(threads_and_pid, (x,)) for x in range(3)], workers=1)
    assert [r[0] for r in out] == [0, 1, 4] and {r[2] for r in out} == {os.getpid()}


def test_a_failing_job_is_raised():
    with pytest.raises(ValueError, match="job 1 failed"):
        run_jobs([(threads_and_pid, (0,)), (fails, (1,)), (threads_and_pid, (2,))], workers=2)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_jobs([(threads_and_pid, (0,))], workers=0)


def test_default_workers_read_jobs_and_give_cuda_one(monkeypatch):
    monkeypatch.delenv("DCGAN_JOBS", raising=False)
    assert default_workers("cpu") == max(1, os.cpu_count() or 1) and default_workers("cuda:0") == 1
    monkeypatch.setenv("DCGAN_JOBS", "3")
    assert default_workers("cuda") == 3
    monkeypatch.setenv("DCGAN_JOBS", "two")
    with pytest.raises(ParameterError, match="JOBS='two' must be a whole number"):
        default_workers("cpu")
