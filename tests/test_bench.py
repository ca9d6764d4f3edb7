import pytest
import torch


def test_bench_phases_account_for_the_step():
    import dcgan_core.core.train as T
    from dcgan_core.bench import bench
    r = bench("tiny16", batch_size=16, steps=3, warmup=1, phases=True)
    split = r["phases_ms_per_step"]
    assert set(split) == {*T.PHASES, "other"} and all(split[k] > 0 for k in T.PHASES)
    assert sum(split.values()) == pytest.approx(1000 * r["seconds_per_step"], abs=0.1)
    assert split["other"] < 0.5 * 1000 * r["seconds_per_step"]  # the named phases are most of a step
    assert not hasattr(T, "PHASE_TIMES")  # no module state: training is never slowed by a timer left switched on




def test_side_by_side_trainings_are_timed_against_one_process_and_shown():
    from dcgan_core.bench import bench_parallel
    from dcgan_core.book.results import bench_page
    r = bench_parallel("tiny16", precision="fp32", steps=3, batch_size=16)
    assert r["processes"] == torch.get_num_threads() and len(r["side_by_side_images_per_s"]) == r["processes"]
    assert r["ratio"] == pytest.approx(sum(r["side_by_side_images_per_s"]) / r["one_process_images_per_s"], abs=0.01)
    svm = {"kind": "svm", "fits": 21, "labels": 1000, "dim": 3584, "seconds": {"newton": 3.7, "liblinear": 41.0},
           "ratio": 11.1, "hardware": r["hardware"]}
    page = bench_page([r, svm])
    assert "single-threaded processes" in page and f"{r['ratio']}x" in page
    assert "| 21 | 1000 | 3584 | 3.7 | 41.0 | 11.1x |" in page


def test_the_copy_search_bench_times_both_steps_and_scales_them_to_lsun():
    from dcgan_core.bench import LSUN_IMAGES, bench_copy_search
    line = bench_copy_search(n=600, resolution=16, queries=20)
    assert line["kind"] == "copy-search" and line["dim"] == 3 * (16 // 4) ** 2  # 4x4-px block means of RGB
    assert line["index_seconds"] >= 0 and line["search_seconds"] >= 0
    expected = (line["index_seconds"] + line["search_seconds"]) * LSUN_IMAGES / 600
    assert abs(line["lsun_3m_seconds"] - expected) <= 0.01 * LSUN_IMAGES / 600 + 0.1  # each step rounded to 0.01 s
    assert line["lsun_3m_index_gb"] == round(LSUN_IMAGES * line["dim"] * 4 / 1e9, 1)
    with pytest.raises(ValueError, match="--queries"):
        bench_copy_search(n=10, queries=0)
