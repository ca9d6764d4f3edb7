import numpy as np
import pytest

from dcgan_core.utils import streams


def test_training_streams_keep_the_derivations_runs_were_trained_with():
    # changing one of these retrains every cached run: their weights follow from these seeds
    assert [streams.stream_seed(n, 7) for n in ("init", "train z", "fixed z")] == [7, 8, 9]
    assert streams.stream_seed("epoch order", 7, 3) == 7 * 100_003 + 3


def test_a_seed_s_streams_differ_from_each_other():
    # two streams share seeds by design: scored samples use train z's seed, the first supervised trial the init's
    shared = {"samples", "supervised trial"}
    seeds = {name: streams.stream_seed(name, 5, 0) for name in streams.STREAMS if name not in shared}
    assert len(set(seeds.values())) == len(seeds)


def test_generators_follow_their_stream():
    a, b = streams.numpy_rng("walk anchors", 3, 1), np.random.default_rng(3 * 1000 + 1)
    assert a.integers(1 << 30) == b.integers(1 << 30)
    assert streams.torch_generator("second init", 2).initial_seed() == 10_002


def test_an_unknown_stream_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown random stream 'z'.*train z"):
        streams.stream_seed("z", 0)
