import numpy as np
import pytest

from dcgan_core.utils import streams


def test_training_streams_keep_the_derivations_runs_were_trained_with():
    # changing one of these retrains every cached run: their weights follow from these seeds
    assert [streams.stream_seed(n, 7) for n in ("init", "train z", "fixed z")] == [7, 8, 9]
    assert streams.stream_seed("epoch order", 7, 3) == 7 * 100_003 + 3


def test_the_shared_seeds_are_the_ones_the_docstring_names():
    for seed in (0, 1, 2, 7):
        at = {name: streams.stream_seed(name, seed) for name in streams.STREAMS}
        assert at["init"] == at["supervised trial"] and at["train z"] == at["samples"] == at["test draws"]
        assert at["init"] != at["second init"] != at["train z"] != at["fixed z"]  # the nets' inits and training's z
        assert streams.stream_seed("fixed context", seed) == 0


def test_generators_follow_their_stream():
    a, b = streams.numpy_rng("walk anchors", 3, 1), np.random.default_rng(3 * 1000 + 1)
    assert a.integers(1 << 30) == b.integers(1 << 30)
    assert streams.torch_generator("second init", 2).initial_seed() == 10_002


def test_an_unknown_stream_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown random stream 'z'.*train z"):
        streams.stream_seed("z", 0)
