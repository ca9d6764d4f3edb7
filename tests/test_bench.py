import pytest


def test_bench_phases_account_for_the_step():
    import dcgan_core.core.train as T
    from dcgan_core.bench import bench
    r = bench("tiny16", batch_size=16, steps=3, warmup=1, phases=True)
    split = r["phases_ms_per_step"]
    assert set(split) == {*T.PHASES, "other"} and all(split[k] > 0 for k in T.PHASES)
    assert sum(split.values()) == pytest.approx(1000 * r["seconds_per_step"], abs=0.1)
    assert split["other"] < 0.5 * 1000 * r["seconds_per_step"]  # the named phases are most of a step
    assert not hasattr(T, "PHASE_TIMES")  # no module state: training is never slowed by a timer left switched on


