"""Packs are written atomically and deterministically, and never overwritten by accident (data/packed.py)."""

import json

import pytest

from dcgan_core.data.packed import PackError, load_pack
from dcgan_core.data.sources import pack_source
from tests.conftest import pack


def test_repacking_is_byte_identical_and_refuses_to_overwrite(tmp_path):
    pack("digits", tmp_path / "a")
    pack("digits", tmp_path / "b")
    for name in ("images.npy", "labels.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    meta_a, meta_b = (json.loads((tmp_path / d / "meta.json").read_text()) for d in "ab")
    assert meta_a["sha256"] == meta_b["sha256"]
    with pytest.raises(PackError, match="--overwrite"):
        pack_source("digits", tmp_path / "a", progress=False)
    pack("digits", tmp_path / "a", overwrite=True, resolution=16)
    assert load_pack(tmp_path / "a").images.shape[-1] == 16


def test_interrupted_pack_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    import dcgan_core.data.embedded as E

    real = E.convert_array
    calls = {"n": 0}

    def dies(*a, **k):
        calls["n"] += 1
        if calls["n"] > 100:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(E, "convert_array", dies)
    with pytest.raises(KeyboardInterrupt):
        pack_source("digits", tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()
    assert not any(tmp_path.iterdir())  # the temporary folder is gone too
